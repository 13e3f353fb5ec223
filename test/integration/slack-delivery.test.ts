import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClaimHeldError,
  LedgerError,
  SlackAuthError,
  SlackChannelError,
  SlackRateLimitError,
} from '../../src/app/errors.js';
import { decideAgainstLedger } from '../../src/domain/delivery/ledger-items.js';
import type { ImportedEvent } from '../helpers/events.js';
import {
  fileIssueInput,
  findingOf,
  firstCalls,
  ledgerRefusing,
  postMessageInput,
  rejectionOf,
  reopenedEvent,
  SLACK_CHANNEL,
  SLACK_TOKEN_PARAMETER,
  startTaskHarness,
  type TaskHarness,
  uniqueEvent,
  uniqueLabel,
} from '../helpers/task-harness.js';

const CONTROL = 'fsbp-cloudtrail-2.json';
const GUARDDUTY = 'guardduty-ssh-bruteforce.json';

describe('postMessage against the Slack emulator, exactly once', () => {
  let h: TaskHarness;
  beforeAll(async () => {
    h = await startTaskHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A new finding of its own, filed in Backlog as the workflow does before posting. */
  async function filedDelivery(fixture = CONTROL, execution = 'exec-1') {
    const label = uniqueLabel();
    const event = uniqueEvent(fixture, label);
    const input = fileIssueInput(event, execution);
    const issue = await h.fileIssue(input);
    return { label, event, input, issue, post: postMessageInput(input, issue) };
  }

  it('waits out a 429 (Retry-After 1) and posts exactly once', async () => {
    const { label, post } = await filedDelivery();
    h.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const waitsBefore = h.slackWaits.length;

    const result = await h.postMessage(post);

    expect(result.posted).toBe(true);
    expect(h.messagesWith(label)).toHaveLength(1);
    expect(h.messagesWith(label)[0]?.ts).toBe(result.ts);
    expect(h.postCallsWith(label)).toHaveLength(2);
    expect(h.slackWaits.slice(waitsBefore)).toEqual([1000]);
  });

  it('fails with SlackRateLimitError when Retry-After is beyond the longest wait, then a retry posts once', async () => {
    const { label, post } = await filedDelivery();
    const deps = h.makePostMessageDeps({ timing: { maxWaitSeconds: 10 } });
    h.slack.failNext('chat.postMessage', { status: 429, retryAfter: 30 });
    const waitsBefore = h.slackWaits.length;

    const error = await rejectionOf(h.postMessage(post, deps));
    const retry = await h.postMessage(post, deps);

    expect(error).toBeInstanceOf(SlackRateLimitError);
    expect(h.slackWaits.slice(waitsBefore)).toEqual([]);
    expect(retry.posted).toBe(true);
    expect(h.messagesWith(label)).toHaveLength(1);
    expect(h.postCallsWith(label)).toHaveLength(2);
  });

  it.each([
    ['channel_not_found', '#no-such-channel', undefined],
    ['not_in_channel', SLACK_CHANNEL, 'not_in_channel'],
  ] as const)(
    'fails at once with SlackChannelError on %s, naming the channel',
    async (code, channel, fault) => {
      const { label, post } = await filedDelivery();
      const deps = h.makePostMessageDeps({ channel });
      if (fault) h.slack.failNext('chat.postMessage', { error: fault });

      const error = await rejectionOf(h.postMessage(post, deps));

      expect(error).toBeInstanceOf(SlackChannelError);
      expect(error.message).toContain(channel);
      expect(error.message).toContain(code);
      expect(h.messagesWith(label)).toHaveLength(0);
      expect(h.postCallsWith(label)).toHaveLength(1);
    },
  );

  it('fails at once with SlackAuthError naming the token parameter on invalid_auth', async () => {
    const { label, post } = await filedDelivery();
    const deps = h.makePostMessageDeps({ poster: h.makePoster({ getToken: async () => 'xoxb-revoked' }) });

    const error = await rejectionOf(h.postMessage(post, deps));

    expect(error).toBeInstanceOf(SlackAuthError);
    expect(error.message).toContain(SLACK_TOKEN_PARAMETER);
    expect(error.message).toContain('invalid_auth');
    expect(error.message).not.toContain('xoxb-revoked');
    expect(h.messagesWith(label)).toHaveLength(0);
    expect(h.postCallsWith(label)).toHaveLength(1);
  });

  it('records the message on the retry when recording it failed after the post: one message', async () => {
    const { label, input, post } = await filedDelivery();
    const ports = { ...h.postMessageDeps, ledger: ledgerRefusing(h.ledger, ['recordSlack'], firstCalls(1)) };
    const lookups = () => h.slack.calls.filter((c) => c.method === 'conversations.history').length;

    const firstAttempt = await rejectionOf(h.postMessage(post, ports));
    const lookupsBefore = lookups();
    const retry = await h.postMessage(post, ports);

    expect(firstAttempt).toBeInstanceOf(LedgerError);
    expect(h.messagesWith(label)).toHaveLength(1);
    expect(h.postCallsWith(label)).toHaveLength(1);
    expect(retry).toMatchObject({ ts: h.messagesWith(label)[0]?.ts, posted: false });
    expect((await h.ledger.get(input.delivery.deliveryKey))?.slackTs).toBe(retry.ts);
    // The claim kept the result: the retry records it without looking in the channel.
    expect(lookups()).toBe(lookupsBefore);
  });

  it('posts nothing for a repeat delivery and returns the recorded ts', async () => {
    const { label, input, issue, post } = await filedDelivery(GUARDDUTY);
    const first = await h.postMessage(post);

    const repeat = await h.postMessage(postMessageInput(input, issue, 'exec-2'));

    expect(first.posted).toBe(true);
    expect(repeat).toEqual({ channel: first.channel, ts: first.ts, posted: false, note: first.note });
    expect(first.note).toContain(`Slack ${first.channel} ${first.ts}`);
    expect(h.messagesWith(label)).toHaveLength(1);
    expect(h.postCallsWith(label)).toHaveLength(1);
  });

  it('posts one reply when the same reopen arrives from two executions at once', async () => {
    const { label, event, post } = await filedDelivery();
    const original = await h.postMessage(post);
    const reopened = reopenedEvent(event, '2030-01-06T00:00:00Z');
    const inputs = [
      (await reopenInputs(reopened, 'exec-a')).post,
      (await reopenInputs(reopened, 'exec-b')).post,
    ];

    const settled = await Promise.allSettled(inputs.map((input) => h.postMessage(input)));
    const retries = await Promise.all(inputs.map((input) => h.postMessage(input)));

    for (const outcome of settled) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ClaimHeldError);
    }
    expect(retries.every((r) => r.threadTs === original.ts)).toBe(true);
    const replies = h.messagesWith(label).filter((message) => message.threadTs === original.ts);
    expect(replies).toHaveLength(1);
  });

  it('posts a reopen as a broadcast reply in the original thread, once', async () => {
    const { label, event, post } = await filedDelivery();
    const original = await h.postMessage(post);
    await h.ledger.recordMarked([{ key: post.delivery.deliveryKey }]);
    const reopened = reopenedEvent(event, '2030-01-02T00:00:00Z');
    const entry = await h.ledger.get(post.delivery.deliveryKey);
    const reopen = await reopenInputs(reopened, 'exec-reopen');

    const reply = await h.postMessage(reopen.post);
    const repeated = await h.postMessage(reopen.post);

    expect(entry?.status).toBe('NOTIFIED');
    expect(decideAgainstLedger(findingOf(reopened), entry).kind).toBe('reopen');
    expect(reply).toMatchObject({ threadTs: original.ts, posted: true });
    expect(repeated).toEqual({
      channel: original.channel,
      ts: reply.ts,
      threadTs: original.ts,
      posted: false,
      note: expect.stringContaining(`Slack ${original.channel} ${reply.ts}`),
    });
    const messages = h.messagesWith(label);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ ts: reply.ts, threadTs: original.ts, replyBroadcast: true });
    expect(h.postCallsWith(label)).toHaveLength(2);
  });

  it('posts one message for two concurrent executions; a retry of the loser returns the winner ts', async () => {
    const { label, input, issue } = await filedDelivery(CONTROL, 'exec-race-a');
    const posts = [
      postMessageInput(input, issue, 'exec-race-a'),
      postMessageInput(input, issue, 'exec-race-b'),
    ];

    const settled = await Promise.allSettled(posts.map((post) => h.postMessage(post)));
    const retries = await Promise.all(posts.map((post) => h.postMessage(post)));

    const messages = h.messagesWith(label);
    expect(messages).toHaveLength(1);
    const ts = messages[0]?.ts;
    expect(settled.filter((s) => s.status === 'fulfilled' && s.value.posted)).toHaveLength(1);
    for (const outcome of settled) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ClaimHeldError);
      else expect(outcome.value.ts).toBe(ts);
    }
    expect(retries.map((r) => [r.ts, r.posted])).toEqual([
      [ts, false],
      [ts, false],
    ]);
  });

  /** The reopen's FileBacklogIssue (a comment) then its PostSlackMessage input, as the workflow runs them. */
  async function reopenInputs(event: ImportedEvent, execution: string) {
    const input = fileIssueInput(event, execution, 'reopen');
    const issue = await h.fileIssue(input);
    const post = postMessageInput(input, issue);
    return { input, issue, post };
  }
});
