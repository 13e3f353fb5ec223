/**
 * A Backlog activity as its outgoing webhook sends it (the activity JSON of `GET /api/v2/space/activities`:
 * `id`, `type`, `project`, `content`, `createdUser`), reduced to what the notifier acts on: which
 * issues, in which project, and who acted. Nothing else of the payload is trusted: the worker
 * re-reads each issue through the API.
 */
import * as z from 'zod';

/** Backlog's activity types that concern an existing issue's state. */
export const ISSUE_ACTIVITY_TYPES = {
  /** "Issue updated": a status, a resolution, any field (with or without a comment). */
  updated: 2,
  /** "Issue commented". */
  commented: 3,
  /** "Issues updated" in bulk: `content.link[]` names the issues. */
  bulkUpdated: 14,
} as const;

const ACTED_ON: ReadonlySet<number> = new Set(Object.values(ISSUE_ACTIVITY_TYPES));

/** What the worker is queued: the activity, compact, every field checked. */
export interface BacklogActivity {
  /** The activity id (unique in the space): an activity is handled once. */
  id: number;
  type: number;
  projectKey: string;
  /** The issues it concerns (`SEC-12`): one, or several for a bulk update; none for other activities. */
  issueKeys: string[];
  /** Who acted: the notifier's own user's activities are ignored. */
  user: { id: number; name: string };
  created?: string;
}

const projectKey = z.string().regex(/^[A-Z0-9_]{1,64}$/, 'not a Backlog project key');
const keyId = z.number().int().positive();

const webhookSchema = z.looseObject({
  id: z.number().int().positive(),
  type: z.number().int().min(0),
  created: z.string().max(64).optional(),
  project: z.looseObject({ projectKey }),
  content: z
    .looseObject({
      key_id: keyId.optional(),
      summary: z.string().optional(),
      link: z
        .array(z.looseObject({ key_id: keyId }))
        .max(1000)
        .optional(),
    })
    .nullish(),
  createdUser: z.looseObject({ id: z.number().int(), name: z.string().max(1000).optional() }),
});

const queuedSchema = z.strictObject({
  id: z.number().int().positive(),
  type: z.number().int().min(0),
  projectKey,
  issueKeys: z.array(z.string().regex(/^[A-Z0-9_]{1,64}-\d+$/)).max(1000),
  user: z.strictObject({ id: z.number().int(), name: z.string().max(1000) }),
  created: z.string().max(64).optional(),
});

export type ParsedActivity = { ok: true; activity: BacklogActivity } | { ok: false; problem: string };

function problemOf(error: z.ZodError): string {
  const first = error.issues[0];
  return `${first?.path.join('.') || 'body'}: ${first?.message ?? 'invalid'}`;
}

/**
 * Backlog's webhook body (already JSON-parsed) as a `BacklogActivity`, or what is wrong with it
 * (`project.projectKey: not a Backlog project key`). An activity of a type that concerns no
 * issue's state is valid, with no issue keys.
 */
export function parseBacklogWebhook(body: unknown): ParsedActivity {
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error) };
  const { id, type, created, project, content, createdUser } = parsed.data;
  const keyIds = !ACTED_ON.has(type)
    ? []
    : content?.key_id !== undefined
      ? [content.key_id]
      : (content?.link ?? []).map((link) => link.key_id);
  const activity: BacklogActivity = {
    id,
    type,
    projectKey: project.projectKey,
    issueKeys: [...new Set(keyIds)].map((n) => `${project.projectKey}-${n}`),
    user: { id: createdUser.id, name: createdUser.name ?? `user ${createdUser.id}` },
  };
  if (created) activity.created = created;
  return { ok: true, activity };
}

/** A queued activity (the queue's message body, JSON-parsed), checked again where it is read. */
export function parseQueuedActivity(body: unknown): ParsedActivity {
  const parsed = queuedSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error) };
  const { created, ...rest } = parsed.data;
  return { ok: true, activity: { ...rest, ...(created ? { created } : {}) } };
}

/** `SEC` of `SEC-12`. */
export function projectKeyOfIssue(issueKey: string): string {
  return issueKey.replace(/-\d+$/, '');
}
