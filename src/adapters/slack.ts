import { type ChatPostMessageArguments, ErrorCode, type WebAPICallError, WebClient } from '@slack/web-api';
import { SlackAuthError, SlackChannelError, SlackDeliveryError, SlackRateLimitError } from '../app/errors.js';
import type { Chat, ChatPost } from '../app/ports.js';

export interface SlackPosterOptions {
  getToken: () => Promise<string>;
  /** Named in errors: the SSM parameter (or variable) the token came from. */
  tokenSource: string;
  apiUrl?: string;
  /** The longest Retry-After this invocation waits out itself. */
  maxRateLimitWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type PostRequest = ChatPost;

const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);
const CHANNEL_ERRORS = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action']);

/**
 * chat.postMessage through @slack/web-api. Retries are short (Lambda, not 30 minutes); a 429 is
 * waited out when its Retry-After fits the budget, otherwise handed to the workflow's Retry.
 */
export class SlackPoster implements Chat {
  private client: WebClient | undefined;
  private clientToken: string | undefined;
  private readonly maxRateLimitWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: SlackPosterOptions) {
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async post(request: PostRequest): Promise<{ channel: string; ts: string }> {
    const client = await this.webClient();
    for (let attempt = 0; ; attempt++) {
      try {
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
        const result = await client.chat.postMessage(args as unknown as ChatPostMessageArguments);
        if (!result.ts || !result.channel)
          throw new SlackDeliveryError('chat.postMessage answered without ts');
        return { channel: result.channel, ts: result.ts };
      } catch (error) {
        const waitMs = this.rateLimitWait(error);
        if (waitMs !== undefined && waitMs <= this.maxRateLimitWaitMs && attempt < 3) {
          await this.sleep(waitMs);
          continue;
        }
        throw this.translate(error, request.channel);
      }
    }
  }

  private async webClient(): Promise<WebClient> {
    const token = await this.options.getToken();
    if (!this.client || token !== this.clientToken) {
      this.client = new WebClient(token, {
        ...(this.options.apiUrl ? { slackApiUrl: this.options.apiUrl } : {}),
        retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 },
        rejectRateLimitedCalls: true,
        timeout: 8000,
      });
      this.clientToken = token;
    }
    return this.client;
  }

  private rateLimitWait(error: unknown): number | undefined {
    const coded = error as Partial<WebAPICallError>;
    if (coded.code === ErrorCode.RateLimitedError && 'retryAfter' in coded) {
      return Number(coded.retryAfter) * 1000;
    }
    return undefined;
  }

  private translate(error: unknown, channel: string): Error {
    const coded = error as Partial<WebAPICallError>;
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
      if (CHANNEL_ERRORS.has(slackError)) {
        return new SlackChannelError(
          `Slack channel ${channel}: ${slackError} (check SLACK_CHANNEL and invite the bot to the channel)`,
          { cause: error },
        );
      }
      return new SlackDeliveryError(`chat.postMessage to ${channel} failed: ${slackError}`, { cause: error });
    }
    if (coded.code === ErrorCode.RateLimitedError) {
      return new SlackRateLimitError(`Slack rate limited chat.postMessage to ${channel}`, { cause: error });
    }
    return new SlackDeliveryError(`chat.postMessage to ${channel} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
