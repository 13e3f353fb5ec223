import type { Finding } from './finding.js';

export type LedgerStatus = 'CLAIMED' | 'FILED' | 'DELIVERED' | 'FAILED';

/** One ledger item: a finding (the key) and where it was delivered. */
export interface LedgerEntry {
  findingKey: string;
  status: LedgerStatus;
  claimToken?: string;
  claimedAt?: string;
  issueKey?: string;
  issueUrl?: string;
  issueId?: number;
  slackChannel?: string;
  slackTs?: string;
  /** When the delivery completed (the Slack message was posted). */
  notifiedAt?: string;
  /** The finding's UpdatedAt as last delivered: a NEW finding updated after it was reset (reopened). */
  findingUpdatedAt?: string;
  reopenCount?: number;
  /** The UpdatedAt of the reopen last commented on, so a retried reopen comments once. */
  lastReopenUpdatedAt?: string;
  lastSlackReopenUpdatedAt?: string;
  lastError?: string;
  failedAt?: string;
}

export type LedgerDecision =
  | { kind: 'new' }
  | { kind: 'reopen'; entry: LedgerEntry }
  | { kind: 'already-filed'; entry: LedgerEntry };

/**
 * What to do with a NEW finding given its ledger entry. Not delivered yet (absent, claimed, failed):
 * deliver; the tasks reuse whatever an earlier attempt recorded. Delivered and updated since: Security
 * Hub reset it to NEW (compliance failed again, record re-activated), a reopen. Delivered and not
 * updated since: a repeat of an event already handled.
 */
export function decideAgainstLedger(finding: Finding, entry: LedgerEntry | undefined): LedgerDecision {
  if (entry?.status !== 'DELIVERED') return { kind: 'new' };
  const deliveredUpdate = Date.parse(entry.findingUpdatedAt ?? '');
  if (Number.isFinite(deliveredUpdate) && Date.parse(finding.updatedAt) > deliveredUpdate) {
    return { kind: 'reopen', entry };
  }
  return { kind: 'already-filed', entry };
}
