import * as z from 'zod';
import { ConfigError } from '../app/errors.js';
import { DEFAULT_LIST_ITEMS } from '../domain/digest/digest-sections.js';
import { DEFAULT_TABLE_ACCOUNTS, MAX_TABLE_ACCOUNTS } from '../domain/digest/digest-table.js';
import { SEVERITY_LABELS } from '../domain/finding/severity.js';
import { DEFAULT_LEDGER_TABLE, DEFAULT_MIN_SEVERITY, DEFAULT_POLICY_FILE } from './constants.js';
import { loadHeartbeatSource } from './heartbeat-settings.js';

const severity = z.enum(SEVERITY_LABELS);
const nonEmpty = z.string().trim().min(1);
const optionalUrl = z.url().optional();

const accountNames = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (!text) return {};
    try {
      return z.record(z.string().regex(/^\d{12}$/), z.string()).parse(JSON.parse(text));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of 12-digit account id to name' });
      return z.NEVER;
    }
  });

const seconds = (fallback: number) => z.coerce.number().min(0).max(86_400).default(fallback);
const millis = (fallback: number) => z.coerce.number().int().min(1).max(60_000).default(fallback);

const ledgerSchema = z.object({
  LEDGER_TABLE: nonEmpty.default(DEFAULT_LEDGER_TABLE),
});

/** How the delivery tasks time things (README "Faults"): defaults for production, short in tests. */
const taskSchema = ledgerSchema.extend({
  /** How long after an attempt its create or post may still land. */
  OUTCOME_SETTLE_SECONDS: seconds(60),
  /** The longest wait (rate limit, unsettled attempt) a task hands to the workflow at once. */
  MAX_WAIT_SECONDS: seconds(300),
  /** How long a claim is held: longer than a task can run. */
  CLAIM_STALE_SECONDS: seconds(45),
});

const dispatchSchema = ledgerSchema.extend({
  NOTIFY_MIN_SEVERITY: severity.default(DEFAULT_MIN_SEVERITY),
  HOME_REGION: nonEmpty.optional(),
  AWS_REGION: nonEmpty.optional(),
  ACCOUNT_NAMES: accountNames,
  NOTIFICATION_POLICY_FILE: nonEmpty.default(DEFAULT_POLICY_FILE),
});

/** What the deployed dispatch function needs beyond the use case: where it starts and dead-letters. */
const dispatchOutletsSchema = z.object({
  STATE_MACHINE_ARN: z
    .string()
    .regex(/^arn:aws[\w-]*:states:[^:]+:\d{12}:stateMachine:.+$/, 'must be a state machine ARN'),
  DEAD_LETTER_QUEUE_URL: z.url('must be the dead-letter queue URL'),
});

const slackSchema = taskSchema.extend({
  SLACK_TIMEOUT_MS: millis(5_000),
  SLACK_CHANNEL: nonEmpty,
  SLACK_API_URL: optionalUrl,
  SLACK_BOT_TOKEN_PARAMETER: nonEmpty.optional(),
  SLACK_BOT_TOKEN: nonEmpty.optional(),
});

function jsonSetting<T extends z.ZodType>(schema: T, example: string) {
  return z
    .string()
    .optional()
    .transform((text, ctx): z.output<T> | undefined => {
      if (!text) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON, e.g. ${example}` });
        return z.NEVER;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      ctx.addIssue({
        code: 'custom',
        message: `${parsed.error.issues[0]?.message ?? 'invalid'} (e.g. ${example})`,
      });
      return z.NEVER;
    });
}

const backlogSchema = taskSchema.extend({
  BACKLOG_TIMEOUT_MS: millis(5_000),
  BACKLOG_HOST: z
    .string()
    .trim()
    .regex(/^[a-z0-9-]+\.(backlog\.com|backlog\.jp|backlogtool\.com)$|^[a-z0-9.-]+$/i, 'must be a host name'),
  BACKLOG_PROJECT_KEY: z.string().regex(/^[A-Z0-9_]+$/, 'must be a Backlog project key (A-Z, 0-9, _)'),
  BACKLOG_ISSUE_TYPE: nonEmpty,
  BACKLOG_CATEGORY: nonEmpty.optional(),
  BACKLOG_ASSIGNEE_ID: z.coerce.number().int().positive().optional(),
  BACKLOG_PRIORITY_IDS: jsonSetting(z.partialRecord(severity, z.number().int().positive()), '{"MEDIUM":2}'),
  BACKLOG_CUSTOM_FIELDS: jsonSetting(
    z.record(
      z.string().regex(/^customField_\d+$/, 'keys are customField_<id>'),
      z.union([z.string(), z.number(), z.array(z.string())]),
    ),
    '{"customField_123":"SecurityHub"}',
  ),
  BACKLOG_API_URL: optionalUrl,
  BACKLOG_API_KEY_PARAMETER: nonEmpty.optional(),
  BACKLOG_API_KEY: nonEmpty.optional(),
});

type Env = Record<string, string | undefined>;

function parse<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/** The task settings every delivery task shares: timing and the claim lifetime. */
function taskTiming(parsed: z.output<typeof taskSchema>) {
  return {
    timing: {
      settleMs: parsed.OUTCOME_SETTLE_SECONDS * 1000,
      maxWaitSeconds: parsed.MAX_WAIT_SECONDS,
    },
    claimStaleMs: parsed.CLAIM_STALE_SECONDS * 1000,
  };
}

/**
 * An API endpoint override (an emulator, a proxy) is for local runs only: inside Lambda it is
 * refused, so a changed environment cannot send a token or a key elsewhere.
 */
function endpointOverride(env: Env, name: string, value: string | undefined): string | undefined {
  if (value && env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigError(`${name}: an endpoint override is not allowed in a Lambda environment`);
  }
  return value;
}

/**
 * A secret is read from SSM Parameter Store / Secrets Manager (the `*_PARAMETER` setting). The plain
 * variable is for local replay only: inside Lambda it is refused, so a token never sits in plaintext
 * in a function's environment.
 */
function secretSource(
  env: Env,
  parameterVar: string,
  plainVar: string,
): { parameter?: string; value?: string } {
  const parameter = env[parameterVar];
  const value = env[plainVar];
  if (value && env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigError(
      `${plainVar}: a plaintext secret is not allowed in a Lambda environment; set ${parameterVar}`,
    );
  }
  if (!parameter && !value)
    throw new ConfigError(`${parameterVar}: required (the SSM parameter or secret ARN)`);
  return parameter ? { parameter } : { value: value as string };
}

export function loadDispatchSettings(env: Env) {
  const parsed = parse(dispatchSchema, env);
  return {
    ledgerTable: parsed.LEDGER_TABLE,
    minSeverity: parsed.NOTIFY_MIN_SEVERITY,
    homeRegion: parsed.HOME_REGION ?? parsed.AWS_REGION,
    accountNames: parsed.ACCOUNT_NAMES,
    policyFile: parsed.NOTIFICATION_POLICY_FILE,
    heartbeat: loadHeartbeatSource(env),
  };
}
export type DispatchSettings = ReturnType<typeof loadDispatchSettings>;

/** The state machine and dead-letter queue of the deployed stack: required at cold start. */
export function loadDispatchOutlets(env: Env) {
  const parsed = parse(dispatchOutletsSchema, env);
  return { stateMachineArn: parsed.STATE_MACHINE_ARN, deadLetterQueueUrl: parsed.DEAD_LETTER_QUEUE_URL };
}

export function loadSlackSettings(env: Env) {
  const parsed = parse(slackSchema, env);
  return {
    ledgerTable: parsed.LEDGER_TABLE,
    channel: parsed.SLACK_CHANNEL,
    apiUrl: endpointOverride(env, 'SLACK_API_URL', parsed.SLACK_API_URL),
    timeoutMs: parsed.SLACK_TIMEOUT_MS,
    ...taskTiming(parsed),
    token: secretSource(env, 'SLACK_BOT_TOKEN_PARAMETER', 'SLACK_BOT_TOKEN'),
  };
}
export type SlackSettings = ReturnType<typeof loadSlackSettings>;

export function loadBacklogSettings(env: Env) {
  const parsed = parse(backlogSchema, env);
  return {
    ledgerTable: parsed.LEDGER_TABLE,
    host: parsed.BACKLOG_HOST,
    target: {
      projectKey: parsed.BACKLOG_PROJECT_KEY,
      issueTypeName: parsed.BACKLOG_ISSUE_TYPE,
      ...(parsed.BACKLOG_CATEGORY ? { categoryName: parsed.BACKLOG_CATEGORY } : {}),
      ...(parsed.BACKLOG_ASSIGNEE_ID ? { assigneeId: parsed.BACKLOG_ASSIGNEE_ID } : {}),
      ...(parsed.BACKLOG_CUSTOM_FIELDS ? { customFields: parsed.BACKLOG_CUSTOM_FIELDS } : {}),
    },
    priorityOverrides: parsed.BACKLOG_PRIORITY_IDS ?? {},
    apiUrl: endpointOverride(env, 'BACKLOG_API_URL', parsed.BACKLOG_API_URL),
    timeoutMs: parsed.BACKLOG_TIMEOUT_MS,
    ...taskTiming(parsed),
    apiKey: secretSource(env, 'BACKLOG_API_KEY_PARAMETER', 'BACKLOG_API_KEY'),
  };
}
export type BacklogSettings = ReturnType<typeof loadBacklogSettings>;

const markSchema = ledgerSchema.extend({
  /** Waits (ms, comma separated) before retrying identifiers Security Hub could not update for a passing reason. */
  MARK_RETRY_DELAYS_MS: z
    .string()
    .default('1000,2000')
    .transform((text, ctx) => {
      const delays = text
        .split(',')
        .filter((part) => part.trim() !== '')
        .map(Number);
      if (delays.some((delay) => !Number.isInteger(delay) || delay < 0 || delay > 10_000)) {
        ctx.addIssue({ code: 'custom', message: 'must be comma-separated whole milliseconds up to 10000' });
        return z.NEVER;
      }
      return delays;
    }),
});

export function loadMarkSettings(env: Env) {
  const parsed = parse(markSchema, env);
  return { ledgerTable: parsed.LEDGER_TABLE, retryDelaysMs: parsed.MARK_RETRY_DELAYS_MS };
}
export type MarkSettings = ReturnType<typeof loadMarkSettings>;

// --- the loop from Backlog: the webhook and its worker --------------------------------------------

const policyFileSchema = z.object({
  NOTIFICATION_POLICY_FILE: nonEmpty.default(DEFAULT_POLICY_FILE),
});

/**
 * The Backlog webhook: the secret token its path carries (an SSM parameter or a Secrets Manager
 * secret; the plain BACKLOG_WEBHOOK_TOKEN locally only) and the policy whose projects it accepts.
 */
export function loadBacklogWebhookSettings(env: Env) {
  const parsed = parse(policyFileSchema, env);
  return {
    policyFile: parsed.NOTIFICATION_POLICY_FILE,
    token: secretSource(env, 'BACKLOG_WEBHOOK_TOKEN_PARAMETER', 'BACKLOG_WEBHOOK_TOKEN'),
  };
}
export type BacklogWebhookSettings = ReturnType<typeof loadBacklogWebhookSettings>;

/** Where the deployed webhook queues activities for the worker: required at cold start. */
export function loadActivityQueueUrl(env: Env): string {
  return parse(z.object({ BACKLOG_ACTIVITY_QUEUE_URL: z.url('must be the activity queue URL') }), env)
    .BACKLOG_ACTIVITY_QUEUE_URL;
}

/** The Backlog activity worker: Backlog as the issue task reads it, and the policy (its projects' closed statuses). */
export function loadBacklogActivitySettings(env: Env) {
  return { ...loadBacklogSettings(env), policyFile: parse(policyFileSchema, env).NOTIFICATION_POLICY_FILE };
}

/** The Backlog activity worker: Backlog, the policy, and Slack (the issue's message is restyled). */
export function loadBacklogWorkerSettings(env: Env) {
  return { ...loadBacklogActivitySettings(env), slack: loadSlackSettings(env) };
}
export type BacklogActivitySettings = ReturnType<typeof loadBacklogActivitySettings>;

// --- acting from Slack: the endpoint, its worker and the expiry sweep -------------------------------

const slackClientSchema = z.object({
  SLACK_TIMEOUT_MS: millis(5_000),
  SLACK_API_URL: optionalUrl,
  NOTIFICATION_POLICY_FILE: nonEmpty.default(DEFAULT_POLICY_FILE),
});

/**
 * The Slack actions endpoint: the signing secret (an SSM parameter or a Secrets Manager secret; the
 * plain SLACK_SIGNING_SECRET locally only), the bot token (modals, ephemeral answers, user groups)
 * and the policy that says who may act.
 */
export function loadSlackActionsSettings(env: Env) {
  const parsed = parse(slackClientSchema, env);
  return {
    policyFile: parsed.NOTIFICATION_POLICY_FILE,
    apiUrl: endpointOverride(env, 'SLACK_API_URL', parsed.SLACK_API_URL),
    timeoutMs: parsed.SLACK_TIMEOUT_MS,
    signingSecret: secretSource(env, 'SLACK_SIGNING_SECRET_PARAMETER', 'SLACK_SIGNING_SECRET'),
    token: secretSource(env, 'SLACK_BOT_TOKEN_PARAMETER', 'SLACK_BOT_TOKEN'),
  };
}
export type SlackActionsSettings = ReturnType<typeof loadSlackActionsSettings>;

/** Where the deployed endpoint queues actions for the worker: required at cold start. */
export function loadSlackActionQueueUrl(env: Env): string {
  return parse(z.object({ SLACK_ACTION_QUEUE_URL: z.url('must be the Slack action queue URL') }), env)
    .SLACK_ACTION_QUEUE_URL;
}

/** The Slack action worker: Backlog as the activity worker reads it, Slack as the message task does. */
export function loadSlackActionWorkerSettings(env: Env) {
  return loadBacklogWorkerSettings(env);
}
export type SlackActionWorkerSettings = ReturnType<typeof loadSlackActionWorkerSettings>;

/** The expiry sweep: the ledger, and how many days back it looks again. */
export function loadSweepSettings(env: Env) {
  const parsed = parse(
    ledgerSchema.extend({ SWEEP_LOOK_BACK_DAYS: z.coerce.number().int().min(0).max(365).default(14) }),
    env,
  );
  return { ledgerTable: parsed.LEDGER_TABLE, lookBackDays: parsed.SWEEP_LOOK_BACK_DAYS };
}

// --- the daily digest ------------------------------------------------------------------------------

const timeZone = nonEmpty.refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. Asia/Tokyo');

const digestSchema = slackSchema.extend({
  HOME_REGION: nonEmpty.optional(),
  AWS_REGION: nonEmpty.optional(),
  ACCOUNT_NAMES: accountNames,
  NOTIFICATION_POLICY_FILE: nonEmpty.default(DEFAULT_POLICY_FILE),
  /** Where the counts come from: `auto` (the new Security Hub when it is enabled), `insights`, `statistics-v2`. */
  DIGEST_COUNTS: z.enum(['auto', 'insights', 'statistics-v2']).default('auto'),
  /** The six insights' ARNs (the stack sets it); locally they are found or created by name. */
  DIGEST_INSIGHT_ARNS: jsonSetting(
    z.partialRecord(
      z.enum([...SEVERITY_LABELS, 'SUPPRESSED']),
      z.string().regex(/^arn:aws[\w-]*:securityhub:/, 'each value is an insight ARN'),
    ),
    '{"CRITICAL":"arn:aws:securityhub:…:insight/…"}',
  ),
  DIGEST_TABLE_ACCOUNTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TABLE_ACCOUNTS)
    .default(DEFAULT_TABLE_ACCOUNTS),
  DIGEST_LIST_ITEMS: z.coerce.number().int().min(1).max(50).default(DEFAULT_LIST_ITEMS),
  DIGEST_ROUTE_CHANNELS: z.enum(['true', 'false']).default('false'),
  DIGEST_TIME_ZONE: timeZone.default('UTC'),
});

/** The digest function (and `npm run digest`): Slack, the ledger, where the counts come from, the layout. */
export function loadDigestSettings(env: Env) {
  const parsed = parse(digestSchema, env);
  const insightArns = parsed.DIGEST_INSIGHT_ARNS ?? {};
  const missing = [...[...SEVERITY_LABELS].reverse(), 'SUPPRESSED' as const].filter(
    (subject) => !insightArns[subject],
  );
  if (env.AWS_LAMBDA_FUNCTION_NAME && parsed.DIGEST_COUNTS !== 'statistics-v2' && missing.length > 0) {
    throw new ConfigError(
      `DIGEST_INSIGHT_ARNS: required in Lambda, with an ARN for each of ${missing.join(', ')} (the stack sets it)`,
    );
  }
  return {
    ...loadSlackSettings(env),
    homeRegion: parsed.HOME_REGION ?? parsed.AWS_REGION ?? 'us-east-1',
    accountNames: parsed.ACCOUNT_NAMES,
    policyFile: parsed.NOTIFICATION_POLICY_FILE,
    counts: parsed.DIGEST_COUNTS,
    ...(Object.keys(insightArns).length > 0 ? { insightArns } : {}),
    maxAccounts: parsed.DIGEST_TABLE_ACCOUNTS,
    listItems: parsed.DIGEST_LIST_ITEMS,
    routeChannels: parsed.DIGEST_ROUTE_CHANNELS === 'true',
    timeZone: parsed.DIGEST_TIME_ZONE,
  };
}
export type DigestSettings = ReturnType<typeof loadDigestSettings>;
