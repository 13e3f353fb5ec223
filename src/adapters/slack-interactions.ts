import { ErrorCode, type WebAPICallError, type WebClient } from '@slack/web-api';
import { SlackAuthError, SlackDeliveryError, SlackRateLimitError } from '../app/errors.js';
import type { SlackDirectory, SlackPeople, SlackResponder } from '../app/ports.js';
import { AUTH_ERRORS, slackWebClient } from './slack.js';

export interface SlackInteractionsOptions {
  getToken: () => Promise<string>;
  /** Named in errors: the SSM parameter (or variable) the token came from. */
  tokenSource: string;
  apiUrl?: string;
  timeoutMs?: number;
  /** How long user groups' members and users' profiles are kept (default five minutes). */
  cacheMs?: number;
  now?: () => number;
}

/** views.open's answers for a trigger id Slack will not exchange: a replay, or an answer too late. */
const TRIGGER_ERRORS = new Set(['exchanged_trigger_id', 'expired_trigger_id', 'invalid_trigger_id']);
const DEFAULT_CACHE_MS = 5 * 60_000;

interface Cached<T> {
  value: Promise<T>;
  expires: number;
}

/**
 * What acting from Slack needs of Slack's Web API besides posting: the members of user groups
 * (`usergroups.users.list`, who may act) and users' profiles (`users.info`, a name and the mail
 * address that finds their Backlog user), each cached; the suppress modal (`views.open`); and
 * ephemeral answers (`chat.postEphemeral`). Without client retries: the endpoint must answer Slack
 * within 3 seconds, and the worker's queue retries.
 */
export class SlackInteractions implements SlackDirectory, SlackResponder, SlackPeople {
  private readonly webClient: () => Promise<WebClient>;
  private readonly groups = new Map<string, Cached<readonly string[]>>();
  private readonly profiles = new Map<string, Cached<{ name: string; email?: string }>>();
  private readonly now: () => number;

  constructor(private readonly options: SlackInteractionsOptions) {
    this.now = options.now ?? Date.now;
    this.webClient = slackWebClient(options);
  }

  userGroupMembers(groupId: string): Promise<readonly string[]> {
    return this.cached(this.groups, groupId, async () => {
      const result = await this.call('usergroups.users.list', (client) =>
        client.usergroups.users.list({ usergroup: groupId }),
      );
      return [...(result.users ?? [])];
    });
  }

  profile(userId: string): Promise<{ name: string; email?: string }> {
    return this.cached(this.profiles, userId, async () => {
      const { user } = await this.call('users.info', (client) => client.users.info({ user: userId }));
      const name = user?.profile?.display_name || user?.real_name || user?.name || userId;
      const email = user?.profile?.email;
      return email ? { name, email } : { name };
    });
  }

  async openView(
    triggerId: string,
    view: Record<string, unknown>,
  ): Promise<{ opened: boolean; problem?: string }> {
    try {
      await this.call('views.open', (client) =>
        client.views.open({ trigger_id: triggerId, view: view as never }),
      );
      return { opened: true };
    } catch (error) {
      const code = (error as { slackError?: string }).slackError;
      if (code && TRIGGER_ERRORS.has(code)) return { opened: false, problem: code };
      throw error;
    }
  }

  async postEphemeral(channel: string, user: string, text: string): Promise<void> {
    await this.call('chat.postEphemeral', (client) => client.chat.postEphemeral({ channel, user, text }));
  }

  private cached<T>(cache: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const value = load();
    cache.set(key, { value, expires: this.now() + (this.options.cacheMs ?? DEFAULT_CACHE_MS) });
    value.catch(() => cache.delete(key));
    return value;
  }

  private async call<T>(method: string, request: (client: WebClient) => Promise<T>): Promise<T> {
    const client = await this.webClient();
    try {
      return await request(client);
    } catch (error) {
      throw this.translate(error, method);
    }
  }

  private translate(error: unknown, method: string): Error {
    const coded = error as Partial<WebAPICallError> & { retryAfter?: number };
    if (coded.code === ErrorCode.RateLimitedError) {
      return new SlackRateLimitError(`Slack rate limited ${method}`, Number(coded.retryAfter) || 30, {
        cause: error,
      });
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
      return Object.assign(new SlackDeliveryError(`${method} failed: ${slackError}`, { cause: error }), {
        slackError,
      });
    }
    return new SlackDeliveryError(`${method} failed: ${(error as Error).message}`, { cause: error });
  }
}
