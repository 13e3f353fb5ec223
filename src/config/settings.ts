import * as z from 'zod';
import { ConfigError } from '../app/errors.js';
import { SEVERITY_LABELS } from '../domain/finding/severity.js';
import { DEFAULT_LEDGER_TABLE, DEFAULT_MIN_SEVERITY, DEFAULT_POLICY_FILE } from './constants.js';

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

const ledgerSchema = z.object({
  LEDGER_TABLE: nonEmpty.default(DEFAULT_LEDGER_TABLE),
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

const slackSchema = ledgerSchema.extend({
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

const backlogSchema = ledgerSchema.extend({
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
    apiUrl: parsed.SLACK_API_URL,
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
    apiUrl: parsed.BACKLOG_API_URL,
    apiKey: secretSource(env, 'BACKLOG_API_KEY_PARAMETER', 'BACKLOG_API_KEY'),
  };
}
export type BacklogSettings = ReturnType<typeof loadBacklogSettings>;
