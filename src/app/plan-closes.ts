/**
 * Dispatch's closing step: the findings a batch says are fixed, gone, resolved or suppressed,
 * checked against the ledger (filed and open: closed; filed and closed already: nothing; never
 * filed: nothing), then planned into close deliveries. Never gated by thresholds, include/exclude
 * or routes: the finding was filed under the policy of its day.
 */
import { type ClosingFinding, closeTarget, planCloses } from '../domain/delivery/close-plan.js';
import type { Delivery } from '../domain/delivery/delivery.js';
import { DELIVERED_STATUSES, type FindingItem, isOpenLifecycle } from '../domain/delivery/ledger-items.js';
import type { CloseReason } from '../domain/delivery/lifecycle.js';
import type { Finding } from '../domain/finding/finding.js';
import { type NotificationPolicy, routeFor } from '../domain/policy/policy.js';
import type { DispatchLedger } from './ports.js';

export type CloseOutcome = { key: string; outcome: 'already-closed' | 'not-filed' };

/** Filed: the issue or the message exists (a finding still being delivered is not closed under it). */
function wasFiled(entry: FindingItem | undefined): entry is FindingItem {
  return entry !== undefined && (DELIVERED_STATUSES.has(entry.status) || entry.status === 'POSTED');
}

export async function closeDeliveries(
  closing: ReadonlyArray<{ finding: Finding; reason: CloseReason }>,
  ledger: DispatchLedger,
  policy: NotificationPolicy,
): Promise<{ deliveries: Delivery[]; outcomes: CloseOutcome[] }> {
  if (closing.length === 0) return { deliveries: [], outcomes: [] };
  const entries = await ledger.getMany(closing.map(({ finding }) => finding.key));
  const outcomes: CloseOutcome[] = [];
  const open: ClosingFinding[] = [];
  for (const { finding, reason } of closing) {
    const entry = entries.get(finding.key);
    if (!wasFiled(entry)) outcomes.push({ key: finding.key, outcome: 'not-filed' });
    else if (!isOpenLifecycle(entry)) outcomes.push({ key: finding.key, outcome: 'already-closed' });
    else open.push({ finding, reason, entry, route: routeFor(finding, policy) });
  }
  const targetKeys = [...new Set(open.map(closeTarget))].filter((key) => !entries.has(key));
  const targets = new Map([...entries, ...(targetKeys.length > 0 ? await ledger.getMany(targetKeys) : [])]);
  return { deliveries: planCloses(open, targets), outcomes };
}
