import { ErrorCode, type WebAPICallError, WebClient } from '@slack/web-api';
import {
  SlackAuthError,
  SlackChannelError,
  SlackDeliveryError,
  SlackMessageGoneError,
  SlackRateLimitError,
} from '../app/errors.js';
import type { ChatInspector } from '../app/health-ports.js';
import type { Chat, ChatMessage, ChatPost } from '../app/ports.js';

export interface SlackPosterOptions {
  getToken: () => Promise<string>;
  /** Named in errors: the SSM parameter (or variable) the token came from. */
  tokenSource: string;
  apiUrl?: string;
  /** Every request is abandoned after this long (default 5 s, far below the task's budget). */
  timeoutMs?: number;
}

export type PostRequest = ChatPost;

export const DEFAULT_SLACK_TIMEOUT_MS = 5_000;

/**
 * The Web API client for the current token (a rotated token gets a new one), without client
 * retries: the workflow and the queues retry, after looking for what an earlier attempt may have
 * posted; a rate limit is rejected at once, with its Retry-After.
 */
export function slackWebClient(
  options: Pick<SlackPosterOptions, 'getToken' | 'apiUrl' | 'timeoutMs'>,
): () => Promise<WebClient> {
  let client: WebClient | undefined;
  let clientToken: string | undefined;
  return async () => {
    const token = await options.getToken();
    if (!client || token !== clientToken) {
      client = new WebClient(token, {
        ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
      });
      clientToken = token;
    }
    return client;
  };
}
/** The metadata every post carries: its post id, so a post whose answer was lost can be found. */
export const POST_EVENT_TYPE = 'securityhub_notifier_post';
/** Pages of history looked through for a lost post (200 messages a page). */
const MAX_HISTORY_PAGES = 5;

/** Slack's answers that mean the bot token is wrong (every adapter reports them as SlackAuthError). */
export const AUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);
const CHANNEL_ERRORS = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action']);
/** The message (or the thread's parent) was deleted. */
const GONE_ERRORS = new Set(['message_not_found', 'thread_not_found', 'cant_update_message']);

interface HistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * Slack's Web API through @slack/web-api, without client-level retries (the workflow retries, and a
 * retried post could post twice): every post carries metadata naming it, and `findPost` looks for
 * it in the channel or thread after an unknown outcome. A 429 becomes SlackRateLimitError carrying
 * `Retry-After` (the workflow waits it out).
 */
export class SlackPoster implements Chat, ChatInspector {
  private readonly channelIds = new Map<string, string>();
  private readonly webClient: () => Promise<WebClient>;

  constructor(private readonly options: SlackPosterOptions) {
    this.webClient = slackWebClient(options);
  }

  async post(request: ChatPost): Promise<{ channel: string; ts: string }> {
    const args: Record<string, unknown> = {
      channel: request.channel,
      text: request.text,
      unfurl_links: false,
      unfurl_media: false,
    };
    if (request.blocks) args.blocks = request.blocks;
    if (request.attachments) args.attachments = request.attachments;
    if (request.threadTs) {
      args.thread_ts = request.threadTs;
      args.reply_broadcast = request.replyBroadcast ?? false;
    }
    if (request.postId)
      args.metadata = { event_type: POST_EVENT_TYPE, event_payload: { post_id: request.postId } };
    const result = await this.call('chat.postMessage', request.channel, (client) =>
      client.chat.postMessage(args as never),
    );
    if (!result.ts || !result.channel) throw new SlackDeliveryError('chat.postMessage answered without ts');
    this.channelIds.set(request.channel, result.channel);
    return { channel: result.channel, ts: result.ts };
  }

  async update(channel: string, ts: string, message: ChatMessage): Promise<void> {
    const args: Record<string, unknown> = { channel: await this.channelId(channel), ts, text: message.text };
    if (message.blocks) args.blocks = message.blocks;
    if (message.attachments) args.attachments = message.attachments;
    await this.call('chat.update', channel, (client) => client.chat.update(args as never));
  }

  async read(channel: string, ts: string): Promise<ChatMessage | undefined> {
    const id = await this.channelId(channel);
    const result = await this.call('conversations.history', channel, (client) =>
      client.conversations.history({ channel: id, latest: ts, oldest: ts, inclusive: true, limit: 1 }),
    );
    const [message] = (result.messages ?? []) as Array<{ ts?: string } & ChatMessage>;
    if (!message || message.ts !== ts) return undefined;
    return {
      text: message.text ?? '',
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.attachments ? { attachments: message.attachments } : {}),
    };
  }

  async findPost(
    channel: string,
    postId: string,
    since: Date,
    threadTs?: string,
  ): Promise<{ channel: string; ts: string } | undefined> {
    const id = await this.channelId(channel);
    const oldest = (since.getTime() / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const base = {
        channel: id,
        oldest,
        limit: 200,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      };
      const result = threadTs
        ? await this.call('conversations.replies', channel, (client) =>
            client.conversations.replies({ ...base, ts: threadTs }),
          )
        : await this.call('conversations.history', channel, (client) => client.conversations.history(base));
      const messages = (result.messages ?? []) as HistoryMessage[];
      const found = messages.find(
        (message) =>
          message.metadata?.event_type === POST_EVENT_TYPE &&
          message.metadata.event_payload?.post_id === postId,
      );
      if (found?.ts) return { channel: id, ts: found.ts };
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** `auth.test`: who the token is (a refused token: SlackAuthError naming where it came from). */
  async identity(): Promise<{ user: string; userId: string; team: string }> {
    const result = await this.call('auth.test', '(none)', (client) => client.auth.test());
    return { user: result.user ?? '', userId: result.user_id ?? '', team: result.team ?? '' };
  }

  /** Whether the bot sees a channel and is in it (`conversations.info`), posting nothing. */
  async channelAccess(channel: string): Promise<{ found: boolean; member: boolean; id?: string }> {
    try {
      const id = await this.channelId(channel);
      const result = await this.call('conversations.info', channel, (client) =>
        client.conversations.info({ channel: id }),
      );
      return { found: true, member: result.channel?.is_member === true, id };
    } catch (error) {
      if (error instanceof SlackChannelError) return { found: false, member: false };
      throw error;
    }
  }

  /** A channel's id: history and updates need it; names are resolved once through conversations.list. */
  private async channelId(channel: string): Promise<string> {
    if (/^[CGD][A-Z0-9]{6,}$/.test(channel)) return channel;
    const known = this.channelIds.get(channel);
    if (known) return known;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    do {
      const result = await this.call('conversations.list', channel, (client) =>
        client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        }),
      );
      const match = (result.channels ?? []).find((candidate) => candidate.name === name);
      if (match?.id) {
        this.channelIds.set(channel, match.id);
        return match.id;
      }
      cursor = result.response_metadata?.next_cursor || undefined;
    } while (cursor);
    throw new SlackChannelError(
      `Slack channel ${channel}: channel_not_found (check SLACK_CHANNEL and invite the bot)`,
    );
  }

  private async call<T>(
    method: string,
    channel: string,
    request: (client: WebClient) => Promise<T>,
  ): Promise<T> {
    const client = await this.webClient();
    try {
      return await request(client);
    } catch (error) {
      throw this.translate(error, method, channel);
    }
  }

  private translate(error: unknown, method: string, channel: string): Error {
    const coded = error as Partial<WebAPICallError> & { retryAfter?: number };
    if (coded.code === ErrorCode.RateLimitedError) {
      const seconds = Number(coded.retryAfter);
      return new SlackRateLimitError(
        `Slack rate limited ${method} to ${channel}`,
        Number.isFinite(seconds) ? seconds : 30,
        {
          cause: error,
        },
      );
    }
    if (coded.code === ErrorCode.PlatformError && 'data' in coded) {
      const slackError = String((coded.data as { error?: string }).error);
      if (AUTH_ERRORS.has(slackError)) {
        return new SlackAuthError(
          `Slack rejected the bot token from ${this.options.tokenSource}: ${slackError}`,
          {
            cause: error,
          },
        );
      }
      if (GONE_ERRORS.has(slackError)) {
        return new SlackMessageGoneError(`${method} in ${channel}: ${slackError} (the message was deleted)`, {
          cause: error,
        });
      }
      if (CHANNEL_ERRORS.has(slackError)) {
        return new SlackChannelError(
          `Slack channel ${channel}: ${slackError} (check SLACK_CHANNEL and invite the bot to the channel)`,
          { cause: error },
        );
      }
      return new SlackDeliveryError(`${method} to ${channel} failed: ${slackError}`, { cause: error });
    }
    return new SlackDeliveryError(`${method} to ${channel} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
