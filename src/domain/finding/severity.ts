/** Security Hub severity labels, lowest first. */
export const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

export function isSeverityLabel(value: unknown): value is SeverityLabel {
  return typeof value === 'string' && (SEVERITY_LABELS as readonly string[]).includes(value);
}

export function severityRank(label: SeverityLabel): number {
  return SEVERITY_LABELS.indexOf(label);
}

export function isAtOrAbove(label: SeverityLabel, threshold: SeverityLabel): boolean {
  return severityRank(label) >= severityRank(threshold);
}

/** The labels at or above a threshold, lowest first: the EventBridge rule lists exactly these. */
export function labelsAtOrAbove(threshold: SeverityLabel): SeverityLabel[] {
  return SEVERITY_LABELS.filter((label) => isAtOrAbove(label, threshold));
}

/**
 * Severity from the ASFF `Severity` object. `Label` wins; older findings only carry `Normalized`
 * (0-100), mapped with the ranges Security Hub documents.
 */
export function severityFromNormalized(normalized: number): SeverityLabel {
  if (normalized >= 90) return 'CRITICAL';
  if (normalized >= 70) return 'HIGH';
  if (normalized >= 40) return 'MEDIUM';
  if (normalized >= 1) return 'LOW';
  return 'INFORMATIONAL';
}
