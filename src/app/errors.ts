/**
 * The error catalogue: every error a workflow task can end with, and how the workflow treats it.
 * The state machine's Retry and Catch lists are tested against this table
 * (test/template/error-catalogue.test.ts): an error added on one side only fails that test.
 *
 * - `fatal`: retrying cannot help (a setting, a secret, a credential, a malformed input); the
 *   delivery fails at once and the error names what to fix.
 * - `claim-wait`: another execution holds the claim on this finding or group, or an earlier
 *   attempt's outcome is not settled yet; wait for it.
 * - `rate-limited`: the API said to slow down; wait, then try again.
 * - `transient`: anything else that may pass (a 5xx, a timeout, a lost answer); retried with backoff.
 */
import { FindingValidationError } from '../domain/finding/validation-error.js';

export { FindingValidationError };

export type RetryClass = 'fatal' | 'claim-wait' | 'rate-limited' | 'transient';

/** A setting that is missing or malformed: names the variable, fails the cold start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A secret (SSM parameter or Secrets Manager secret) that cannot be read: names the parameter. */
export class SecretError extends Error {
  override readonly name = 'SecretError';
}

/** A DynamoDB ledger request that did not complete (unprocessed items after retries). */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

/** Another execution is filing or posting this finding right now: retried by the workflow. */
export class ClaimHeldError extends Error {
  override readonly name = 'ClaimHeldError';
}

/**
 * An error that says how long to wait before trying again: the task hands the wait to the workflow
 * (a Wait state), never sleeps it out in a Lambda.
 */
export interface RetryAfter {
  readonly retryAfterSeconds?: number;
}

/**
 * An earlier attempt sent the create or the post and its outcome is unknown (a lost answer, a
 * timeout): it may still land. Wait until it certainly has, then look for it before doing it again.
 */
export class OutcomePendingError extends Error implements RetryAfter {
  override readonly name = 'OutcomePendingError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Backlog refused the API key: not retried, names the parameter it came from. */
export class BacklogAuthError extends Error {
  override readonly name = 'BacklogAuthError';
}

/** The project key, issue type or category does not exist: not retried, names the setting. */
export class BacklogConfigError extends Error {
  override readonly name = 'BacklogConfigError';
}

/** Backlog said to slow down (429): the workflow waits until `X-RateLimit-Reset`. */
export class BacklogRateLimitError extends Error implements RetryAfter {
  override readonly name = 'BacklogRateLimitError';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Backlog refused the request as invalid (400): retrying the same request cannot help. */
export class BacklogInvalidError extends Error {
  override readonly name = 'BacklogInvalidError';
}

/** The issue is gone from Backlog (deleted): recorded, nothing retried. */
export class BacklogIssueGoneError extends Error {
  override readonly name = 'BacklogIssueGoneError';
}

/** Backlog failed past its retries moments ago: this delivery does not wait for it again. */
export class BacklogUnavailableError extends Error {
  override readonly name = 'BacklogUnavailableError';
}

/** Any other Backlog failure (retried by the workflow). */
export class BacklogRequestError extends Error {
  override readonly name = 'BacklogRequestError';
}

/** Slack refused the token: not retried, names the parameter the token came from. */
export class SlackAuthError extends Error {
  override readonly name = 'SlackAuthError';
}

/** The channel does not exist or the bot is not in it: not retried, names the channel. */
export class SlackChannelError extends Error {
  override readonly name = 'SlackChannelError';
}

/** Slack said to slow down (429): the workflow waits for `Retry-After`. */
export class SlackRateLimitError extends Error implements RetryAfter {
  override readonly name = 'SlackRateLimitError';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message is gone from Slack (deleted): recorded, nothing retried. */
export class SlackMessageGoneError extends Error {
  override readonly name = 'SlackMessageGoneError';
}

/** Slack failed past its retries moments ago: this delivery does not wait for it again. */
export class SlackUnavailableError extends Error {
  override readonly name = 'SlackUnavailableError';
}

/** Any other Slack failure (retried by the workflow). */
export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
}

/** Security Hub refused the update (access denied, invalid input): not retried. */
export class SecurityHubAccessError extends Error {
  override readonly name = 'SecurityHubAccessError';
}

/** Security Hub throttled the update past the SDK's own retries. */
export class SecurityHubRateLimitError extends Error {
  override readonly name = 'SecurityHubRateLimitError';
}

/** Any other Security Hub failure (5xx, timeout): retried by the workflow. */
export class SecurityHubRequestError extends Error {
  override readonly name = 'SecurityHubRequestError';
}

/**
 * An insight of the daily digest that Security Hub cannot read (deleted, changed to group by
 * something else): names the insight and what to do. The digest is no workflow task: outside the
 * catalogue below, it fails the invocation (an alarm).
 */
export class SecurityHubInsightError extends Error {
  override readonly name = 'SecurityHubInsightError';
}

/** The seconds an error asks to wait, when it says. */
export function retryAfterOf(error: unknown): number | undefined {
  const seconds = (error as RetryAfter | undefined)?.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** Every error a task may end with, by name, with its retry class. */
export const ERROR_CATALOGUE = {
  ConfigError: { type: ConfigError, retry: 'fatal' },
  SecretError: { type: SecretError, retry: 'fatal' },
  FindingValidationError: { type: FindingValidationError, retry: 'fatal' },
  BacklogAuthError: { type: BacklogAuthError, retry: 'fatal' },
  BacklogConfigError: { type: BacklogConfigError, retry: 'fatal' },
  BacklogInvalidError: { type: BacklogInvalidError, retry: 'fatal' },
  BacklogUnavailableError: { type: BacklogUnavailableError, retry: 'fatal' },
  BacklogIssueGoneError: { type: BacklogIssueGoneError, retry: 'fatal' },
  SlackAuthError: { type: SlackAuthError, retry: 'fatal' },
  SlackChannelError: { type: SlackChannelError, retry: 'fatal' },
  SlackUnavailableError: { type: SlackUnavailableError, retry: 'fatal' },
  SlackMessageGoneError: { type: SlackMessageGoneError, retry: 'fatal' },
  SecurityHubAccessError: { type: SecurityHubAccessError, retry: 'fatal' },
  ClaimHeldError: { type: ClaimHeldError, retry: 'claim-wait' },
  OutcomePendingError: { type: OutcomePendingError, retry: 'claim-wait' },
  BacklogRateLimitError: { type: BacklogRateLimitError, retry: 'rate-limited' },
  SlackRateLimitError: { type: SlackRateLimitError, retry: 'rate-limited' },
  SecurityHubRateLimitError: { type: SecurityHubRateLimitError, retry: 'rate-limited' },
  LedgerError: { type: LedgerError, retry: 'transient' },
  BacklogRequestError: { type: BacklogRequestError, retry: 'transient' },
  SlackDeliveryError: { type: SlackDeliveryError, retry: 'transient' },
  SecurityHubRequestError: { type: SecurityHubRequestError, retry: 'transient' },
} as const satisfies Record<string, { type: new (...args: never[]) => Error; retry: RetryClass }>;

export type CatalogueErrorName = keyof typeof ERROR_CATALOGUE;

/** The names of the errors of one retry class, in catalogue order. */
export function errorsOfClass(retry: RetryClass): CatalogueErrorName[] {
  return (Object.keys(ERROR_CATALOGUE) as CatalogueErrorName[]).filter(
    (name) => ERROR_CATALOGUE[name].retry === retry,
  );
}
