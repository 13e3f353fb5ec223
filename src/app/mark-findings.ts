/**
 * Use case: mark the findings of a delivery in Security Hub (NOTIFIED with a note naming where they
 * were delivered; SUPPRESSED with the rule's note), at most 100 a call. Identifiers Security Hub
 * could not update for a passing reason (ConcurrentUpdateError, InternalFailure) are tried again a
 * few times; those it still could not update are recorded in the ledger with why, and reported,
 * so the workflow fails the execution (an alarm) and the next event of each marks it again.
 */
import { chunk, copyKey, memberCopies, memberKey, type WorkflowItem } from '../domain/delivery/delivery.js';
import type { Clock, FindingCopyRef, FindingsUpdater, Log, MarkLedger } from './ports.js';
import { MAX_IDENTIFIERS_PER_UPDATE, RETRYABLE_UNPROCESSED } from './update-findings.js';

export interface MarkFindingsInput {
  delivery: WorkflowItem;
  status: 'NOTIFIED' | 'SUPPRESSED';
  note: string;
}

export interface MarkFindingsPorts {
  securityHub: FindingsUpdater;
  ledger: MarkLedger;
  clock: Clock;
  log: Log;
  /** Waits between the tries of a retryable unprocessed identifier (ms). */
  retryDelaysMs: readonly number[];
  sleep: (ms: number) => Promise<void>;
}

export interface MarkResult {
  marked: number;
  /** Identifiers Security Hub would not update after the tries: recorded, and fail the execution. */
  unprocessed: number;
  /** Their error codes, with how many of each. */
  errors: Record<string, number>;
}

type Unprocessed = { copy: FindingCopyRef; code: string; message?: string };

/** Every copy a delivery marks: each member's, and its twin's from the other Security Hub. */
function copiesOf(item: WorkflowItem): Array<{ key: string; copy: FindingCopyRef }> {
  return item.members.flatMap((member) =>
    memberCopies(member).map((copy) => ({ key: memberKey(member), copy })),
  );
}

export async function markFindings(input: MarkFindingsInput, ports: MarkFindingsPorts): Promise<MarkResult> {
  const copies = copiesOf(input.delivery);
  const failed: Unprocessed[] = [];
  // One Security Hub a call: CSPM's copies, then the new Security Hub's, 100 a call.
  for (const format of [false, true]) {
    const ofFormat = copies.filter(({ copy }) => Boolean(copy.ocsf) === format).map(({ copy }) => copy);
    for (const part of chunk(ofFormat, MAX_IDENTIFIERS_PER_UPDATE)) {
      failed.push(...(await updateWithRetries(part, input, ports)));
    }
  }
  const failedCopies = new Set(failed.map(({ copy }) => copyKey(copy)));
  const marked = copies.filter(({ copy }) => !failedCopies.has(copyKey(copy)));
  if (input.delivery.mode !== 'suppress') await recordOutcome(input.delivery, marked, failed, ports);
  const errors: Record<string, number> = {};
  for (const { code } of failed) errors[code] = (errors[code] ?? 0) + 1;
  if (failed.length > 0)
    ports.log.warn('findings not marked', { deliveryKey: input.delivery.deliveryKey, errors });
  return { marked: marked.length, unprocessed: failed.length, errors };
}

/** One call, then the retryable unprocessed copies again after each delay. */
async function updateWithRetries(
  part: FindingCopyRef[],
  input: MarkFindingsInput,
  ports: MarkFindingsPorts,
): Promise<Unprocessed[]> {
  const change = { status: input.status, note: input.note };
  let unprocessed = await ports.securityHub.update(part, change);
  for (const delay of ports.retryDelaysMs) {
    const retryable = unprocessed.filter((entry) => RETRYABLE_UNPROCESSED.has(entry.code));
    if (retryable.length === 0) break;
    await ports.sleep(delay);
    const again = await ports.securityHub.update(
      retryable.map((entry) => entry.copy),
      change,
    );
    unprocessed = [...unprocessed.filter((entry) => !RETRYABLE_UNPROCESSED.has(entry.code)), ...again];
  }
  return unprocessed;
}

/**
 * NOTIFIED for what was marked, each copy recorded (and the delivery's own item once all of it was);
 * why, for the rest. A storm delivery marked whole is recorded once, on its group (its members
 * were ledgered with the copies it marks); member by member when the group has no room left.
 */
async function recordOutcome(
  delivery: WorkflowItem,
  marked: ReadonlyArray<{ key: string; copy: FindingCopyRef }>,
  failed: Unprocessed[],
  ports: MarkFindingsPorts,
) {
  const ledgeredWithIt = delivery.mode === 'new' || delivery.mode === 'append';
  if (failed.length === 0 && ledgeredWithIt && 'group' in delivery && delivery.group) {
    const keys = [...new Set(marked.map(({ key }) => key))];
    if (await ports.ledger.recordDeliveryMarked(delivery.deliveryKey, delivery.deliveryId, keys)) return;
  }
  const own = failed.length === 0 && delivery.mode !== 'mark' ? [{ key: delivery.deliveryKey }] : [];
  await ports.ledger.recordMarked([
    ...marked.map(({ key, copy }) => ({
      key,
      copy: copyKey(copy),
      ...(copy.ocsf ? { ocsfUid: copy.ocsf.metadataUid } : {}),
    })),
    ...own,
  ]);
  const byCode = new Map<string, string[]>();
  for (const entry of failed) {
    const text = `${entry.code}: ${entry.message ?? 'not updated'}`;
    byCode.set(text, [...(byCode.get(text) ?? []), memberKey(entry.copy)]);
  }
  for (const [error, keys] of byCode) await ports.ledger.recordMarkFailure(keys, error);
}
