import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import {
  type ConversationsHistoryResponse,
  ErrorCode,
  type Logger,
  LogLevel,
  type WebAPICallResult,
  WebClient,
} from '@slack/web-api';
import { Backlog, Error as BacklogErrors } from 'backlog-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeBacklogFetch } from '../../src/adapters/backlog-fetch.js';
import { type BacklogEmulator, startBacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import { type DynamoEmulator, ensureLedgerTable, startDynamo } from '../../src/local/emulators/dynamo.js';
import {
  type SecurityHubEmulator,
  startSecurityHubEmulator,
} from '../../src/local/emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const noop = () => {};
/** WebClient logs the `[ERROR]` lines of an invalid_blocks answer even at LogLevel.ERROR. */
const silent: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  setLevel: noop,
  getLevel: () => LogLevel.ERROR,
  setName: noop,
};

/** The rejection of a promise, for asserting on its fields. */
async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the promise to reject');
}

describe('makeBacklogFetch', () => {
  const recording = () => {
    const urls: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return new Response('{}');
    }) as typeof globalThis.fetch;
    return { urls, fetch };
  };

  it('sends https://<host> requests to the api URL, keeping path and query', async () => {
    const base = recording();
    const fetch = makeBacklogFetch('http://127.0.0.1:4010/', base.fetch);

    await fetch('https://example.backlog.com/api/v2/issues?projectId%5B%5D=1&keyword=x');
    await fetch(new URL('https://other.backlog.jp/api/v2/space'));

    expect(base.urls).toEqual([
      'http://127.0.0.1:4010/api/v2/issues?projectId%5B%5D=1&keyword=x',
      'http://127.0.0.1:4010/api/v2/space',
    ]);
  });

  it('passes everything through when no api URL is set', async () => {
    const base = recording();

    const fetch = makeBacklogFetch(undefined, base.fetch);
    await fetch('https://example.backlog.com/api/v2/space');

    expect(fetch).toBe(base.fetch);
    expect(base.urls).toEqual(['https://example.backlog.com/api/v2/space']);
  });
});

describe('Slack emulator, driven by @slack/web-api', () => {
  let slack: SlackEmulator;
  let client: WebClient;

  beforeAll(async () => {
    slack = await startSlackEmulator();
    client = new WebClient(slack.token, {
      slackApiUrl: slack.url,
      logger: silent,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 },
    });
  });
  afterAll(() => slack.close());

  it('posts a message to a channel by name and answers with the channel id and a ts', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'HIGH: S3 bucket is public' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Account*\n111122223333' }] },
    ];

    const result = await client.chat.postMessage({
      channel: '#security-alerts',
      text: 'HIGH: S3 bucket is public',
      blocks,
      unfurl_links: false,
      unfurl_media: false,
    });

    expect(result).toMatchObject({
      ok: true,
      channel: 'C0SECURITY',
      message: { text: 'HIGH: S3 bucket is public' },
    });
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.messagesIn('#security-alerts').at(-1)).toMatchObject({
      channel: 'C0SECURITY',
      ts: result.ts,
      blocks,
      unfurlLinks: false,
      unfurlMedia: false,
    });
  });

  it('threads a reply, lists the thread and gives a permalink', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'parent' });

    const reply = await client.chat.postMessage({
      channel: 'C0SECURITY',
      text: 'reopened',
      thread_ts: parent.ts as string,
      reply_broadcast: true,
    });
    const thread = await client.conversations.replies({ channel: 'C0SECURITY', ts: parent.ts as string });
    const link = await client.chat.getPermalink({ channel: 'C0SECURITY', message_ts: reply.ts as string });

    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    expect(thread.messages?.map((m) => m.text)).toEqual(['parent', 'reopened']);
    expect(thread.messages?.[0]).toMatchObject({ reply_count: 1, thread_ts: parent.ts });
    expect(slack.messages.at(-1)).toMatchObject({ threadTs: parent.ts, replyBroadcast: true });
    expect(link.permalink).toMatch(
      /^https:\/\/local-sandbox\.slack\.com\/archives\/C0SECURITY\/p\d{16}\?thread_ts=/,
    );
  });

  it('answers 429 with Retry-After, which the client honours before succeeding', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const before = slack.calls.length;
    const started = Date.now();

    const result = await client.chat.postMessage({ channel: '#security-alerts', text: 'after a rate limit' });

    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.calls.slice(before).map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage']);
  });

  it('surfaces an injected error as a platform error carrying data.error', async () => {
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });

    const error = await rejectionOf(client.chat.postMessage({ channel: '#security-alerts', text: 'x' }));

    expect(error.code).toBe(ErrorCode.PlatformError);
    expect(error.data).toMatchObject({ ok: false, error: 'not_in_channel' });
  });

  it('validates channels, Block Kit limits and the token as Slack does', async () => {
    const header = [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }];
    const fields = [
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
    ];
    const intruder = new WebClient('xoxb-wrong', { slackApiUrl: slack.url, logger: silent });

    const errors = await Promise.all([
      rejectionOf(client.chat.postMessage({ channel: '#unknown', text: 'x' })),
      rejectionOf(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x', blocks: header })),
      rejectionOf(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x', blocks: fields })),
      rejectionOf(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x'.repeat(40_001) })),
      rejectionOf(intruder.auth.test()),
    ]);

    expect(errors.map((e) => (e.data as { error: string }).error)).toEqual([
      'channel_not_found',
      'invalid_blocks',
      'invalid_blocks',
      'msg_too_long',
      'invalid_auth',
    ]);
    expect(errors[1]?.data).toMatchObject({
      response_metadata: {
        messages: ['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]'],
      },
    });
  });
});

describe('Slack emulator: history, metadata and the methods later features need', () => {
  const users = [
    { id: 'U0ALICE', name: 'alice', real_name: 'Alice Analyst', profile: { email: 'alice@example.com' } },
    { id: 'U0BOB', name: 'bob', real_name: 'Bob Responder', profile: { email: 'bob@example.com' } },
  ];
  let slack: SlackEmulator;
  let client: WebClient;
  const idOf = (name: string) => slack.channels.find((c) => c.name === name)?.id as string;
  const errorOf = async (promise: Promise<unknown>) => (await rejectionOf(promise)).data as WebAPICallResult;
  const post = async (channel: string, text: string, extra: Record<string, unknown> = {}) =>
    (await client.chat.postMessage({ channel, text, ...extra })).ts as string;

  beforeAll(async () => {
    slack = await startSlackEmulator({
      channels: ['#security-alerts', '#history', '#threads', '#sec-ops', '#members'],
      users,
      usergroups: { S0ONCALL: ['U0ALICE', 'U0BOB'] },
      members: { '#sec-ops': ['U0ALICE'] },
    });
    client = new WebClient(slack.token, {
      slackApiUrl: slack.url,
      logger: silent,
      retryConfig: { retries: 0 },
    });
  });
  afterAll(() => slack.close());

  it('stores metadata and returns it from conversations.history only with include_all_metadata', async () => {
    const metadata = {
      event_type: 'securityhub_finding',
      event_payload: { findingKey: 'arn|f-1', issueKey: 'SEC-1', severity: 'HIGH', count: 2 },
    };
    const ts = await post('#security-alerts', 'HIGH: S3 bucket is public', { metadata });

    const plain = await client.conversations.history({ channel: 'C0SECURITY', limit: 1 });
    const withMetadata = await client.conversations.history({
      channel: 'C0SECURITY',
      limit: 1,
      include_all_metadata: true,
    });

    expect(plain.messages?.[0]).toMatchObject({ ts, text: 'HIGH: S3 bucket is public' });
    expect(plain.messages?.[0]).not.toHaveProperty('metadata');
    expect(withMetadata.messages?.[0]?.metadata).toEqual(metadata);
    expect(slack.messagesIn('#security-alerts').at(-1)?.metadata).toEqual(metadata);
  });

  it('replaces metadata on chat.update and keeps it when an update carries none', async () => {
    const ts = await post('#security-alerts', 'open', {
      metadata: { event_type: 'securityhub_finding', event_payload: { state: 'open' } },
    });

    await client.chat.update({
      channel: 'C0SECURITY',
      ts,
      text: 'resolved',
      metadata: { event_type: 'securityhub_finding', event_payload: { state: 'resolved' } },
    });
    await client.chat.update({ channel: 'C0SECURITY', ts, text: 'resolved, edited again' });
    const history = await client.conversations.history({
      channel: 'C0SECURITY',
      latest: ts,
      inclusive: true,
      limit: 1,
      include_all_metadata: true,
    });

    expect(history.messages?.[0]).toMatchObject({
      ts,
      text: 'resolved, edited again',
      edited: { user: 'U0NOTIFIER' },
      metadata: { event_type: 'securityhub_finding', event_payload: { state: 'resolved' } },
    });
  });

  it('rejects malformed metadata as Slack does', async () => {
    const raw = await Promise.all([
      fetch(`${slack.url}chat.postMessage`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${slack.token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ channel: 'C0SECURITY', text: 'x', metadata: '{not json' }),
      }).then((r) => r.json()),
      errorOf(
        client.chat.postMessage({
          channel: 'C0SECURITY',
          text: 'x',
          metadata: { event_type: 'no_payload' } as never,
        }),
      ),
    ]);

    expect(raw.map((r) => (r as WebAPICallResult).error)).toEqual([
      'invalid_metadata_format',
      'invalid_metadata_schema',
    ]);
  });

  it('pages conversations.history newest first with limit and cursor, as WebClient.paginate reads it', async () => {
    const posted: string[] = [];
    for (let i = 1; i <= 5; i += 1) posted.push(await post('#history', `message ${i}`));

    const first = await client.conversations.history({ channel: idOf('history'), limit: 2 });
    const second = await client.conversations.history({
      channel: idOf('history'),
      limit: 2,
      cursor: first.response_metadata?.next_cursor as string,
    });
    const pages: string[][] = [];
    for await (const page of client.paginate('conversations.history', {
      channel: idOf('history'),
      limit: 2,
    })) {
      pages.push(((page as ConversationsHistoryResponse).messages ?? []).map((m) => m.text as string));
    }

    expect(first.messages?.map((m) => m.ts)).toEqual([posted[4], posted[3]]);
    expect(first.has_more).toBe(true);
    expect(first.response_metadata?.next_cursor).not.toBe('');
    expect(second.messages?.map((m) => m.ts)).toEqual([posted[2], posted[1]]);
    expect(pages).toEqual([['message 5', 'message 4'], ['message 3', 'message 2'], ['message 1']]);
  });

  it('filters conversations.history by oldest and latest, inclusive only when asked', async () => {
    const ts = (await client.conversations.history({ channel: idOf('history') })).messages
      ?.map((m) => m.ts as string)
      .reverse() as string[];

    const after = await client.conversations.history({ channel: idOf('history'), oldest: ts[1] });
    const from = await client.conversations.history({
      channel: idOf('history'),
      oldest: ts[1],
      inclusive: true,
    });
    const between = await client.conversations.history({
      channel: idOf('history'),
      oldest: ts[0],
      latest: ts[3],
    });
    const wholeSeconds = await client.conversations.history({ channel: idOf('history'), oldest: '0' });

    expect(after.messages?.map((m) => m.text)).toEqual(['message 5', 'message 4', 'message 3']);
    expect(from.messages?.map((m) => m.text)).toEqual(['message 5', 'message 4', 'message 3', 'message 2']);
    expect(between.messages?.map((m) => m.text)).toEqual(['message 3', 'message 2']);
    expect(after.has_more).toBe(false);
    expect(after.response_metadata?.next_cursor).toBe('');
    expect(wholeSeconds.messages).toHaveLength(5);
  });

  it('keeps thread replies out of history unless broadcast, and answers replies with metadata', async () => {
    const parent = await post('#threads', 'parent', {
      metadata: { event_type: 'securityhub_finding', event_payload: { issueKey: 'SEC-9' } },
    });
    const quiet = await post('#threads', 'reply 1', { thread_ts: parent });
    const loud = await post('#threads', 'reply 2, broadcast', { thread_ts: parent, reply_broadcast: true });
    const last = await post('#threads', 'reply 3', {
      thread_ts: quiet, // a reply to a reply joins the parent's thread
      metadata: { event_type: 'securityhub_reopened', event_payload: { count: 2 } },
    });

    const history = await client.conversations.history({ channel: idOf('threads') });
    const thread = await client.conversations.replies({
      channel: idOf('threads'),
      ts: parent,
      include_all_metadata: true,
    });
    const newer = await client.conversations.replies({ channel: idOf('threads'), ts: parent, oldest: loud });
    const byReply = await client.conversations.replies({ channel: idOf('threads'), ts: last });
    const page1 = await client.conversations.replies({ channel: idOf('threads'), ts: parent, limit: 2 });
    const page2 = await client.conversations.replies({
      channel: idOf('threads'),
      ts: parent,
      limit: 2,
      cursor: page1.response_metadata?.next_cursor as string,
    });

    expect(history.messages?.map((m) => m.text)).toEqual(['reply 2, broadcast', 'parent']);
    expect(history.messages?.[0]).toMatchObject({
      subtype: 'thread_broadcast',
      thread_ts: parent,
      root: { ts: parent, reply_count: 3 },
    });
    expect(history.messages?.[1]).toMatchObject({ reply_count: 3, latest_reply: last });
    expect(thread.messages?.map((m) => m.ts)).toEqual([parent, quiet, loud, last]);
    expect(thread.messages?.map((m) => m.metadata?.event_type)).toEqual([
      'securityhub_finding',
      undefined,
      undefined,
      'securityhub_reopened',
    ]);
    expect(newer.messages?.map((m) => m.text)).toEqual(['parent', 'reply 3']);
    expect(newer.messages?.[1]).not.toHaveProperty('metadata');
    expect(byReply.messages?.map((m) => m.ts)).toEqual([parent, quiet, loud, last]);
    expect([page1.has_more, page2.has_more]).toEqual([true, false]);
    expect([...(page1.messages ?? []), ...(page2.messages ?? [])].map((m) => m.ts)).toEqual([
      parent,
      quiet,
      loud,
      last,
    ]);
  });

  it('answers history errors: channel ids only, a bad cursor, a bad oldest', async () => {
    const errors = await Promise.all([
      errorOf(client.conversations.history({ channel: 'C0NOWHERE' })),
      errorOf(client.conversations.history({ channel: '#history' })),
      errorOf(client.conversations.history({ channel: idOf('history'), cursor: 'bm9wZQ==' })),
      errorOf(client.conversations.history({ channel: idOf('history'), oldest: 'yesterday' })),
      errorOf(client.conversations.replies({ channel: idOf('history'), ts: '1.000001' })),
    ]);

    expect(errors.map((e) => e.error)).toEqual([
      'channel_not_found',
      'channel_not_found',
      'invalid_cursor',
      'invalid_ts_oldest',
      'thread_not_found',
    ]);
  });

  it('describes channels and their members; a bot removed from a channel cannot post or read there', async () => {
    const infoBefore = await client.conversations.info({
      channel: idOf('members'),
      include_num_members: true,
    });
    const members = await client.conversations.members({ channel: idOf('members') });
    const secOps = await client.conversations.members({ channel: idOf('sec-ops') });
    const paged = await client.conversations.members({ channel: idOf('members'), limit: 2 });
    const rest = await client.conversations.members({
      channel: idOf('members'),
      limit: 2,
      cursor: paged.response_metadata?.next_cursor as string,
    });

    slack.removeBotFrom('#members');
    const infoAfter = await client.conversations.info({ channel: idOf('members') });
    const membersAfter = await client.conversations.members({ channel: idOf('members') });
    const refused = await Promise.all([
      errorOf(client.chat.postMessage({ channel: '#members', text: 'x' })),
      errorOf(client.conversations.history({ channel: idOf('members') })),
      errorOf(client.conversations.info({ channel: 'C0NOWHERE' })),
    ]);
    slack.addBotTo('#members');
    const back = await client.chat.postMessage({ channel: '#members', text: 'back' });

    expect(infoBefore.channel).toMatchObject({
      id: idOf('members'),
      name: 'members',
      is_channel: true,
      is_private: false,
      is_member: true,
      num_members: 3,
    });
    expect(members.members).toEqual(['U0NOTIFIER', 'U0ALICE', 'U0BOB']);
    expect(secOps.members).toEqual(['U0NOTIFIER', 'U0ALICE']);
    expect([paged.members, rest.members]).toEqual([['U0NOTIFIER', 'U0ALICE'], ['U0BOB']]);
    expect(infoAfter.channel?.is_member).toBe(false);
    expect(membersAfter.members).toEqual(['U0ALICE', 'U0BOB']);
    expect(refused.map((e) => e.error)).toEqual(['not_in_channel', 'not_in_channel', 'channel_not_found']);
    expect(back.ok).toBe(true);
  });

  it('opens a modal once per trigger id and records it', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'suppress_finding',
      private_metadata: 'arn|f-1',
      title: { type: 'plain_text' as const, text: 'Suppress finding' },
      submit: { type: 'plain_text' as const, text: 'Suppress' },
      blocks: [
        {
          type: 'input' as const,
          block_id: 'reason',
          label: { type: 'plain_text' as const, text: 'Why?' },
          element: { type: 'plain_text_input' as const, action_id: 'reason' },
        },
      ],
    };
    const triggerId = slack.issueTriggerId();

    const opened = await client.views.open({ trigger_id: triggerId, view });
    const errors = await Promise.all([
      errorOf(client.views.open({ trigger_id: triggerId, view })),
      errorOf(client.views.open({ trigger_id: 'not-a-trigger', view })),
      errorOf(client.views.open({ view } as never)),
      errorOf(
        client.views.open({ trigger_id: slack.issueTriggerId(), view: { ...view, type: 'home' } as never }),
      ),
      errorOf(
        client.views.open({
          trigger_id: slack.issueTriggerId(),
          view: { ...view, title: { type: 'plain_text', text: 'x'.repeat(25) } },
        }),
      ),
    ]);

    expect(opened.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      type: 'modal',
      callback_id: 'suppress_finding',
      private_metadata: 'arn|f-1',
      state: { values: {} },
    });
    expect(slack.views.at(-1)).toMatchObject({ id: opened.view?.id, triggerId, view });
    expect(errors.map((e) => e.error)).toEqual([
      'exchanged_trigger_id',
      'invalid_trigger_id',
      'invalid_arguments',
      'invalid_arguments',
      'invalid_arguments',
    ]);
    expect(errors[4]?.response_metadata?.messages).toEqual([
      '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]',
    ]);
  });

  it('lets a trigger id expire after 3 seconds', async () => {
    const triggerId = slack.issueTriggerId();
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 3500);
    try {
      const error = await errorOf(
        client.views.open({
          trigger_id: triggerId,
          view: { type: 'modal', title: { type: 'plain_text', text: 'late' }, blocks: [] },
        }),
      );
      expect(error.error).toBe('expired_trigger_id');
    } finally {
      clock.mockRestore();
    }
  });

  it('posts an ephemeral message to a member of the channel only, outside the history', async () => {
    const before = (await client.conversations.history({ channel: idOf('sec-ops') })).messages?.length;

    const sent = await client.chat.postEphemeral({
      channel: '#sec-ops',
      user: 'U0ALICE',
      text: 'Suppressed.',
    });
    const errors = await Promise.all([
      errorOf(client.chat.postEphemeral({ channel: '#sec-ops', user: 'U0BOB', text: 'x' })),
      errorOf(client.chat.postEphemeral({ channel: '#sec-ops', text: 'x' } as never)),
      errorOf(client.chat.postEphemeral({ channel: '#nowhere', user: 'U0ALICE', text: 'x' })),
    ]);
    const after = (await client.conversations.history({ channel: idOf('sec-ops') })).messages?.length;

    expect(sent.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.ephemerals.at(-1)).toMatchObject({
      channel: idOf('sec-ops'),
      user: 'U0ALICE',
      ts: sent.message_ts,
      text: 'Suppressed.',
    });
    expect(errors.map((e) => e.error)).toEqual([
      'user_not_in_channel',
      'invalid_arguments',
      'channel_not_found',
    ]);
    expect(after).toBe(before);
  });

  it('looks up users and user groups', async () => {
    const alice = await client.users.info({ user: 'U0ALICE' });
    const bot = await client.users.info({ user: 'U0NOTIFIER' });
    const group = await client.usergroups.users.list({ usergroup: 'S0ONCALL' });
    const errors = await Promise.all([
      errorOf(client.users.info({ user: 'U0NOBODY' })),
      errorOf(client.usergroups.users.list({ usergroup: 'S0NOTHING' })),
    ]);

    expect(alice.user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
      real_name: 'Alice Analyst',
      is_bot: false,
      profile: { email: 'alice@example.com' },
    });
    expect(bot.user).toMatchObject({ id: 'U0NOTIFIER', is_bot: true });
    expect(group.users).toEqual(['U0ALICE', 'U0BOB']);
    expect(errors.map((e) => e.error)).toEqual(['user_not_found', 'no_such_subteam']);
  });

  it('deletes messages by chat.delete or by hand; later updates answer message_not_found', async () => {
    const byApi = await post('#security-alerts', 'to delete by chat.delete');
    const byHand = await post('#security-alerts', 'to delete in the Slack client');

    const deleted = await client.chat.delete({ channel: 'C0SECURITY', ts: byApi });
    const removed = slack.deleteMessage('#security-alerts', byHand);
    const errors = await Promise.all([
      errorOf(client.chat.update({ channel: 'C0SECURITY', ts: byApi, text: 'x' })),
      errorOf(client.chat.update({ channel: 'C0SECURITY', ts: byHand, text: 'x' })),
      errorOf(client.chat.delete({ channel: 'C0SECURITY', ts: byApi })),
    ]);

    expect(deleted).toMatchObject({ ok: true, channel: 'C0SECURITY', ts: byApi });
    expect([removed, slack.deleteMessage('#security-alerts', byHand)]).toEqual([true, false]);
    expect(slack.messages.some((m) => m.ts === byApi || m.ts === byHand)).toBe(false);
    expect(errors.map((e) => e.error)).toEqual([
      'message_not_found',
      'message_not_found',
      'message_not_found',
    ]);
  });

  it('answers token_revoked to every call once the token is revoked', async () => {
    const revoked = await startSlackEmulator();
    const revokedClient = new WebClient(revoked.token, {
      slackApiUrl: revoked.url,
      logger: silent,
      retryConfig: { retries: 0 },
    });
    await revokedClient.auth.test();

    revoked.revokeToken();
    const errors = await Promise.all([
      rejectionOf(revokedClient.auth.test()),
      rejectionOf(revokedClient.chat.postMessage({ channel: '#security-alerts', text: 'x' })),
    ]);
    await revoked.close();

    expect(errors.map((e) => e.code)).toEqual([ErrorCode.PlatformError, ErrorCode.PlatformError]);
    expect(errors.map((e) => (e.data as WebAPICallResult).error)).toEqual(['token_revoked', 'token_revoked']);
    expect(revoked.messages).toEqual([]);
  });
});

describe('Backlog emulator, driven by backlog-js', () => {
  let backlog: BacklogEmulator;
  let client: Backlog;
  let projectId: number;
  let securityTypeId: number;

  beforeAll(async () => {
    backlog = await startBacklogEmulator();
    client = new Backlog({
      host: 'example.backlog.com',
      apiKey: backlog.apiKey,
      fetch: makeBacklogFetch(backlog.url),
    });
    const project = await client.getProject('SEC');
    projectId = project.id;
    const types = await client.getIssueTypes('SEC');
    securityTypeId = types.find((t) => t.name === 'Security')?.id as number;
  });
  afterAll(() => backlog.close());

  const newIssue = (summary: string, description = '') =>
    client.postIssue({ projectId, summary, description, issueTypeId: securityTypeId, priorityId: 2 });

  it('describes the project, its issue types, statuses and the priorities', async () => {
    const [project, statuses, priorities] = await Promise.all([
      client.getProject('SEC'),
      client.getProjectStatuses('SEC'),
      client.getPriorities(),
    ]);

    expect(project).toMatchObject({ projectKey: 'SEC', textFormattingRule: 'markdown' });
    expect(statuses.map((s) => [s.id, s.name])).toEqual([
      [1, 'Open'],
      [2, 'In Progress'],
      [3, 'Resolved'],
      [4, 'Closed'],
    ]);
    expect(priorities.map((p) => p.id)).toEqual([2, 3, 4]);
    expect(securityTypeId).toBeGreaterThan(0);
  });

  it('creates an issue and finds it again by keyword', async () => {
    const issue = await newIssue('[HIGH] GuardDuty: SSH brute force', 'marker shfp:abc123 in the body');

    const found = await client.getIssues({ projectId: [projectId], keyword: 'shfp:abc123', count: 1 });
    const missing = await client.getIssues({ projectId: [projectId], keyword: 'shfp:nothing' });

    expect(issue).toMatchObject({
      issueKey: expect.stringMatching(/^SEC-\d+$/),
      status: { id: 1, name: 'Open' },
    });
    expect(found.map((i) => i.issueKey)).toEqual([issue.issueKey]);
    expect(missing).toEqual([]);
    expect(backlog.issue(issue.issueKey)).toMatchObject({
      statusId: 1,
      description: 'marker shfp:abc123 in the body',
    });
  });

  it('updates status with a comment and adds comments', async () => {
    const issue = await newIssue('to be reopened');

    await client.patchIssue(issue.issueKey, { statusId: 3, comment: 'resolved in Security Hub' });
    await client.postIssueComments(issue.issueKey, { content: 'reopened: compliance FAILED again' });
    const comments = await client.getIssueComments(issue.issueKey, { order: 'asc' });

    expect(backlog.issue(issue.id)?.statusId).toBe(3);
    expect(comments.map((c) => c.content)).toEqual([
      'resolved in Security Hub',
      'reopened: compliance FAILED again',
    ]);
    expect(backlog.commentsOf(issue.issueKey)[0]?.changeLog).toEqual([
      { field: 'status', newValue: 'Resolved', originalValue: 'Open' },
    ]);
  });

  it('rejects a missing required parameter with 400', async () => {
    const error = await rejectionOf(
      client.postIssue({ projectId, summary: '', issueTypeId: securityTypeId, priorityId: 2 }),
    );

    expect(error).toBeInstanceOf(BacklogErrors.BacklogApiError);
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({ errors: [{ code: 7 }] });
  });

  it('answers 401 to a wrong API key, by header or by query parameter', async () => {
    const intruder = new Backlog({
      host: 'example.backlog.com',
      apiKey: 'wrong',
      fetch: makeBacklogFetch(backlog.url),
    });

    const error = await rejectionOf(intruder.getSpace());
    const byQuery = await fetch(`${backlog.url}/api/v2/space?apiKey=${backlog.apiKey}`);

    expect(error).toBeInstanceOf(BacklogErrors.BacklogAuthError);
    expect(error.body).toEqual({ errors: [{ message: 'Authentication failure.', code: 11, moreInfo: '' }] });
    expect(byQuery.status).toBe(200);
  });

  it('answers an injected 429 with the rate-limit headers', async () => {
    backlog.failNext({ method: 'POST', path: '/issues' }, { status: 429, resetInSeconds: 5 });

    const error = await rejectionOf(newIssue('rate limited'));

    const headers = (error.response as Response).headers;
    expect(error.status).toBe(429);
    expect(error.body).toMatchObject({ errors: [{ code: 13 }] });
    expect(Number(headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('can perform an operation and then lose the response', async () => {
    backlog.failNext({ method: 'POST', path: /\/issues$/ }, { dropResponse: true });
    const before = backlog.issues.length;

    const error = await rejectionOf(newIssue('created, answer lost'));

    expect(error).toBeInstanceOf(TypeError);
    expect(backlog.issues).toHaveLength(before + 1);
    expect(backlog.issues.at(-1)?.summary).toBe('created, answer lost');
  });
});

describe('Security Hub emulator, driven by @aws-sdk/client-securityhub', () => {
  const productArn = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
  const finding = (id: string, extra: Record<string, unknown> = {}) => ({
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: productArn,
    GeneratorId: 'guardduty',
    AwsAccountId: '111122223333',
    Types: ['TTPs/Initial Access'],
    CreatedAt: '2024-01-01T00:00:00.000Z',
    UpdatedAt: '2024-01-01T00:00:00.000Z',
    Severity: { Label: 'HIGH' as const },
    Title: `finding ${id}`,
    Description: 'd',
    Resources: [{ Type: 'AwsEc2Instance', Id: 'i-1' }],
    ...extra,
  });
  let hub: SecurityHubEmulator;
  let client: SecurityHubClient;

  beforeAll(async () => {
    hub = await startSecurityHubEmulator();
    client = new SecurityHubClient({ endpoint: hub.url, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client.destroy();
    await hub.close();
  });

  it('imports findings as NEW and marks them NOTIFIED with a note', async () => {
    await client.send(new BatchImportFindingsCommand({ Findings: [finding('f-1'), finding('f-2')] }));

    const result = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-1', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
        Note: { Text: 'Backlog SEC-1', UpdatedBy: 'securityhub-notifier' },
      }),
    );
    const notNotified = await client.send(
      new GetFindingsCommand({ Filters: { WorkflowStatus: [{ Value: 'NEW', Comparison: 'EQUALS' }] } }),
    );

    expect(result.ProcessedFindings).toEqual([{ Id: 'f-1', ProductArn: productArn }]);
    expect(result.UnprocessedFindings).toEqual([]);
    expect(hub.workflowStatusOf('f-1', productArn)).toBe('NOTIFIED');
    expect(hub.notified()).toEqual([{ Id: 'f-1', ProductArn: productArn }]);
    expect(hub.batchUpdates.at(-1)).toMatchObject({ Note: { Text: 'Backlog SEC-1' } });
    expect(notNotified.Findings?.map((f) => f.Id)).toEqual(['f-2']);
  });

  it('leaves injected identifiers unprocessed', async () => {
    hub.unprocessedNext('ConcurrentUpdateError', ['f-2']);

    const result = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-2', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );

    expect(result.UnprocessedFindings).toEqual([
      {
        FindingIdentifier: { Id: 'f-2', ProductArn: productArn },
        ErrorCode: 'ConcurrentUpdateError',
        ErrorMessage: expect.any(String),
      },
    ]);
    expect(hub.workflowStatusOf('f-2', productArn)).toBe('NEW');
  });

  it('reopens a NOTIFIED finding when its record is re-activated', async () => {
    hub.importFindings([finding('f-3')]);
    await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-3', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );

    hub.importFindings([finding('f-3', { RecordState: 'ARCHIVED' })]);
    const stillNotified = hub.workflowStatusOf('f-3', productArn);
    hub.importFindings([finding('f-3', { RecordState: 'ACTIVE' })]);

    expect(stillNotified).toBe('NOTIFIED');
    expect(hub.workflowStatusOf('f-3', productArn)).toBe('NEW');
  });

  it('rejects more than 100 identifiers with InvalidInputException', async () => {
    const identifiers = Array.from({ length: 101 }, (_, i) => ({ Id: `x-${i}`, ProductArn: productArn }));

    const error = await rejectionOf(
      client.send(
        new BatchUpdateFindingsCommand({ FindingIdentifiers: identifiers, Workflow: { Status: 'NOTIFIED' } }),
      ),
    );

    expect(error.name).toBe('InvalidInputException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400 });
  });

  it('throttles with TooManyRequestsException, which the SDK retries', async () => {
    const once = new SecurityHubClient({
      endpoint: hub.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    hub.failNext({ status: 429 });
    hub.failNext({ status: 429, operation: 'BatchUpdateFindings' });
    const update = () =>
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-2', ProductArn: productArn }],
        Note: { Text: 'n', UpdatedBy: 'me' },
      });

    const error = await rejectionOf(once.send(update()));
    const retried = await client.send(update());
    once.destroy();

    expect(error.name).toBe('TooManyRequestsException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 429 });
    expect(retried.ProcessedFindings).toHaveLength(1);
    expect(hub.calls.slice(-3).map((c) => c.operation)).toEqual(Array(3).fill('BatchUpdateFindings'));
  });

  it('in strict mode answers FindingNotFound for unknown identifiers', async () => {
    const strict = await startSecurityHubEmulator({ strict: true });
    const strictClient = new SecurityHubClient({ endpoint: strict.url, region: 'us-east-1', credentials });

    const result = await strictClient.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'ghost', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );
    strictClient.destroy();
    await strict.close();

    expect(result.UnprocessedFindings?.[0]?.ErrorCode).toBe('FindingNotFound');
    expect(result.ProcessedFindings).toEqual([]);
  });
});

describe('DynamoDB (dynalite)', () => {
  let dynamo: DynamoEmulator;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamo();
    client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('creates the ledger table once and stores items by findingKey', async () => {
    await ensureLedgerTable(client, 'ledger');
    await ensureLedgerTable(client, 'ledger');

    await client.send(
      new PutItemCommand({
        TableName: 'ledger',
        Item: { findingKey: { S: 'arn|f-1' }, issueKey: { S: 'SEC-1' } },
      }),
    );
    const read = await client.send(
      new GetItemCommand({ TableName: 'ledger', Key: { findingKey: { S: 'arn|f-1' } } }),
    );

    expect(read.Item?.issueKey).toEqual({ S: 'SEC-1' });
  });
});
