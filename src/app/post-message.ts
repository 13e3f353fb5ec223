/**
 * Use case: post the Slack message for a delivery once, then ledger it and every finding it
 * covers. A recorded ts is reused; a live claim by another execution is waited for (the workflow
 * retries). A reopen is a reply in the original thread, broadcast to the channel; an append to an
 * open group, a reply in the group's thread.
 */
import { type Delivery, type IssueRef, memberKey, type SlackRef } from '../domain/delivery/delivery.js';
import { appendApplied, type FindingItem } from '../domain/delivery/ledger-items.js';
import { buildSlackDeliveryMessage } from '../domain/slack/delivery-message.js';
import type { SlackMessage } from '../domain/slack/finding-message.js';
import { ClaimHeldError } from './errors.js';
import type { Chat, ChatPost, Log, MessageLedger } from './ports.js';

export interface PostMessageInput {
  delivery: Delivery;
  issue: IssueRef;
  execution: string;
}

export interface PostMessagePorts {
  ledger: MessageLedger;
  chat: Chat;
  /** The default channel; a delivery's route overrides it. */
  channel: string;
  log: Log;
}

export type PostedMessage = SlackRef & { note: string };

export async function postMessage(input: PostMessageInput, ports: PostMessagePorts): Promise<PostedMessage> {
  const { delivery } = input;
  const entry = await ports.ledger.get(delivery.deliveryKey);
  if (delivery.mode === 'append') return replyAppend(input, entry, ports);
  if (delivery.mode === 'reopen' && entry?.slackTs && entry.slackChannel) {
    return replyReopen(input, entry as Posted, ports);
  }
  if (entry?.slackTs && entry.slackChannel) {
    return noted(input.issue, { channel: entry.slackChannel, ts: entry.slackTs, posted: false });
  }
  return postOnce(input, ports);
}

type Posted = FindingItem & { slackTs: string; slackChannel: string };

/** Security Hub's Note (at most 512 characters): where the finding was delivered. */
export function deliveryNote(issue: IssueRef, slack: { channel: string; ts: string } | undefined): string {
  const parts = [
    issue.key ? `Backlog ${issue.key} ${issue.url}` : undefined,
    slack?.ts ? `Slack ${slack.channel} ${slack.ts}` : undefined,
  ].filter(Boolean);
  return `Notified by securityhub-notifier. ${parts.join(' ') || 'Delivered.'}`.slice(0, 512);
}

function noted(issue: IssueRef, ref: SlackRef): PostedMessage {
  return { ...ref, note: deliveryNote(issue, ref) };
}

function chatPost(
  message: SlackMessage,
  channel: string,
  thread?: { ts: string; broadcast: boolean },
): ChatPost {
  return {
    channel,
    text: message.text,
    blocks: message.blocks,
    attachments: message.attachments,
    ...(thread ? { threadTs: thread.ts, replyBroadcast: thread.broadcast } : {}),
  };
}

function messageContext(issue: IssueRef) {
  return issue.key ? { issue: { key: issue.key, url: issue.url } } : {};
}

/** The members other than the ledger item the delivery itself is recorded under. */
function otherMembers(delivery: Delivery) {
  return delivery.members
    .map((member) => ({ key: memberKey(member), updatedAt: member.updatedAt }))
    .filter((member) => member.key !== delivery.deliveryKey);
}

/** More findings for an open group: a reply in its thread, then every member ledgered to it. */
async function replyAppend(
  { delivery, issue }: PostMessageInput,
  entry: FindingItem | undefined,
  ports: PostMessagePorts,
) {
  const { ledger } = ports;
  if (!entry?.slackTs || !entry.slackChannel) {
    if (delivery.destinations.slack) {
      throw new ClaimHeldError(
        `group ${delivery.deliveryKey} has no message yet: its first delivery is still running`,
      );
    }
  } else if (delivery.destinations.slack && !appendApplied(entry, 'posted', delivery.deliveryId)) {
    const message = buildSlackDeliveryMessage(delivery, messageContext(issue));
    await ports.chat.post(chatPost(message, entry.slackChannel, { ts: entry.slackTs, broadcast: false }));
    await ledger.recordAppend(delivery.deliveryKey, 'posted', delivery.deliveryId);
  }
  const where = {
    issueKey: issue.key,
    issueUrl: issue.url,
    slackChannel: entry?.slackChannel,
    slackTs: entry?.slackTs,
  };
  await ledger.recordMembers(otherMembers(delivery), { ...where, deliveryKey: delivery.deliveryKey });
  await ledger.touchGroup(delivery.deliveryKey, delivery.members.length);
  return noted(issue, { channel: entry?.slackChannel ?? '', ts: entry?.slackTs ?? '', posted: false });
}

/** A finding Security Hub set back to NEW: one broadcast reply in its thread. */
async function replyReopen(
  { delivery, issue, execution }: PostMessageInput,
  entry: Posted,
  ports: PostMessagePorts,
) {
  const { finding } = delivery;
  const thread = { channel: entry.slackChannel, threadTs: entry.slackTs };
  const token = `${execution}/${delivery.deliveryId}`;
  const claim = await ports.ledger.claimReopen(delivery.deliveryKey, 'slack', finding.updatedAt, token);
  if (claim === 'held') throw new ClaimHeldError(`the reopen of ${delivery.deliveryKey} is being posted`);
  if (claim === 'done' || !delivery.destinations.slack) {
    return noted(issue, {
      channel: thread.channel,
      ts: thread.threadTs,
      threadTs: thread.threadTs,
      posted: false,
    });
  }
  const message = buildSlackDeliveryMessage(delivery, {
    ...messageContext(issue),
    reopenCount: (entry.reopenCount ?? 0) + 1,
  });
  const reply = await ports.chat.post(
    chatPost(message, thread.channel, { ts: thread.threadTs, broadcast: true }),
  );
  await ports.ledger.recordReopen(delivery.deliveryKey, 'slack', finding.updatedAt);
  return noted(issue, { channel: reply.channel, ts: reply.ts, threadTs: thread.threadTs, posted: true });
}

/** Claim, post (unless below the policy's Slack threshold), then ledger the delivery and its members. */
async function postOnce({ delivery, issue, execution }: PostMessageInput, ports: PostMessagePorts) {
  const { ledger } = ports;
  const claim = await ledger.claim(delivery.deliveryKey, `${execution}/${delivery.deliveryId}`, 'slack');
  if (!claim.claimed) {
    if (claim.current?.slackTs && claim.current.slackChannel) {
      return noted(issue, { channel: claim.current.slackChannel, ts: claim.current.slackTs, posted: false });
    }
    throw new ClaimHeldError(`${delivery.deliveryKey} is being posted by another execution`);
  }
  const channel = delivery.route?.slackChannel ?? ports.channel;
  const posted = delivery.destinations.slack
    ? await ports.chat.post(chatPost(buildSlackDeliveryMessage(delivery, messageContext(issue)), channel))
    : { channel: '', ts: '' };
  await ledger.recordSlack(delivery.deliveryKey, posted, delivery.finding.updatedAt);
  await ledger.recordMembers(otherMembers(delivery), {
    issueKey: issue.key || undefined,
    issueUrl: issue.url || undefined,
    slackChannel: posted.channel || undefined,
    slackTs: posted.ts || undefined,
    deliveryKey: delivery.deliveryKey,
  });
  if (delivery.group) await ledger.touchGroup(delivery.deliveryKey, delivery.members.length);
  ports.log.info('delivered', { channel: posted.channel, ts: posted.ts, deliveryKey: delivery.deliveryKey });
  return noted(issue, { channel: posted.channel, ts: posted.ts, posted: delivery.destinations.slack });
}
