/**
 * Closing deliveries: the findings a batch says are fixed, gone, resolved or suppressed, turned into
 * one close delivery per thing filed: a finding's own issue and message, a consolidated delivery's
 * (several standards' findings of one control), or a storm group's (a comment and a reply per batch,
 * "n of m resolved", the issue closed with its last finding).
 */
import type { Finding } from '../finding/finding.js';
import { buildDelivery, type Delivery, type Route } from './delivery.js';
import { groupLabel } from './grouping.js';
import type { FindingItem } from './ledger-items.js';
import type { CloseReason } from './lifecycle.js';
import { isVulnerabilityGroupKey, vulnerabilityGroupInfo } from './vulnerability-group.js';

export interface ClosingFinding {
  finding: Finding;
  reason: CloseReason;
  /** The finding's ledger item: it was filed and is open. */
  entry: FindingItem;
  route: Route;
}

/** The ledger item a finding's issue and message are recorded under. */
export function closeTarget(closing: ClosingFinding): string {
  return closing.entry.deliveredWith ?? closing.finding.key;
}

/**
 * One close delivery per filed item and kind of reason (a storm's members closing in one batch for
 * different reasons get one comment each). Destinations are where the item went: its issue, its
 * message; the policy of today plays no part.
 */
export function planCloses(
  closing: readonly ClosingFinding[],
  targets: ReadonlyMap<string, FindingItem>,
): Delivery[] {
  const byTarget = new Map<string, ClosingFinding[]>();
  for (const item of closing) {
    const key = `${closeTarget(item)}\u0000${item.reason.kind}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), item]);
  }
  const deliveries: Delivery[] = [];
  for (const [key, items] of byTarget) {
    const target = key.split('\u0000')[0] as string;
    const [first] = items;
    const item = targets.get(target) ?? first?.entry;
    if (!first || !item) continue;
    const destinations = { slack: Boolean(item.slackTs), backlog: Boolean(item.issueKey) };
    const findings = items.map((closingFinding) => closingFinding.finding);
    const group = target.startsWith('group|');
    const delivery = buildDelivery(findings, 'close', {
      kind: group ? 'group' : 'single',
      destinations,
      route: first.route,
      close: first.reason,
      ...(group
        ? {
            group: isVulnerabilityGroupKey(target)
              ? vulnerabilityGroupInfo(first.finding, target, 0)
              : {
                  key: target,
                  label: groupLabel(first.finding) ?? first.finding.title,
                  accountId: first.finding.accountId,
                  ...(first.finding.accountName ? { accountName: first.finding.accountName } : {}),
                  previousCount: 0,
                },
          }
        : {}),
    });
    // Recorded under the item that holds the issue and the message, not under a member.
    deliveries.push({ ...delivery, deliveryKey: target });
  }
  return deliveries;
}
