/**
 * The ports of knowing the notifier works: the heartbeat (import a synthetic finding, check every
 * destination without posting, archive it, emit its metric, ledger it) and `npm run doctor` (read
 * a deployed stage's secrets, Security Hub, rule and last heartbeat). The adapters in src/adapters
 * implement them; tests pass emulator-backed adapters or fakes.
 */

/** One line of a checklist: what was checked, whether it holds, what was found, what to do. */
export interface CheckResult {
  /** `Slack bot token`, `Slack channel #security-alerts`, `Backlog project SEC`, ... */
  name: string;
  ok: boolean;
  /** What was found (never a secret's value). */
  detail: string;
  /** What to do about it, when it failed. */
  fix?: string;
  /** A failed workflow check ends with the catalogue's error of this kind. */
  kind?: 'slack-auth' | 'slack-channel' | 'backlog-auth' | 'backlog-config' | 'unchecked';
}

/** Slack, as a check sees it: who the token is, whether the bot is in a channel. Posts nothing. */
export interface ChatInspector {
  /** `auth.test`: throws SlackAuthError when the token is refused (revoked, invalid). */
  identity(): Promise<{ user: string; userId: string; team: string }>;
  /** A channel by name or id: whether the bot can see it and is a member (`conversations.info`). */
  channelAccess(channel: string): Promise<{ found: boolean; member: boolean; id?: string }>;
}

/** Backlog, as a check sees it: who the key is, and a project's issue types and members. Writes nothing. */
export interface TrackerInspector {
  /** `GET /users/myself`: throws BacklogAuthError when the key is refused. */
  identity(): Promise<{ id: number; name: string; roleType: number }>;
  /** `GET /projects/:key`, its issue types and its users; `found: false` when there is no such project. */
  projectAccess(
    projectKey: string,
  ): Promise<{ found: false } | { found: true; issueTypes: string[]; memberIds: number[] }>;
}

/** Security Hub, as the heartbeat writes to it: BatchImportFindings into the account's own product. */
export interface FindingsImporter {
  /** Import (create or update) findings; throws when Security Hub refuses any of them. */
  import(findings: ReadonlyArray<Record<string, unknown>>): Promise<void>;
}

/** A metric in CloudWatch's embedded metric format: one log line, no API call. */
export interface MetricsSink {
  emit(
    metrics: ReadonlyArray<{ name: string; unit: 'Milliseconds' | 'Count'; value: number }>,
    dimensions: Readonly<Record<string, string>>,
    at: Date,
  ): void;
}

/** The heartbeat's ledger item (`heartbeat|<stack>`): its last success; the workflow writes its failures. */
export interface HeartbeatRecord {
  succeededAt?: string;
  latencyMs?: number;
  findingId?: string;
  failedAt?: string;
  lastError?: string;
}

export interface HeartbeatLedger {
  recordHeartbeat(
    stack: string,
    success: { at: string; latencyMs: number; findingId: string },
  ): Promise<void>;
  lastHeartbeat(stack: string): Promise<HeartbeatRecord | undefined>;
}

// --- what only the doctor reads (from a workstation) ----------------------------------------------

/** SSM Parameter Store / Secrets Manager: whether a secret exists and decrypts (its value stays here). */
export interface SecretInspector {
  /** `ok`, or what went wrong in the store's words (`ParameterNotFound`, `AccessDeniedException: …`). */
  check(parameter: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

/** Security Hub's own configuration in the home region. */
export interface SecurityHubInspector {
  /** `DescribeHub`: whether Security Hub is enabled (the reason when not). */
  hub(): Promise<{ enabled: true; hubArn: string } | { enabled: false; reason: string }>;
  /** The cross-region finding aggregator, if there is one (`ListFindingAggregators` + `GetFindingAggregator`). */
  aggregator(): Promise<{ arn: string; region: string; mode: string; regions: string[] } | undefined>;
}

/** EventBridge: the stack's findings rule. */
export interface RuleInspector {
  /** The rule whose name starts `<stack>-FindingsRule-` (CloudFormation names it so), or undefined. */
  findingsRule(stack: string): Promise<{ name: string; state: string; pattern: unknown } | undefined>;
}
