/**
 * Use case: Slack posts an interaction (a click on a finding's button, the suppress modal's
 * submission) to the notifier's endpoint (a function URL, no authorizer). Nothing is read before
 * Slack's signature is verified: HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing
 * secret, compared in constant time, the timestamp within 300 seconds of now either way; anything
 * else is answered 401 and nothing is done. Then the payload is checked (400 for anything but the
 * notifier's own actions), the person's right to act checked against the policy (refused: an
 * ephemeral message saying why, a log line, nothing changed), and the action queued for the worker,
 * or, for Suppress, the modal opened. Slack gets its answer at once; the worker does the rest.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  refusalText,
  ruleAllows,
  type SlackActionRule,
  type SlackActionsPolicy,
} from '../domain/policy/slack-actions.js';
import type { FindingAction } from '../domain/slack/actions.js';
import {
  type ActionTarget,
  actionId,
  buildSuppressModal,
  type Interaction,
  parseInteraction,
  type QueuedSlackAction,
  readSuppressForm,
  type SlackActor,
} from '../domain/slack/interaction.js';
import type { Clock, Log, SlackActionQueue, SlackDirectory, SlackResponder } from './ports.js';

/** `POST /slack/actions`: the path the Slack app's interactivity request URL ends with. */
export const SLACK_ACTIONS_PATH = '/slack/actions';
/** How far a request's timestamp may be from now, either way (Slack's own advice: five minutes). */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** Slack's signing secrets are 32 hex characters; a shorter one is a setting gone wrong. */
export const MIN_SIGNING_SECRET_LENGTH = 16;
/** Interaction payloads carry the message they were on; anything larger is not one. */
export const MAX_BODY_BYTES = 1_000_000;

export interface SlackRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, exactly as Slack signed it. */
  body: string;
}

export interface SlackAnswer {
  status: number;
  /** Empty: the 200 Slack expects (a modal submission closes). */
  body?: Record<string, unknown>;
}

export interface AcceptSlackActionPorts {
  /** The signing secret (read at run time, cached by the adapter). */
  signingSecret: () => Promise<string>;
  policy: SlackActionsPolicy;
  directory: SlackDirectory;
  slack: SlackResponder;
  queue: SlackActionQueue;
  clock: Clock;
  log: Log;
}

const UNAUTHORIZED: SlackAnswer = { status: 401, body: { message: 'Unauthorized' } };
const OK: SlackAnswer = { status: 200 };

/**
 * Whether Slack signed this body at this timestamp with `secret` (v0), the timestamp within
 * `MAX_CLOCK_SKEW_SECONDS` of `now` either way. Constant time in the signature's content.
 */
export function verifySlackSignature(
  headers: SlackRequest['headers'],
  body: string,
  secret: string,
  now: Date,
): boolean {
  const timestamp = headers['x-slack-request-timestamp'] ?? '';
  const signature = headers['x-slack-signature'] ?? '';
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) return false;
  const expected = Buffer.from(
    `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`, 'utf8').digest('hex')}`,
    'utf8',
  );
  const presented = Buffer.from(signature, 'utf8');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** Verified, then read: the interaction, or the answer that ends the request. */
async function verifiedInteraction(
  request: SlackRequest,
  ports: AcceptSlackActionPorts,
): Promise<{ interaction: Interaction } | { answer: SlackAnswer }> {
  if (request.method !== 'POST' || request.path !== SLACK_ACTIONS_PATH) {
    return { answer: { status: 404, body: { message: 'Not Found' } } };
  }
  const secret = await ports.signingSecret();
  if (secret.length < MIN_SIGNING_SECRET_LENGTH) {
    ports.log.error('the Slack signing secret is too short: every request is refused', {
      minimum: MIN_SIGNING_SECRET_LENGTH,
    });
    return { answer: UNAUTHORIZED };
  }
  const fits = Buffer.byteLength(request.body, 'utf8') <= MAX_BODY_BYTES;
  if (!fits || !verifySlackSignature(request.headers, request.body, secret, ports.clock.now())) {
    ports.log.warn('Slack request with a bad signature or timestamp: refused (401)', {
      requestTimestamp: (request.headers['x-slack-request-timestamp'] ?? '').slice(0, 20),
    });
    return { answer: UNAUTHORIZED };
  }
  const parsed = parseInteraction(request.body);
  if (!parsed.ok) {
    ports.log.warn('Slack interaction refused', { problem: parsed.problem });
    return { answer: { status: 400, body: { message: parsed.problem } } };
  }
  return { interaction: parsed.interaction };
}

export async function acceptSlackAction(
  request: SlackRequest,
  ports: AcceptSlackActionPorts,
): Promise<SlackAnswer> {
  const read = await verifiedInteraction(request, ports);
  if ('answer' in read) return read.answer;
  const { interaction } = read;
  if (interaction.kind === 'link') return OK;
  const action: FindingAction = interaction.kind === 'button' ? interaction.action : 'suppress';
  if (!(await mayAct(action, interaction.user, ports))) {
    await refuse(action, interaction.user, interaction.target, ports);
    return OK;
  }
  if (interaction.kind === 'submission') return submitSuppression(interaction, ports);
  if (interaction.action === 'suppress') return openSuppressModal(interaction, ports);
  await queue(interaction, {}, ports);
  return OK;
}

/** Whether the policy lets this user take this action (their user groups looked up when it names some). */
async function mayAct(
  action: FindingAction,
  user: SlackActor,
  ports: AcceptSlackActionPorts,
): Promise<boolean> {
  const rule: SlackActionRule = ports.policy.rules[action];
  const verdict = ruleAllows(rule, user.id);
  if (verdict !== 'ask-groups') return verdict === 'yes';
  for (const group of rule.userGroups) {
    if ((await ports.directory.userGroupMembers(group)).includes(user.id)) return true;
  }
  return false;
}

/** Not allowed: the person is told why (only they see it), a log line, nothing else. */
async function refuse(
  action: FindingAction,
  user: SlackActor,
  target: ActionTarget,
  ports: AcceptSlackActionPorts,
): Promise<void> {
  ports.log.warn('Slack action refused: not allowed by the policy', {
    action,
    user: user.id,
    ledgerKey: target.ledgerKey,
    channel: target.channel,
    messageTs: target.messageTs,
  });
  await ports.slack
    .postEphemeral(target.channel, user.id, refusalText(action, ports.policy.rules[action]))
    .catch((error: Error) => ports.log.warn('the refusal could not be shown', { error: error.message }));
}

async function queue(
  interaction: Extract<Interaction, { kind: 'button' | 'submission' }>,
  extra: Pick<QueuedSlackAction, 'reason' | 'until'>,
  ports: AcceptSlackActionPorts,
): Promise<void> {
  const action: QueuedSlackAction = {
    id: actionId(interaction),
    action: interaction.kind === 'button' ? interaction.action : 'suppress',
    user: interaction.user,
    target: interaction.target,
    at: ports.clock.now().toISOString(),
    ...extra,
  };
  await ports.queue.send(action);
  ports.log.info('Slack action queued', { id: action.id, action: action.action, user: action.user.id });
}

/** Suppress: the modal, whose submission does the work; a trigger Slack will not exchange (a replay) does nothing. */
async function openSuppressModal(
  interaction: Extract<Interaction, { kind: 'button' }>,
  ports: AcceptSlackActionPorts,
): Promise<SlackAnswer> {
  if (!interaction.triggerId) return { status: 400, body: { message: 'payload.trigger_id: required' } };
  const result = await ports.slack.openView(interaction.triggerId, buildSuppressModal(interaction.target));
  if (!result.opened) {
    ports.log.warn('the suppress modal was not opened (a replayed or late request)', {
      problem: result.problem,
      user: interaction.user.id,
    });
  }
  return OK;
}

/** The modal submitted: a reason and an expiry that make sense are queued; otherwise Slack shows why. */
async function submitSuppression(
  interaction: Extract<Interaction, { kind: 'submission' }>,
  ports: AcceptSlackActionPorts,
): Promise<SlackAnswer> {
  const today = ports.clock.now().toISOString().slice(0, 10);
  const form = readSuppressForm(interaction.values, today);
  if (!form.ok) return { status: 200, body: { response_action: 'errors', errors: form.errors } };
  await queue(
    interaction,
    form.until ? { reason: form.reason, until: form.until } : { reason: form.reason },
    ports,
  );
  return OK;
}
