import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestLedgerStore } from '../../src/adapters/digest-ledger.js';
import {
  Ledger,
  MAX_ANNOUNCED_IN_MAP,
  MAX_ANNOUNCING_DELIVERIES,
  MAX_MARKED_DELIVERIES,
} from '../../src/adapters/ledger.js';
import type { LedgeredMember, MemberRecord } from '../../src/app/ports.js';
import type { GroupItem } from '../../src/domain/delivery/ledger-items.js';
import { type LedgerTables, startLedgerTables } from '../helpers/ledger-tables.js';

/**
 * A storm group's members in the ledger, on dynalite over HTTP: announced once per group whatever
 * the concurrency (one versioned write per delivery to the group's announcement map, one write per
 * member past its cap or for a group from before it), and marked a delivery at a time (one write
 * to the group, the members read as NOTIFIED with the copies it marked).
 */

let dynamo: LedgerTables;
beforeAll(async () => {
  dynamo = await startLedgerTables();
});
afterAll(() => dynamo.close());

async function freshLedgerTable(options: ConstructorParameters<typeof Ledger>[2] = {}) {
  const table = await dynamo.freshTable('ledger-groups');
  return { ledger: new Ledger(dynamo.client, table, options), table };
}
const freshLedger = async (options: ConstructorParameters<typeof Ledger>[2] = {}) =>
  (await freshLedgerTable(options)).ledger;

const GROUP = 'group|123456789012|S3.8|default';
const memberKeys = (from: number, to: number) =>
  Array.from(
    { length: to - from },
    (_, i) => `arn:aws:securityhub:us-east-1::product/aws/securityhub|m-${from + i}`,
  );

/** A group opened (as dispatch opens it), its opening delivered (status MARK_PENDING). */
async function openedGroup(ledger: Ledger): Promise<void> {
  expect(await ledger.openGroup(GROUP, 'opener', 10)).toBe(true);
  await ledger.recordSlack(GROUP, { channel: 'C1', ts: '1.1' }, '2030-01-01T00:00:00Z', true);
}

const ledgered = (keys: readonly string[], uid?: string): LedgeredMember[] =>
  keys.map((key) => ({
    key,
    updatedAt: '2030-01-01T00:00:00Z',
    copies: uid ? [key, `${key}#ocsf`] : [key],
    ocsfUids: uid ? [`${uid}-${key.slice(-4)}`] : [],
  }));
const where = (announcedBy: string): MemberRecord => ({
  deliveryKey: GROUP,
  announcedBy,
  issueKey: 'SEC-1',
  slackChannel: 'C1',
  slackTs: '1.1',
  complete: true,
});

describe('announcing storm members', () => {
  it('gives each member of racing deliveries to exactly one of them', async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    const keys = memberKeys(0, 60);
    const claimants = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];

    // Each delivery holds 30 of the 60 members, overlapping its neighbours.
    const won = await Promise.all(
      claimants.map((id, i) => ledger.claimMembers(GROUP, id, keys.slice(i * 6, i * 6 + 30), [])),
    );

    const announcedBy = new Map<string, string[]>();
    won.forEach((set, i) => {
      for (const key of set) announcedBy.set(key, [...(announcedBy.get(key) ?? []), claimants[i] as string]);
    });
    expect([...announcedBy.values()].filter((by) => by.length !== 1)).toEqual([]);
    expect(announcedBy.size).toBe(keys.slice(0, 60).length);
  });

  it('answers a delivery again with what it got (its Backlog and Slack tasks both ask), writing nothing', async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    const first = await ledger.claimMembers(GROUP, 'd1', memberKeys(0, 10), []);
    const other = await ledger.claimMembers(GROUP, 'd2', memberKeys(5, 15), []);
    const before = (await ledger.get(GROUP)) as GroupItem;

    const again = await ledger.claimMembers(GROUP, 'd1', memberKeys(0, 10), []);

    expect([...again].sort()).toEqual([...first].sort());
    expect(first.size).toBe(10);
    expect([...other].sort()).toEqual(memberKeys(10, 15).sort());
    expect(((await ledger.get(GROUP)) as GroupItem).announceVersion).toBe(before.announceVersion);
  });

  it("lets a delivery take over the members of one recorded as failed, and nobody else's", async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    await ledger.claimMembers(GROUP, 'failed', memberKeys(0, 5), []);
    await ledger.claimMembers(GROUP, 'live', memberKeys(5, 10), []);

    const won = await ledger.claimMembers(GROUP, 'retry', memberKeys(0, 10), ['failed']);

    expect([...won].sort()).toEqual(memberKeys(0, 5).sort());
  });

  it('claims one by one past the cap of the map, still once per member, the map kept', async () => {
    const ledger = await freshLedger({ announceMapCap: 8 });
    await openedGroup(ledger);
    const inMap = await ledger.claimMembers(GROUP, 'd1', memberKeys(0, 6), []);

    const [a, b] = await Promise.all([
      ledger.claimMembers(GROUP, 'd2', memberKeys(3, 12), []),
      ledger.claimMembers(GROUP, 'd3', memberKeys(3, 12), []),
    ]);

    const group = (await ledger.get(GROUP)) as GroupItem;
    expect(inMap.size).toBe(6);
    expect(group.announceFull).toBe(true);
    expect([...a, ...b].sort()).toEqual(memberKeys(6, 12).sort());
    expect(Object.keys(group.announced ?? {})).toEqual(['d1']);
  });

  it('claims one by one once the map holds as many deliveries as it may (a long trickle of small batches)', async () => {
    const ledger = await freshLedger({ announcingDeliveriesCap: 2 });
    await openedGroup(ledger);
    await ledger.claimMembers(GROUP, 'd1', memberKeys(0, 2), []);
    await ledger.claimMembers(GROUP, 'd2', memberKeys(2, 4), []);

    const third = await ledger.claimMembers(GROUP, 'd3', memberKeys(3, 6), []);

    const group = (await ledger.get(GROUP)) as GroupItem;
    expect([...third].sort()).toEqual(memberKeys(4, 6).sort());
    expect(group.announceFull).toBe(true);
    expect(Object.keys(group.announced ?? {}).sort()).toEqual(['d1', 'd2']);
  });

  it('claims one by one in a group opened before the map (members counted, no map)', async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    await ledger.touchGroup(GROUP, 3);
    await ledger.recordMembers(ledgered(memberKeys(0, 3)), where('old-opening'));

    const won = await ledger.claimMembers(GROUP, 'd1', memberKeys(0, 6), []);

    expect([...won].sort()).toEqual(memberKeys(3, 6).sort());
    expect(((await ledger.get(GROUP)) as GroupItem).announced).toBeUndefined();
  });

  it(`fills the map to ${MAX_ANNOUNCED_IN_MAP.toLocaleString('en')} members, then claims one by one`, async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    const perDelivery = 1_500;
    for (let d = 0; d < MAX_ANNOUNCED_IN_MAP / perDelivery; d++) {
      const won = await ledger.claimMembers(
        GROUP,
        `d${d}`,
        memberKeys(d * perDelivery, (d + 1) * perDelivery),
        [],
      );
      expect(won.size).toBe(perDelivery);
    }

    const next = await ledger.claimMembers(
      GROUP,
      'one-more',
      memberKeys(MAX_ANNOUNCED_IN_MAP, MAX_ANNOUNCED_IN_MAP + 3),
      [],
    );

    expect(next.size).toBe(3);
    expect(((await ledger.get(GROUP)) as GroupItem).announceFull).toBe(true);
  });

  it("keeps a group item at its caps within DynamoDB's 400 KB item limit", async () => {
    const { ledger, table } = await freshLedgerTable();
    await openedGroup(ledger);
    // The most a group item holds: the map at both its caps (member hashes spread over the most
    // deliveries, each a 16-character id), and the most marked deliveries (ids of split parts).
    const id = (n: number, suffix = '') => `${n.toString(16).padStart(16, '0')}${suffix}`;
    const perEntry = MAX_ANNOUNCED_IN_MAP / MAX_ANNOUNCING_DELIVERIES;
    const announced = Object.fromEntries(
      Array.from({ length: MAX_ANNOUNCING_DELIVERIES }, (_, n) => [id(n), 'h'.repeat(11 * perEntry)]),
    );
    const marked = new Set(Array.from({ length: MAX_MARKED_DELIVERIES }, (_, n) => id(n, '-99')));

    const write = dynamo.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { findingKey: { S: GROUP } },
        UpdateExpression: 'SET announced = :map, announceVersion = :v, markedDeliveries = :marked',
        ExpressionAttributeValues: marshall(
          { ':map': announced, ':v': MAX_ANNOUNCING_DELIVERIES, ':marked': marked },
          { convertClassInstanceToMap: true },
        ),
      }),
    );

    await expect(write).resolves.toBeDefined();
  });

  it('does not count a member announced by another delivery, or one reopened since', async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    const [mine, theirs, reopened] = memberKeys(0, 3) as [string, string, string];
    await ledger.recordMembers(ledgered([mine, reopened]), where('d1'));
    await ledger.recordMembers(ledgered([theirs]), where('d2'));
    await ledger.recordDeliveryMarked(GROUP, 'd1', [mine, theirs, reopened]);

    await ledger.recordReopen(reopened, '2030-02-01T00:00:00Z', GROUP);

    const items = await ledger.getMany([mine, theirs, reopened]);
    expect(items.get(mine)?.status).toBe('NOTIFIED');
    expect(items.get(theirs)?.status).toBe('MARK_PENDING');
    expect(items.get(reopened)?.status).toBe('MARK_PENDING');
  });

  it("keeps the copies its delivery marked when the other Security Hub's twin is marked later", async () => {
    const ledger = await freshLedger();
    await openedGroup(ledger);
    const [member] = memberKeys(0, 1) as [string];
    const twin = `${member.replace('securityhub|', 'securityhub-v2|')}`;
    await ledger.recordMembers(ledgered([member]), where('d1'));
    await ledger.recordDeliveryMarked(GROUP, 'd1', [member]);

    await ledger.recordMarked([{ key: member, copy: twin, ocsfUid: 'uid-twin' }]);

    const item = await ledger.get(member);
    expect(item?.status).toBe('NOTIFIED');
    expect([...(item?.markedCopies ?? [])].sort()).toEqual([member, twin].sort());
    expect([...(item?.ocsfUids ?? [])]).toEqual(['uid-twin']);
  });

  it('refuses a delivery once the group records as many marked deliveries as it may, a retried one still counts', async () => {
    const ledger = await freshLedger({ markedDeliveriesCap: 1 });
    await openedGroup(ledger);
    await ledger.recordMembers(ledgered(memberKeys(0, 2)), where('d1'));
    await ledger.recordMembers(ledgered(memberKeys(2, 4)), where('d2'));

    const first = await ledger.recordDeliveryMarked(GROUP, 'd1', memberKeys(0, 2));
    const again = await ledger.recordDeliveryMarked(GROUP, 'd1', memberKeys(0, 2));
    const second = await ledger.recordDeliveryMarked(GROUP, 'd2', memberKeys(2, 4));

    expect([first, again, second]).toEqual([true, true, false]);
    const items = await ledger.getMany(memberKeys(0, 4));
    expect(memberKeys(0, 4).map((key) => items.get(key)?.status)).toEqual([
      'NOTIFIED',
      'NOTIFIED',
      'MARK_PENDING',
      'MARK_PENDING',
    ]);
  });

  it('records each member notified once for the digest (one event item a delivery), however often the mark is recorded', async () => {
    const { ledger, table } = await freshLedgerTable();
    await openedGroup(ledger);
    const keys = memberKeys(0, 5);
    await ledger.claimMembers(GROUP, 'd1', keys.slice(0, 3), []);
    await ledger.recordMembers(ledgered(keys.slice(0, 3)), where('d1'));
    // Recorded without a claim in the map (a redelivery that completes the opening): read back.
    await ledger.recordMembers(ledgered(keys.slice(3)), where('d2'));

    await ledger.recordDeliveryMarked(GROUP, 'd1', keys);
    await ledger.recordDeliveryMarked(GROUP, 'd1', keys);
    await ledger.recordDeliveryMarked(GROUP, 'd2', keys.slice(3));
    await ledger.recordDeliveryMarked(GROUP, 'd2', keys.slice(3));

    const events = await new DigestLedgerStore(dynamo.client, table).eventsBetween(
      new Date(Date.now() - 3_600_000),
      new Date(Date.now() + 1_000),
    );
    const notified = events.filter((event) => event.kind === 'notified').map((event) => event.finding);
    expect(notified.sort()).toEqual([...keys].sort());
  });
});
