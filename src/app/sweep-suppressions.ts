import { type FindingItem, identifierOfKey } from '../domain/delivery/ledger-items.js';
import { expiredNote } from '../domain/delivery/slack-action-audit.js';
import { findingKey } from '../domain/finding/finding.js';
import type { Clock, FindingsReader, FindingsUpdater, Log, SweepLedger } from './ports.js';
import { updateFindingCopies } from './update-findings.js';

export interface SweepPorts {
  ledger: SweepLedger;
  reader: FindingsReader;
  updater: FindingsUpdater;
  clock: Clock;
  log: Log;
  /** How many days before today are looked at again (default 14). */
  lookBackDays?: number;
}

export interface SweepResult {
  /** Set back to NEW. */
  reopened: string[];
  /** Due, but no longer suppressed (reopened, resolved or changed in Security Hub meanwhile): left as they are. */
  skipped: string[];
}

const DAY_MS = 86_400_000;
/** The days to look at, oldest first, today last (YYYY-MM-DD, UTC). */
export function sweepDays(now: Date, lookBackDays: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: lookBackDays + 1 }, (_, index) =>
    new Date(today - (lookBackDays - index) * DAY_MS).toISOString().slice(0, 10),
  );
}

export async function sweepSuppressions(ports: SweepPorts): Promise<SweepResult> {
  const result: SweepResult = { reopened: [], skipped: [] };
  for (const day of sweepDays(ports.clock.now(), ports.lookBackDays ?? 14)) {
    const keys = await ports.ledger.dueSuppressions(day);
    if (keys.length === 0) continue;
    const { reopened, skipped } = await sweepDay(day, keys, ports);
    await ports.ledger.clearSuppressionExpiry(day, keys);
    result.reopened.push(...reopened);
    result.skipped.push(...skipped);
  }
  if (result.reopened.length + result.skipped.length > 0) ports.log.info('suppressions swept', { ...result });
  return result;
}

/** One day's findings: those still suppressed (ledger and Security Hub) set back to NEW. */
async function sweepDay(day: string, keys: readonly string[], ports: SweepPorts): Promise<SweepResult> {
  const items = await ports.ledger.getMany(keys);
  const due = [...items.values()].filter(
    (item) =>
      item.lifecycle === 'suppressed' && item.suppressedUntil === day && identifierOfKey(item.findingKey),
  );
  const states = await ports.reader.read(
    due.map((item) => identifierOfKey(item.findingKey) as { Id: string; ProductArn: string }),
  );
  const workflow = new Map(states.map((state) => [findingKey(state.identifier), state.workflowStatus]));
  // A finding CSPM does not hold (the new Security Hub's only) is set back all the same.
  const still = due.filter((item) => (workflow.get(item.findingKey) ?? 'SUPPRESSED') === 'SUPPRESSED');
  for (const [by, group] of byWhom(still)) {
    await updateFindingCopies(group, { status: 'NEW', note: expiredNote(day, by) }, ports);
  }
  const reopened = still.map((item) => item.findingKey);
  return { reopened, skipped: keys.filter((key) => !reopened.includes(key)) };
}

/** The findings by who suppressed them (one note each). */
function byWhom(items: readonly FindingItem[]): Map<string | undefined, FindingItem[]> {
  const groups = new Map<string | undefined, FindingItem[]>();
  for (const item of items) groups.set(item.closedBy, [...(groups.get(item.closedBy) ?? []), item]);
  return groups;
}
