/**
 * Remediation due dates (the policy's `sla`): days per severity, counted from when the finding was
 * first observed (not from when it was filed), as the Backlog issue's due date and a line in the
 * Slack message. Pure: the clock is passed in.
 */
import { isSeverityLabel, SEVERITY_LABELS, type SeverityLabel, severityRank } from '../finding/severity.js';

/** Days to fix, per severity; a severity left out gets no due date. */
export type SlaDays = Readonly<Partial<Record<SeverityLabel, number>>>;

/** The policy's `sla`: days per severity, or `off` (no due dates at all). */
export type SlaPolicy = SlaDays | 'off';

/** The shipped defaults: CRITICAL 3, HIGH 14, MEDIUM 45, LOW 90 days; INFORMATIONAL none. */
export const DEFAULT_SLA_DAYS: SlaDays = Object.freeze({ CRITICAL: 3, HIGH: 14, MEDIUM: 45, LOW: 90 });

/** The longest SLA the policy takes (ten years): a due date stays a date Backlog accepts. */
export const MAX_SLA_DAYS = 3650;

const DAY_MS = 86_400_000;

/** When a delivery's findings must be fixed: the earliest due date among them, and whose. */
export interface Due {
  /** `YYYY-MM-DD` (UTC): Backlog's `dueDate`. */
  date: string;
  /** The severity of the finding that sets it. */
  severity: SeverityLabel;
  /** Its SLA in days. */
  days: number;
}

/** What a due date is computed from: a finding's severity and first observation. */
export interface DueSource {
  severity: SeverityLabel;
  firstObservedAt?: string | undefined;
  createdAt: string;
}

/** `2026-12-14` of a time, in UTC. */
export function utcDate(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/**
 * A finding's due date: its first observation (`FirstObservedAt`, else `CreatedAt`) plus the days
 * of its severity. Undefined when the SLA is off, names no days for the severity, or the time is
 * not a date.
 */
export function dueOf(source: DueSource, sla: SlaPolicy): Due | undefined {
  if (sla === 'off' || !isSeverityLabel(source.severity)) return undefined;
  const days = sla[source.severity];
  if (days === undefined || !Number.isInteger(days) || days < 0) return undefined;
  const from = Date.parse(source.firstObservedAt ?? '');
  const start = Number.isFinite(from) ? from : Date.parse(source.createdAt);
  if (!Number.isFinite(start)) return undefined;
  const due = new Date(start + days * DAY_MS);
  if (!Number.isFinite(due.getTime())) return undefined;
  return { date: utcDate(due), severity: source.severity, days };
}

/** The earliest due date of several findings (a group's: its worst member's); the more severe on a tie. */
export function earliestDue(sources: readonly DueSource[], sla: SlaPolicy): Due | undefined {
  let earliest: Due | undefined;
  for (const source of sources) {
    const due = dueOf(source, sla);
    if (!due) continue;
    if (
      !earliest ||
      due.date < earliest.date ||
      (due.date === earliest.date && severityRank(due.severity) > severityRank(earliest.severity))
    ) {
      earliest = due;
    }
  }
  return earliest;
}

/** The earlier of two due dates (either may be absent). */
export function earlierDate(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a <= b ? a : b;
}

/** Whole days from `now`'s UTC date to `date` (negative: overdue). NaN for a malformed date. */
export function daysUntil(date: string, now: Date): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return Number.NaN;
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${utcDate(now)}T00:00:00Z`)) / DAY_MS);
}

function daysText(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'day' : 'days'}`;
}

/** How far a due date is from `now`: `13 days`, `today`, `overdue by 3 days`; empty for a malformed date. */
export function relativeDue(date: string, now: Date): string {
  const left = daysUntil(date, now);
  if (!Number.isFinite(left)) return '';
  if (left === 0) return 'today';
  return left > 0 ? daysText(left) : `overdue by ${daysText(-left)}`;
}

/**
 * Plain text, relative to `now`: `due 2026-12-14, 13 days`, `due 2026-12-01, today`,
 * `due 2026-11-28, overdue by 3 days`. A date that is not one is shown as it is.
 */
export function describeDue(date: string, now: Date): string {
  const relative = relativeDue(date, now);
  return relative ? `due ${date}, ${relative}` : `due ${date}`;
}

/** Whether a due date has passed at `now`. */
export function isOverdue(date: string, now: Date): boolean {
  return daysUntil(date, now) < 0;
}

/** `CRITICAL 3 · HIGH 14 · MEDIUM 45 · LOW 90 days`, or `off`: for logs and the docs. */
export function describeSla(sla: SlaPolicy): string {
  if (sla === 'off') return 'off';
  const parts = [...SEVERITY_LABELS]
    .reverse()
    .filter((label) => sla[label] !== undefined)
    .map((label) => `${label} ${sla[label]}`);
  return parts.length > 0 ? `${parts.join(' · ')} days` : 'none';
}

/** The more severe of a recorded label (any text, absent for items filed before) and a new one. */
export function worseSeverity(recorded: string | undefined, label: SeverityLabel): SeverityLabel {
  return isSeverityLabel(recorded) && severityRank(recorded) >= severityRank(label) ? recorded : label;
}
