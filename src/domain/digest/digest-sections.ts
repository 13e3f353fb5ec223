/**
 * The digest's lists as items of plain text, shared by the Slack rendering (mrkdwn, escaped) and
 * the plain text one (`--dry-run`): what was notified, closed, reopened and suppressed since the
 * previous digest, the oldest open CRITICAL and HIGH issues, the issues past their due date.
 */
import { singleLine } from '../text/sanitize.js';
import { truncate } from '../text/truncate.js';
import type { AgedIssue, Digest, EventLine, IssueRef } from './digest.js';

/** Untrusted text from the ledger (reasons, names, notes) is shown at most this long per item. */
export const ITEM_TEXT_MAX = 300;
export const DEFAULT_LIST_ITEMS = 10;

export interface SectionItem {
  /** The issue the item links, if any. */
  issue?: IssueRef;
  /** Plain, untrusted text after the link (the renderer escapes it). */
  text: string;
}

export interface DigestSection {
  title: string;
  items: SectionItem[];
  /** Items left out beyond the list's length. */
  more: number;
  /** Shown when there are no items. */
  empty?: string;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
const clip = (value: unknown) => truncate(singleLine(value), ITEM_TEXT_MAX);

function list<T>(title: string, all: readonly T[], max: number, item: (x: T) => SectionItem): DigestSection {
  return { title, items: all.slice(0, max).map(item), more: Math.max(0, all.length - max) };
}

function eventItem(line: EventLine, kind: 'closed' | 'reopened' | 'suppressed'): SectionItem {
  const parts: string[] = [];
  if (!line.issue) parts.push(`finding ${clip(line.finding.split('|').pop())}`);
  if (line.because) parts.push(clip(line.because));
  if (kind === 'suppressed' && line.by && !line.because.includes(line.by)) parts.push(`by ${clip(line.by)}`);
  if (line.note) parts.push(`“${clip(line.note)}”`);
  if (line.until) parts.push(`until ${clip(line.until)}`);
  if (line.findings > 1) parts.push(plural(line.findings, 'finding'));
  return { ...(line.issue ? { issue: line.issue } : {}), text: parts.join(' · ') };
}

function issueItem(issue: AgedIssue, late: boolean): SectionItem {
  const parts = [clip(issue.severity ?? 'severity unknown'), `open ${plural(issue.ageDays, 'day')}`];
  if (issue.dueDate) {
    parts.push(
      late
        ? `due ${clip(issue.dueDate)}, ${plural(issue.daysLate ?? 0, 'day')} late`
        : `due ${clip(issue.dueDate)}`,
    );
  }
  return { issue, text: parts.join(' · ') };
}

/** The lists of a digest, in the order they are shown; none for a route's channel digest. */
export function digestSections(digest: Digest, maxItems: number, scoped: boolean): DigestSection[] {
  if (scoped) return [];
  const { events } = digest;
  const since = digest.since ? 'since the previous digest' : 'in the last day';
  const notified = list(
    `Notified ${since}: ${plural(events.notified.findings, 'finding')}`,
    events.notified.issues,
    maxItems,
    (issue) => ({ issue, text: '' }),
  );
  return [
    notified,
    {
      ...list(`Closed (${events.closed.length})`, events.closed, maxItems, (l) => eventItem(l, 'closed')),
      empty: 'none',
    },
    {
      ...list(`Reopened (${events.reopened.length})`, events.reopened, maxItems, (l) =>
        eventItem(l, 'reopened'),
      ),
      empty: 'none',
    },
    {
      ...list(`Suppressed (${events.suppressed.length})`, events.suppressed, maxItems, (l) =>
        eventItem(l, 'suppressed'),
      ),
      empty: 'none',
    },
    {
      ...list('Oldest open CRITICAL and HIGH issues', digest.oldestOpen, maxItems, (i) =>
        issueItem(i, false),
      ),
      empty: 'none',
    },
    {
      ...list(`Past their due date (${digest.overdue.length})`, digest.overdue, maxItems, (i) =>
        issueItem(i, true),
      ),
      empty: 'none',
    },
  ];
}

/** `Mon 11 May 2026, 09:00` in the time zone. */
export function formatTime(at: string | Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(typeof at === 'string' ? new Date(at) : at);
}

/** `12 (▲3)`, `5 (▼2)`, `7`: a number and its change in words for the summary line. */
export function withChange(count: number, change?: number): string {
  const text = count.toLocaleString('en-US');
  if (change === undefined || change === 0) return text;
  return `${text} (${change > 0 ? '▲' : '▼'}${Math.abs(change).toLocaleString('en-US')})`;
}

export { plural };
