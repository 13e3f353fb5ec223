/**
 * Acting on a finding from Slack: the buttons every top-level message carries (acknowledge,
 * suppress, resolve), the on-call mentions of a route's CRITICAL findings, and the lines a message
 * gains when someone acts on it. `withFindingActions` is the one place the buttons and mentions are
 * added: `buildSlackDeliveryMessage` calls it for every top-level message, whatever builder made it.
 *
 * A button's `value` is the ledger key of the delivery (a finding's key or a storm group's): it
 * names what the message is about and is never trusted alone: the endpoint's worker re-reads the
 * ledger and checks the message it was clicked on is the one the ledger has for that key.
 */
import type { Delivery } from '../delivery/delivery.js';
import type { CloseReason } from '../delivery/lifecycle.js';
import {
  type ActionButtonElement,
  type Block,
  type ContextBlock,
  capBlocks,
  context,
  esc,
  type InteractiveActionsBlock,
  plain,
  type SlackMessage,
} from './blocks.js';
import { LIFECYCLE_BLOCK_ID, type PostedMessage, withLifecycleLook } from './lifecycle-message.js';

/** The `action_id` of each action a person can take on a finding from Slack. */
export const FINDING_ACTIONS = {
  acknowledge: 'finding.acknowledge',
  suppress: 'finding.suppress',
  resolve: 'finding.resolve',
} as const;
export type FindingAction = keyof typeof FINDING_ACTIONS;

/** The suppress modal's `callback_id`: its submission does the suppressing. */
export const SUPPRESS_CALLBACK_ID = 'finding.suppress';

/**
 * The link buttons' `action_id`s. Slack sends a click on a link button to the interactivity URL
 * too: it is answered 200 and nothing is done (any other unknown action is refused with 400).
 */
export const LINK_ACTION_IDS: ReadonlySet<string> = new Set([
  'open-security-hub',
  'open-backlog-issue',
  'open-source',
  'open-remediation',
]);

export const ACTIONS_BLOCK_ID = 'shn-actions';
export const ONCALL_BLOCK_ID = 'shn-oncall';
export const ACKNOWLEDGED_BLOCK_ID = 'shn-acknowledged';
/** Starts with the lifecycle block's id: it goes when the finding reopens, with the lifecycle line. */
export const REASON_BLOCK_ID = `${LIFECYCLE_BLOCK_ID}-reason`;

/** Slack's limit on a button's value. */
export const MAX_BUTTON_VALUE = 2000;

/** A Slack user (`U…`, `W…` in Enterprise Grid) or user group (`S…`) id: the only live mentions. */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;
export const SLACK_USER_GROUP_ID = /^S[A-Z0-9]{2,20}$/;

/**
 * Resolving by hand is meaningful only for findings without a compliance check (GuardDuty,
 * Inspector, most integrations): a control's finding resolves itself when the control passes.
 */
export function isResolvable(finding: { complianceStatus?: string | undefined }): boolean {
  return finding.complianceStatus === undefined;
}

function actionButton(
  action: FindingAction,
  label: string,
  value: string,
  extra: Partial<ActionButtonElement> = {},
): ActionButtonElement {
  return {
    type: 'button',
    text: plain(label, 75, label),
    action_id: FINDING_ACTIONS[action],
    value,
    ...extra,
  };
}

/** The buttons of a delivery's message; none when its ledger key is longer than a button value takes. */
export function buildActionsBlock(delivery: Delivery): InteractiveActionsBlock | undefined {
  const value = delivery.deliveryKey;
  if (value.length > MAX_BUTTON_VALUE) return undefined;
  const elements = [
    actionButton('acknowledge', 'Acknowledge', value, { style: 'primary' }),
    actionButton('suppress', 'Suppress…', value),
  ];
  if (isResolvable(delivery.finding)) {
    elements.push(
      actionButton('resolve', 'Resolve', value, {
        confirm: {
          title: plain('Resolve the finding?', 100, 'Resolve'),
          text: plain(
            'It is set to RESOLVED in Security Hub and its Backlog issue is closed as Fixed.',
            300,
            'Resolve',
          ),
          confirm: plain('Resolve', 30, 'Resolve'),
          deny: plain('Cancel', 30, 'Cancel'),
        },
      }),
    );
  }
  return { type: 'actions', block_id: ACTIONS_BLOCK_ID, elements };
}

/** `<@U…>` / `<!subteam^S…>` for the ids the policy validated; anything else is left out. */
export function mentionOf(id: string): string | undefined {
  if (SLACK_USER_ID.test(id)) return `<@${id}>`;
  if (SLACK_USER_GROUP_ID.test(id)) return `<!subteam^${id}>`;
  return undefined;
}

/** The on-call line of a CRITICAL finding whose route names people to mention. */
export function buildOnCallBlock(delivery: Delivery): ContextBlock | undefined {
  if (delivery.finding.severity !== 'CRITICAL') return undefined;
  const mentions = (delivery.route?.slackMentions ?? [])
    .map(mentionOf)
    .filter((mention) => mention !== undefined);
  if (mentions.length === 0) return undefined;
  return withId(context(`🚨 *On call*: ${mentions.join(' ')}`), ONCALL_BLOCK_ID);
}

function withId(block: ContextBlock, blockId: string): ContextBlock {
  return { ...block, block_id: blockId } as ContextBlock;
}

/**
 * A top-level message with the on-call mentions (CRITICAL findings of a route that names them)
 * and the action buttons, after the header and notices; the attachment kept within Slack's block
 * limit. Only a new delivery's message (the top-level one) gets them: replies do not.
 */
export function withFindingActions(message: SlackMessage, delivery: Delivery): SlackMessage {
  if (delivery.mode !== 'new') return message;
  const added: Block[] = [buildOnCallBlock(delivery), buildActionsBlock(delivery)].filter(
    (block) => block !== undefined,
  );
  if (added.length === 0) return message;
  const blocks = [...message.blocks, ...added];
  const attachments = message.attachments.map((attachment) => ({
    ...attachment,
    blocks: capBlocks(blocks, attachment.blocks),
  }));
  return { ...message, blocks, attachments };
}

// ---------------------------------------------------------------------------------------------
// The lines a message gains when someone acts on it (on the message as Slack has it now).

type Json = Record<string, unknown>;

/** Put `block` in place of the block with its id, else right before the buttons (else last). */
function placeLine(message: PostedMessage, block: ContextBlock & { block_id?: string }): PostedMessage {
  const id = block.block_id;
  const blocks = (message.blocks ?? []).filter((existing) => (existing as Json).block_id !== id);
  const at = blocks.findIndex((existing) => (existing as Json).block_id === ACTIONS_BLOCK_ID);
  blocks.splice(at < 0 ? blocks.length : at, 0, block);
  return { ...message, blocks: blocks.slice(0, 50) };
}

/** Who acknowledged it, when, and to whom the Backlog issue was assigned (all escaped). */
export function withAcknowledgement(
  message: PostedMessage,
  ack: { by: string; at: string; assignee?: string | undefined },
): PostedMessage {
  const assigned = ack.assignee ? `; assigned to ${esc(ack.assignee, 100)} in Backlog` : '';
  const line = `👀 *Acknowledged* by ${esc(ack.by, 100)} at ${esc(ack.at, 40)}${assigned}`;
  return placeLine(message, withId(context(line), ACKNOWLEDGED_BLOCK_ID));
}

/**
 * The message of a finding suppressed or resolved from Slack: the lifecycle look (marker, colour,
 * "Suppressed at … because suppressed from Slack by … until …") and, for a suppression, the reason
 * (escaped) right after the lifecycle line. Both go when the finding reopens.
 */
export function withSlackClose(message: PostedMessage, reason: CloseReason): PostedMessage {
  const closed = withLifecycleLook(message, reason, '');
  if (!reason.note) return closed;
  const line = withId(
    context(`*Reason* (${esc(reason.by, 100)}): ${esc(reason.note, 1000)}`),
    REASON_BLOCK_ID,
  );
  const blocks = [...(closed.blocks ?? [])];
  const after = blocks.findIndex((block) => (block as Json).block_id === LIFECYCLE_BLOCK_ID);
  blocks.splice(after + 1, 0, line);
  return { ...closed, blocks: blocks.slice(0, 50) };
}
