import * as z from 'zod';
import { FindingValidationError } from '../app/errors.js';
import type { FileIssueInput } from '../app/file-issue.js';
import type { PostMessageInput } from '../app/post-message.js';

/** The workflow's own payloads: checked where they enter a task, so a bad one fails clearly. */
const delivery = z.looseObject({
  deliveryId: z.string().min(1),
  deliveryKey: z.string().min(1),
  mode: z.enum(['new', 'reopen', 'append']),
  kind: z.enum(['single', 'group']),
  finding: z.looseObject({ key: z.string(), title: z.string(), severity: z.string(), updatedAt: z.string() }),
  members: z
    .array(z.looseObject({ identifier: z.object({ Id: z.string(), ProductArn: z.string() }) }))
    .min(1),
  destinations: z.object({ slack: z.boolean(), backlog: z.boolean() }),
});
// An empty key: the delivery is below the policy's Backlog threshold (Slack only).
const issue = z.object({ key: z.string(), url: z.string(), created: z.boolean() });

const fileIssueInput = z.object({ delivery, execution: z.string().min(1) });
const postMessageInput = z.object({ delivery, issue, execution: z.string().min(1) });

function parse<T>(schema: z.ZodType<T>, input: unknown, task: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const deliveryId = (input as { delivery?: { deliveryId?: string } })?.delivery?.deliveryId ?? '(unknown)';
  throw new FindingValidationError(
    `${task} delivery ${deliveryId}`,
    first?.path.join('.') || 'input',
    first?.message ?? 'invalid',
  );
}

export const parseFileIssueInput = (input: unknown) =>
  parse(fileIssueInput, input, 'FileBacklogIssue') as unknown as FileIssueInput;
export const parsePostMessageInput = (input: unknown) =>
  parse(postMessageInput, input, 'PostSlackMessage') as unknown as PostMessageInput;
