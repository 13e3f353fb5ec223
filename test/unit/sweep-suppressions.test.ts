import { describe, expect, it } from 'vitest';
import type { FindingCopyRef, SweepLedger } from '../../src/app/ports.js';
import { sweepDays, sweepSuppressions } from '../../src/app/sweep-suppressions.js';
import type { FindingItem } from '../../src/domain/delivery/ledger-items.js';
import type { FindingState } from '../../src/domain/delivery/tracker-lifecycle.js';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const item = (id: string, extra: Partial<FindingItem>): FindingItem => ({
  findingKey: `arn:aws:securityhub:us-east-1::product/aws/guardduty|${id}`,
  status: 'NOTIFIED',
  ...extra,
});

describe('sweepDays', () => {
  it('looks back the given days, today last, in UTC', () => {
    expect(sweepDays(new Date('2030-03-01T23:59:00Z'), 2)).toEqual([
      '2030-02-27',
      '2030-02-28',
      '2030-03-01',
    ]);
    expect(sweepDays(new Date('2030-03-01T00:00:00Z'), 0)).toEqual(['2030-03-01']);
  });
});

describe('sweepSuppressions', () => {
  it('sets back only what is still suppressed until that day, in the ledger and in Security Hub; clears the day', async () => {
    const due = item('due', {
      lifecycle: 'suppressed',
      suppressedUntil: '2030-03-01',
      closedBy: 'Alice',
      ocsfUids: new Set(['uid-1']),
    });
    const reopened = item('reopened', { lifecycle: 'open' });
    const later = item('later', { lifecycle: 'suppressed', suppressedUntil: '2030-04-01' });
    const resolvedThere = item('resolved-there', { lifecycle: 'suppressed', suppressedUntil: '2030-03-01' });
    const items = [due, reopened, later, resolvedThere];
    const cleared: Array<[string, readonly string[]]> = [];
    const ledger: SweepLedger = {
      dueSuppressions: async (day) => (day === '2030-03-01' ? items.map((i) => i.findingKey) : []),
      getMany: async (keys) =>
        new Map(items.filter((i) => keys.includes(i.findingKey)).map((i) => [i.findingKey, i])),
      clearSuppressionExpiry: async (day, keys) => void cleared.push([day, keys]),
    };
    const updates: Array<{ copies: readonly FindingCopyRef[]; status: string; note: string }> = [];
    const state = (i: FindingItem, workflowStatus: string): FindingState => ({
      identifier: {
        Id: i.findingKey.split('|')[1] as string,
        ProductArn: i.findingKey.split('|')[0] as string,
      },
      workflowStatus,
      label: 'x',
    });

    const result = await sweepSuppressions({
      ledger,
      reader: {
        read: async () => [state(due, 'SUPPRESSED'), state(resolvedThere, 'RESOLVED')],
        readOcsf: async () => [],
      },
      updater: {
        update: async (copies, change) => {
          updates.push({ copies, ...change });
          return [];
        },
      },
      clock: { now: () => new Date('2030-03-01T05:00:00Z') },
      log,
      lookBackDays: 3,
    });

    expect(result).toEqual({
      reopened: [due.findingKey],
      skipped: [reopened.findingKey, later.findingKey, resolvedThere.findingKey],
    });
    expect(updates).toEqual([
      {
        copies: [
          { identifier: { Id: 'due', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' } },
          {
            identifier: { Id: 'due', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' },
            ocsf: { metadataUid: 'uid-1' },
          },
        ],
        status: 'NEW',
        note: 'The suppression from Slack by Alice expired on 2030-03-01: set back to NEW by securityhub-notifier.',
      },
    ]);
    expect(cleared).toEqual([['2030-03-01', items.map((i) => i.findingKey)]]);
  });
});
