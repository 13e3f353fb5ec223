import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestLedgerStore } from '../../src/adapters/digest-ledger.js';
import { Ledger } from '../../src/adapters/ledger.js';
import { type LedgerTables, startLedgerTables } from '../helpers/ledger-tables.js';

/**
 * The ledger as the digest reads it, written by the Ledger's own methods (as the workflow and the
 * Backlog worker write it), on dynalite over HTTP: the open issues of the `byDay` index as issues
 * are filed, closed and reopened, single findings and storm groups; the last digest.
 */

let dynamo: LedgerTables;
beforeAll(async () => {
  dynamo = await startLedgerTables();
});
afterAll(() => dynamo.close());

async function freshLedger() {
  const table = await dynamo.freshTable('digest-ledger');
  return { ledger: new Ledger(dynamo.client, table), digest: new DigestLedgerStore(dynamo.client, table) };
}

const issue = (n: number) => ({ key: `SEC-${n}`, url: `https://example.backlog.com/view/SEC-${n}`, id: n });
const passed = { kind: 'passed' as const, at: '2030-01-03T00:00:00Z' };
const openKeys = async (store: DigestLedgerStore) => (await store.openIssues()).map((i) => i.key).sort();

describe('the open issues the digest reads', () => {
  it('follow a single finding filed, closed and reopened', async () => {
    const { ledger, digest } = await freshLedger();
    const key = 'arn:aws:securityhub:us-east-1::product/aws/securityhub|finding-1';

    await ledger.recordIssue(key, issue(1));
    const filed = await digest.openIssues();
    await ledger.recordClosed([key], passed, key);
    const closed = await openKeys(digest);
    await ledger.recordReopenedBy([key], { issueKey: 'SEC-1', by: 'bob', why: 'reopened in Backlog' });

    expect(filed).toEqual([
      expect.objectContaining({ key: 'SEC-1', item: key, url: 'https://example.backlog.com/view/SEC-1' }),
    ]);
    expect(closed).toEqual([]);
    expect(await openKeys(digest)).toEqual(['SEC-1']);
  });

  it('leave out a storm group whose findings were all closed in Backlog (its own item is not), and list it again when one reopens', async () => {
    const { ledger, digest } = await freshLedger();
    const group = 'group|control|S3.8|123456789012';
    const members = [1, 2, 3].map((n) => `arn:aws:securityhub:us-east-1::product/aws/securityhub|storm-${n}`);
    await ledger.recordIssue(group, issue(7));
    await ledger.recordMembers(
      members.map((key) => ({ key, updatedAt: '2030-01-01T00:00:00Z', copies: [key], ocsfUids: [] })),
      {
        issueKey: 'SEC-7',
        issueUrl: 'u',
        slackChannel: 'C1',
        slackTs: '1.1',
        deliveryKey: group,
        announcedBy: 'd1',
        complete: true,
      },
    );
    const open = await openKeys(digest);

    await ledger.recordClosed(members, { ...passed, kind: 'suppressed', by: 'alice (Backlog SEC-7)' }, group);
    const closedInBacklog = await openKeys(digest);
    await ledger.recordReopenedBy([members[0] as string], { issueKey: 'SEC-7', by: 'bob', why: 'reopened' });

    expect(open).toEqual(['SEC-7']);
    expect(closedInBacklog).toEqual([]);
    expect(await openKeys(digest)).toEqual(['SEC-7']);
  });

  it('never lists a storm member, and carries what issue 14 records (severity, due date)', async () => {
    const { ledger, digest } = await freshLedger();
    const group = 'group|control|S3.1|123456789012';
    const member = 'arn:aws:securityhub:us-east-1::product/aws/securityhub|member';
    await ledger.recordIssue(group, issue(9));
    await ledger.recordMembers(
      [{ key: member, updatedAt: '2030-01-01T00:00:00Z', copies: [member], ocsfUids: [] }],
      {
        issueKey: 'SEC-9',
        deliveryKey: group,
        announcedBy: 'd1',
        complete: true,
      },
    );
    await ledger.recordReopen(member, '2030-02-01T00:00:00Z', group);

    const open = await digest.openIssues();

    expect(open.map((i) => i.item)).toEqual([group]);
    expect(open[0]?.severity).toBeUndefined();
  });
});

describe('the last digest', () => {
  it('is what was recorded last; an older run never overwrites a newer one', async () => {
    const { digest } = await freshLedger();
    const record = (at: string, run: string) => ({
      at,
      run,
      counts: { '111111111111': [1, 2, 3, 4, 5] },
      suppressed: 2,
    });

    const none = await digest.lastDigest();
    await digest.recordDigest(record('2030-01-08T00:00:00.000Z', 'day-2'));
    await digest.recordDigest(record('2030-01-07T00:00:00.000Z', 'day-1 retried late'));

    expect(none).toBeUndefined();
    expect(await digest.lastDigest()).toEqual(record('2030-01-08T00:00:00.000Z', 'day-2'));
  });

  it('lists the events after it, by day, up to now', async () => {
    const { ledger, digest } = await freshLedger();
    const before = new Date();
    await ledger.recordEvents([{ kind: 'closed', finding: 'arn:x|1', detail: { because: 'fixed' } }]);
    const after = new Date();

    const events = await digest.eventsBetween(new Date(before.getTime() - 1), after);
    const none = await digest.eventsBetween(after, new Date(after.getTime() + 1000));

    expect(events).toEqual([
      expect.objectContaining({ kind: 'closed', finding: 'arn:x|1', detail: { because: 'fixed' } }),
    ]);
    expect(none).toEqual([]);
  });

  it('carry a suppression from Slack with who, the reason and until when', async () => {
    const { ledger, digest } = await freshLedger();
    const key = 'arn:aws:securityhub:us-east-1::product/aws/guardduty|finding-9';
    await ledger.recordIssue(key, issue(9));
    const before = new Date();

    await ledger.recordClosed(
      [key],
      {
        kind: 'suppressed',
        at: '2030-01-03T00:00:00Z',
        by: 'Alice',
        via: 'Slack',
        note: 'lab host',
        until: '2030-02-01',
      },
      key,
    );

    const [event] = await digest.eventsBetween(new Date(before.getTime() - 1), new Date(Date.now() + 1000));
    expect(event).toMatchObject({
      kind: 'suppressed',
      finding: key,
      detail: { by: 'Alice', note: 'lab host', until: '2030-02-01' },
    });
    expect(String(event?.detail.because)).toContain('suppressed from Slack by Alice');
  });
});
