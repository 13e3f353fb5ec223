/**
 * Use case: Backlog's outgoing webhook reaches the notifier (a function URL, no authorizer). Backlog
 * signs nothing, so the path carries a secret token: a request without the right one gets 404, as
 * for a path that does not exist, and nothing is done. A sound activity of a project the notifier
 * files into is queued for the worker and answered at once; the worker re-reads everything.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type BacklogActivity, parseBacklogWebhook } from '../domain/backlog/activity.js';
import type { ActivityQueue, Log } from './ports.js';

/** `POST /backlog/webhook/<token>`. */
export const BACKLOG_WEBHOOK_PATH = /^\/backlog\/webhook\/([^/]+)$/;
/** Backlog's activities are small; anything larger is not one. */
export const MAX_WEBHOOK_BODY_BYTES = 1_000_000;
/** A token this short is guessable: refused as a setting (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_TOKEN_LENGTH = 24;

export interface WebhookRequest {
  method: string;
  path: string;
  body: string;
}

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface AcceptWebhookPorts {
  /** The secret token (read at run time, cached by the adapter). */
  token: () => Promise<string>;
  queue: ActivityQueue;
  /** The Backlog projects the notifier files into: activities of any other are ignored. */
  projects: ReadonlySet<string>;
  log: Log;
}

const NOT_FOUND: WebhookAnswer = { status: 404, body: { message: 'Not Found' } };

/** Equal in constant time: both sides hashed to 32 bytes, so neither the content nor the length leaks. */
export function tokensMatch(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function tokenIn(path: string): string | undefined {
  const raw = BACKLOG_WEBHOOK_PATH.exec(path)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function activityIn(body: string): { activity: BacklogActivity } | { problem: string } {
  if (Buffer.byteLength(body, 'utf8') > MAX_WEBHOOK_BODY_BYTES) return { problem: 'body: too large' };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { problem: 'body: not JSON' };
  }
  const parsed = parseBacklogWebhook(json);
  return parsed.ok ? { activity: parsed.activity } : { problem: parsed.problem };
}

export async function acceptBacklogWebhook(
  request: WebhookRequest,
  ports: AcceptWebhookPorts,
): Promise<WebhookAnswer> {
  const presented = request.method === 'POST' ? tokenIn(request.path) : undefined;
  if (presented === undefined) return NOT_FOUND;
  const expected = await ports.token();
  if (expected.length < MIN_TOKEN_LENGTH) {
    ports.log.error('the Backlog webhook token is too short: every request is refused', {
      minimum: MIN_TOKEN_LENGTH,
    });
    return NOT_FOUND;
  }
  if (!tokensMatch(presented, expected)) {
    ports.log.warn('Backlog webhook with a wrong token: refused (404)');
    return NOT_FOUND;
  }
  const read = activityIn(request.body);
  if ('problem' in read) {
    ports.log.warn('Backlog webhook body refused', { problem: read.problem });
    return { status: 400, body: { message: read.problem } };
  }
  const { activity } = read;
  const ignored = !ports.projects.has(activity.projectKey)
    ? `project ${activity.projectKey} is not one the notifier files into`
    : activity.issueKeys.length === 0
      ? `activity type ${activity.type} changes no issue`
      : undefined;
  if (ignored) {
    ports.log.info('Backlog activity ignored', { activityId: activity.id, reason: ignored });
    return { status: 200, body: { status: 'ignored', activityId: activity.id, reason: ignored } };
  }
  await ports.queue.send(activity);
  ports.log.info('Backlog activity queued', { activityId: activity.id, issueKeys: activity.issueKeys });
  return { status: 200, body: { status: 'queued', activityId: activity.id } };
}
