import type { Finding } from '../finding/finding.js';

/**
 * The ledger (one DynamoDB table, key `findingKey`) holds two kinds of item: one per finding, and
 * one per storm group (key `group|…`). Claims are attributes of either. The attribute names below
 * are the only spelling of them: the DynamoDB adapter builds its expressions from them, and a
 * template test holds the state machine's ledger task to them.
 */
export const LEDGER_ATTRIBUTES = {
  key: 'findingKey',
  status: 'status',
  expiresAt: 'expiresAt',
  // Where the delivery went.
  issueKey: 'issueKey',
  issueUrl: 'issueUrl',
  issueId: 'issueId',
  filedAt: 'filedAt',
  slackChannel: 'slackChannel',
  slackTs: 'slackTs',
  notifiedAt: 'notifiedAt',
  findingUpdatedAt: 'findingUpdatedAt',
  deliveredWith: 'deliveredWith',
  // Reopens.
  reopenCount: 'reopenCount',
  lastReopenedAt: 'lastReopenedAt',
  lastIssueReopenUpdatedAt: 'lastReopenUpdatedAt',
  lastSlackReopenUpdatedAt: 'lastSlackReopenUpdatedAt',
  // The last failure the workflow recorded.
  lastError: 'lastError',
  failedAt: 'failedAt',
  // Claims: who is filing / posting / commenting a reopen right now, and since when.
  issueClaim: 'issueClaim',
  issueClaimedAt: 'issueClaimedAt',
  slackClaim: 'slackClaim',
  slackClaimedAt: 'slackClaimedAt',
  issueReopenClaim: 'issueReopenClaim',
  issueReopenFor: 'issueReopenFor',
  issueReopenClaimedAt: 'issueReopenClaimedAt',
  slackReopenClaim: 'slackReopenClaim',
  slackReopenFor: 'slackReopenFor',
  slackReopenClaimedAt: 'slackReopenClaimedAt',
  // Groups.
  openedBy: 'openedBy',
  openedAt: 'openedAt',
  lastActivityAt: 'lastActivityAt',
  memberCount: 'memberCount',
  appendsPosted: 'appendsPosted',
  appendsCommented: 'appendsCommented',
} as const;

export type LedgerAttribute = (typeof LEDGER_ATTRIBUTES)[keyof typeof LEDGER_ATTRIBUTES];

/**
 * `CLAIMED`: an execution claimed it (or opened the group) and nothing is filed yet. `FILED`: the
 * issue exists, the message not yet. `DELIVERED`: the delivery completed.
 */
export type LedgerStatus = 'CLAIMED' | 'FILED' | 'DELIVERED';

/** The claim attributes an item may carry while an execution works on it. */
export interface ClaimAttributes {
  issueClaim?: string;
  issueClaimedAt?: string;
  slackClaim?: string;
  slackClaimedAt?: string;
  issueReopenClaim?: string;
  issueReopenFor?: string;
  issueReopenClaimedAt?: string;
  slackReopenClaim?: string;
  slackReopenFor?: string;
  slackReopenClaimedAt?: string;
}

/** One finding (or the ledger item a delivery is recorded under) and where it was delivered. */
export interface FindingItem extends ClaimAttributes {
  findingKey: string;
  status: LedgerStatus;
  expiresAt?: number;
  issueKey?: string;
  issueUrl?: string;
  issueId?: number;
  filedAt?: string;
  slackChannel?: string;
  slackTs?: string;
  /** When the delivery completed (the Slack message was posted). */
  notifiedAt?: string;
  /** The finding's UpdatedAt as last delivered: a NEW finding updated after it was reset (reopened). */
  findingUpdatedAt?: string;
  /** A member of a grouped or consolidated delivery: the ledger item that delivery is recorded under. */
  deliveredWith?: string;
  reopenCount?: number;
  lastReopenedAt?: string;
  /** The UpdatedAt of the reopen last commented on, so a retried reopen comments once. */
  lastReopenUpdatedAt?: string;
  lastSlackReopenUpdatedAt?: string;
  /** Written by the workflow's RecordDeliveryFailure state. */
  lastError?: string;
  failedAt?: string;
}

/** A storm group: one issue and one message for many findings of one control or type. */
export interface GroupItem extends FindingItem {
  openedBy: string;
  openedAt: string;
  lastActivityAt: string;
  memberCount: number;
  /** Append deliveries already posted to Slack / commented on Backlog (DynamoDB string sets). */
  appendsPosted?: Set<string>;
  appendsCommented?: Set<string>;
}

export type LedgerEntry = FindingItem;

export type LedgerDecision =
  | { kind: 'new' }
  | { kind: 'reopen'; entry: FindingItem }
  | { kind: 'already-filed'; entry: FindingItem };

/**
 * What to do with a NEW finding given its ledger entry. Not delivered yet (absent, claimed, failed):
 * deliver; the tasks reuse whatever an earlier attempt recorded. Delivered and updated since: Security
 * Hub reset it to NEW (compliance failed again, record re-activated), a reopen. Delivered and not
 * updated since: a repeat of an event already handled.
 */
export function decideAgainstLedger(finding: Finding, entry: FindingItem | undefined): LedgerDecision {
  if (entry?.status !== 'DELIVERED') return { kind: 'new' };
  const deliveredUpdate = Date.parse(entry.findingUpdatedAt ?? '');
  if (Number.isFinite(deliveredUpdate) && Date.parse(finding.updatedAt) > deliveredUpdate) {
    return { kind: 'reopen', entry };
  }
  return { kind: 'already-filed', entry };
}

/** Whether an append delivery was already applied on one side (`posted` to Slack, `commented` on Backlog). */
export function appendApplied(
  entry: FindingItem | undefined,
  side: 'posted' | 'commented',
  deliveryId: string,
): boolean {
  const applied = (entry as Partial<GroupItem> | undefined)?.[
    side === 'posted' ? 'appendsPosted' : 'appendsCommented'
  ];
  return applied instanceof Set && applied.has(deliveryId);
}
