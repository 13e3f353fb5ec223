/**
 * Use case: post the Slack message for a delivery exactly once, then ledger it and every finding it
 * covers. A recorded ts is reused (and the message updated when the issue was filed since). Each
 * post is an effect done exactly once (`exactly-once.ts`): a post whose answer was lost is found by
 * its metadata and adopted, never posted again. A reopen is a reply in the original thread,
 * broadcast to the channel; an append to an open group, a reply in its thread. When Backlog could
 * not file the issue, the message says so, and is posted anyway.
 */
import {
  copyKey,
  type Delivery,
  type IssueRef,
  memberCopies,
  memberKey,
  type SlackRef,
  shortHash,
} from '../domain/delivery/delivery.js';
import {
  DELIVERED_STATUSES,
  type FindingItem,
  type GroupItem,
  isOpenLifecycle,
} from '../domain/delivery/ledger-items.js';
import { type CloseReason, groupCloses } from '../domain/delivery/lifecycle.js';
import { deliveryNote } from '../domain/delivery/note.js';
import { buildSlackDeliveryMessage, type DeliveryMessageContext } from '../domain/slack/delivery-message.js';
import { type SlackMessage, severityColor } from '../domain/slack/finding-message.js';
import { buildCloseReply, withLifecycleLook } from '../domain/slack/lifecycle-message.js';
import { ClaimHeldError, SlackMessageGoneError, SlackUnavailableError } from './errors.js';
import { exactlyOnce } from './exactly-once.js';
import type { Chat, ChatPost, Clock, LedgeredMember, Log, MessageLedger, Timing } from './ports.js';
import { orWait, type WaitResult } from './task-results.js';

/** What FileBacklogIssue answered: an issue, or (`failed`) why none could be filed yet. */
export type IssueOutcome = IssueRef & { failed?: boolean; error?: string };

export interface PostMessageInput {
  delivery: Delivery;
  issue: IssueOutcome;
  execution: string;
  /** This attempt (the Lambda request id): claims are per attempt. */
  attempt: string;
}

export interface PostMessagePorts {
  ledger: MessageLedger;
  chat: Chat;
  /** The default channel; a delivery's route overrides it. */
  channel: string;
  timing: Timing;
  clock: Clock;
  log: Log;
}

export type PostedMessage = SlackRef & { note: string };

type Posted = FindingItem & { slackTs: string; slackChannel: string };

export function postMessage(
  input: PostMessageInput,
  ports: PostMessagePorts,
): Promise<PostedMessage | WaitResult> {
  return orWait(() => postMessageNow(input, ports), ports.timing);
}

async function postMessageNow(input: PostMessageInput, ports: PostMessagePorts): Promise<PostedMessage> {
  const { delivery } = input;
  const { entry, down } = await ports.ledger.readDelivery(delivery.deliveryKey, 'slack');
  if (delivery.destinations.slack) ensureSlackUp(down, input.execution);
  if (delivery.mode === 'close') return replyClose(input, entry, ports);
  if (delivery.mode === 'append') return replyAppend(input, entry, ports);
  if (delivery.mode === 'reopen' && entry?.slackTs && entry.slackChannel) {
    return replyReopen(input, entry as Posted, ports);
  }
  if (entry?.slackTs && entry.slackChannel) return completeRecorded(input, entry as Posted, ports);
  return postTop(input, entry, ports);
}

/** Slack failed past its retries earlier in this execution: fail this delivery's Slack side at once. */
function ensureSlackUp(down: { execution: string; reason: string } | undefined, execution: string): void {
  if (down?.execution === execution) {
    throw new SlackUnavailableError(
      `Slack failed past its retries earlier in execution ${execution} (${down.reason}); the next execution tries it again`,
    );
  }
}

function noted(issue: IssueOutcome, ref: SlackRef): PostedMessage {
  return { ...ref, note: deliveryNote(issue, ref) };
}

function messageContext(issue: IssueOutcome, now: Date): DeliveryMessageContext {
  if (issue.key) return { issue: { key: issue.key, url: issue.url }, now };
  return issue.failed ? { issueProblem: issue.error ?? 'Backlog failed', now } : { now };
}

/** Every destination reached: the issue is filed, or none was owed. */
function isComplete(delivery: Delivery, issue: IssueOutcome): boolean {
  return !delivery.destinations.backlog || Boolean(issue.key);
}

/**
 * Post once: the effect `name` is claimed for this attempt, a lost post is found by its metadata
 * (`postId`) in the channel or thread, and the result is recorded in the claim.
 */
async function postOnce(
  input: PostMessageInput,
  ports: PostMessagePorts,
  name: string,
  message: SlackMessage,
  where: { channel: string; threadTs?: string; broadcast?: boolean },
  record?: (posted: { channel: string; ts: string }) => Promise<void>,
): Promise<{ channel: string; ts: string; posted: boolean }> {
  const postId = shortHash(name, 32);
  const request: ChatPost = {
    channel: where.channel,
    text: message.text,
    blocks: message.blocks,
    attachments: message.attachments,
    postId,
    ...(where.threadTs ? { threadTs: where.threadTs, replyBroadcast: where.broadcast ?? false } : {}),
  };
  const token = `${input.execution}/${input.delivery.deliveryId}/${input.attempt}`;
  const { result, done } = await exactlyOnce(
    {
      id: `post|${postId}`,
      what: `the Slack message ${name}`,
      // A minute of slack either side of the attempt: Slack's clock and ours differ a little.
      find: (attemptedAt) =>
        ports.chat.findPost(where.channel, postId, new Date(attemptedAt.getTime() - 60_000), where.threadTs),
      act: () => ports.chat.post(request),
      encode: (posted) => ({ channel: posted.channel, ts: posted.ts }),
      decode: (posted) => ({ channel: posted.channel ?? '', ts: posted.ts ?? '' }),
      ...(record ? { record } : {}),
    },
    { ledger: ports.ledger, token, timing: ports.timing, clock: ports.clock },
  );
  return { ...result, posted: done === 'now' };
}

/** The members other than the ledger item the delivery itself is recorded under, with the copies it marks. */
function otherMembers(delivery: Delivery): LedgeredMember[] {
  return delivery.members
    .map((member) => {
      const copies = memberCopies(member);
      return {
        key: memberKey(member),
        updatedAt: member.updatedAt,
        copies: copies.map(copyKey),
        ocsfUids: copies.flatMap((copy) => (copy.ocsf ? [copy.ocsf.metadataUid] : [])),
      };
    })
    .filter((member) => member.key !== delivery.deliveryKey);
}

/**
 * Ledger the members (announced by this delivery: a group's opening registers them in the group's
 * announcement map first, so that no append announces them again), then the delivery's message.
 */
async function recordDelivered(
  input: PostMessageInput,
  entry: FindingItem | undefined,
  posted: { channel: string; ts: string; issueKey?: string },
  ports: PostMessagePorts,
): Promise<void> {
  const { delivery, issue } = input;
  const complete = isComplete(delivery, issue);
  const members = otherMembers(delivery);
  if (delivery.group) {
    const takeover = [...(entry?.failedDeliveries ?? [])];
    await ports.ledger.claimMembers(
      delivery.deliveryKey,
      delivery.deliveryId,
      members.map((member) => member.key),
      takeover,
      entry,
    );
  }
  await ports.ledger.recordMembers(members, {
    issueKey: issue.key || undefined,
    issueUrl: issue.url || undefined,
    slackChannel: posted.channel || undefined,
    slackTs: posted.ts || undefined,
    deliveryKey: delivery.deliveryKey,
    announcedBy: delivery.deliveryId,
    complete,
  });
  await ports.ledger.recordSlack(delivery.deliveryKey, posted, delivery.finding.updatedAt, complete);
}

/** The top-level message (unless below the policy's Slack threshold), then the delivery ledgered. */
async function postTop(input: PostMessageInput, entry: FindingItem | undefined, ports: PostMessagePorts) {
  const { delivery, issue } = input;
  const channel = delivery.route?.slackChannel ?? ports.channel;
  // One top-level message per finding, or per opening of a storm group.
  const opening = (entry as Partial<GroupItem> | undefined)?.openedAt ?? '';
  // Every attempt reads the delivery's item first: a message recorded there is never posted again.
  const record = (where: { channel: string; ts: string }) =>
    recordDelivered(input, entry, { ...where, issueKey: issue.key }, ports);
  const posted = delivery.destinations.slack
    ? await postOnce(
        input,
        ports,
        `top|${delivery.deliveryKey}|${opening}`,
        buildSlackDeliveryMessage(delivery, messageContext(issue, ports.clock.now())),
        { channel },
        record,
      )
    : { channel: '', ts: '', posted: false };
  if (!delivery.destinations.slack) await record(posted);
  if (delivery.group) await ports.ledger.touchGroup(delivery.deliveryKey, delivery.members.length);
  ports.log.info('delivered', { channel: posted.channel, ts: posted.ts, deliveryKey: delivery.deliveryKey });
  return noted(issue, posted);
}

/**
 * The message exists already: when the issue was filed after it (Backlog was down at the time),
 * update it to link the issue; then complete the delivery if it was not.
 */
async function completeRecorded(
  input: PostMessageInput,
  entry: Posted,
  ports: PostMessagePorts,
): Promise<PostedMessage> {
  const { delivery, issue } = input;
  const linkMissing = Boolean(issue.key) && entry.messageIssueKey !== issue.key;
  if (linkMissing && delivery.destinations.slack) {
    const message = buildSlackDeliveryMessage(delivery, messageContext(issue, ports.clock.now()));
    await ports.chat.update(entry.slackChannel, entry.slackTs, message);
    ports.log.info('message updated with the issue filed since', { ts: entry.slackTs, issueKey: issue.key });
  }
  if (linkMissing || !DELIVERED_STATUSES.has(entry.status)) {
    await recordDelivered(
      input,
      entry,
      { channel: entry.slackChannel, ts: entry.slackTs, issueKey: issue.key },
      ports,
    );
  }
  return noted(issue, { channel: entry.slackChannel, ts: entry.slackTs, posted: false });
}

/** A finding Security Hub set back to NEW: one broadcast reply in its thread. */
async function replyReopen(input: PostMessageInput, entry: Posted, ports: PostMessagePorts) {
  const { delivery, issue } = input;
  const { finding } = delivery;
  const thread = { channel: entry.slackChannel, threadTs: entry.slackTs, broadcast: true };
  const context = { ...messageContext(issue, ports.clock.now()), reopenCount: (entry.reopenCount ?? 0) + 1 };
  const name = `reopen|${delivery.deliveryKey}|${finding.updatedAt}`;
  const reply = delivery.destinations.slack
    ? await whileMessageExists(delivery.deliveryKey, ports, () =>
        postOnce(input, ports, name, buildSlackDeliveryMessage(delivery, context), thread),
      )
    : undefined;
  // A closed finding's own message looks open again (a storm member's group message stays as it is).
  const ownMessage = !entry.deliveredWith || entry.deliveredWith === delivery.deliveryKey;
  if (reply && ownMessage && !isOpenLifecycle(entry)) {
    await whileMessageExists(delivery.deliveryKey, ports, () =>
      restyle(ports, entry.slackChannel, entry.slackTs, undefined, severityColor(finding.severity)),
    );
  }
  // Recorded once every destination has it: a reopen whose comment is still owed comes again.
  if (isComplete(delivery, issue)) {
    const group = entry.deliveredWith?.startsWith('group|') ? entry.deliveredWith : undefined;
    await ports.ledger.recordReopen(delivery.deliveryKey, finding.updatedAt, group);
  }
  const ref = reply ?? { channel: thread.channel, ts: thread.threadTs, posted: false };
  return noted(issue, { ...ref, threadTs: thread.threadTs });
}

/**
 * The finding is fixed, gone, resolved or suppressed: a reply in its thread saying why (a storm:
 * "n of m resolved", once per batch), the message restyled once the last finding closes, and the
 * findings recorded closed. Never gated by the policy: the finding was filed under the policy of
 * its day.
 */
async function replyClose(input: PostMessageInput, entry: FindingItem | undefined, ports: PostMessagePorts) {
  const { delivery, issue } = input;
  const reason = delivery.close as CloseReason;
  const keys = delivery.members.map(memberKey);
  const progress = delivery.group
    ? await ports.ledger.tallyClosed(delivery.deliveryKey, delivery.deliveryId, keys)
    : undefined;
  const closes = !progress || groupCloses(progress);
  let reply: { channel: string; ts: string; posted: boolean } | undefined;
  if (entry?.slackTs && entry.slackChannel && delivery.destinations.slack && !entry.messageGoneAt) {
    const { slackChannel: channel, slackTs: threadTs } = entry;
    const name = `close|${delivery.deliveryKey}|${reason.at}|${progress ? delivery.deliveryId : ''}`;
    reply = await whileMessageExists(delivery.deliveryKey, ports, () =>
      postOnce(input, ports, name, buildCloseReply(delivery, reason, progress), { channel, threadTs }),
    );
    if (closes) {
      await whileMessageExists(delivery.deliveryKey, ports, () =>
        restyle(ports, channel, threadTs, reason, severityColor(delivery.finding.severity)),
      );
    }
  }
  const closed = keys.filter((key) => key !== delivery.deliveryKey);
  await ports.ledger.recordClosed(
    closes ? [...closed, delivery.deliveryKey] : closed,
    reason,
    delivery.deliveryKey,
  );
  ports.log.info(closes ? 'closed' : 'closing', {
    deliveryKey: delivery.deliveryKey,
    reason: reason.kind,
    progress,
  });
  const ref = reply ?? { channel: entry?.slackChannel ?? '', ts: entry?.slackTs ?? '', posted: false };
  return noted(issue, ref);
}

/** The message's look for the lifecycle (closed, suppressed, or open again), read back and updated. */
async function restyle(
  ports: PostMessagePorts,
  channel: string,
  ts: string,
  reason: CloseReason | undefined,
  openColor: string,
): Promise<void> {
  const current = await ports.chat.read(channel, ts);
  if (!current) throw new SlackMessageGoneError(`the message ${ts} in ${channel} is gone`);
  await ports.chat.update(channel, ts, withLifecycleLook(current, reason, openColor));
}

/** Run a Slack change; a message deleted meanwhile is recorded and logged, and nothing retried. */
async function whileMessageExists<T>(
  key: string,
  ports: PostMessagePorts,
  change: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await change();
  } catch (error) {
    if (!(error instanceof SlackMessageGoneError)) throw error;
    await ports.ledger.recordGone(key, 'message');
    ports.log.warn('the Slack message was deleted; recorded, nothing retried', {
      deliveryKey: key,
      error: error.message,
    });
    return undefined;
  }
}

/** More findings for an open group: a reply for the members it announces, every member ledgered. */
async function replyAppend(input: PostMessageInput, entry: FindingItem | undefined, ports: PostMessagePorts) {
  const { delivery, issue } = input;
  const { ledger } = ports;
  if (!entry || !DELIVERED_STATUSES.has(entry.status)) {
    throw new ClaimHeldError(`group ${delivery.deliveryKey} is still being opened by another delivery`);
  }
  const takeover = [...(entry.failedDeliveries ?? [])];
  const announced = await ledger.claimMembers(
    delivery.deliveryKey,
    delivery.deliveryId,
    delivery.members.map(memberKey),
    takeover,
    entry,
  );
  const members = delivery.members.filter((member) => announced.has(memberKey(member)));
  const thread =
    entry.slackTs && entry.slackChannel
      ? { channel: entry.slackChannel, threadTs: entry.slackTs }
      : undefined;
  if (thread && delivery.destinations.slack && members.length > 0) {
    const name = `append|${delivery.deliveryId}`;
    const message = buildSlackDeliveryMessage(
      { ...delivery, members },
      messageContext(issue, ports.clock.now()),
    );
    await postOnce(input, ports, name, message, thread);
  }
  await ledger.recordMembers(otherMembers({ ...delivery, members }), {
    issueKey: issue.key || entry.issueKey,
    issueUrl: issue.url || entry.issueUrl,
    slackChannel: entry.slackChannel,
    slackTs: entry.slackTs,
    deliveryKey: delivery.deliveryKey,
    announcedBy: delivery.deliveryId,
    complete: isComplete(delivery, issue),
  });
  await ledger.touchGroup(delivery.deliveryKey, members.length);
  return noted(issue, { channel: entry.slackChannel ?? '', ts: entry.slackTs ?? '', posted: false });
}
