/**
 * What the daily digest counts, and how Security Hub is asked for it: active, unresolved findings
 * (record ACTIVE, workflow NEW or NOTIFIED, compliance not PASSED) by account and severity, from
 * Security Hub's own aggregation. Security Hub CSPM answers with insights grouped by
 * `AwsAccountId`, one per severity (`insightSpecs`); the new Security Hub with
 * `GetFindingStatisticsV2`, one group-by rule per severity (`statisticsRules`). Both shapes are
 * plain JSON here (the adapter sends them as they are); the stack declares the same insights
 * (functions/digest.yml, template-tested against `insightSpecs`).
 */
import { SEVERITY_LABELS, type SeverityLabel } from '../finding/severity.js';

/** The table's severity columns, worst first. */
export const DIGEST_SEVERITIES: readonly SeverityLabel[] = [...SEVERITY_LABELS].reverse();

/** Findings of one account (or a sum of accounts) by severity. */
export type SeverityCounts = Readonly<Record<SeverityLabel, number>>;

export const NO_FINDINGS: SeverityCounts = Object.freeze({
  CRITICAL: 0,
  HIGH: 0,
  MEDIUM: 0,
  LOW: 0,
  INFORMATIONAL: 0,
});

/** Account id → its active findings by severity; accounts without any are absent. */
export type AccountCounts = ReadonlyMap<string, SeverityCounts>;

/** What Security Hub answered, and which of its two APIs answered it. */
export interface CountsSnapshot {
  source: 'insights' | 'statistics-v2';
  byAccount: AccountCounts;
  /** Findings currently SUPPRESSED (record ACTIVE), by account. */
  suppressed: ReadonlyMap<string, number>;
  /** Security Hub returned as many groups as asked for: accounts beyond them are not counted. */
  truncated?: boolean;
}

export function totalOf(counts: SeverityCounts): number {
  return DIGEST_SEVERITIES.reduce((sum, label) => sum + counts[label], 0);
}

export function addCounts(a: SeverityCounts, b: SeverityCounts): SeverityCounts {
  return Object.fromEntries(DIGEST_SEVERITIES.map((label) => [label, a[label] + b[label]])) as SeverityCounts;
}

export function subtractCounts(a: SeverityCounts, b: SeverityCounts): SeverityCounts {
  return Object.fromEntries(DIGEST_SEVERITIES.map((label) => [label, a[label] - b[label]])) as SeverityCounts;
}

export function sumCounts(all: Iterable<SeverityCounts>): SeverityCounts {
  let sum = NO_FINDINGS;
  for (const counts of all) sum = addCounts(sum, counts);
  return sum;
}

/** Worst first: more CRITICAL, then more HIGH, … then more in total. */
export function compareWorstFirst(a: SeverityCounts, b: SeverityCounts): number {
  for (const label of DIGEST_SEVERITIES) {
    if (a[label] !== b[label]) return b[label] - a[label];
  }
  return totalOf(b) - totalOf(a);
}

/** Counts as stored in the ledger (`[critical, high, medium, low, informational]`) and back. */
export function countsToList(counts: SeverityCounts): number[] {
  return DIGEST_SEVERITIES.map((label) => counts[label]);
}

export function countsFromList(list: readonly unknown[]): SeverityCounts {
  return Object.fromEntries(
    DIGEST_SEVERITIES.map((label, index) => {
      const value = Number(list[index] ?? 0);
      return [label, Number.isFinite(value) ? value : 0];
    }),
  ) as SeverityCounts;
}

/** One severity's answer: account id → count, as an insight or a group-by rule returns it. */
export interface SeverityGroups {
  severity: SeverityLabel;
  values: ReadonlyArray<{ value: string; count: number }>;
}

/** Per-severity answers merged into counts per account (accounts with nothing left out). */
export function countsFromGroups(groups: readonly SeverityGroups[]): Map<string, SeverityCounts> {
  const byAccount = new Map<string, Record<SeverityLabel, number>>();
  for (const { severity, values } of groups) {
    for (const { value, count } of values) {
      if (!value || !(count > 0)) continue;
      const counts = byAccount.get(value) ?? { ...NO_FINDINGS };
      counts[severity] += count;
      byAccount.set(value, counts);
    }
  }
  return byAccount;
}

// --- Security Hub CSPM: insights ------------------------------------------------------------------

/** An ASFF string filter (`AwsSecurityFindingFilters`), as the API takes it. */
export interface AsffStringFilter {
  Value: string;
  Comparison: 'EQUALS' | 'NOT_EQUALS';
}
export type AsffFilters = Record<string, AsffStringFilter[]>;

/** What an insight of the digest counts: a severity's active findings, or the suppressed ones. */
export type InsightSubject = SeverityLabel | 'SUPPRESSED';
export const INSIGHT_SUBJECTS: readonly InsightSubject[] = [...DIGEST_SEVERITIES, 'SUPPRESSED'];

export const INSIGHT_GROUP_BY = 'AwsAccountId';

export interface InsightSpec {
  subject: InsightSubject;
  Name: string;
  Filters: AsffFilters;
  GroupByAttribute: typeof INSIGHT_GROUP_BY;
}

const equals = (Value: string): AsffStringFilter => ({ Value, Comparison: 'EQUALS' });

/** Active and unresolved: record ACTIVE, workflow NEW or NOTIFIED, compliance not PASSED. */
export function activeFindingsFilters(severity: SeverityLabel): AsffFilters {
  return {
    RecordState: [equals('ACTIVE')],
    WorkflowStatus: [equals('NEW'), equals('NOTIFIED')],
    ComplianceStatus: [{ Value: 'PASSED', Comparison: 'NOT_EQUALS' }],
    SeverityLabel: [equals(severity)],
  };
}

/** Suppressed and still active (a suppressed finding whose resource is gone is archived). */
export function suppressedFindingsFilters(): AsffFilters {
  return { RecordState: [equals('ACTIVE')], WorkflowStatus: [equals('SUPPRESSED')] };
}

/** The insight's name: how the digest finds (or creates) it when no ARN is configured. */
export function insightName(subject: InsightSubject, prefix = 'securityhub-notifier'): string {
  const what = subject === 'SUPPRESSED' ? 'suppressed findings' : `active ${subject} findings`;
  return `${prefix} digest: ${what} by account`;
}

/** The six insights: one per severity, one of the suppressed findings. */
export function insightSpecs(prefix?: string): InsightSpec[] {
  return INSIGHT_SUBJECTS.map((subject) => ({
    subject,
    Name: insightName(subject, prefix),
    Filters: subject === 'SUPPRESSED' ? suppressedFindingsFilters() : activeFindingsFilters(subject),
    GroupByAttribute: INSIGHT_GROUP_BY,
  }));
}

// --- the new Security Hub: GetFindingStatisticsV2 ----------------------------------------------

/** The new Security Hub's severity names (OCSF `severity`); Fatal is counted as CRITICAL. */
export const OCSF_SEVERITIES: Readonly<Record<SeverityLabel, readonly string[]>> = {
  CRITICAL: ['Critical', 'Fatal'],
  HIGH: ['High'],
  MEDIUM: ['Medium'],
  LOW: ['Low'],
  INFORMATIONAL: ['Informational'],
};

export const STATISTICS_GROUP_BY = 'cloud.account.uid';
/** GetFindingStatisticsV2 takes at most five group-by rules a call, and 1 to 400 results. */
export const MAX_RULES_PER_CALL = 5;
export const MAX_STATISTIC_RESULTS = 400;

interface OcsfStringFilter {
  FieldName: string;
  Filter: { Value: string; Comparison: 'EQUALS' | 'NOT_EQUALS' };
}
interface OcsfCompositeFilter {
  Operator: 'AND' | 'OR';
  StringFilters?: OcsfStringFilter[];
  NestedCompositeFilters?: OcsfCompositeFilter[];
}
export interface StatisticsRule {
  subject: InsightSubject;
  GroupByField: typeof STATISTICS_GROUP_BY;
  Filters: { CompositeOperator: 'AND'; CompositeFilters: OcsfCompositeFilter[] };
}

const ocsf = (FieldName: string, Value: string, Comparison: 'EQUALS' | 'NOT_EQUALS' = 'EQUALS') => ({
  FieldName,
  Filter: { Value, Comparison },
});
const anyOf = (field: string, values: readonly string[]): OcsfCompositeFilter => ({
  Operator: 'OR',
  StringFilters: values.map((value) => ocsf(field, value)),
});

/**
 * The same question of the new Security Hub: status New or In Progress (the notifier's NOTIFIED),
 * compliance not Pass, the severity (Critical or Fatal for CRITICAL); or status Suppressed.
 */
export function statisticsRules(): StatisticsRule[] {
  return INSIGHT_SUBJECTS.map((subject) => {
    const filter: OcsfCompositeFilter =
      subject === 'SUPPRESSED'
        ? { Operator: 'AND', StringFilters: [ocsf('status', 'Suppressed')] }
        : {
            Operator: 'AND',
            StringFilters: [ocsf('compliance.status', 'Pass', 'NOT_EQUALS')],
            NestedCompositeFilters: [
              anyOf('status', ['New', 'In Progress']),
              anyOf('severity', OCSF_SEVERITIES[subject]),
            ],
          };
    return {
      subject,
      GroupByField: STATISTICS_GROUP_BY,
      Filters: { CompositeOperator: 'AND', CompositeFilters: [filter] },
    };
  });
}
