import { isSeverityLabel, SEVERITY_LABELS, type SeverityLabel, severityRank } from '../finding/severity.js';
import type { Delivery } from './delivery.js';

/**
 * What a delivery's members share and how they differ, as both the grouped Backlog issue and the
 * grouped Slack message describe it (each adds how it shows the regions and the group's kind).
 */
export interface GroupFacts {
  /** What the group is keyed on: its label, else the representative's control, type or title. */
  label: string;
  accountId: string;
  accountName: string | undefined;
  /** Findings the group held before this delivery. */
  previousCount: number;
  /** `previousCount` plus this delivery's members. */
  total: number;
  /** The most severe label of the members and the representative; undefined when none is a label. */
  highest: SeverityLabel | undefined;
  /** Member count per severity, most severe first, only labels present. */
  severities: Array<[SeverityLabel, number]>;
}

/** A whole count from an untrusted value: 0 unless it is a finite positive number. */
export function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** The facts every grouped text starts from; never reads the members' regions. */
export function groupFacts(delivery: Delivery): GroupFacts {
  const { finding, members, group } = delivery;
  const previousCount = nonNegative(group?.previousCount);
  const counts = new Map<SeverityLabel, number>();
  for (const member of members) {
    if (isSeverityLabel(member.severity)) counts.set(member.severity, (counts.get(member.severity) ?? 0) + 1);
  }
  const severities = [...SEVERITY_LABELS]
    .reverse()
    .filter((label) => counts.has(label))
    .map((label): [SeverityLabel, number] => [label, counts.get(label) ?? 0]);
  const candidates = [...counts.keys(), ...(isSeverityLabel(finding.severity) ? [finding.severity] : [])];
  const highest = candidates.reduce<SeverityLabel | undefined>(
    (top, label) => (top === undefined || severityRank(label) > severityRank(top) ? label : top),
    undefined,
  );
  return {
    label: group?.label ?? finding.control?.id ?? finding.guardDuty?.type ?? finding.title,
    accountId: group?.accountId ?? finding.accountId,
    accountName: group?.accountName ?? finding.accountName,
    previousCount,
    total: previousCount + members.length,
    highest,
    severities,
  };
}

/** `1 finding`, `2 findings`: `n` and the noun, `many` unless `n` is 1. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `1 finding`, `137 findings`. */
export function findingsText(n: number): string {
  return plural(n, 'finding');
}
