/**
 * Use case: mark the findings of a delivery in Security Hub (NOTIFIED with a note naming where they
 * were delivered; SUPPRESSED with the rule's note), at most 100 a call. Identifiers Security Hub
 * could not update for a passing reason (ConcurrentUpdateError, InternalFailure) are tried again a
 * few times; those it still could not update are recorded in the ledger with why, and reported,
 * so the workflow fails the execution (an alarm) and the next event of each marks it again.
 */
import { chunk, memberKey, type WorkflowItem } from '../domain/delivery/delivery.js';
import type { Clock, FindingsUpdater, Log, MarkLedger } from './ports.js';

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

/** The BatchUpdateFindings limit. */
export const MAX_IDENTIFIERS_PER_UPDATE = 100;
const RETRYABLE = new Set([
  'ConcurrentUpdateError',
  'InternalFailure',
  'InternalServerException',
  'ConflictException',
]);

type Identifier = { Id: string; ProductArn: string };
type Unprocessed = { identifier: Identifier; code: string; message?: string };

export async function markFindings(input: MarkFindingsInput, ports: MarkFindingsPorts): Promise<MarkResult> {
  const identifiers = input.delivery.members.map((member) => member.identifier);
  const failed: Unprocessed[] = [];
  for (const part of chunk(identifiers, MAX_IDENTIFIERS_PER_UPDATE)) {
    failed.push(...(await updateWithRetries(part, input, ports)));
  }
  const failedKeys = new Set(failed.map((entry) => memberKey(entry)));
  const markedKeys = identifiers
    .map((identifier) => memberKey({ identifier }))
    .filter((key) => !failedKeys.has(key));
  if (input.delivery.mode !== 'suppress') await recordOutcome(input.delivery, markedKeys, failed, ports);
  const errors: Record<string, number> = {};
  for (const { code } of failed) errors[code] = (errors[code] ?? 0) + 1;
  if (failed.length > 0)
    ports.log.warn('findings not marked', { deliveryKey: input.delivery.deliveryKey, errors });
  return { marked: markedKeys.length, unprocessed: failed.length, errors };
}

/** One call, then the retryable unprocessed identifiers again after each delay. */
async function updateWithRetries(
  part: Identifier[],
  input: MarkFindingsInput,
  ports: MarkFindingsPorts,
): Promise<Unprocessed[]> {
  const change = { status: input.status, note: input.note };
  let unprocessed = await ports.securityHub.update(part, change);
  for (const delay of ports.retryDelaysMs) {
    const retryable = unprocessed.filter((entry) => RETRYABLE.has(entry.code));
    if (retryable.length === 0) break;
    await ports.sleep(delay);
    const again = await ports.securityHub.update(
      retryable.map((entry) => entry.identifier),
      change,
    );
    unprocessed = [...unprocessed.filter((entry) => !RETRYABLE.has(entry.code)), ...again];
  }
  return unprocessed;
}

/** NOTIFIED for what was marked (and the delivery's own item once all of it was); why, for the rest. */
async function recordOutcome(
  delivery: WorkflowItem,
  marked: string[],
  failed: Unprocessed[],
  ports: MarkFindingsPorts,
) {
  const own = failed.length === 0 && delivery.mode !== 'mark' ? [delivery.deliveryKey] : [];
  await ports.ledger.recordMarked([...new Set([...marked, ...own])]);
  const byCode = new Map<string, string[]>();
  for (const entry of failed) {
    const text = `${entry.code}: ${entry.message ?? 'not updated'}`;
    byCode.set(text, [...(byCode.get(text) ?? []), memberKey(entry)]);
  }
  for (const [error, keys] of byCode) await ports.ledger.recordMarkFailure(keys, error);
}
