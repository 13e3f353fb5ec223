/**
 * The heartbeat: a synthetic finding the notifier imports into the account's default product on a
 * schedule. It travels the real path (the EventBridge rule, the queue, dispatch, the workflow),
 * where each task checks its credentials and destinations without posting, and it is archived once
 * the check passed. Recognisably the notifier's own: its `Id` starts with `HEARTBEAT_ID_PREFIX`,
 * its `GeneratorId` is `HEARTBEAT_GENERATOR_ID`, and `ProductFields` carry `HEARTBEAT_MARKER`.
 */
import { shortHash } from '../delivery/delivery.js';
import { type FindingIdentifier, findingKey } from '../finding/finding.js';
import type { NotificationPolicy } from '../policy/policy.js';

export const HEARTBEAT_GENERATOR_ID = 'securityhub-notifier-heartbeat';
/** Every heartbeat's `Id` starts with this (the EventBridge rule forwards it whatever its severity). */
export const HEARTBEAT_ID_PREFIX = `${HEARTBEAT_GENERATOR_ID}/`;
/** The `ProductFields` key naming the stack that sent it. */
export const HEARTBEAT_MARKER = 'securityhub-notifier/heartbeat';
/** The `ProductFields` key holding when it was sent (ISO 8601). */
export const HEARTBEAT_SENT_AT = 'securityhub-notifier/sentAt';
/** The ledger item of a stack's heartbeat: its last success and its last failure. */
export const heartbeatLedgerKey = (stack: string) => `heartbeat|${stack}`;

/** Who sends the heartbeat: the stack, and the account's default product in the home region. */
export interface HeartbeatSource {
  /** `securityhub-notifier-<stage>`: heartbeats of another stage in the same account are not ours. */
  stack: string;
  /** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
  productArn: string;
}

/** The account's default product (the product BatchImportFindings takes an account's own findings in). */
export function defaultProductArn(partition: string, region: string, account: string): string {
  return `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`;
}

const PRODUCT_ARN = /^arn:([\w-]+):securityhub:([\w-]+):(\d{12}):product\/(\d{12})\/default$/;

/** The parts of a default product ARN; undefined when it is not one (another product, another account's). */
export function parseProductArn(
  productArn: string,
): { partition: string; region: string; account: string } | undefined {
  const [, partition, region, account, owner] = PRODUCT_ARN.exec(productArn) ?? [];
  if (!partition || !region || !account || account !== owner) return undefined;
  return { partition, region, account };
}

/** The synthetic finding (ASFF) sent at `sentAt`; `archived`: the same finding, archived at `updatedAt`. */
export function buildHeartbeatFinding(
  source: HeartbeatSource,
  sentAt: string,
  archived?: { updatedAt: string },
): Record<string, unknown> {
  const product = parseProductArn(source.productArn);
  if (!product) throw new Error(`not a default product ARN: ${source.productArn}`);
  return {
    SchemaVersion: '2018-10-08',
    Id: `${HEARTBEAT_ID_PREFIX}${source.stack}/${sentAt}`,
    ProductArn: source.productArn,
    GeneratorId: HEARTBEAT_GENERATOR_ID,
    AwsAccountId: product.account,
    Types: ['Software and Configuration Checks/securityhub-notifier/Heartbeat'],
    CreatedAt: sentAt,
    UpdatedAt: archived?.updatedAt ?? sentAt,
    Severity: { Label: 'INFORMATIONAL' },
    Title: `securityhub-notifier heartbeat (${source.stack})`,
    Description:
      'A synthetic finding securityhub-notifier imports on a schedule to check its whole path: the ' +
      'EventBridge rule, the queue, dispatch, the workflow, the Slack token and channels, the Backlog ' +
      'key and projects. Nothing is posted or filed; it is archived when the check passes.',
    Resources: [{ Type: 'Other', Id: source.stack, Partition: product.partition, Region: product.region }],
    ProductFields: { [HEARTBEAT_MARKER]: source.stack, [HEARTBEAT_SENT_AT]: sentAt },
    RecordState: archived ? 'ARCHIVED' : 'ACTIVE',
  };
}

/** What a heartbeat finding's identifier says: the stack that sent it and when. */
export interface HeartbeatIdentity {
  stack: string;
  sentAt: string;
}

/**
 * The heartbeat a finding is, by its identifier (`<prefix><stack>/<sentAt>` in a default product);
 * undefined when it is not one. Anything whose `Id` starts with the prefix is never filed.
 */
export function heartbeatOf(identifier: FindingIdentifier): HeartbeatIdentity | undefined {
  if (!identifier.Id.startsWith(HEARTBEAT_ID_PREFIX)) return undefined;
  const rest = identifier.Id.slice(HEARTBEAT_ID_PREFIX.length);
  const slash = rest.indexOf('/');
  const stack = rest.slice(0, slash);
  const sentAt = rest.slice(slash + 1);
  if (slash <= 0 || Number.isNaN(Date.parse(sentAt))) return undefined;
  return { stack, sentAt };
}

/** Whether an identifier looks like a heartbeat at all (then it is never filed, ours or not). */
export const looksLikeHeartbeat = (identifier: FindingIdentifier) =>
  identifier.Id.startsWith(HEARTBEAT_ID_PREFIX);

/** Whether a heartbeat is this stack's own: sent by it, into its account's default product. */
export function isOwnHeartbeat(identifier: FindingIdentifier, source: HeartbeatSource | undefined): boolean {
  const heartbeat = heartbeatOf(identifier);
  return (
    source !== undefined && heartbeat?.stack === source.stack && identifier.ProductArn === source.productArn
  );
}

/** Where the policy can send a finding: every channel and every Backlog project and issue type it routes to. */
export interface RoutedDestinations {
  slackChannels: string[];
  backlog: Array<{ projectKey: string; issueTypeName: string }>;
}

/** The default route's destinations and every route's, each once, in the policy's order. */
export function routedDestinations(policy: NotificationPolicy): RoutedDestinations {
  const routes = [policy.defaultRoute, ...policy.routes.map((rule) => rule.route)];
  const backlog = new Map<string, { projectKey: string; issueTypeName: string }>();
  for (const { backlog: target } of routes) {
    const { projectKey, issueTypeName } = target;
    backlog.set(`${projectKey}|${issueTypeName}`, { projectKey, issueTypeName });
  }
  return {
    slackChannels: [...new Set(routes.map((route) => route.slackChannel))],
    backlog: [...backlog.values()],
  };
}

/**
 * The workflow item of a heartbeat: the workflow checks `destinations` (Slack, then Backlog) in
 * check mode, then archives the finding. Never filed, never ledgered as a finding.
 */
export interface HeartbeatCheck {
  deliveryId: string;
  /** `heartbeat|<stack>`: where the workflow records a failed check. */
  deliveryKey: string;
  mode: 'check';
  members: Array<{ identifier: FindingIdentifier }>;
  heartbeat: HeartbeatIdentity;
  destinations: RoutedDestinations;
}

export function buildHeartbeatCheck(
  identifier: FindingIdentifier,
  heartbeat: HeartbeatIdentity,
  destinations: RoutedDestinations,
): HeartbeatCheck {
  return {
    deliveryId: shortHash(`check|${findingKey(identifier)}`),
    deliveryKey: heartbeatLedgerKey(heartbeat.stack),
    mode: 'check',
    members: [{ identifier: { Id: identifier.Id, ProductArn: identifier.ProductArn } }],
    heartbeat,
    destinations,
  };
}

/** Milliseconds from the heartbeat's import to `now` (its end-to-end latency when the check passed). */
export function heartbeatLatencyMs(heartbeat: HeartbeatIdentity, now: Date): number {
  return Math.max(0, now.getTime() - Date.parse(heartbeat.sentAt));
}
