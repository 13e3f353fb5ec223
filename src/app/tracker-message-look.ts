/**
 * The loop from Backlog reaches Slack too: once a Backlog activity has closed, suppressed or
 * reopened the findings of an issue, the issue's Slack message is restyled to match (✅ Resolved,
 * 🔕 Suppressed with the person's comment as the reason, or open again with its severity's colour),
 * so Security Hub, Backlog and Slack agree without anyone touching the message.
 *
 * Derived from where things stand after the activity, not from what this attempt changed: a retry
 * of an activity whose findings were closed by an earlier attempt still restyles the message. A
 * message that already shows a close is left as it is when nothing changed now (its words say why
 * it closed, e.g. compliance PASSED); a deleted message is logged and left.
 */
import { type FindingItem, isOpenLifecycle } from '../domain/delivery/ledger-items.js';
import type { CloseReason } from '../domain/delivery/lifecycle.js';
import type { IssueVerdict } from '../domain/delivery/tracker-lifecycle.js';
import { withSlackClose } from '../domain/slack/actions.js';
import { severityColor } from '../domain/slack/finding-message.js';
import {
  LIFECYCLE_BLOCK_ID,
  type PostedMessage,
  withLifecycleLook,
} from '../domain/slack/lifecycle-message.js';
import { SlackMessageGoneError } from './errors.js';
import type { Chat, Log } from './ports.js';

export interface MessageLookPorts {
  chat: Pick<Chat, 'read' | 'update'>;
  log: Log;
}

export interface IssueStanding {
  issueKey: string;
  verdict: IssueVerdict;
  /** The person named (the issue's last updater). */
  by: string;
  at: string;
  /** The item the issue and the message were filed under. */
  deliveryItem: FindingItem | undefined;
  /** Its findings as the ledger has them after this activity. */
  findings: readonly FindingItem[];
  /** This activity closed or reopened findings (not a retry or a change that changed nothing). */
  changedNow: boolean;
  /** The person's latest comment, for a suppression's reason. */
  comment?: string | undefined;
}

const looksClosed = (message: PostedMessage) =>
  (message.blocks ?? []).some((block) =>
    String((block as { block_id?: unknown }).block_id ?? '').startsWith(LIFECYCLE_BLOCK_ID),
  );

/** The look the message should have now; undefined: leave it. */
function lookFor(standing: IssueStanding, current: PostedMessage): PostedMessage | undefined {
  const { verdict, findings, deliveryItem } = standing;
  if (verdict.kind === 'open') {
    const open = findings.some(isOpenLifecycle);
    return open && looksClosed(current)
      ? withLifecycleLook(current, undefined, severityColor(deliveryItem?.severity))
      : undefined;
  }
  if (findings.some(isOpenLifecycle)) return undefined; // kept open: still failing
  if (!standing.changedNow && looksClosed(current)) return undefined;
  const reason: CloseReason = {
    kind: verdict.kind === 'not-to-fix' ? 'suppressed' : 'resolved',
    at: standing.at,
    by: `${standing.by} (${standing.issueKey}, ${verdict.resolution})`,
    via: 'Backlog',
    ...(verdict.kind === 'not-to-fix' && standing.comment ? { note: standing.comment } : {}),
  };
  return withSlackClose(current, reason);
}

export async function restyleForIssue(standing: IssueStanding, ports: MessageLookPorts): Promise<void> {
  const item = standing.deliveryItem;
  if (!item?.slackChannel || !item.slackTs || item.messageGoneAt) return;
  const { slackChannel: channel, slackTs: ts } = item;
  try {
    const current = await ports.chat.read(channel, ts);
    if (!current) throw new SlackMessageGoneError(`the message ${ts} in ${channel} is gone`);
    const next = lookFor(standing, current);
    if (!next) return;
    await ports.chat.update(channel, ts, next);
    ports.log.info('Slack message restyled from Backlog', { issueKey: standing.issueKey, channel, ts });
  } catch (error) {
    if (!(error instanceof SlackMessageGoneError)) throw error;
    ports.log.warn('the Slack message was deleted: not restyled', {
      issueKey: standing.issueKey,
      channel,
      ts,
    });
  }
}
