/**
 * Changing filed findings in Security Hub after the workflow marked them (the loop from Backlog,
 * actions from Slack, the sweep of expired suppressions): every copy the ledger knows of (CSPM's,
 * the new Security Hub's), 100 identifiers a call. What Security Hub may accept on a later try
 * fails the caller, so its queue retries it; the rest is logged and left.
 */

import { chunk } from '../domain/delivery/delivery.js';
import type { FindingItem } from '../domain/delivery/ledger-items.js';
import { knownCopies } from '../domain/delivery/ledger-items.js';
import { SecurityHubRequestError } from './errors.js';
import type { FindingsUpdater, Log, MarkStatus } from './ports.js';

/** The BatchUpdateFindings (and V2) limit. */
export const MAX_IDENTIFIERS_PER_UPDATE = 100;

/** Unprocessed codes that may pass on a later try (CSPM's, then the new Security Hub's). */
export const RETRYABLE_UNPROCESSED: ReadonlySet<string> = new Set([
  'ConcurrentUpdateError',
  'InternalFailure',
  'InternalServerException',
  'ConflictException',
]);

export async function updateFindingCopies(
  items: readonly FindingItem[],
  change: { status: MarkStatus; note: string },
  ports: { updater: FindingsUpdater; log: Log },
): Promise<void> {
  for (const part of chunk(items.flatMap(knownCopies), MAX_IDENTIFIERS_PER_UPDATE)) {
    const unprocessed = await ports.updater.update(part, change);
    const retryable = unprocessed.filter((entry) => RETRYABLE_UNPROCESSED.has(entry.code));
    for (const entry of unprocessed.filter((e) => !retryable.includes(e))) {
      ports.log.warn('Security Hub did not update a finding', {
        id: entry.copy.identifier.Id,
        code: entry.code,
      });
    }
    if (retryable.length > 0) {
      throw new SecurityHubRequestError(
        `Security Hub left ${retryable.length} finding(s) unprocessed (${retryable[0]?.code}): retried`,
      );
    }
  }
}
