import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, parseUrl, readBody, sendJson, sleep, startHttpServer } from './http-server.js';

export interface SlackChannel {
  id: string;
  name: string;
}

export interface SlackEmulatorOptions {
  token?: string;
  /** Channel names (`#security-alerts`), ids (`C0SECURITY`) or both; a name gets a stable derived id. */
  channels?: Array<string | SlackChannel>;
  /** The workspace sub-domain used in permalinks and auth.test. */
  workspace?: string;
}

export interface SlackMessage {
  /** Always the channel id, as Slack answers it. */
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  replyBroadcast?: boolean;
  unfurlLinks?: boolean;
  unfurlMedia?: boolean;
  edited?: { ts: string };
  /** The parameters exactly as received (JSON-valued ones still as strings). */
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
  messages: SlackMessage[];
  calls: SlackCall[];
  /** The next `times` calls of `method` (`'*'` = any) fail with `fault`. */
  failNext(method: string, fault: SlackFault, times?: number): void;
  /** Messages of a channel, by name (`#x` or `x`) or id, in posting order. */
  messagesIn(channel: string): SlackMessage[];
  close(): Promise<void>;
}

const BOT = { user: 'U0NOTIFIER', botId: 'B0NOTIFIER', appId: 'A0NOTIFIER', team: 'T0LOCAL' };
const MAX_TEXT = 40_000;
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

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
  const messages: SlackMessage[] = [];
  const calls: SlackCall[] = [];
  const faults = new FaultQueue<string, SlackFault>();
  let lastMicros = 0;

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
  const repliesTo = (message: SlackMessage) =>
    messages.filter((m) => m.channel === message.channel && m.threadTs === message.ts);
  const toWire = (message: SlackMessage): Result => {
    const replies = repliesTo(message);
    return {
      type: 'message',
      text: message.text,
      user: BOT.user,
      bot_id: BOT.botId,
      app_id: BOT.appId,
      team: BOT.team,
      ts: message.ts,
      ...(message.blocks && { blocks: message.blocks }),
      ...(message.attachments && { attachments: message.attachments }),
      ...(message.edited && { edited: { user: BOT.user, ts: message.edited.ts } }),
      ...(message.threadTs && { thread_ts: message.threadTs, parent_user_id: BOT.user }),
      ...(replies.length > 0 && {
        thread_ts: message.ts,
        reply_count: replies.length,
        reply_users: [BOT.user],
        reply_users_count: 1,
        latest_reply: replies.at(-1)?.ts,
      }),
    };
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
      const content = readContent(params);
      if (content.text === '' && !content.blocks && !content.attachments) throw new SlackError('no_text');
      const threadTs = optionalString(params.thread_ts);
      const message: SlackMessage = {
        channel: channel.id,
        ts: nextTs(),
        ...content,
        ...(threadTs && { threadTs: parentOf(messages, channel.id, threadTs) }),
        ...optionalFlag('replyBroadcast', params.reply_broadcast),
        ...optionalFlag('unfurlLinks', params.unfurl_links),
        ...optionalFlag('unfurlMedia', params.unfurl_media),
        raw: params,
      };
      messages.push(message);
      return { channel: channel.id, ts: message.ts, message: toWire(message) };
    },
    'chat.update': (params) => {
      const channel = channelById(params.channel);
      const message = findMessage(channel.id, params.ts, 'message_not_found');
      const content = readContent(params);
      if (content.text === '' && !content.blocks && !content.attachments) throw new SlackError('no_text');
      Object.assign(message, content, { edited: { ts: nextTs() } });
      return { channel: channel.id, ts: message.ts, text: message.text, message: toWire(message) };
    },
    'chat.getPermalink': (params) => {
      const channel = channelById(params.channel);
      const message = findMessage(channel.id, params.message_ts);
      const link = `https://${workspace}.slack.com/archives/${channel.id}/p${message.ts.replace('.', '')}`;
      const thread = message.threadTs ? `?thread_ts=${message.threadTs}&cid=${channel.id}` : '';
      return { channel: channel.id, permalink: link + thread };
    },
    'conversations.replies': (params) => {
      const channel = channelById(params.channel);
      const parent = findMessage(channel.id, params.ts, 'thread_not_found');
      const thread = parent.threadTs ? [parent] : [parent, ...repliesTo(parent)];
      const limit = Number(params.limit ?? 1000) || 1000;
      return {
        messages: thread.slice(0, limit).map(toWire),
        has_more: thread.length > limit,
        response_metadata: { next_cursor: '' },
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

    const run = methods[method];
    if (!run) return sendJson(res, 200, { ok: false, error: 'unknown_method', req_method: method });
    try {
      sendJson(res, 200, { ok: true, ...run(params) });
    } catch (error) {
      if (!(error instanceof SlackError)) throw error;
      sendJson(res, 200, { ok: false, error: error.code, ...error.extra });
    }
  };

  const server = await startHttpServer(handle);
  return {
    url: `${server.origin}/api/`,
    token,
    channels,
    messages,
    calls,
    failNext: (method, fault, times = 1) => faults.add((m) => method === '*' || m === method, fault, times),
    messagesIn: (channel) => {
      const found = channelByIdOrName(channel);
      return found ? messages.filter((m) => m.channel === found.id) : [];
    },
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

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optionalFlag<K extends string>(key: K, value: unknown): { [P in K]?: boolean } {
  if (value === undefined) return {};
  return { [key]: value === true || value === 'true' || value === '1' } as { [P in K]?: boolean };
}

const TEXT_TYPES = new Set(['plain_text', 'mrkdwn']);
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

/** Block Kit limits as Slack enforces them; each problem is `message [json-pointer:/blocks/..]`. */
export function validateBlocks(blocks: unknown[]): string[] {
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

  if (blocks.length > 50) report('/blocks', 'no more than 50 items allowed');
  for (const [index, value] of blocks.entries()) {
    const at = `/blocks/${index}`;
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
    if (block.type === 'actions') checkItems(`${at}/elements`, block.elements, 25);
    if (block.type === 'markdown' && (typeof block.text !== 'string' || block.text.length > 12_000)) {
      report(`${at}/text`, 'must be a string of at most 12000 characters');
    }
  }
  return problems;
}
