/** The heartbeat's payloads, checked where they enter a task (a bad one fails clearly, naming the field). */
import * as z from 'zod';
import { FindingValidationError } from '../app/errors.js';
import type { HeartbeatCheck } from '../domain/heartbeat/heartbeat.js';

const name = z.string().min(1);
const check = z.object({
  deliveryId: name,
  deliveryKey: name,
  mode: z.literal('check'),
  members: z.array(z.object({ identifier: z.object({ Id: name, ProductArn: name }) })).min(1),
  heartbeat: z.object({ stack: name, sentAt: z.iso.datetime() }),
  destinations: z.object({
    slackChannels: z.array(name),
    backlog: z.array(z.object({ projectKey: name, issueTypeName: name })),
  }),
});

/** A workflow task in check mode gets `{ check }` (the heartbeat's item), not a delivery. */
export function isCheckInput(input: unknown): input is { check: unknown } {
  return typeof input === 'object' && input !== null && 'check' in input;
}

/** The heartbeat function's three inputs: the schedule's, and the workflow's after a passed or failed check. */
const heartbeatInputs = {
  complete: z.object({ complete: check }),
  archive: z.object({ archive: check }),
  send: z.object({ send: z.literal(true) }),
};
export type HeartbeatInput = { send: true } | { complete: HeartbeatCheck } | { archive: HeartbeatCheck };

function parse<T>(schema: z.ZodType<T>, input: unknown, task: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw new FindingValidationError(task, first?.path.join('.') || 'input', first?.message ?? 'invalid');
}

export const parseCheckInput = (input: unknown, task: string): HeartbeatCheck =>
  parse(z.object({ check }), input, `${task} (check mode)`).check as HeartbeatCheck;

/** By the key it carries, so a bad one names its field (`complete.heartbeat.sentAt`). */
export function parseHeartbeatInput(input: unknown): HeartbeatInput {
  const record = typeof input === 'object' && input !== null ? input : {};
  const which = 'complete' in record ? 'complete' : 'archive' in record ? 'archive' : 'send';
  return parse(heartbeatInputs[which] as z.ZodType<unknown>, input, 'heartbeat') as HeartbeatInput;
}
