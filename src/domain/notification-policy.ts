import type { Finding } from './finding.js';
import { isAtOrAbove, type SeverityLabel } from './severity.js';

export interface PolicySettings {
  minSeverity: SeverityLabel;
}

export type PolicyDecision = { notify: true } | { notify: false; reason: string };

/**
 * The rule's conditions, applied again to each finding: an event can carry several findings and
 * EventBridge matches the event, not each finding.
 */
export function decideNotification(finding: Finding, settings: PolicySettings): PolicyDecision {
  if (finding.workflowStatus !== 'NEW')
    return { notify: false, reason: `workflow status ${finding.workflowStatus}` };
  if (finding.recordState !== 'ACTIVE')
    return { notify: false, reason: `record state ${finding.recordState}` };
  if (finding.complianceStatus === 'PASSED') return { notify: false, reason: 'compliance PASSED' };
  if (!isAtOrAbove(finding.severity, settings.minSeverity)) {
    return { notify: false, reason: `severity ${finding.severity} below ${settings.minSeverity}` };
  }
  return { notify: true };
}
