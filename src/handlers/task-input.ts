import * as z from 'zod';
import { FindingValidationError } from '../app/errors.js';
import type { FileIssueInput } from '../app/file-issue.js';
import type { MarkFindingsInput } from '../app/mark-findings.js';
import type { PostMessageInput } from '../app/post-message.js';

/** The workflow's own payloads: checked where they enter a task, so a bad one fails clearly. */
const identifier = z.object({ Id: z.string().min(1), ProductArn: z.string().min(1) });
const delivery = z.looseObject({
  deliveryId: z.string().min(1),
  deliveryKey: z.string().min(1),
  mode: z.enum(['new', 'reopen', 'append', 'close']),
  kind: z.enum(['single', 'group']),
  finding: z.looseObject({ key: z.string(), title: z.string(), severity: z.string(), updatedAt: z.string() }),
  members: z.array(z.looseObject({ identifier })).min(1),
  destinations: z.object({ slack: z.boolean(), backlog: z.boolean() }),
});
/** Any item of the workflow's Map: a delivery, a remark or a suppression. */
const item = z.looseObject({
  deliveryId: z.string().min(1),
  deliveryKey: z.string().min(1),
  mode: z.enum(['new', 'reopen', 'append', 'close', 'mark', 'suppress']),
  members: z.array(z.looseObject({ identifier })).min(1),
});
// An empty key: the delivery is below the policy's Backlog threshold (Slack only), or Backlog failed.
const issue = z.object({
  key: z.string(),
  url: z.string(),
  created: z.boolean(),
  failed: z.boolean().optional(),
  error: z.string().optional(),
});

const execution = z.string().min(1);
const fileIssueInput = z.object({ delivery, execution });
const postMessageInput = z.object({ delivery, issue, execution });
const markFindingsInput = z.object({
  delivery: item,
  status: z.enum(['NOTIFIED', 'SUPPRESSED']),
  note: z.string().min(1).max(512),
});

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

/** The task input, and this attempt: the Lambda request id (claims are per attempt). */
export const parseFileIssueInput = (input: unknown, attempt: string): FileIssueInput => ({
  ...(parse(fileIssueInput, input, 'FileBacklogIssue') as unknown as Omit<FileIssueInput, 'attempt'>),
  attempt,
});
export const parsePostMessageInput = (input: unknown, attempt: string): PostMessageInput => ({
  ...(parse(postMessageInput, input, 'PostSlackMessage') as unknown as Omit<PostMessageInput, 'attempt'>),
  attempt,
});
export const parseMarkFindingsInput = (input: unknown): MarkFindingsInput =>
  parse(markFindingsInput, input, 'MarkFindings') as unknown as MarkFindingsInput;
