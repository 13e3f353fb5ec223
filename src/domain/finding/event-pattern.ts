import { isRecord } from './json.js';
import { labelsAtOrAbove, type SeverityLabel } from './severity.js';

/**
 * The EventBridge pattern of the rule that feeds the queue. serverless.yml renders the same
 * pattern (a template test holds the two equal); `npm run replay` filters with this one. The third
 * branch forwards the notifier's own heartbeat (`HEARTBEAT_ID_PREFIX` in src/domain/heartbeat), an
 * INFORMATIONAL finding: it must take this rule, the path it checks, whatever the threshold.
 */
export function buildEventPattern(minSeverity: SeverityLabel) {
  const severity = { Label: labelsAtOrAbove(minSeverity) };
  return {
    source: ['aws.securityhub'],
    'detail-type': ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        Workflow: { Status: ['NEW'] },
        RecordState: ['ACTIVE'],
        $or: [
          { Severity: severity, Compliance: { Status: [{ 'anything-but': ['PASSED'] }] } },
          { Severity: severity, Compliance: { Status: [{ exists: false }] } },
          { Id: [{ prefix: 'securityhub-notifier-heartbeat/' }] },
        ],
      },
    },
  };
}

/** The new Security Hub's severities (Title case), at or above a threshold; Fatal counts as Critical. */
export function ocsfSeveritiesAtOrAbove(minSeverity: SeverityLabel): string[] {
  const title: Record<SeverityLabel, string> = {
    INFORMATIONAL: 'Informational',
    LOW: 'Low',
    MEDIUM: 'Medium',
    HIGH: 'High',
    CRITICAL: 'Critical',
  };
  return [...labelsAtOrAbove(minSeverity).map((label) => title[label]), 'Fatal'];
}

/**
 * The pattern of the rule for the new Security Hub's findings (OCSF, "Findings Imported V2"): status
 * New, severity at or above the threshold, compliance not Pass (or none, as for GuardDuty).
 * serverless.yml renders the same pattern (template-tested).
 */
export function buildEventPatternV2(minSeverity: SeverityLabel) {
  return {
    source: ['aws.securityhub'],
    'detail-type': ['Findings Imported V2'],
    detail: {
      findings: {
        status: ['New'],
        severity: ocsfSeveritiesAtOrAbove(minSeverity),
        $or: [
          { compliance: { status: [{ 'anything-but': ['Pass'] }] } },
          { compliance: { status: [{ exists: false }] } },
        ],
      },
    },
  };
}

/** The comment the notifier writes on the new Security Hub's findings starts with this. */
export const COMMENT_PREFIX = 'Notified by securityhub-notifier';

/**
 * The transitions of the new Security Hub's findings that can close something the notifier filed:
 * compliance Pass or Archived under the notifier's comment; Resolved or Suppressed set by anyone
 * (except an auto-resolved pass).
 */
export function buildTransitionPatternV2() {
  const ours = { comment: [{ prefix: COMMENT_PREFIX }] };
  const people = ['Resolved', 'Suppressed'];
  return {
    source: ['aws.securityhub'],
    'detail-type': ['Findings Imported V2'],
    detail: {
      findings: {
        $or: [
          { ...ours, compliance: { status: ['Pass'] } },
          { ...ours, status: ['Archived'] },
          { status: people, compliance: { status: [{ 'anything-but': ['Pass'] }] } },
          { status: people, compliance: { status: [{ exists: false }] } },
        ],
      },
    },
  };
}

/** The author of the notes the notifier writes (ASFF `Note.UpdatedBy`). */
export const NOTE_AUTHOR = 'securityhub-notifier';

/**
 * The EventBridge pattern of the rule that forwards the transitions that can close something the
 * notifier filed, narrowed so an organisation's churn of findings it never filed costs little:
 * - compliance PASSED or the record ARCHIVED on a finding whose note the notifier wrote (it filed
 *   it: its note says where);
 * - workflow RESOLVED or SUPPRESSED set by anyone (people's changes: few), except on a finding whose
 *   compliance PASSED (Security Hub resolves every passing control itself: that churn is covered
 *   by the first branch for what the notifier filed).
 * serverless.yml renders the same pattern (template-tested).
 */
export function buildTransitionPattern() {
  const ours = { Note: { UpdatedBy: [NOTE_AUTHOR] } };
  const people = { Status: ['RESOLVED', 'SUPPRESSED'] };
  return {
    source: ['aws.securityhub'],
    'detail-type': ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        $or: [
          { ...ours, Compliance: { Status: ['PASSED'] } },
          { ...ours, RecordState: ['ARCHIVED'] },
          { Workflow: people, Compliance: { Status: [{ 'anything-but': ['PASSED'] }] } },
          { Workflow: people, Compliance: { Status: [{ exists: false }] } },
        ],
      },
    },
  };
}

type Pattern = { [key: string]: unknown };
type Matcher = string | number | boolean | null | { [op: string]: unknown };

/** Every leaf value at `key` below `value`, flattening arrays as EventBridge does. */
function valuesAt(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, key));
  if (!isRecord(value) || !(key in value)) return [];
  const found = value[key];
  return Array.isArray(found) ? found.flat(Number.POSITIVE_INFINITY) : [found];
}

function matchesLeaf(values: unknown[], matchers: Matcher[]): boolean {
  return matchers.some((matcher) => {
    if (isRecord(matcher)) {
      if ('exists' in matcher) return matcher.exists === values.length > 0;
      if ('anything-but' in matcher) {
        const excluded = ([] as unknown[]).concat(matcher['anything-but']);
        return values.some((value) => !excluded.includes(value));
      }
      if ('prefix' in matcher) {
        return values.some((value) => typeof value === 'string' && value.startsWith(String(matcher.prefix)));
      }
      throw new Error(`unsupported EventBridge pattern operator: ${Object.keys(matcher).join(', ')}`);
    }
    return values.includes(matcher);
  });
}

/**
 * A small EventBridge pattern matcher: exact values, `anything-but`, `exists`, `prefix` and `$or`,
 * with arrays in the event flattened. Enough for the rule above; anything else throws.
 */
export function matchesEventPattern(event: unknown, pattern: Pattern): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as Pattern[]).some((branch) => matchesEventPattern(event, branch));
    if (Array.isArray(expected)) return matchesLeaf(valuesAt(event, key), expected as Matcher[]);
    const children = Array.isArray(event)
      ? event.flatMap((item) => valuesAt(item, key))
      : isRecord(event) && key in event
        ? [event[key]]
        : [];
    const nested = expected as Pattern;
    const onlyExistsFalse = Object.values(nested).every(
      (leaf) => Array.isArray(leaf) && leaf.every((m) => isRecord(m) && m.exists === false),
    );
    if (children.length === 0) return onlyExistsFalse;
    return children.some((child) => matchesEventPattern(child, nested));
  });
}
