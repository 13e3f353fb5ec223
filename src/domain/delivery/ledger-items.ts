import { type Finding, findingKey } from '../finding/finding.js';
import type { LifecycleState } from './lifecycle.js';

/**
 * The ledger (one DynamoDB table, key `findingKey`) holds four kinds of item: one per finding, one
 * per storm group (`group|…`), one claim per external effect (`effect|…`) and one per destination
 * (`circuit|…`). The attribute names below
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
  /** The issue key the Slack message shows (it is updated when the issue is filed later). */
  messageIssueKey: 'messageIssueKey',
  /** On the item holding an issue: its due date (`YYYY-MM-DD`, absent when `sla` is off) and its severity label. */
  dueDate: 'dueDate',
  severity: 'severity',
  notifiedAt: 'notifiedAt',
  findingUpdatedAt: 'findingUpdatedAt',
  deliveredWith: 'deliveredWith',
  // Reopens.
  reopenCount: 'reopenCount',
  lastReopenedAt: 'lastReopenedAt',
  // The lifecycle of a filed finding: open, closed or suppressed; when, why and by whom.
  lifecycle: 'lifecycle',
  closedAt: 'closedAt',
  closedBecause: 'closedBecause',
  closedBy: 'closedBy',
  /** The close delivery that counted this storm member as closed (each is counted once). */
  closeTallied: 'closeTallied',
  /** A storm group's findings counted as closed. */
  closedCount: 'closedCount',
  /** The issue or the message was deleted (recorded, nothing retried). */
  issueGoneAt: 'issueGoneAt',
  messageGoneAt: 'messageGoneAt',
  // Lifecycle event items (`event|…`), for the digest: by day, then time. The item holding an open
  // issue carries them too (`OPEN_ISSUES_DAY`, its `filedAt`): the `byDay` index lists open issues.
  eventDay: 'eventDay',
  eventAt: 'eventAt',
  eventKind: 'eventKind',
  eventFinding: 'eventFinding',
  eventDetail: 'eventDetail',
  // The last failure the workflow recorded, and which deliveries of this item failed.
  lastError: 'lastError',
  failedAt: 'failedAt',
  failedDeliveries: 'failedDeliveries',
  // Marking in Security Hub.
  markedAt: 'markedAt',
  /** The copies marked: the ASFF one (NOTIFIED) and the OCSF one (In Progress) of the same finding. */
  markedCopies: 'markedCopies',
  markError: 'markError',
  markFailedAt: 'markFailedAt',
  // A member of a storm group: the group and the delivery that announces it.
  announcedIn: 'announcedIn',
  announcedBy: 'announcedBy',
  /**
   * A storm member whose delivery marks it as a whole: that delivery's id. The member is marked once
   * its group's `markedDeliveries` holds it; the copies it then has marked are `pendingCopies` and
   * `pendingUids` (one write per delivery, not one per member).
   */
  markedWith: 'markedWith',
  pendingCopies: 'pendingCopies',
  pendingUids: 'pendingUids',
  /** On a group: the deliveries whose every member was marked. */
  markedDeliveries: 'markedDeliveries',
  /**
   * On a group: which delivery announced which members (delivery id → the members' short hashes,
   * concatenated), versioned by `announceVersion`: one conditional write claims a delivery's
   * members. `announceFull`: the map reached its size cap; later members are claimed one by one.
   */
  announced: 'announced',
  announceVersion: 'announceVersion',
  announceFull: 'announceFull',
  // Groups.
  openedBy: 'openedBy',
  openedAt: 'openedAt',
  retakenBy: 'retakenBy',
  retakenAt: 'retakenAt',
  lastActivityAt: 'lastActivityAt',
  memberCount: 'memberCount',
  // Claims (`effect|…`): one external effect, done once.
  claimToken: 'claimToken',
  claimedAt: 'claimedAt',
  attemptAt: 'attemptAt',
  doneAt: 'doneAt',
  result: 'result',
  // Destinations (`circuit|backlog`, `circuit|slack`): the execution in which one last failed past its retries.
  downExecution: 'downExecution',
  downReason: 'downReason',
  // Acting from Slack: the OCSF copies' metadata uids (to update them later), who acknowledged,
  // a suppression's expiry; the expiry items (`expiry|<day>`) list the findings due that day.
  ocsfUids: 'ocsfUids',
  acknowledgedBy: 'acknowledgedBy',
  acknowledgedAt: 'acknowledgedAt',
  suppressedUntil: 'suppressedUntil',
  dueFindings: 'dueFindings',
  // The last digest posted (`digest|last`): when, which run, the counts it showed.
  digestAt: 'digestAt',
  digestRun: 'digestRun',
  digestCounts: 'digestCounts',
  digestSuppressed: 'digestSuppressed',
  // The heartbeat (`heartbeat|<stack>`): its last pass (a failed check is lastError and failedAt).
  heartbeatAt: 'heartbeatAt',
  heartbeatLatencyMs: 'heartbeatLatencyMs',
  heartbeatFinding: 'heartbeatFinding',
} as const;

export type LedgerAttribute = (typeof LEDGER_ATTRIBUTES)[keyof typeof LEDGER_ATTRIBUTES];

/**
 * The explicit delivery state of an item:
 * - `CLAIMED`: an execution claimed it (or opened the group); nothing is filed yet.
 * - `FILED`: the Backlog issue exists, the message not yet.
 * - `POSTED`: the Slack message exists, the issue could not be filed yet (the message says so).
 * - `MARK_PENDING`: delivered to every destination it goes to; not marked in Security Hub yet.
 * - `NOTIFIED`: marked in Security Hub (NOTIFIED, or SUPPRESSED by a rule): done.
 * - `DELIVERED`: written by earlier versions for delivered-and-marked; read as `NOTIFIED`.
 */
export type LedgerStatus = 'CLAIMED' | 'FILED' | 'POSTED' | 'MARK_PENDING' | 'NOTIFIED' | 'DELIVERED';

/** The statuses of an item whose delivery reached every destination. */
export const DELIVERED_STATUSES: ReadonlySet<LedgerStatus> = new Set([
  'MARK_PENDING',
  'NOTIFIED',
  'DELIVERED',
]);

/** Marked in Security Hub: nothing left to do for this version of the finding. */
export function isNotified(status: LedgerStatus | undefined): boolean {
  return status === 'NOTIFIED' || status === 'DELIVERED';
}

/** One finding (or the ledger item a delivery is recorded under) and where it was delivered. */
export interface FindingItem {
  findingKey: string;
  status: LedgerStatus;
  expiresAt?: number;
  issueKey?: string;
  issueUrl?: string;
  issueId?: number;
  filedAt?: string;
  slackChannel?: string;
  slackTs?: string;
  messageIssueKey?: string;
  /** The issue's due date, `YYYY-MM-DD` (the policy's `sla`); absent when none applies. */
  dueDate?: string;
  /** The issue's severity label (a group's worst). */
  severity?: string;
  /** When the delivery reached its destinations (the Slack message was posted). */
  notifiedAt?: string;
  /** The finding's UpdatedAt as last delivered: a NEW finding updated after it was reset (reopened). */
  findingUpdatedAt?: string;
  /** A member of a grouped or consolidated delivery: the ledger item that delivery is recorded under. */
  deliveredWith?: string;
  reopenCount?: number;
  lastReopenedAt?: string;
  /** Written by the workflow's RecordDeliveryFailure state. */
  lastError?: string;
  failedAt?: string;
  failedDeliveries?: Set<string>;
  markedAt?: string;
  markedCopies?: Set<string>;
  markError?: string;
  markFailedAt?: string;
  announcedIn?: string;
  announcedBy?: string;
  markedWith?: string;
  pendingCopies?: Set<string>;
  pendingUids?: Set<string>;
  lifecycle?: LifecycleState;
  closedAt?: string;
  closedBecause?: string;
  closedBy?: string;
  closeTallied?: string;
  issueGoneAt?: string;
  messageGoneAt?: string;
  /** The metadata uids of the finding's OCSF copies (the new Security Hub), as they were marked. */
  ocsfUids?: Set<string>;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  /** Suppressed from Slack until this day (YYYY-MM-DD): then set back to NEW by the sweep. */
  suppressedUntil?: string;
}

/** The ledger key of the findings whose suppression expires on `day` (YYYY-MM-DD). */
export function expiryKey(day: string): string {
  return `expiry|${day}`;
}

/** A storm group: one issue and one message for many findings of one control or type. */
export interface GroupItem extends FindingItem {
  openedBy: string;
  openedAt: string;
  /** When a failed opening was taken up again by a redelivery (the opening keeps its issue). */
  retakenBy?: string;
  retakenAt?: string;
  lastActivityAt: string;
  memberCount: number;
  closedCount?: number;
  markedDeliveries?: Set<string>;
  announced?: Record<string, string>;
  announceVersion?: number;
  announceFull?: boolean;
}

/**
 * One lifecycle event (`event|<day>|<id>`), indexed by day: what the digest lists since the last
 * one (notified, closed and why, reopened, suppressed by whom).
 */
export interface LifecycleEventItem {
  findingKey: string;
  eventDay: string;
  eventAt: string;
  eventKind: 'notified' | 'closed' | 'reopened' | 'suppressed';
  eventFinding: string;
  eventDetail: Record<string, string>;
  expiresAt?: number;
}

/**
 * The detail key of a `notified` event that stands for several findings (a storm delivery's
 * members, marked together): their keys as a JSON list; `eventFinding` is the first.
 */
export const NOTIFIED_FINDINGS = 'findings';

/** A claim on one external effect (`effect|<id>`): who holds it, when it acted, what it produced. */
export interface ClaimItem {
  findingKey: string;
  claimToken?: string;
  claimedAt?: string;
  attemptAt?: string;
  doneAt?: string;
  result?: Record<string, string>;
  expiresAt?: number;
}

/** The ledger key of an effect's claim. */
export function effectKey(effectId: string): string {
  return `effect|${effectId}`;
}

/**
 * The ledger key of a Backlog activity (`activity|<id>`): a claim item like an effect's, so each
 * activity the webhook queues is handled once, whatever the redeliveries.
 */
export function activityKey(activityId: number | string): string {
  return `activity|${activityId}`;
}

/**
 * The sparse index of the items that carry an issue key (`issueKey`): a finding's, a storm member's
 * and a group's. An issue's findings are found by it when Backlog says the issue changed.
 */
export const LEDGER_ISSUE_INDEX = 'byIssueKey';

/**
 * The sparse index of the digest, by `eventDay` then `eventAt`, holding two kinds of item (one
 * index, so a stack deployed before it gains it in one update: CloudFormation adds one index an
 * update):
 * - lifecycle events (`event|…`) under their UTC day (YYYY-MM-DD), by time;
 * - the item an open issue was filed under (a finding's or a storm group's, the one with `filedAt`)
 *   under the pseudo-day `OPEN_ISSUES_DAY`, by `filedAt`: set when the issue is filed or reopened,
 *   removed when it closes. The digest reads that day whole: as many items as open issues.
 */
export const LEDGER_DAY_INDEX = 'byDay';
export const OPEN_ISSUES_DAY = 'open-issue';

/** The ledger key of the last digest posted. */
export const LAST_DIGEST_KEY = 'digest|last';

/** Whether a ledger key is a finding's (`<ProductArn>|<Id>`), not a group's, claim's or event's. */
export function isFindingKey(key: string): boolean {
  return key.startsWith('arn:');
}

/** The identifier a finding key was made of (`findingKey` in src/domain/finding/finding.ts). */
export function identifierOfKey(key: string): { Id: string; ProductArn: string } | undefined {
  const separator = key.indexOf('|');
  if (!isFindingKey(key) || separator < 0) return undefined;
  return { ProductArn: key.slice(0, separator), Id: key.slice(separator + 1) };
}

/**
 * Whether this copy of the finding was marked (CSPM's ASFF copy NOTIFIED, the new Security Hub's
 * OCSF copy In Progress). Items from before copies were recorded knew only ASFF copies.
 */
export function isCopyMarked(entry: FindingItem, finding: Pick<Finding, 'identifier' | 'format'>): boolean {
  const copy = findingKey(finding.identifier);
  if (entry.markedCopies) return entry.markedCopies.has(copy);
  return finding.format !== 'ocsf';
}

/**
 * The copies of a filed finding that Security Hub holds, as far as the ledger knows: the CSPM copy
 * unless only the OCSF one was ever marked, and the OCSF copy once it was marked (its uid kept;
 * the new Security Hub updates it by that uid, the identifier only names it in logs).
 */
export function knownCopies(entry: FindingItem): Array<{
  identifier: { Id: string; ProductArn: string };
  ocsf?: { metadataUid: string };
}> {
  const identifier = identifierOfKey(entry.findingKey);
  if (!identifier) return [];
  const uids = [...(entry.ocsfUids ?? [])];
  const asff = !entry.markedCopies || entry.markedCopies.has(entry.findingKey) || uids.length === 0;
  return [
    ...(asff ? [{ identifier }] : []),
    ...uids.map((metadataUid) => ({ identifier, ocsf: { metadataUid } })),
  ];
}

/** A filed finding still open: not closed or suppressed (absent means open). */
export function isOpenLifecycle(entry: FindingItem | undefined): boolean {
  return entry?.lifecycle === undefined || entry.lifecycle === 'open';
}

/**
 * A destination's health item: the workflow writes it when a task fails past its retries, naming
 * the execution; the rest of that execution's deliveries skip the destination at once.
 */
export interface DestinationItem {
  findingKey: string;
  downExecution?: string;
  downReason?: string;
}

/** The ledger key of a destination's health item. */
export function destinationKey(destination: 'backlog' | 'slack'): string {
  return `circuit|${destination}`;
}

export type LedgerEntry = FindingItem;

export type LedgerDecision =
  | { kind: 'new' }
  | { kind: 'mark'; entry: FindingItem }
  | { kind: 'reopen'; entry: FindingItem }
  | { kind: 'already-filed'; entry: FindingItem };

/**
 * What to do with a NEW finding given its ledger entry:
 * - not delivered everywhere yet (absent, claimed, filed, posted): deliver; the tasks reuse
 *   whatever an earlier attempt recorded;
 * - delivered but not marked: mark it (nothing is "already filed" unless it is marked);
 * - marked, and updated since: Security Hub reset it to NEW (compliance failed again, record
 *   re-activated), a reopen;
 * - marked, not updated since: a repeat of an event already handled.
 */
export function decideAgainstLedger(finding: Finding, entry: FindingItem | undefined): LedgerDecision {
  if (!entry) return { kind: 'new' };
  if (entry.status === 'MARK_PENDING') return { kind: 'mark', entry };
  if (!isNotified(entry.status)) return { kind: 'new' };
  // Closed or suppressed, and NEW again (compliance failed again, record re-activated): a reopen.
  if (!isOpenLifecycle(entry)) return { kind: 'reopen', entry };
  const deliveredUpdate = Date.parse(entry.findingUpdatedAt ?? '');
  if (Number.isFinite(deliveredUpdate) && Date.parse(finding.updatedAt) > deliveredUpdate) {
    return { kind: 'reopen', entry };
  }
  // Filed, and this copy (the other Security Hub's) not marked yet: mark it, file nothing.
  if (!isCopyMarked(entry, finding)) return { kind: 'mark', entry };
  return { kind: 'already-filed', entry };
}
