/**
 * The heartbeat's settings: which stack sends it and into which product (dispatch recognises its own
 * heartbeat by them), and what the heartbeat function needs besides (the ledger, the metric's
 * namespace). Parsed once at cold start; a bad value fails naming the variable.
 */
import * as z from 'zod';
import { ConfigError } from '../app/errors.js';
import { type HeartbeatSource, parseProductArn } from '../domain/heartbeat/heartbeat.js';
import { DEFAULT_LEDGER_TABLE } from './constants.js';

type Env = Record<string, string | undefined>;

/** The CloudWatch namespace of the heartbeat metric (the alarm reads it; template-tested). */
export const HEARTBEAT_METRIC_NAMESPACE = 'securityhub-notifier';

const stack = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be the stack name (letters, digits, -)');
const productArn = z
  .string()
  .refine((value) => parseProductArn(value) !== undefined, 'must be the account default product ARN');

const sourceSchema = z.object({ HEARTBEAT_STACK: stack, HEARTBEAT_PRODUCT_ARN: productArn });

const functionSchema = sourceSchema.extend({
  LEDGER_TABLE: z.string().trim().min(1).default(DEFAULT_LEDGER_TABLE),
  HEARTBEAT_METRIC_NAMESPACE: z.string().trim().min(1).default(HEARTBEAT_METRIC_NAMESPACE),
});

function parse<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** This stack's heartbeat source, for dispatch: absent when neither variable is set (no heartbeat). */
export function loadHeartbeatSource(env: Env): HeartbeatSource | undefined {
  if (env.HEARTBEAT_STACK === undefined && env.HEARTBEAT_PRODUCT_ARN === undefined) return undefined;
  const parsed = parse(sourceSchema, env);
  return { stack: parsed.HEARTBEAT_STACK, productArn: parsed.HEARTBEAT_PRODUCT_ARN };
}

/** The heartbeat function's settings: required at cold start. */
export function loadHeartbeatSettings(env: Env) {
  const parsed = parse(functionSchema, env);
  return {
    source: { stack: parsed.HEARTBEAT_STACK, productArn: parsed.HEARTBEAT_PRODUCT_ARN },
    ledgerTable: parsed.LEDGER_TABLE,
    namespace: parsed.HEARTBEAT_METRIC_NAMESPACE,
  };
}
export type HeartbeatSettings = ReturnType<typeof loadHeartbeatSettings>;
