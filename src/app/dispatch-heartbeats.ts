/**
 * Dispatch's part of the heartbeat: a heartbeat finding is never filed. This stack's own (its `Id`
 * names this stack, in this account's default product) becomes a check execution of its own: the
 * workflow checks every destination the policy routes to without posting, then archives it. Any
 * other heartbeat (another stage's in the same account, or an archived one) is filtered.
 */
import { transitionOf } from '../domain/delivery/lifecycle.js';
import type { Finding } from '../domain/finding/finding.js';
import {
  buildHeartbeatCheck,
  type HeartbeatSource,
  heartbeatOf,
  isOwnHeartbeat,
  looksLikeHeartbeat,
  routedDestinations,
} from '../domain/heartbeat/heartbeat.js';
import type { NotificationPolicy } from '../domain/policy/policy.js';
import type { Log, WorkflowStarter } from './ports.js';

export interface HeartbeatOutcome {
  key: string;
  outcome: 'heartbeat';
  /** The check execution it started (the same name again for a redelivered event: started once). */
  execution: string;
}

interface Item {
  finding: Finding;
  messageId: string;
}

/** Where the outcomes go (dispatch's report): only pushed to. */
interface Report {
  outcomes: {
    push(outcome: HeartbeatOutcome | { key: string; outcome: 'filtered'; reason: string }): number;
  };
}

/** Step 1b: heartbeats out of the batch: this stack's open ones to check, every other one filtered. */
export function splitHeartbeats<T extends Item>(
  parsed: readonly T[],
  source: HeartbeatSource | undefined,
  report: Report,
): { findings: T[]; heartbeats: T[] } {
  const findings: T[] = [];
  const heartbeats: T[] = [];
  for (const item of parsed) {
    const { identifier, key } = item.finding;
    if (!looksLikeHeartbeat(identifier)) findings.push(item);
    else if (!isOwnHeartbeat(identifier, source)) {
      const reason = 'a heartbeat of another stack or account: never filed';
      report.outcomes.push({ key, outcome: 'filtered', reason });
    } else if (transitionOf(item.finding).kind !== 'open') {
      report.outcomes.push({
        key,
        outcome: 'filtered',
        reason: 'a heartbeat already checked: nothing to do',
      });
    } else heartbeats.push(item);
  }
  return { findings, heartbeats };
}

/** The name of a heartbeat's check execution: the same event redelivered starts it once. */
export const checkExecutionName = (check: { deliveryId: string }) => `heartbeat-${check.deliveryId}`;

/** Step 6b: one check execution a heartbeat; one that cannot start sends its record back to the queue. */
export async function startHeartbeatChecks(
  heartbeats: readonly Item[],
  ports: { policy: NotificationPolicy; workflow: WorkflowStarter; log: Log },
  report: Report & { failedMessageIds: string[] },
): Promise<void> {
  const destinations = routedDestinations(ports.policy);
  for (const { finding, messageId } of heartbeats) {
    const heartbeat = heartbeatOf(finding.identifier);
    if (!heartbeat) continue;
    const check = buildHeartbeatCheck(finding.identifier, heartbeat, destinations);
    const name = checkExecutionName(check);
    try {
      await ports.workflow.start({ batchId: check.deliveryId, deliveries: [check] }, name);
      report.outcomes.push({ key: finding.key, outcome: 'heartbeat', execution: name });
    } catch (error) {
      ports.log.error('could not start the heartbeat check; the record goes back to the queue', {
        error,
        name,
      });
      if (!report.failedMessageIds.includes(messageId)) report.failedMessageIds.push(messageId);
    }
  }
}
