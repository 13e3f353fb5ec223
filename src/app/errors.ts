/**
 * The error catalogue: every error a workflow task can end with, and how the workflow treats it.
 * The state machine's Retry and Catch lists are tested against this table
 * (test/template/error-catalogue.test.ts): an error added on one side only fails that test.
 *
 * - `fatal`: retrying cannot help (a setting, a secret, a credential, a malformed input); the
 *   delivery fails at once and the error names what to fix.
 * - `claim-wait`: another execution holds the claim on this finding or group; wait minutes for it.
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

/** Backlog refused the API key: not retried, names the parameter it came from. */
export class BacklogAuthError extends Error {
  override readonly name = 'BacklogAuthError';
}

/** The project key, issue type or category does not exist: not retried, names the setting. */
export class BacklogConfigError extends Error {
  override readonly name = 'BacklogConfigError';
}

/** Rate limited past what this invocation may wait: the workflow's Retry waits instead. */
export class BacklogRateLimitError extends Error {
  override readonly name = 'BacklogRateLimitError';
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

/** Rate limited for longer than this invocation may wait: the workflow's Retry waits instead. */
export class SlackRateLimitError extends Error {
  override readonly name = 'SlackRateLimitError';
}

/** Any other Slack failure (retried by the workflow). */
export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
}

/** Every error a task may end with, by name, with its retry class. */
export const ERROR_CATALOGUE = {
  ConfigError: { type: ConfigError, retry: 'fatal' },
  SecretError: { type: SecretError, retry: 'fatal' },
  FindingValidationError: { type: FindingValidationError, retry: 'fatal' },
  BacklogAuthError: { type: BacklogAuthError, retry: 'fatal' },
  BacklogConfigError: { type: BacklogConfigError, retry: 'fatal' },
  SlackAuthError: { type: SlackAuthError, retry: 'fatal' },
  SlackChannelError: { type: SlackChannelError, retry: 'fatal' },
  ClaimHeldError: { type: ClaimHeldError, retry: 'claim-wait' },
  BacklogRateLimitError: { type: BacklogRateLimitError, retry: 'rate-limited' },
  SlackRateLimitError: { type: SlackRateLimitError, retry: 'rate-limited' },
  LedgerError: { type: LedgerError, retry: 'transient' },
  BacklogRequestError: { type: BacklogRequestError, retry: 'transient' },
  SlackDeliveryError: { type: SlackDeliveryError, retry: 'transient' },
} as const satisfies Record<string, { type: new (...args: never[]) => Error; retry: RetryClass }>;

export type CatalogueErrorName = keyof typeof ERROR_CATALOGUE;

/** The names of the errors of one retry class, in catalogue order. */
export function errorsOfClass(retry: RetryClass): CatalogueErrorName[] {
  return (Object.keys(ERROR_CATALOGUE) as CatalogueErrorName[]).filter(
    (name) => ERROR_CATALOGUE[name].retry === retry,
  );
}
