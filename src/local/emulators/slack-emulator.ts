import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, parseUrl, readBody, sendJson, sleep, startHttpServer } from './http-server.js';
import { attachmentProblems } from './slack-table.js';

export interface SlackChannel {
  id: string;
  name: string;
}

/** A workspace member, as `users.info` describes it (the fields the notifier may read). */
export interface SlackUser {
  id: string;
  name: string;
  real_name?: string;
  profile?: { email?: string; display_name?: string };
  is_bot?: boolean;
  deleted?: boolean;
}

export interface SlackEmulatorOptions {
  token?: string;
  /** Channel names (`#security-alerts`), ids (`C0SECURITY`) or both; a name gets a stable derived id. */
  channels?: Array<string | SlackChannel>;
  /** The workspace sub-domain used in permalinks and auth.test. */
  workspace?: string;
  /**
   * The workspace's people, for users.info and channel membership (default: one analyst,
   * `U0ANALYST`). The bot user `U0NOTIFIER` always exists besides them.
   */
  users?: SlackUser[];
  /** User groups for usergroups.users.list: subteam id (`S0…`) → member user ids. */
  usergroups?: Record<string, string[]>;
  /**
   * Who, besides the bot, is in each channel, by channel name or id; a channel not named here
   * holds every user of `users`.
   */
  members?: Record<string, string[]>;
}

/** Message metadata as Slack stores it: an event type and a free-form payload. */
export interface SlackMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

export interface SlackMessage {
  /** Always the channel id, as Slack answers it. */
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  /** Returned by conversations.history/replies only when `include_all_metadata` is true. */
  metadata?: SlackMetadata;
  replyBroadcast?: boolean;
  unfurlLinks?: boolean;
  unfurlMedia?: boolean;
  edited?: { ts: string };
  /** The parameters exactly as received (JSON-valued ones still as strings). */
  raw: Record<string, unknown>;
}

/** A modal opened with views.open. */
export interface SlackView {
  /** The id Slack gave it (`V0…`), as in the answer's `view.id`. */
  id: string;
  triggerId: string;
  /** The view payload as sent, parsed. */
  view: Record<string, unknown>;
  raw: Record<string, unknown>;
}

/** A chat.postEphemeral message: seen by one user, never in the channel's history. */
export interface SlackEphemeral {
  channel: string;
  user: string;
  /** The answer's `message_ts`. */
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  raw: Record<string, unknown>;
}

export interface SlackCall {
  method: string;
  params: Record<string, unknown>;
}

export type SlackFault = (
  | { status: 429; retryAfter: number }
  | { status: 500 | 502 | 503 }
  | { error: 'channel_not_found' | 'not_in_channel' | 'invalid_auth' | 'internal_error' | (string & {}) }
) & { delayMs?: number };

export interface SlackEmulator {
  /** Base for WebClient's `slackApiUrl`: `http://127.0.0.1:PORT/api/`. */
  url: string;
  token: string;
  channels: SlackChannel[];
  /** Every message still in the workspace (chat.delete and deleteMessage remove them). */
  messages: SlackMessage[];
  calls: SlackCall[];
  /** Modals opened with views.open, in order. */
  views: SlackView[];
  /** Messages sent with chat.postEphemeral, in order. */
  ephemerals: SlackEphemeral[];
  /** The workspace's people (without the bot user). */
  users: SlackUser[];
  /** The next `times` calls of `method` (`'*'` = any) fail with `fault`. */
  failNext(method: string, fault: SlackFault, times?: number): void;
  /** Messages of a channel, by name (`#x` or `x`) or id, in posting order. */
  messagesIn(channel: string): SlackMessage[];
  /** Someone removes the bot from a channel: it is no longer a member, posting answers `not_in_channel`. */
  removeBotFrom(channel: string): void;
  /** The bot is invited (back) into a channel. */
  addBotTo(channel: string): void;
  /** Someone deletes a message in Slack; false if there was none. Its thread replies stay. */
  deleteMessage(channel: string, ts: string): boolean;
  /** The app is uninstalled or its token revoked: from now on every call answers `token_revoked`. */
  revokeToken(): void;
  /** A fresh trigger id, as an interaction payload carries; views.open accepts it once, within 3 s. */
  issueTriggerId(): string;
  /**
   * A person clicks a button of a message (found by its `action_id` in the message's blocks): the
   * `block_actions` payload Slack posts to the app's interactivity URL, and its form body.
   */
  clickButton(options: { channel: string; ts: string; actionId: string; user: string }): SlackInteraction;
  /**
   * A person submits a modal opened with views.open, its inputs by block id (text, or a date for
   * a datepicker): the `view_submission` payload and its form body. Like Slack, it refuses to
   * submit a required input left empty.
   */
  submitView(
    viewId: string,
    options: { user: string; values: Record<string, string | undefined> },
  ): SlackInteraction;
  close(): Promise<void>;
}

/** An interaction as Slack posts it: the payload, and the form body `payload=<JSON>` it is sent as. */
export interface SlackInteraction {
  payload: Record<string, unknown>;
  body: string;
}

/**
 * The headers Slack signs a request to an app with (v0): `X-Slack-Request-Timestamp` and
 * `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>" with the signing secret>`.
 */
export function signSlackRequest(
  body: string,
  signingSecret: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${signature}`,
  };
}

function interactionOf(payload: Record<string, unknown>): SlackInteraction {
  return { payload, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() };
}

const BOT = { user: 'U0NOTIFIER', botId: 'B0NOTIFIER', appId: 'A0NOTIFIER', team: 'T0LOCAL' };
const BOT_USER: SlackUser = {
  id: BOT.user,
  name: 'securityhub-notifier',
  real_name: 'Security Hub Notifier',
  profile: { display_name: 'securityhub-notifier' },
  is_bot: true,
};
const DEFAULT_USERS: SlackUser[] = [
  {
    id: 'U0ANALYST',
    name: 'analyst',
    real_name: 'Security Analyst',
    profile: { email: 'analyst@example.com', display_name: 'analyst' },
  },
];
const MAX_TEXT = 40_000;
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;
const TRIGGER_ID = /^\d+\.\d+\.[0-9a-f]+$/i;
/** Slack's trigger ids expire 3 seconds after the interaction. */
const TRIGGER_LIFETIME_MS = 3000;

type Result = Record<string, unknown>;
type Params = Record<string, unknown>;

class SlackError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Result = {},
  ) {
    super(code);
  }
}

export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const token = options.token ?? 'xoxb-local-sandbox';
  const workspace = options.workspace ?? 'local-sandbox';
  const channels = resolveChannels(options.channels ?? ['#security-alerts', 'C0SECURITY']);
  const users = [...(options.users ?? DEFAULT_USERS)];
  const usergroups = options.usergroups ?? {};
  const messages: SlackMessage[] = [];
  const calls: SlackCall[] = [];
  const views: SlackView[] = [];
  const ephemerals: SlackEphemeral[] = [];
  const faults = new FaultQueue<string, SlackFault>();
  const botOutside = new Set<string>();
  const triggers = new Map<string, { issuedAt?: number; used: boolean }>();
  const created = Math.floor(Date.now() / 1000);
  let revoked = false;
  let lastMicros = 0;
  let triggerCount = 0;

  const nextTs = () => {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };
  const channelByIdOrName = (value: unknown) => {
    const name = String(value ?? '').replace(/^#/, '');
    return channels.find((c) => c.id === value || c.name === name);
  };
  const channelById = (value: unknown) => {
    const channel = channels.find((c) => c.id === value);
    if (!channel) throw new SlackError('channel_not_found');
    return channel;
  };
  const findMessage = (channel: string, ts: unknown, error = 'message_not_found') => {
    const message = messages.find((m) => m.channel === channel && m.ts === ts);
    if (!message) throw new SlackError(error);
    return message;
  };
  const removeMessage = (message: SlackMessage) => {
    const index = messages.indexOf(message);
    if (index >= 0) messages.splice(index, 1);
  };
  const repliesTo = (message: SlackMessage) =>
    messages.filter((m) => m.channel === message.channel && m.threadTs === message.ts);
  const membersOf = (channel: SlackChannel): string[] => {
    const listed = Object.entries(options.members ?? {}).find(
      ([key]) => key === channel.id || key.replace(/^#/, '') === channel.name,
    )?.[1];
    const people = listed ?? users.map((u) => u.id);
    return botOutside.has(channel.id) ? [...people] : [BOT.user, ...people.filter((id) => id !== BOT.user)];
  };
  const requireBotIn = (channel: SlackChannel) => {
    if (botOutside.has(channel.id)) throw new SlackError('not_in_channel');
  };
  const toWire = (message: SlackMessage, wire: { metadata?: boolean; root?: boolean } = {}): Result => {
    const replies = repliesTo(message);
    const parent =
      wire.root && message.threadTs
        ? messages.find((m) => m.channel === message.channel && m.ts === message.threadTs)
        : undefined;
    return {
      type: 'message',
      ...(message.threadTs && message.replyBroadcast && { subtype: 'thread_broadcast' }),
      text: message.text,
      user: BOT.user,
      bot_id: BOT.botId,
      app_id: BOT.appId,
      team: BOT.team,
      ts: message.ts,
      ...(message.blocks && { blocks: message.blocks }),
      ...(message.attachments && { attachments: message.attachments }),
      ...(wire.metadata && message.metadata && { metadata: message.metadata }),
      ...(message.edited && { edited: { user: BOT.user, ts: message.edited.ts } }),
      ...(message.threadTs && { thread_ts: message.threadTs, parent_user_id: BOT.user }),
      ...(parent && { root: toWire(parent, { metadata: wire.metadata }) }),
      ...(replies.length > 0 && {
        thread_ts: message.ts,
        reply_count: replies.length,
        reply_users: [BOT.user],
        reply_users_count: 1,
        latest_reply: replies.at(-1)?.ts,
      }),
    };
  };
  const channelObject = (channel: SlackChannel, withCount: boolean): Result => ({
    id: channel.id,
    name: channel.name,
    name_normalized: channel.name,
    is_channel: true,
    is_group: false,
    is_im: false,
    is_mpim: false,
    is_private: false,
    is_archived: false,
    is_general: false,
    is_shared: false,
    is_org_shared: false,
    is_ext_shared: false,
    is_pending_ext_shared: false,
    created,
    creator: users[0]?.id ?? BOT.user,
    context_team_id: BOT.team,
    is_member: !botOutside.has(channel.id),
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    ...(withCount && { num_members: membersOf(channel).length }),
  });
  const userObject = (user: SlackUser): Result => ({
    id: user.id,
    team_id: BOT.team,
    name: user.name,
    deleted: user.deleted ?? false,
    real_name: user.real_name ?? user.name,
    is_bot: user.is_bot ?? false,
    is_admin: false,
    is_app_user: false,
    profile: {
      real_name: user.real_name ?? user.name,
      display_name: user.profile?.display_name ?? '',
      ...(user.profile?.email !== undefined && { email: user.profile.email }),
      ...(user.is_bot && { bot_id: BOT.botId }),
      team: BOT.team,
    },
  });
  const exchangeTrigger = (value: unknown) => {
    const triggerId = optionalString(value);
    if (!triggerId) {
      throw invalidArguments('[ERROR] missing required field: trigger_id');
    }
    if (!TRIGGER_ID.test(triggerId)) throw new SlackError('invalid_trigger_id');
    const trigger = triggers.get(triggerId) ?? { used: false };
    if (trigger.used) throw new SlackError('exchanged_trigger_id');
    if (trigger.issuedAt !== undefined && Date.now() - trigger.issuedAt > TRIGGER_LIFETIME_MS) {
      throw new SlackError('expired_trigger_id');
    }
    triggers.set(triggerId, { ...trigger, used: true });
    return triggerId;
  };

  const methods: Record<string, (params: Params) => Result> = {
    'api.test': (params) => ({ args: params }),
    'auth.test': () => ({
      url: `https://${workspace}.slack.com/`,
      team: 'Local Sandbox',
      user: 'securityhub-notifier',
      team_id: BOT.team,
      user_id: BOT.user,
      bot_id: BOT.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (params) => {
      const channel = channelByIdOrName(params.channel);
      if (!channel) throw new SlackError('channel_not_found');
      requireBotIn(channel);
      const content = readContent(params);
      if (content.text === '' && !content.blocks && !content.attachments) throw new SlackError('no_text');
      const metadata = readMetadata(params.metadata);
      const threadTs = optionalString(params.thread_ts);
      const message: SlackMessage = {
        channel: channel.id,
        ts: nextTs(),
        ...content,
        ...(metadata && { metadata }),
        ...(threadTs && { threadTs: parentOf(messages, channel.id, threadTs) }),
        ...optionalFlag('replyBroadcast', params.reply_broadcast),
        ...optionalFlag('unfurlLinks', params.unfurl_links),
        ...optionalFlag('unfurlMedia', params.unfurl_media),
        raw: params,
      };
      messages.push(message);
      return { channel: channel.id, ts: message.ts, message: toWire(message, { metadata: true }) };
    },
    'chat.update': (params) => {
      const channel = channelById(params.channel);
      const message = findMessage(channel.id, params.ts, 'message_not_found');
      const content = readContent(params);
      if (content.text === '' && !content.blocks && !content.attachments) throw new SlackError('no_text');
      const metadata = readMetadata(params.metadata);
      Object.assign(message, content, metadata && { metadata }, { edited: { ts: nextTs() } });
      return {
        channel: channel.id,
        ts: message.ts,
        text: message.text,
        message: toWire(message, { metadata: true }),
      };
    },
    'chat.delete': (params) => {
      const channel = channelById(params.channel);
      const message = findMessage(channel.id, params.ts, 'message_not_found');
      removeMessage(message);
      return { channel: channel.id, ts: message.ts };
    },
    'chat.postEphemeral': (params) => {
      const channel = channelByIdOrName(params.channel);
      if (!channel) throw new SlackError('channel_not_found');
      const user = optionalString(params.user);
      if (!user) throw invalidArguments('[ERROR] missing required field: user');
      requireBotIn(channel);
      if (!membersOf(channel).includes(user)) throw new SlackError('user_not_in_channel');
      const content = readContent(params);
      if (content.text === '' && !content.blocks && !content.attachments) throw new SlackError('no_text');
      const threadTs = optionalString(params.thread_ts);
      const ephemeral: SlackEphemeral = {
        channel: channel.id,
        user,
        ts: nextTs(),
        ...(threadTs && { threadTs }),
        ...content,
        raw: params,
      };
      ephemerals.push(ephemeral);
      return { message_ts: ephemeral.ts };
    },
    'chat.getPermalink': (params) => {
      const channel = channelById(params.channel);
      const message = findMessage(channel.id, params.message_ts);
      const link = `https://${workspace}.slack.com/archives/${channel.id}/p${message.ts.replace('.', '')}`;
      const thread = message.threadTs ? `?thread_ts=${message.threadTs}&cid=${channel.id}` : '';
      return { channel: channel.id, permalink: link + thread };
    },
    'conversations.history': (params) => {
      const channel = channelById(params.channel);
      requireBotIn(channel);
      const within = timeWindow(params);
      const timeline = messages
        .filter((m) => m.channel === channel.id && (!m.threadTs || m.replyBroadcast) && within(m.ts))
        .sort((a, b) => compareTs(b.ts, a.ts));
      const page = pageOf(timeline, params, {
        defaultLimit: 100,
        maxLimit: 999,
        keyOf: (m) => m.ts,
        // Newest first: the page goes on from the newest message not newer than the cursor.
        resumeAt: (cursor) => timeline.findIndex((m) => compareTs(m.ts, cursor) <= 0),
      });
      const metadata = flag(params.include_all_metadata);
      return {
        messages: page.items.map((m) => toWire(m, { metadata, root: true })),
        has_more: page.hasMore,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
        response_metadata: { next_cursor: page.nextCursor },
      };
    },
    'conversations.replies': (params) => {
      const channel = channelById(params.channel);
      requireBotIn(channel);
      const found = findMessage(channel.id, params.ts, 'thread_not_found');
      // A reply's ts names its thread, as in Slack.
      const parent = found.threadTs ? findMessage(channel.id, found.threadTs, 'thread_not_found') : found;
      const within = timeWindow(params);
      // The parent leads the first page whatever the window; the replies follow, oldest first.
      const thread = [parent, ...repliesTo(parent).filter((m) => within(m.ts))];
      const page = pageOf(thread, params, {
        defaultLimit: 1000,
        maxLimit: 1000,
        keyOf: (m) => m.ts,
        resumeAt: (cursor) => thread.findIndex((m, i) => i > 0 && compareTs(m.ts, cursor) >= 0),
      });
      const metadata = flag(params.include_all_metadata);
      return {
        messages: page.items.map((m) => toWire(m, { metadata })),
        has_more: page.hasMore,
        response_metadata: { next_cursor: page.nextCursor },
      };
    },
    'conversations.list': (params) => {
      const page = pageOf(channels, params, {
        defaultLimit: 100,
        maxLimit: 1000,
        prefix: 'channel',
        keyOf: (channel) => channel.id,
        resumeAt: (cursor) => {
          const index = channels.findIndex((channel) => channel.id === cursor);
          return index < 0 ? undefined : index;
        },
      });
      return {
        channels: page.items.map((channel) => channelObject(channel, false)),
        response_metadata: { next_cursor: page.nextCursor },
      };
    },
    'conversations.info': (params) => ({
      channel: channelObject(channelById(params.channel), flag(params.include_num_members)),
    }),
    'conversations.members': (params) => {
      const members = membersOf(channelById(params.channel));
      const page = pageOf(members, params, {
        defaultLimit: 100,
        maxLimit: 999,
        prefix: 'user',
        keyOf: (id) => id,
        resumeAt: (cursor) => (members.includes(cursor) ? members.indexOf(cursor) : undefined),
      });
      return { members: page.items, response_metadata: { next_cursor: page.nextCursor } };
    },
    'users.info': (params) => {
      const id = optionalString(params.user);
      const user = id === BOT.user ? BOT_USER : users.find((u) => u.id === id);
      if (!user) throw new SlackError('user_not_found');
      return { user: userObject(user) };
    },
    'usergroups.users.list': (params) => {
      const members = usergroups[String(params.usergroup ?? '')];
      if (!members) throw new SlackError('no_such_subteam');
      return { users: [...members] };
    },
    'views.open': (params) => {
      const view = readView(params.view);
      if (view.type !== 'modal') {
        throw invalidArguments('[ERROR] must be a valid enum value [json-pointer:/view/type]');
      }
      const externalId = optionalString(view.external_id);
      if (externalId && views.some((v) => v.view.external_id === externalId)) {
        throw new SlackError('duplicate_external_id');
      }
      const triggerId = exchangeTrigger(params.trigger_id ?? params.interactivity_pointer);
      const id = `V0${String(views.length + 1).padStart(7, '0')}`;
      views.push({ id, triggerId, view, raw: params });
      return {
        view: {
          id,
          team_id: BOT.team,
          private_metadata: '',
          callback_id: '',
          external_id: '',
          clear_on_close: false,
          notify_on_close: false,
          ...view,
          state: { values: {} },
          hash: `${created}.${id}`,
          previous_view_id: null,
          root_view_id: id,
          app_id: BOT.appId,
          bot_id: BOT.botId,
        },
      };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { path, query } = parseUrl(req);
    const body = (await readBody(req)) as Params;
    const method = path.replace(/^\/api\//, '');
    const { token: bodyToken, ...params } = { ...query, ...body };
    calls.push({ method, params });

    const fault = faults.take(method);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault && 'status' in fault) {
      const limited = fault.status === 429;
      const headers: Record<string, string> = limited ? { 'retry-after': String(fault.retryAfter) } : {};
      return sendJson(
        res,
        fault.status,
        { ok: false, error: limited ? 'ratelimited' : 'fatal_error' },
        headers,
      );
    }
    if (fault && 'error' in fault) return sendJson(res, 200, { ok: false, error: fault.error });

    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? optionalString(bodyToken);
    if (!presented) return sendJson(res, 200, { ok: false, error: 'not_authed' });
    if (presented !== token) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    if (revoked) return sendJson(res, 200, { ok: false, error: 'token_revoked' });

    const run = methods[method];
    if (!run) return sendJson(res, 200, { ok: false, error: 'unknown_method', req_method: method });
    try {
      sendJson(res, 200, { ok: true, ...run(params) });
    } catch (error) {
      if (!(error instanceof SlackError)) throw error;
      sendJson(res, 200, { ok: false, error: error.code, ...error.extra });
    }
  };

  const person = (id: string) => {
    const user = id === BOT.user ? BOT_USER : users.find((u) => u.id === id);
    if (!user) throw new Error(`the Slack emulator has no user ${id}`);
    return { id: user.id, username: user.name, name: user.name, team_id: BOT.team };
  };
  const issueTrigger = () => {
    triggerCount += 1;
    const triggerId = `${Math.floor(Date.now() / 1000)}.${triggerCount}.${randomHex(16)}`;
    triggers.set(triggerId, { issuedAt: Date.now(), used: false });
    return triggerId;
  };
  const clickButton = (options: { channel: string; ts: string; actionId: string; user: string }) => {
    const channel = channelByIdOrName(options.channel);
    const message = channel && messages.find((m) => m.channel === channel.id && m.ts === options.ts);
    if (!channel || !message)
      throw new Error(`the Slack emulator has no message ${options.ts} in ${options.channel}`);
    const blocks = [
      ...(message.blocks ?? []),
      ...(message.attachments ?? []).flatMap(
        (a) => ((a as { blocks?: unknown[] }).blocks ?? []) as unknown[],
      ),
    ] as Array<Record<string, unknown>>;
    const block = blocks.find(
      (b) =>
        b.type === 'actions' &&
        (b.elements as Array<Record<string, unknown>>).some((e) => e.action_id === options.actionId),
    );
    const button = (block?.elements as Array<Record<string, unknown>> | undefined)?.find(
      (e) => e.action_id === options.actionId,
    );
    if (!block || !button) throw new Error(`message ${options.ts} has no button ${options.actionId}`);
    if (!membersOf(channel).includes(options.user))
      throw new Error(`${options.user} is not in ${channel.name}`);
    return interactionOf({
      type: 'block_actions',
      user: person(options.user),
      api_app_id: BOT.appId,
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: message.ts, channel_id: channel.id, is_ephemeral: false },
      trigger_id: issueTrigger(),
      team: { id: BOT.team, domain: workspace },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      message: toWire(message),
      state: { values: {} },
      response_url: `https://hooks.slack.com/actions/${BOT.team}/${Date.now()}/${randomHex(24)}`,
      actions: [
        {
          action_id: button.action_id,
          block_id: block.block_id ?? randomHex(5),
          text: button.text,
          ...(button.value !== undefined && { value: button.value }),
          ...(button.url !== undefined && { url: button.url }),
          ...(button.style !== undefined && { style: button.style }),
          type: 'button',
          action_ts: nextTs(),
        },
      ],
    });
  };
  const submitView = (
    viewId: string,
    options: { user: string; values: Record<string, string | undefined> },
  ) => {
    const opened = views.find((v) => v.id === viewId);
    if (!opened) throw new Error(`the Slack emulator has no view ${viewId}`);
    const values: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const block of (opened.view.blocks ?? []) as Array<Record<string, unknown>>) {
      if (block.type !== 'input') continue;
      const element = block.element as Record<string, unknown>;
      const given = options.values[String(block.block_id)];
      if ((given === undefined || given === '') && block.optional !== true) {
        throw new Error(
          `Slack does not submit the view: the required input ${String(block.block_id)} is empty`,
        );
      }
      const state =
        element.type === 'datepicker'
          ? { type: 'datepicker', selected_date: given ?? null }
          : { type: String(element.type), value: given ?? null };
      values[String(block.block_id)] = { [String(element.action_id)]: state };
    }
    return interactionOf({
      type: 'view_submission',
      team: { id: BOT.team, domain: workspace },
      user: person(options.user),
      api_app_id: BOT.appId,
      token: 'legacy-verification-token',
      trigger_id: issueTrigger(),
      view: {
        id: opened.id,
        team_id: BOT.team,
        type: 'modal',
        blocks: opened.view.blocks,
        private_metadata: opened.view.private_metadata ?? '',
        callback_id: opened.view.callback_id ?? '',
        state: { values },
        hash: `${created}.${opened.id}`,
        title: opened.view.title,
        clear_on_close: false,
        notify_on_close: false,
        close: opened.view.close ?? null,
        submit: opened.view.submit ?? null,
        previous_view_id: null,
        root_view_id: opened.id,
        app_id: BOT.appId,
        external_id: '',
        app_installed_team_id: BOT.team,
        bot_id: BOT.botId,
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    });
  };

  const server = await startHttpServer(handle);
  const knownChannel = (channel: string) => {
    const found = channelByIdOrName(channel);
    if (!found) throw new Error(`the Slack emulator has no channel ${channel}`);
    return found;
  };
  return {
    url: `${server.origin}/api/`,
    token,
    channels,
    messages,
    calls,
    views,
    ephemerals,
    users,
    failNext: (method, fault, times = 1) => faults.add((m) => method === '*' || m === method, fault, times),
    messagesIn: (channel) => {
      const found = channelByIdOrName(channel);
      return found ? messages.filter((m) => m.channel === found.id) : [];
    },
    removeBotFrom: (channel) => {
      botOutside.add(knownChannel(channel).id);
    },
    addBotTo: (channel) => {
      botOutside.delete(knownChannel(channel).id);
    },
    deleteMessage: (channel, ts) => {
      const found = channelByIdOrName(channel);
      const message = found && messages.find((m) => m.channel === found.id && m.ts === ts);
      if (!message) return false;
      removeMessage(message);
      return true;
    },
    revokeToken: () => {
      revoked = true;
    },
    issueTriggerId: issueTrigger,
    clickButton,
    submitView,
    close: server.close,
  };
}

/** `#security-alerts` → `C0SECURITY` (its first word, uppercased), made unique with a digit suffix. */
function resolveChannels(entries: Array<string | SlackChannel>): SlackChannel[] {
  const channels: SlackChannel[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      channels.push(entry);
      continue;
    }
    if (CHANNEL_ID.test(entry)) {
      if (!channels.some((c) => c.id === entry)) channels.push({ id: entry, name: entry.toLowerCase() });
      continue;
    }
    const name = entry.replace(/^#/, '');
    if (channels.some((c) => c.name === name)) continue;
    const stem = `C0${(/[a-z0-9]+/i.exec(name)?.[0] ?? 'CHANNEL').toUpperCase()}`.padEnd(9, 'X');
    let id = stem;
    for (let n = 2; channels.some((c) => c.id === id); n += 1) id = `${stem}${n}`;
    channels.push({ id, name });
  }
  return channels;
}

/** A reply to a reply joins the parent's thread, as in Slack. */
function parentOf(messages: SlackMessage[], channel: string, threadTs: string): string {
  return messages.find((m) => m.channel === channel && m.ts === threadTs)?.threadTs ?? threadTs;
}

function readContent(params: Params): Pick<SlackMessage, 'text' | 'blocks' | 'attachments'> {
  const text = optionalString(params.text) ?? '';
  if (text.length > MAX_TEXT) throw new SlackError('msg_too_long');
  const blocks = parseJsonArray(params.blocks, 'invalid_blocks_format');
  if (blocks) {
    const problems = validateBlocks(blocks);
    if (problems.length > 0) {
      throw new SlackError('invalid_blocks', {
        errors: problems,
        response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
      });
    }
  }
  const attachments = parseJsonArray(params.attachments, 'invalid_attachments');
  const attached = attachments ? attachmentProblems(attachments, blocks ?? [], validateBlocks) : [];
  if (attached.length > 0) {
    throw new SlackError('invalid_attachments', {
      errors: attached,
      response_metadata: { messages: attached.map((p) => `[ERROR] ${p}`) },
    });
  }
  return { text, ...(blocks && { blocks }), ...(attachments && { attachments }) };
}

function parseJsonArray(value: unknown, error: string): unknown[] | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new SlackError(error);
    }
  }
  if (!Array.isArray(parsed)) throw new SlackError(error);
  return parsed;
}

function invalidArguments(...messages: string[]): SlackError {
  return new SlackError('invalid_arguments', { response_metadata: { messages } });
}

/** `metadata` as WebClient sends it (a JSON string in a form body) or as an object in a JSON body. */
function readMetadata(value: unknown): SlackMetadata | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new SlackError('invalid_metadata_format');
    }
  }
  if (!isObject(parsed)) throw new SlackError('invalid_metadata_format');
  const { event_type: eventType, event_payload: payload } = parsed;
  if (typeof eventType !== 'string' || eventType === '' || !isObject(payload)) {
    throw new SlackError('invalid_metadata_schema');
  }
  return { event_type: eventType, event_payload: payload };
}

/** A views.open `view`: a modal with a plain_text title of at most 24 characters and at most 100 blocks. */
function readView(value: unknown): Record<string, unknown> {
  if (value === undefined || value === '') throw invalidArguments('[ERROR] missing required field: view');
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalidArguments('[ERROR] failed to parse the view [json-pointer:/view]');
    }
  }
  if (!isObject(parsed)) throw invalidArguments('[ERROR] must provide an object [json-pointer:/view]');
  const problems: string[] = [];
  const title = parsed.title;
  if (
    !isObject(title) ||
    title.type !== 'plain_text' ||
    typeof title.text !== 'string' ||
    title.text === ''
  ) {
    problems.push('must provide a plain_text object [json-pointer:/view/title]');
  } else if (title.text.length > 24) {
    problems.push('must be less than 25 characters [json-pointer:/view/title/text]');
  }
  if (!Array.isArray(parsed.blocks)) problems.push('must provide an array [json-pointer:/view/blocks]');
  else problems.push(...validateBlocks(parsed.blocks, { maxBlocks: 100, pointer: '/view/blocks' }));
  const hasInput =
    Array.isArray(parsed.blocks) && parsed.blocks.some((block) => isObject(block) && block.type === 'input');
  if (hasInput && !isObject(parsed.submit)) {
    problems.push(
      'must provide a submit property when any input blocks are present [json-pointer:/view/submit]',
    );
  }
  for (const [field, max] of [
    ['private_metadata', 3000],
    ['callback_id', 255],
    ['external_id', 255],
  ] as const) {
    const text = parsed[field];
    if (text !== undefined && (typeof text !== 'string' || text.length > max)) {
      problems.push(`must be a string of at most ${max} characters [json-pointer:/view/${field}]`);
    }
  }
  if (problems.length > 0) throw invalidArguments(...problems.map((p) => `[ERROR] ${p}`));
  return parsed;
}

/** Slack's booleans arrive as `true`, `'true'` or `'1'`. */
function flag(value: unknown): boolean {
  return value === true || value === 'true' || value === '1';
}

/** `1700000000.000123` → microseconds, exactly; undefined if it is no timestamp. */
function tsKey(value: unknown): bigint | undefined {
  const match = /^(\d+)(?:\.(\d*))?$/.exec(String(value ?? ''));
  if (!match) return undefined;
  return BigInt(match[1] as string) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0').slice(0, 6));
}

function compareTs(a: string, b: string): number {
  const difference = (tsKey(a) ?? 0n) - (tsKey(b) ?? 0n);
  return difference === 0n ? 0 : difference > 0n ? 1 : -1;
}

/** `oldest`, `latest` and `inclusive` as conversations.history and conversations.replies read them. */
function timeWindow(params: Params): (ts: string) => boolean {
  const bound = (value: unknown, error: string) => {
    if (value === undefined || value === '') return undefined;
    const key = tsKey(value);
    if (key === undefined) throw new SlackError(error);
    return key;
  };
  const oldest = bound(params.oldest, 'invalid_ts_oldest');
  const latest = bound(params.latest, 'invalid_ts_latest');
  const inclusive = flag(params.inclusive);
  return (ts) => {
    const key = tsKey(ts) ?? 0n;
    if (oldest !== undefined && (inclusive ? key < oldest : key <= oldest)) return false;
    if (latest !== undefined && (inclusive ? key > latest : key >= latest)) return false;
    return true;
  };
}

interface PageOptions<T> {
  defaultLimit: number;
  maxLimit: number;
  /** What the cursor names: `next_ts` (a message) or `user`, as Slack's own cursors do. */
  prefix?: string;
  keyOf: (item: T) => string;
  /** Where the page named by the cursor's key starts: -1 = nothing left, undefined = no such cursor. */
  resumeAt: (key: string) => number | undefined;
}

/** One page by `limit` and `cursor`; `nextCursor` is '' on the last page. */
function pageOf<T>(
  items: T[],
  params: Params,
  options: PageOptions<T>,
): { items: T[]; hasMore: boolean; nextCursor: string } {
  const prefix = options.prefix ?? 'next_ts';
  let limit = options.defaultLimit;
  if (params.limit !== undefined && params.limit !== '') {
    const requested = Number(params.limit);
    if (!Number.isInteger(requested) || requested < 0) throw new SlackError('invalid_limit');
    if (requested > 0) limit = Math.min(requested, options.maxLimit);
  }
  let start = 0;
  const cursor = optionalString(params.cursor);
  if (cursor) {
    const decoded = Buffer.from(cursor, 'base64').toString('utf8');
    if (!decoded.startsWith(`${prefix}:`)) throw new SlackError('invalid_cursor');
    const resumed = options.resumeAt(decoded.slice(prefix.length + 1));
    if (resumed === undefined) throw new SlackError('invalid_cursor');
    start = resumed < 0 ? items.length : resumed;
  }
  const page = items.slice(start, start + limit);
  const next = items[start + limit];
  return {
    items: page,
    hasMore: next !== undefined,
    nextCursor: next === undefined ? '' : Buffer.from(`${prefix}:${options.keyOf(next)}`).toString('base64'),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optionalFlag<K extends string>(key: K, value: unknown): { [P in K]?: boolean } {
  if (value === undefined) return {};
  return { [key]: value === true || value === 'true' || value === '1' } as { [P in K]?: boolean };
}

const TEXT_TYPES = new Set(['plain_text', 'mrkdwn']);
const INPUT_ELEMENTS = new Set([
  'plain_text_input',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'static_select',
  'multi_static_select',
  'users_select',
  'conversations_select',
  'checkboxes',
  'radio_buttons',
  'number_input',
  'email_text_input',
  'url_text_input',
]);
const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'video',
]);

/**
 * Block Kit limits as Slack enforces them; each problem is `message [json-pointer:/blocks/..]`.
 * A message takes at most 50 blocks, a modal 100 (`maxBlocks`), whose pointers start `/view/blocks`.
 */
export function validateBlocks(
  blocks: unknown[],
  { maxBlocks = 50, pointer = '/blocks' }: { maxBlocks?: number; pointer?: string } = {},
): string[] {
  const problems: string[] = [];
  const report = (pointer: string, message: string): false => {
    problems.push(`${message} [json-pointer:${pointer}]`);
    return false;
  };
  const checkText = (pointer: string, value: unknown, max: number, types = TEXT_TYPES) => {
    const object = value as { type?: unknown; text?: unknown } | null;
    if (typeof object !== 'object' || object === null) return report(pointer, 'must provide an object');
    if (!types.has(String(object.type))) return report(`${pointer}/type`, 'must be a valid enum value');
    if (typeof object.text !== 'string' || object.text.length === 0) {
      return report(`${pointer}/text`, 'must be more than 0 characters');
    }
    return object.text.length <= max || report(`${pointer}/text`, `must be less than ${max + 1} characters`);
  };
  const checkItems = (pointer: string, value: unknown, max: number) => {
    if (!Array.isArray(value) || value.length === 0) return report(pointer, 'must provide at least 1 item');
    return value.length <= max || report(pointer, `no more than ${max} items allowed`);
  };

  const checkString = (pointer: string, value: unknown, max: number) =>
    value === undefined ||
    (typeof value === 'string' && value.length <= max) ||
    report(pointer, `must be a string of at most ${max} characters`);
  const checkConfirm = (pointer: string, confirm: unknown) => {
    const dialog = confirm as Record<string, unknown> | null;
    if (typeof dialog !== 'object' || dialog === null) return report(pointer, 'must provide an object');
    checkText(`${pointer}/title`, dialog.title, 100, new Set(['plain_text']));
    checkText(`${pointer}/text`, dialog.text, 300);
    checkText(`${pointer}/confirm`, dialog.confirm, 30, new Set(['plain_text']));
    return checkText(`${pointer}/deny`, dialog.deny, 30, new Set(['plain_text']));
  };
  /** A button: plain_text text of at most 75, a value of at most 2000, a url of at most 3000. */
  const checkButton = (pointer: string, element: Record<string, unknown>) => {
    checkText(`${pointer}/text`, element.text, 75, new Set(['plain_text']));
    checkString(`${pointer}/action_id`, element.action_id, 255);
    checkString(`${pointer}/value`, element.value, 2000);
    checkString(`${pointer}/url`, element.url, 3000);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      report(`${pointer}/style`, 'must be a valid enum value');
    }
    if (element.confirm !== undefined) checkConfirm(`${pointer}/confirm`, element.confirm);
  };
  const checkActions = (pointer: string, elements: unknown[]) => {
    const ids = new Set<string>();
    for (const [i, value] of elements.entries()) {
      const element = (value ?? {}) as Record<string, unknown>;
      if (element.type === 'button') checkButton(`${pointer}/${i}`, element);
      const id = typeof element.action_id === 'string' ? element.action_id : undefined;
      if (id !== undefined && ids.has(id))
        report(`${pointer}/${i}/action_id`, 'must be unique within the block');
      if (id !== undefined) ids.add(id);
    }
  };
  /** An input block: a plain_text label of at most 2000 and one input element. */
  const checkInput = (pointer: string, block: Record<string, unknown>) => {
    checkText(`${pointer}/label`, block.label, 2000, new Set(['plain_text']));
    if (block.hint !== undefined) checkText(`${pointer}/hint`, block.hint, 2000, new Set(['plain_text']));
    const element = block.element as Record<string, unknown> | undefined;
    if (typeof element !== 'object' || element === null)
      return report(`${pointer}/element`, 'must provide an object');
    if (!INPUT_ELEMENTS.has(String(element.type)))
      return report(`${pointer}/element/type`, 'must be a valid enum value');
    checkString(`${pointer}/element/action_id`, element.action_id, 255);
    if (element.type === 'plain_text_input' && element.max_length !== undefined) {
      const max = Number(element.max_length);
      if (!Number.isInteger(max) || max < 1 || max > 3000)
        report(`${pointer}/element/max_length`, 'must be 1 to 3000');
    }
    if (
      element.type === 'datepicker' &&
      element.initial_date !== undefined &&
      !/^\d{4}-\d{2}-\d{2}$/.test(String(element.initial_date))
    ) {
      report(`${pointer}/element/initial_date`, 'must be a date YYYY-MM-DD');
    }
    return true;
  };

  if (blocks.length > maxBlocks) report(pointer, `no more than ${maxBlocks} items allowed`);
  const blockIds = new Set<string>();
  for (const [index, value] of blocks.entries()) {
    const at = `${pointer}/${index}`;
    const block = value as Record<string, unknown> | null;
    if (typeof block !== 'object' || block === null) {
      report(at, 'must provide an object');
      continue;
    }
    if (!BLOCK_TYPES.has(String(block.type))) report(`${at}/type`, 'must be a valid enum value');
    if (typeof block.block_id === 'string' && block.block_id.length > 255) {
      report(`${at}/block_id`, 'must be less than 256 characters');
    }
    if (block.type === 'header') checkText(`${at}/text`, block.text, 150, new Set(['plain_text']));
    if (block.type === 'section') {
      if (block.text === undefined && block.fields === undefined)
        report(at, 'must provide either text or fields');
      if (block.text !== undefined) checkText(`${at}/text`, block.text, 3000);
      if (block.fields !== undefined && checkItems(`${at}/fields`, block.fields, 10)) {
        for (const [i, field] of (block.fields as unknown[]).entries())
          checkText(`${at}/fields/${i}`, field, 2000);
      }
    }
    if (block.type === 'context') checkItems(`${at}/elements`, block.elements, 10);
    if (block.type === 'actions' && checkItems(`${at}/elements`, block.elements, 25)) {
      checkActions(`${at}/elements`, block.elements as unknown[]);
    }
    if (block.type === 'input') checkInput(at, block);
    if (typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id)) report(`${at}/block_id`, 'must be unique within the message');
      blockIds.add(block.block_id);
    }
    if (block.type === 'markdown' && (typeof block.text !== 'string' || block.text.length > 12_000)) {
      report(`${at}/text`, 'must be a string of at most 12000 characters');
    }
  }
  return problems;
}
