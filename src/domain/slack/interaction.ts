/**
 * Slack's interaction payloads (the `payload=` form field Slack posts to the interactivity URL),
 * checked with zod and reduced to what the notifier acts on: a click on one of its buttons, or the
 * suppress modal's submission. Anything else (another action, another callback, another payload
 * type) is a problem the endpoint answers with 400. The payload is read only once its signature
 * was verified; even then, what it names is re-read from the ledger before anything changes.
 */
import * as z from 'zod';
import {
  FINDING_ACTIONS,
  type FindingAction,
  LINK_ACTION_IDS,
  MAX_BUTTON_VALUE,
  SLACK_USER_ID,
  SUPPRESS_CALLBACK_ID,
} from './actions.js';
import { plain } from './blocks.js';

/** Who acted, as the payload names them (the name is the user's own text: escaped where shown). */
export interface SlackActor {
  id: string;
  name: string;
}

/** The message a button was on, and the ledger item its value names. */
export interface ActionTarget {
  ledgerKey: string;
  channel: string;
  messageTs: string;
}

export type Interaction =
  /** A click on a link button (Slack sends those too): answered, nothing done. */
  | { kind: 'link'; actionId: string }
  | {
      kind: 'button';
      action: FindingAction;
      user: SlackActor;
      target: ActionTarget;
      actionTs: string;
      triggerId?: string;
    }
  | {
      kind: 'submission';
      user: SlackActor;
      viewId: string;
      target: ActionTarget;
      /** The modal's inputs: block id → action id → value (text) or selected date. */
      values: Record<string, Record<string, string | undefined>>;
    };

export type ParsedInteraction = { ok: true; interaction: Interaction } | { ok: false; problem: string };

const TS = /^\d{1,12}\.\d{1,8}$/;
const CHANNEL = /^[CGD][A-Z0-9]{2,30}$/;
const user = z.looseObject({
  id: z.string().regex(SLACK_USER_ID, 'not a Slack user id'),
  username: z.string().max(256).optional(),
  name: z.string().max(256).optional(),
});
const action = z.looseObject({
  action_id: z.string().min(1).max(255),
  value: z.string().max(MAX_BUTTON_VALUE).optional(),
  action_ts: z.string().regex(TS, 'not a Slack timestamp'),
});
const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  user,
  trigger_id: z.string().max(256).optional(),
  container: z
    .looseObject({
      type: z.string().max(64),
      message_ts: z.string().regex(TS).optional(),
      channel_id: z.string().regex(CHANNEL).optional(),
    })
    .optional(),
  channel: z.looseObject({ id: z.string().regex(CHANNEL) }).optional(),
  actions: z.array(action).min(1).max(1),
});
const inputValue = z.looseObject({
  type: z.string().max(64),
  value: z.string().max(3000).nullish(),
  selected_date: z.string().max(32).nullish(),
});
const viewSubmission = z.looseObject({
  type: z.literal('view_submission'),
  user,
  view: z.looseObject({
    id: z.string().min(1).max(64),
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000),
    state: z.looseObject({
      values: z.record(z.string().max(255), z.record(z.string().max(255), inputValue)),
    }),
  }),
});
const metadata = z.object({
  k: z.string().min(1).max(MAX_BUTTON_VALUE),
  c: z.string().regex(CHANNEL),
  t: z.string().regex(TS),
});

const ACTION_BY_ID = new Map(
  (Object.entries(FINDING_ACTIONS) as Array<[FindingAction, string]>).map(([kind, id]) => [id, kind]),
);

function problemOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return `payload.${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
}

function actorOf(value: z.output<typeof user>): SlackActor {
  return { id: value.id, name: value.name || value.username || value.id };
}

function readButton(payload: unknown): ParsedInteraction {
  const parsed = blockActions.safeParse(payload);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error) };
  const { actions, container, channel } = parsed.data;
  const [clicked] = actions as [z.output<typeof action>];
  if (LINK_ACTION_IDS.has(clicked.action_id)) {
    return { ok: true, interaction: { kind: 'link', actionId: clicked.action_id } };
  }
  const kind = ACTION_BY_ID.get(clicked.action_id);
  if (!kind) return { ok: false, problem: `unknown action ${JSON.stringify(clicked.action_id)}` };
  const channelId = container?.channel_id ?? channel?.id;
  const messageTs = container?.message_ts;
  if (!clicked.value || !channelId || !messageTs || container?.type !== 'message') {
    return { ok: false, problem: `action ${clicked.action_id}: not a button of a channel message` };
  }
  const interaction: Interaction = {
    kind: 'button',
    action: kind,
    user: actorOf(parsed.data.user),
    target: { ledgerKey: clicked.value, channel: channelId, messageTs },
    actionTs: clicked.action_ts,
    ...(parsed.data.trigger_id ? { triggerId: parsed.data.trigger_id } : {}),
  };
  return { ok: true, interaction };
}

function readSubmission(payload: unknown): ParsedInteraction {
  const parsed = viewSubmission.safeParse(payload);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error) };
  const { view } = parsed.data;
  if (view.callback_id !== SUPPRESS_CALLBACK_ID) {
    return { ok: false, problem: `unknown callback ${JSON.stringify(view.callback_id)}` };
  }
  let target: z.output<typeof metadata>;
  try {
    target = metadata.parse(JSON.parse(view.private_metadata));
  } catch {
    return { ok: false, problem: 'payload.view.private_metadata: not the suppress modal of a message' };
  }
  const values = Object.fromEntries(
    Object.entries(view.state.values).map(([blockId, inputs]) => [
      blockId,
      Object.fromEntries(
        Object.entries(inputs).map(([actionId, input]) => [
          actionId,
          input.value ?? input.selected_date ?? undefined,
        ]),
      ),
    ]),
  );
  return {
    ok: true,
    interaction: {
      kind: 'submission',
      user: actorOf(parsed.data.user),
      viewId: view.id,
      target: { ledgerKey: target.k, channel: target.c, messageTs: target.t },
      values,
    },
  };
}

/** The form body Slack posts (`payload=<JSON>`), checked; a problem names the field. */
export function parseInteraction(body: string): ParsedInteraction {
  const raw = new URLSearchParams(body).get('payload');
  if (raw === null) return { ok: false, problem: 'body: no payload field' };
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return { ok: false, problem: 'payload: not JSON' };
  }
  const type = (payload as { type?: unknown } | null)?.type;
  if (type === 'block_actions') return readButton(payload);
  if (type === 'view_submission') return readSubmission(payload);
  return { ok: false, problem: `payload.type: ${JSON.stringify(type ?? null)} is not handled` };
}

// ---------------------------------------------------------------------------------------------
// The suppress modal: opened on the Suppress button, its submission does the work.

export const SUPPRESS_INPUTS = {
  reason: { block: 'reason', action: 'reason' },
  until: { block: 'until', action: 'until' },
} as const;
export const MAX_REASON_LENGTH = 500;
/** The latest expiry a suppression may have, in days from today. */
export const MAX_SUPPRESSION_DAYS = 366;

/** The modal (views.open `view`): a required reason and an optional expiry date. */
export function buildSuppressModal(target: ActionTarget): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: SUPPRESS_CALLBACK_ID,
    private_metadata: JSON.stringify({ k: target.ledgerKey, c: target.channel, t: target.messageTs }),
    title: plain('Suppress finding', 24, 'Suppress'),
    submit: plain('Suppress', 24, 'Suppress'),
    close: plain('Cancel', 24, 'Cancel'),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: "The message's findings are set to SUPPRESSED in Security Hub and their Backlog issue is closed as Won't Fix. With an expiry date they are set back to NEW on that day (UTC) and reopen.",
        },
      },
      {
        type: 'input',
        block_id: SUPPRESS_INPUTS.reason.block,
        label: plain('Reason', 2000, 'Reason'),
        element: {
          type: 'plain_text_input',
          action_id: SUPPRESS_INPUTS.reason.action,
          multiline: true,
          max_length: MAX_REASON_LENGTH,
          placeholder: plain('Accepted risk, see RISK-42', 150, 'Why'),
        },
      },
      {
        type: 'input',
        block_id: SUPPRESS_INPUTS.until.block,
        optional: true,
        label: plain('Suppressed until (optional)', 2000, 'Until'),
        element: {
          type: 'datepicker',
          action_id: SUPPRESS_INPUTS.until.action,
          placeholder: plain('No expiry', 150, 'No expiry'),
        },
        hint: plain('On this day the findings are set back to NEW.', 2000, 'Expiry'),
      },
    ],
  };
}

export type SuppressForm =
  | { ok: true; reason: string; until?: string }
  /** Slack shows each message under its input (`response_action: errors`). */
  | { ok: false; errors: Record<string, string> };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function dayNumber(date: string): number | undefined {
  const match = DATE.exec(date);
  if (!match) return undefined;
  const time = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(time).toISOString().slice(0, 10) === date ? time / 86_400_000 : undefined;
}

/** The submitted reason (required, at most 500 characters) and expiry (after today, within a year). */
export function readSuppressForm(
  values: Record<string, Record<string, string | undefined>>,
  today: string,
): SuppressForm {
  const errors: Record<string, string> = {};
  const reason = (values[SUPPRESS_INPUTS.reason.block]?.[SUPPRESS_INPUTS.reason.action] ?? '').trim();
  if (reason === '') errors[SUPPRESS_INPUTS.reason.block] = 'Say why the findings are suppressed.';
  if (reason.length > MAX_REASON_LENGTH) {
    errors[SUPPRESS_INPUTS.reason.block] = `At most ${MAX_REASON_LENGTH} characters.`;
  }
  const until = values[SUPPRESS_INPUTS.until.block]?.[SUPPRESS_INPUTS.until.action] || undefined;
  if (until !== undefined) {
    const day = dayNumber(until);
    const now = dayNumber(today) ?? 0;
    if (day === undefined) errors[SUPPRESS_INPUTS.until.block] = 'Not a date.';
    else if (day <= now) errors[SUPPRESS_INPUTS.until.block] = 'Choose a day after today.';
    else if (day > now + MAX_SUPPRESSION_DAYS) {
      errors[SUPPRESS_INPUTS.until.block] = `At most ${MAX_SUPPRESSION_DAYS} days from today.`;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return until ? { ok: true, reason, until } : { ok: true, reason };
}

// ---------------------------------------------------------------------------------------------
// What the endpoint queues for the worker.

/** An accepted action, compact: who, what, on which message; the worker re-reads everything else. */
export interface QueuedSlackAction {
  /** Names the action once: the same user, message and action timestamp (or modal) is handled once. */
  id: string;
  action: FindingAction;
  user: SlackActor;
  target: ActionTarget;
  /** When the endpoint accepted it (ISO 8601). */
  at: string;
  /** A suppression's reason and expiry date. */
  reason?: string;
  until?: string;
}

/** The id of a button click (user, message, action timestamp) or a modal submission (user, view). */
export function actionId(interaction: Extract<Interaction, { kind: 'button' | 'submission' }>): string {
  const { user, target } = interaction;
  return interaction.kind === 'button'
    ? `${user.id}|${target.channel}|${target.messageTs}|${interaction.actionTs}`
    : `${user.id}|view|${interaction.viewId}`;
}

const queued = z.object({
  id: z.string().min(1).max(512),
  action: z.enum(Object.keys(FINDING_ACTIONS) as [FindingAction, ...FindingAction[]]),
  user: z.object({ id: z.string().regex(SLACK_USER_ID), name: z.string().max(256) }),
  target: z.object({
    ledgerKey: z.string().min(1).max(MAX_BUTTON_VALUE),
    channel: z.string().regex(CHANNEL),
    messageTs: z.string().regex(TS),
  }),
  at: z.iso.datetime(),
  reason: z.string().min(1).max(MAX_REASON_LENGTH).optional(),
  until: z.string().regex(DATE).optional(),
});

/** A queued action read back by the worker, every field checked. */
export function parseQueuedSlackAction(
  value: unknown,
): { ok: true; action: QueuedSlackAction } | { ok: false; problem: string } {
  const parsed = queued.safeParse(value);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error).replace(/^payload/, 'action') };
  const action = parsed.data;
  if (action.action === 'suppress' && !action.reason)
    return { ok: false, problem: 'action.reason: required' };
  return { ok: true, action: action as QueuedSlackAction };
}
