/**
 * How an account is named, the same in Slack and Backlog: its name when it has one that is not
 * blank once sanitised (shortened to `ACCOUNT_NAME_MAX`), and its 12-digit id. Each destination
 * escapes and lays out these parts its own way; which parts there are, and how long the name may
 * be, is decided here.
 */

import { singleLine } from './sanitize.js';
import { truncate } from './truncate.js';

/** The longest account name shown, in UTF-16 code units (Organizations allows 50; the configured map may be longer). */
export const ACCOUNT_NAME_MAX = 64;
/** What an account with neither a usable name nor a 12-digit id is called. */
export const UNKNOWN_ACCOUNT = 'unknown account';

export interface AccountLabel {
  /** The name, sanitised, on one line, at most `ACCOUNT_NAME_MAX`; undefined when absent or blank. */
  name: string | undefined;
  /** The 12-digit account id; undefined when the value is not one. */
  id: string | undefined;
  /** One short phrase: the name, else the id, else `unknown account`. Not escaped. */
  short: string;
  /** `name (id)`, else the name or the id alone, else `unknown account`. Not escaped. */
  full: string;
}

/** The display parts of an account, from its id and (optional) name as a finding or group carries them. */
export function accountLabel(accountId: unknown, accountName?: unknown): AccountLabel {
  const name = truncate(singleLine(accountName), ACCOUNT_NAME_MAX) || undefined;
  const digits = singleLine(accountId);
  const id = /^\d{12}$/.test(digits) ? digits : undefined;
  const short = name ?? id ?? UNKNOWN_ACCOUNT;
  const full = name !== undefined && id !== undefined ? `${name} (${id})` : short;
  return { name, id, short, full };
}
