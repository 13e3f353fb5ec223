import { type Delivery, memberKey } from '../delivery/delivery.js';
import { plural } from '../delivery/group-facts.js';
import { singleLine } from '../text/sanitize.js';
import { withFindingActions } from './actions.js';
import { type ContextBlock, capBlocks, code, context, esc } from './blocks.js';
import { buildSlackMessage, SLACK_LIMITS, type SlackMessage } from './finding-message.js';
import {
  buildSlackAppendReply,
  buildSlackGroupMessage,
  GROUP_LIMITS,
  type GroupMessageContext,
} from './group-message.js';
import {
  buildSlackVulnerabilityMessage,
  buildSlackVulnerabilityReply,
  dueNotice,
} from './vulnerability-message.js';

/** The Slack message of any delivery: what the PostSlackMessage task posts. */
export interface DeliveryMessageContext extends GroupMessageContext {
  /** How often the finding has been reopened, this time included (single deliveries only). */
  reopenCount?: number;
  /**
   * Backlog could not file the issue (the error's name): the message says so, and is updated with
   * the link once the issue exists.
   */
  issueProblem?: string;
  /** Now, for the due date's "13 days" or "overdue by 3 days". */
  now?: Date;
}

/** The line a message carries while its issue is owed. */
export function issueProblemNotice(problem: string): ContextBlock {
  return context(
    `⚠️ *Backlog issue not filed yet* (${esc(problem, 80)}): this message will link it once it is filed.`,
  );
}

/** Add a block right after the header, keeping the total within Slack's block limit. */
function withTopNotice(message: SlackMessage, notice: ContextBlock): SlackMessage {
  const [header, ...rest] = message.blocks;
  const blocks = header ? [header, notice, ...rest] : [notice];
  const attachments = message.attachments.map((attachment) => ({
    ...attachment,
    blocks: capBlocks(blocks, attachment.blocks),
  }));
  return { ...message, blocks, attachments };
}

// ---------------------------------------------------------------------------------------------
// Consolidation: one control on one resource, reported by several standards.

/** `cis-aws-foundations-benchmark/v/1.4.0` from a control finding's Id, when it names a standard. */
function standardOf(id: string): string | undefined {
  return /(?:^|[:/])subscription\/(.+?\/v\/[^/]+)\//.exec(id)?.[1];
}

function consolidatedNotice(delivery: Delivery): ContextBlock | undefined {
  const others = delivery.members.filter((member) => memberKey(member) !== delivery.finding.key);
  if (delivery.members.length < 2 || others.length === 0) return undefined;
  const isControl = delivery.finding.control !== undefined;
  const what = isControl
    ? plural(others.length, 'other standard', 'other standards')
    : plural(others.length, 'other finding', 'other findings');
  const named = others
    .slice(0, GROUP_LIMITS.consolidated)
    .map((member) => standardOf(member.identifier.Id) ?? (isControl ? undefined : member.title))
    .filter((name): name is string => name !== undefined && singleLine(name) !== '')
    .map((name) => code(name, 120));
  const hidden = others.length - Math.min(others.length, GROUP_LIMITS.consolidated);
  const list = named.length > 0 ? `: ${named.join(', ')}${hidden > 0 ? `, +${hidden} more` : ''}` : '';
  return context(`➕ Also reported by ${what}${list}`);
}

/** Add a block before the trailing actions block, dropping a detail block if the limit needs it. */
function withNotice(message: SlackMessage, notice: ContextBlock): SlackMessage {
  const [attachment, ...rest] = message.attachments;
  if (!attachment) return message;
  const blocks = [...attachment.blocks];
  const last = blocks[blocks.length - 1];
  const actionsAtEnd = last?.type === 'actions';
  const at = actionsAtEnd ? blocks.length - 1 : blocks.length;
  blocks.splice(at, 0, notice);
  while (message.blocks.length + blocks.length > SLACK_LIMITS.blocks) {
    const index = blocks.indexOf(notice) - 1;
    if (index < 0) break;
    blocks.splice(index, 1);
  }
  return { ...message, attachments: [{ ...attachment, blocks }, ...rest] };
}

/**
 * The Slack message for any delivery: a new group → `buildSlackGroupMessage`; an append →
 * `buildSlackAppendReply`; otherwise the representative's `buildSlackMessage` (new or reopen),
 * with an "Also reported by N other standards" line when it consolidates several findings.
 */
export function buildSlackDeliveryMessage(delivery: Delivery, ctx: DeliveryMessageContext): SlackMessage {
  const message = renderDelivery(delivery, ctx);
  const noticed = ctx.issueProblem ? withTopNotice(message, issueProblemNotice(ctx.issueProblem)) : message;
  // Every top-level message, whichever builder made it: the action buttons and on-call mentions.
  return withFindingActions(noticed, delivery);
}

function renderDelivery(delivery: Delivery, ctx: DeliveryMessageContext): SlackMessage {
  if (delivery.group?.kind === 'vulnerability' && delivery.mode === 'append')
    return buildSlackVulnerabilityReply(delivery, ctx);
  if (delivery.group?.kind === 'vulnerability' && delivery.mode === 'new')
    return buildSlackVulnerabilityMessage(delivery, ctx);
  const message = renderOther(delivery, ctx);
  if (!delivery.due || delivery.mode !== 'new') return message;
  try {
    return withNotice(message, dueNotice(delivery.due, ctx.now));
  } catch {
    return message;
  }
}

function renderOther(delivery: Delivery, ctx: DeliveryMessageContext): SlackMessage {
  if (delivery.mode === 'append') return buildSlackAppendReply(delivery, ctx);
  if (delivery.kind === 'group' && delivery.mode === 'new') return buildSlackGroupMessage(delivery, ctx);
  const single = buildSlackMessage(delivery.finding, {
    mode: delivery.mode === 'reopen' ? 'reopen' : 'new',
    ...(ctx.issue ? { issue: ctx.issue } : {}),
    ...(ctx.reopenCount !== undefined ? { reopenCount: ctx.reopenCount } : {}),
  });
  try {
    const notice = consolidatedNotice(delivery);
    return notice ? withNotice(single, notice) : single;
  } catch {
    return single;
  }
}
