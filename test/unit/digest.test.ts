import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/policy-file.js';
import {
  type CountsSnapshot,
  countsFromGroups,
  insightSpecs,
  type SeverityCounts,
  statisticsRules,
} from '../../src/domain/digest/counts.js';
import {
  buildDigest,
  type DigestEventRecord,
  type DigestInput,
  dateIn,
  forAccounts,
  type OpenIssue,
  type StoredDigest,
  storedDigest,
} from '../../src/domain/digest/digest.js';
import { buildDigestMessage } from '../../src/domain/digest/digest-message.js';
import { countCell, digestTable, tableText } from '../../src/domain/digest/digest-table.js';
import { renderDigestText } from '../../src/domain/digest/digest-text.js';
import { digestTargets } from '../../src/domain/digest/targets.js';
import { validateBlocks } from '../../src/local/emulators/slack-emulator.js';
import { attachmentProblems } from '../../src/local/emulators/slack-table.js';
import { SLACK_CONTROLS } from '../helpers/hostile.js';

const counts = (c: number, h = 0, m = 0, l = 0, i = 0): SeverityCounts => ({
  CRITICAL: c,
  HIGH: h,
  MEDIUM: m,
  LOW: l,
  INFORMATIONAL: i,
});
const snapshot = (rows: Record<string, SeverityCounts>, suppressed = 0): CountsSnapshot => ({
  source: 'insights',
  byAccount: new Map(Object.entries(rows)),
  suppressed: new Map(suppressed ? [['111111111111', suppressed]] : []),
});
const AT = new Date('2030-01-08T00:00:00Z');
const input = (overrides: Partial<DigestInput> = {}): DigestInput => ({
  snapshot: snapshot({}),
  events: [],
  issues: new Map(),
  openIssues: [],
  accountNames: {},
  homeRegion: 'ap-northeast-1',
  at: AT,
  today: '2030-01-08',
  oldestCount: 10,
  ...overrides,
});
const LAYOUT = { maxAccounts: 25, listItems: 10, timeZone: 'Asia/Tokyo' };

describe('what the digest asks Security Hub', () => {
  it('counts active, unresolved findings: record ACTIVE, workflow NEW or NOTIFIED, compliance not PASSED', () => {
    const [critical, , , , , suppressed] = insightSpecs();
    expect(critical).toEqual({
      subject: 'CRITICAL',
      Name: 'securityhub-notifier digest: active CRITICAL findings by account',
      GroupByAttribute: 'AwsAccountId',
      Filters: {
        RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
        WorkflowStatus: [
          { Value: 'NEW', Comparison: 'EQUALS' },
          { Value: 'NOTIFIED', Comparison: 'EQUALS' },
        ],
        ComplianceStatus: [{ Value: 'PASSED', Comparison: 'NOT_EQUALS' }],
        SeverityLabel: [{ Value: 'CRITICAL', Comparison: 'EQUALS' }],
      },
    });
    expect(suppressed?.Filters).toEqual({
      RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
      WorkflowStatus: [{ Value: 'SUPPRESSED', Comparison: 'EQUALS' }],
    });
  });

  it('asks the new Security Hub the same, with Fatal counted as CRITICAL, grouped by account', () => {
    const [critical] = statisticsRules();
    expect(critical?.GroupByField).toBe('cloud.account.uid');
    expect(JSON.stringify(critical?.Filters)).toContain('"Fatal"');
    expect(JSON.stringify(critical?.Filters)).toContain('"In Progress"');
    expect(statisticsRules()).toHaveLength(6);
  });

  it('merges the per-severity answers into per-account counts, ignoring empty groups', () => {
    const merged = countsFromGroups([
      { severity: 'CRITICAL', values: [{ value: 'a', count: 2 }] },
      {
        severity: 'LOW',
        values: [
          { value: 'a', count: 1 },
          { value: 'b', count: 4 },
          { value: '', count: 9 },
        ],
      },
    ]);
    expect(Object.fromEntries(merged)).toEqual({ a: counts(2, 0, 0, 1), b: counts(0, 0, 0, 4) });
  });
});

describe('the digest model', () => {
  it('sorts accounts worst first and names them as messages do', () => {
    const digest = buildDigest(
      input({
        snapshot: snapshot({
          '111111111111': counts(0, 5, 9),
          '222222222222': counts(1),
          '333333333333': counts(0, 5, 10),
        }),
        accountNames: { '222222222222': 'prod' },
      }),
    );
    expect(digest.rows.map((row) => row.label.full)).toEqual([
      'prod (222222222222)',
      '333333333333',
      '111111111111',
    ]);
    expect(digest.total).toEqual({ counts: counts(1, 10, 19), accounts: 3 });
  });

  it('shows the change of every account and of the total since the previous digest', () => {
    const previous: StoredDigest = {
      at: '2030-01-07T00:00:00Z',
      run: 'r0',
      counts: { '111111111111': [1, 2, 3, 4, 5], '999999999999': [0, 1, 0, 0, 0] },
      suppressed: 4,
    };
    const digest = buildDigest(
      input({
        snapshot: snapshot({ '111111111111': counts(2, 2, 1), '222222222222': counts(0, 0, 1) }, 6),
        previous,
      }),
    );
    expect(digest.rows.map((row) => row.change)).toEqual([counts(1, 0, -2, -4, -5), counts(0, 0, 1)]);
    expect(digest.total.change).toEqual(counts(1, -1, -1, -4, -5));
    expect(digest.suppressed).toEqual({ total: 6, change: 2 });
    expect(digest.since).toBe('2030-01-07T00:00:00Z');
    expect(storedDigest(digest, snapshot({ '111111111111': counts(2, 2, 1) }), 'r1').counts).toEqual({
      '111111111111': [2, 2, 1, 0, 0],
    });
  });

  it('lists the oldest open CRITICAL and HIGH issues with their age, and the issues past due in the time zone', () => {
    const issue = (key: string, severity: string, filedAt: string, dueDate?: string): OpenIssue => ({
      item: `arn:${key}`,
      key,
      severity,
      filedAt,
      ...(dueDate ? { dueDate } : {}),
    });
    const digest = buildDigest(
      input({
        openIssues: [
          issue('SEC-3', 'HIGH', '2030-01-05T00:00:00Z', '2030-01-09'),
          issue('SEC-1', 'CRITICAL', '2030-01-01T12:00:00Z', '2030-01-04'),
          issue('SEC-2', 'MEDIUM', '2029-12-01T00:00:00Z', '2030-01-07'),
          issue('SEC-4', 'LOW', '2029-11-01T00:00:00Z'),
        ],
        today: dateIn(new Date('2030-01-07T16:00:00Z'), 'Asia/Tokyo'),
      }),
    );
    expect(digest.oldestOpen.map((i) => [i.key, i.ageDays])).toEqual([
      ['SEC-1', 6],
      ['SEC-3', 3],
    ]);
    // 16:00 UTC is already the 8th in Tokyo: SEC-2, due the 7th, is one day late.
    expect(digest.overdue.map((i) => [i.key, i.daysLate])).toEqual([
      ['SEC-1', 4],
      ['SEC-2', 1],
    ]);
  });

  it('folds events into one line per issue and reason, counting the findings', () => {
    const event = (kind: DigestEventRecord['kind'], finding: string, detail: Record<string, string>) => ({
      kind,
      finding,
      at: '2030-01-07T10:00:00Z',
      detail,
    });
    const digest = buildDigest(
      input({
        events: [
          event('notified', 'arn:a|1', {}),
          event('notified', 'arn:a|2', {}),
          event('closed', 'arn:a|1', { because: 'compliance PASSED', deliveryKey: 'group|x' }),
          event('closed', 'arn:a|2', { because: 'compliance PASSED', deliveryKey: 'group|x' }),
          event('suppressed', 'arn:a|3', {
            because: 'set to SUPPRESSED',
            by: 'alice',
            note: 'risk accepted',
          }),
          event('reopened', 'arn:a|4', { issueKey: 'SEC-9', why: 'reopened in Backlog by bob' }),
        ],
        issues: new Map([
          ['group|x', { key: 'SEC-1', url: 'https://example.backlog.com/view/SEC-1' }],
          ['arn:a|1', { key: 'SEC-1' }],
          ['arn:a|2', { key: 'SEC-1' }],
        ]),
      }),
    );
    expect(digest.events.notified).toEqual({ findings: 2, issues: [{ key: 'SEC-1' }] });
    expect(digest.events.closed).toEqual([
      expect.objectContaining({ issue: expect.objectContaining({ key: 'SEC-1' }), findings: 2 }),
    ]);
    expect(digest.events.suppressed).toEqual([
      expect.objectContaining({ finding: 'arn:a|3', by: 'alice', note: 'risk accepted', findings: 1 }),
    ]);
    expect(digest.events.reopened[0]?.issue?.key).toBe('SEC-9');
  });

  it("gives a route's channel only its accounts (by id or name), their total, and no lists", () => {
    const digest = buildDigest(
      input({
        snapshot: snapshot({
          '111111111111': counts(1),
          '222222222222': counts(2),
          '333333333333': counts(3),
        }),
        accountNames: { '222222222222': 'prod-payments' },
        events: [{ kind: 'notified', finding: 'arn:x', at: '2030-01-07T00:00:00Z', detail: {} }],
      }),
    );
    const scoped = forAccounts(digest, ['prod-*', '1111*']);
    expect(scoped.rows.map((row) => row.accountId)).toEqual(['222222222222', '111111111111']);
    expect(scoped.total.counts).toEqual(counts(3));
    expect(scoped.events.notified.findings).toBe(0);
  });
});

describe('the rendering', () => {
  it('writes counts with their changes: 12 ▲3, 5 ▼2, 7', () => {
    expect(countCell(12, 3)).toBe('12 ▲3');
    expect(countCell(5, -2)).toBe('5 ▼2');
    expect(countCell(1234, 0)).toBe('1,234');
    expect(countCell(7)).toBe('7');
  });

  it('aligns the plain-text table, wide characters counted twice', () => {
    const digest = buildDigest(
      input({
        snapshot: snapshot({ '111111111111': counts(1), '222222222222': counts(10) }),
        accountNames: { '111111111111': '本番' },
      }),
    );
    const lines = tableText(digestTable(digest, 25)).split('\n');
    expect(lines[0]).toMatch(/^Account\s+Critical\s+High\s+Medium\s+Low\s+Info\s+Total$/);
    const widths = lines.map((line) =>
      [...line].reduce((w, ch) => w + (/[\u3000-\u9FFF]/.test(ch) ? 2 : 1), 0),
    );
    expect(new Set(widths).size).toBe(1);
  });

  it('renders the same digest as text for --dry-run', () => {
    const text = renderDigestText(
      buildDigest(input({ snapshot: snapshot({ '111111111111': counts(1, 2) }) })),
      LAYOUT,
    );
    expect(text).toContain('Security Hub digest · ');
    expect(text).toContain('111111111111              1     2       0    0     0      3');
    expect(text).toContain('Total (1 account)         1     2       0    0     0      3');
    expect(text).toContain('Past their due date (0)');
  });
});

// --- Slack's limits, whatever the digest --------------------------------------------------------

const hostileText = fc.oneof(
  fc.constantFrom(...SLACK_CONTROLS, '*bold*', '\u202Eevil', '本番アカウント'),
  fc.string({ maxLength: 400 }),
);
const accountsArbitrary = fc.dictionary(
  fc.integer({ min: 100000000000, max: 999999999999 }).map(String),
  fc.record({ c: fc.nat(5000), h: fc.nat(5000), m: fc.nat(99999), l: fc.nat(9), i: fc.nat(9) }),
  { maxKeys: 300 },
);
const eventArbitrary = fc.record({
  kind: fc.constantFrom('notified', 'closed', 'reopened', 'suppressed') as fc.Arbitrary<
    DigestEventRecord['kind']
  >,
  finding: fc.string({ minLength: 1, maxLength: 300 }),
  at: fc.constant('2030-01-07T10:00:00Z'),
  detail: fc.record({ because: hostileText, by: hostileText, note: hostileText, until: hostileText }),
});

function slackProblems(message: ReturnType<typeof buildDigestMessage>): string[] {
  return [
    ...validateBlocks(message.blocks),
    ...attachmentProblems(message.attachments, message.blocks, validateBlocks),
    ...(message.text.length > 40_000 ? ['text too long'] : []),
  ];
}

describe('the Slack message', () => {
  it('stays within Slack limits and escapes every value, whatever the accounts, names and events', () => {
    fc.assert(
      fc.property(
        accountsArbitrary,
        fc.dictionary(fc.string(), hostileText),
        fc.array(eventArbitrary, { maxLength: 200 }),
        fc.integer({ min: 1, max: 97 }),
        fc.integer({ min: 1, max: 50 }),
        (accounts, names, events, maxAccounts, listItems) => {
          const ids = Object.keys(accounts);
          const accountNames = Object.fromEntries(ids.map((id, i) => [id, Object.values(names)[i] ?? '']));
          const digest = buildDigest(
            input({
              snapshot: snapshot(
                Object.fromEntries(
                  Object.entries(accounts).map(([id, n]) => [id, counts(n.c, n.h, n.m, n.l, n.i)]),
                ),
              ),
              accountNames,
              events,
              issues: new Map(
                events.map((e, i) => [
                  e.finding,
                  { key: `SEC-${i}`, url: 'https://x.backlog.com/view/SEC-1?a=b|c' },
                ]),
              ),
            }),
          );
          const message = buildDigestMessage(digest, { ...LAYOUT, maxAccounts, listItems });
          expect(slackProblems(message)).toEqual([]);
          const table = message.attachments[0]?.blocks.find((block) => block.type === 'table') as {
            rows: unknown[][];
          };
          expect(table.rows.length).toBeLessThanOrEqual(100);
          const mrkdwn = JSON.stringify([
            message.blocks,
            message.attachments[0]?.blocks.filter((b) => b.type !== 'table'),
          ]);
          expect(mrkdwn).not.toMatch(/<!(channel|here)|<@U1>|<#C1>|<https:\/\/evil/);
          expect(`${message.text}${message.attachments[0]?.fallback}`).not.toMatch(/<!|\u202E/);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('where the digest goes', () => {
  it('goes to the default channel, and with route channels on, to each route naming accounts with those accounts', () => {
    const policy = parsePolicy(
      [
        'version: 1',
        'routes:',
        '  - name: prod',
        '    match: { account: [prod-*, "111111111111"] }',
        '    slack: { channel: "#sec-prod" }',
        '  - name: critical-only',
        '    match: { severity: [CRITICAL] }',
        '    slack: { channel: "#sec-critical" }',
        'default:',
        '  slack: { channel: "#security-alerts" }',
      ].join('\n'),
      'policy.yml',
      { minSeverity: 'HIGH', slackChannel: '#x', backlogProjectKey: 'SEC', backlogIssueType: 'Task' },
    );
    expect(digestTargets(policy, false)).toEqual([{ channel: '#security-alerts' }]);
    expect(digestTargets(policy, true)).toEqual([
      { channel: '#security-alerts' },
      { channel: '#sec-prod', accounts: ['prod-*', '111111111111'], scope: 'route prod' },
    ]);
  });
});
