/**
 * The daily digest as a model, before any rendering: the account × severity table with its
 * changes since the previous digest, what happened since then (the notifier's own lifecycle events
 * from the ledger), the oldest open CRITICAL and HIGH issues and the issues past their due date.
 * Pure: every input (counts, the stored previous digest, events, open issues, names, the time) is
 * passed in.
 */
import { matchesWildcard } from '../policy/policy.js';
import { type AccountLabel, accountLabel } from '../text/account-label.js';
import { singleLine } from '../text/sanitize.js';
import {
  type CountsSnapshot,
  compareWorstFirst,
  countsFromList,
  countsToList,
  NO_FINDINGS,
  type SeverityCounts,
  subtractCounts,
  sumCounts,
} from './counts.js';

/** What a digest stores of itself in the ledger (`digest|last`), for the next one's changes. */
export interface StoredDigest {
  /** When its counts were read (ISO 8601): the next digest lists the events after it. */
  at: string;
  /** The run it was (the scheduled time, or the command's), so a retried run records once. */
  run: string;
  /** Account id → `[critical, high, medium, low, informational]` (`countsToList`). */
  counts: Record<string, number[]>;
  suppressed: number;
}

/** A lifecycle event as the ledger holds it (`event|…` items, by day). */
export interface DigestEventRecord {
  kind: 'notified' | 'closed' | 'reopened' | 'suppressed';
  /** The finding's ledger key. */
  finding: string;
  at: string;
  detail: Readonly<Record<string, string>>;
}

/** A Backlog issue as the digest links it. */
export interface IssueRef {
  key: string;
  url?: string;
}

/** An open issue, from the ledger item that holds it. */
export interface OpenIssue extends IssueRef {
  /** The ledger item it is filed under (a finding's or a storm group's). */
  item: string;
  filedAt: string;
  /** As issue 14 records it: the issue's severity label and due date (YYYY-MM-DD). */
  severity?: string;
  dueDate?: string;
}

export interface DigestRow {
  accountId: string;
  label: AccountLabel;
  counts: SeverityCounts;
  /** Since the previous digest; absent when there is none. */
  change?: SeverityCounts;
  consoleUrl: string;
}

/** Closed, reopened or suppressed findings, one line per issue (or finding) and reason. */
export interface EventLine {
  issue?: IssueRef;
  /** The finding's key, when it has no issue to name. */
  finding: string;
  findings: number;
  /** Plain text (escaped by the renderer): why, who, their note, until when. */
  because: string;
  by?: string;
  note?: string;
  until?: string;
}

export interface DigestEvents {
  notified: { findings: number; issues: IssueRef[] };
  closed: EventLine[];
  reopened: EventLine[];
  suppressed: EventLine[];
}

export interface AgedIssue extends OpenIssue {
  /** Whole days since it was filed. */
  ageDays: number;
  /** Whole days past its due date (overdue list only). */
  daysLate?: number;
}

export interface Digest {
  /** When the counts were read. */
  at: string;
  /** The previous digest's time: what the changes and events are since. */
  since?: string;
  source: CountsSnapshot['source'];
  truncated: boolean;
  /** Every account with active findings, worst first. */
  rows: DigestRow[];
  /** All accounts' sum, and its change. */
  total: { counts: SeverityCounts; change?: SeverityCounts; accounts: number };
  suppressed: { total: number; change?: number };
  events: DigestEvents;
  oldestOpen: AgedIssue[];
  overdue: AgedIssue[];
  /** The Security Hub console, all accounts (the "+n more accounts" row links it). */
  consoleUrl: string;
}

export interface DigestInput {
  snapshot: CountsSnapshot;
  previous?: StoredDigest;
  /** The events since the previous digest (or the day before, for the first). */
  events: readonly DigestEventRecord[];
  /** The ledger keys the events name → the issue each went to. */
  issues: ReadonlyMap<string, IssueRef>;
  openIssues: readonly OpenIssue[];
  /** Account id → name (the policy's `accounts`, the `accountNames` parameter). */
  accountNames: Readonly<Record<string, string>>;
  homeRegion: string;
  at: Date;
  /** Today in the digest's time zone (YYYY-MM-DD): an issue due before it is late. */
  today: string;
  /** How many of the oldest open CRITICAL and HIGH issues are listed. */
  oldestCount: number;
}

const DAY_MS = 86_400_000;

/** The digest's model from what it read. */
export function buildDigest(input: DigestInput): Digest {
  const previous = input.previous ? previousCounts(input.previous) : undefined;
  const rows = [...input.snapshot.byAccount]
    .map(([accountId, counts]) => row(accountId, counts, previous, input))
    .sort(
      (a, b) => compareWorstFirst(a.counts, b.counts) || a.label.short.localeCompare(b.label.short, 'en'),
    );
  const total = sumCounts(input.snapshot.byAccount.values());
  const suppressed = [...input.snapshot.suppressed.values()].reduce((sum, n) => sum + n, 0);
  return {
    at: input.at.toISOString(),
    ...(input.previous ? { since: input.previous.at } : {}),
    source: input.snapshot.source,
    truncated: input.snapshot.truncated === true,
    rows,
    total: {
      counts: total,
      ...(previous ? { change: subtractCounts(total, sumCounts(previous.values())) } : {}),
      accounts: rows.length,
    },
    suppressed: {
      total: suppressed,
      ...(input.previous ? { change: suppressed - input.previous.suppressed } : {}),
    },
    events: summarizeEvents(input.events, input.issues),
    ...openIssueLists(input),
    consoleUrl: securityHubConsoleUrl(input.homeRegion, input.snapshot.source),
  };
}

function previousCounts(previous: StoredDigest): Map<string, SeverityCounts> {
  return new Map(Object.entries(previous.counts).map(([id, list]) => [id, countsFromList(list)]));
}

function row(
  accountId: string,
  counts: SeverityCounts,
  previous: ReadonlyMap<string, SeverityCounts> | undefined,
  input: DigestInput,
): DigestRow {
  return {
    accountId,
    label: accountLabel(accountId, input.accountNames[accountId]),
    counts,
    ...(previous ? { change: subtractCounts(counts, previous.get(accountId) ?? NO_FINDINGS) } : {}),
    consoleUrl: accountConsoleUrl(accountId, input.homeRegion, input.snapshot.source),
  };
}

/** The counts a digest stores of itself. */
export function storedDigest(digest: Digest, snapshot: CountsSnapshot, run: string): StoredDigest {
  return {
    at: digest.at,
    run,
    counts: Object.fromEntries([...snapshot.byAccount].map(([id, counts]) => [id, countsToList(counts)])),
    suppressed: digest.suppressed.total,
  };
}

/**
 * The digest of one route's channel: only the accounts its `account` patterns match (by id or by
 * name, as the policy matches them); the total is theirs. The lists stay in the default channel's.
 */
export function forAccounts(digest: Digest, patterns: readonly string[]): Digest {
  const matches = (r: DigestRow) =>
    patterns.some(
      (pattern) =>
        matchesWildcard(pattern, r.accountId) ||
        (r.label.name !== undefined && matchesWildcard(pattern, r.label.name)),
    );
  const rows = digest.rows.filter(matches);
  const changes = rows.map((r) => r.change).filter((change): change is SeverityCounts => !!change);
  return {
    ...digest,
    rows,
    total: {
      counts: sumCounts(rows.map((r) => r.counts)),
      ...(digest.total.change ? { change: sumCounts(changes) } : {}),
      accounts: rows.length,
    },
    events: { notified: { findings: 0, issues: [] }, closed: [], reopened: [], suppressed: [] },
    oldestOpen: [],
    overdue: [],
  };
}

// --- events ------------------------------------------------------------------------------------

/** Events folded into lines: one per issue and reason, oldest first; notified counted. */
export function summarizeEvents(
  events: readonly DigestEventRecord[],
  issues: ReadonlyMap<string, IssueRef>,
): DigestEvents {
  const sorted = [...events].sort((a, b) => a.at.localeCompare(b.at));
  const notified = sorted.filter((event) => event.kind === 'notified');
  const notifiedIssues = new Map<string, IssueRef>();
  for (const event of notified) {
    const issue = issues.get(event.finding);
    if (issue) notifiedIssues.set(issue.key, issue);
  }
  return {
    notified: {
      findings: new Set(notified.map((e) => e.finding)).size,
      issues: [...notifiedIssues.values()],
    },
    closed: fold(
      sorted.filter((e) => e.kind === 'closed'),
      issues,
    ),
    reopened: fold(
      sorted.filter((e) => e.kind === 'reopened'),
      issues,
    ),
    suppressed: fold(
      sorted.filter((e) => e.kind === 'suppressed'),
      issues,
    ),
  };
}

/** Events of one kind, one line per issue and reason (a storm's 40 closes are one line). */
function fold(events: readonly DigestEventRecord[], issues: ReadonlyMap<string, IssueRef>): EventLine[] {
  const lines = new Map<string, EventLine & { keys: Set<string> }>();
  for (const event of events) {
    const { detail } = event;
    const issue = issueOf(event, issues);
    const because = singleLine(detail.because ?? detail.why ?? '');
    const id = `${issue?.key ?? event.finding}\u0000${because}\u0000${detail.by ?? ''}\u0000${detail.note ?? ''}`;
    const line = lines.get(id) ?? {
      ...(issue ? { issue } : {}),
      finding: event.finding,
      findings: 0,
      because,
      ...(detail.by ? { by: detail.by } : {}),
      ...(detail.note ? { note: detail.note } : {}),
      ...(detail.until ? { until: detail.until } : {}),
      keys: new Set<string>(),
    };
    line.keys.add(event.finding);
    line.findings = line.keys.size;
    lines.set(id, line);
  }
  return [...lines.values()].map(({ keys: _, ...line }) => line);
}

/** The issue an event's finding went to: its delivery's (closes name it), else its own item's. */
function issueOf(event: DigestEventRecord, issues: ReadonlyMap<string, IssueRef>): IssueRef | undefined {
  const { detail } = event;
  if (detail.issueKey) return issues.get(event.finding) ?? { key: detail.issueKey };
  return (detail.deliveryKey ? issues.get(detail.deliveryKey) : undefined) ?? issues.get(event.finding);
}

/** The ledger keys whose issues the events need: each finding, and the delivery of each close. */
export function keysToLookUp(events: readonly DigestEventRecord[]): string[] {
  const keys = new Set<string>();
  for (const event of events) {
    keys.add(event.finding);
    if (event.detail.deliveryKey) keys.add(event.detail.deliveryKey);
  }
  return [...keys];
}

// --- open issues ---------------------------------------------------------------------------------

const LISTED_SEVERITIES = new Set(['CRITICAL', 'HIGH']);

function openIssueLists(input: DigestInput): Pick<Digest, 'oldestOpen' | 'overdue'> {
  const now = input.at.getTime();
  const aged = (issue: OpenIssue): AgedIssue => ({
    ...issue,
    ageDays: Math.max(0, Math.floor((now - Date.parse(issue.filedAt)) / DAY_MS)),
  });
  const byFiled = (a: OpenIssue, b: OpenIssue) =>
    a.filedAt.localeCompare(b.filedAt) || a.key.localeCompare(b.key);
  const oldestOpen = input.openIssues
    .filter((issue) => LISTED_SEVERITIES.has(issue.severity ?? ''))
    .sort(byFiled)
    .slice(0, input.oldestCount)
    .map(aged);
  const overdue = input.openIssues
    .filter((issue) => isDate(issue.dueDate) && (issue.dueDate as string) < input.today)
    .sort((a, b) => (a.dueDate as string).localeCompare(b.dueDate as string) || byFiled(a, b))
    .map((issue) => ({ ...aged(issue), daysLate: daysBetween(issue.dueDate as string, input.today) }));
  return { oldestOpen, overdue };
}

const isDate = (value: unknown): value is string =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** A date (YYYY-MM-DD) in an IANA time zone. */
export function dateIn(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

// --- console links -------------------------------------------------------------------------------

/** A console search term, encoded as the console writes it (the value twice). */
function term(field: string, value: string, operator = 'EQUALS'): string {
  return `${field}=${encodeURIComponent(`\\operator\\:${operator}\\:${value}`)}`;
}

function consoleBase(homeRegion: string, source: CountsSnapshot['source']): string {
  const v2 = source === 'statistics-v2' ? '/v2' : '';
  return `https://${homeRegion}.console.aws.amazon.com/securityhub${v2}/home?region=${homeRegion}#/findings`;
}

/** The Security Hub console's findings of one account, filtered as the digest counts them. */
export function accountConsoleUrl(accountId: string, homeRegion: string, source: CountsSnapshot['source']) {
  const terms =
    source === 'statistics-v2'
      ? [term('cloud.account.uid', accountId), term('status', 'New'), term('status', 'In Progress')]
      : [
          term('AwsAccountId', accountId),
          term('RecordState', 'ACTIVE'),
          term('WorkflowStatus', 'NEW'),
          term('WorkflowStatus', 'NOTIFIED'),
        ];
  return `${consoleBase(homeRegion, source)}?search=${encodeURIComponent(terms.join('&'))}`;
}

export function securityHubConsoleUrl(homeRegion: string, source: CountsSnapshot['source']): string {
  const terms =
    source === 'statistics-v2'
      ? [term('status', 'New'), term('status', 'In Progress')]
      : [term('RecordState', 'ACTIVE'), term('WorkflowStatus', 'NEW'), term('WorkflowStatus', 'NOTIFIED')];
  return `${consoleBase(homeRegion, source)}?search=${encodeURIComponent(terms.join('&'))}`;
}
