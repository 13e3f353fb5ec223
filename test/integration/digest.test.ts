import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/adapters/aws-config.js';
import { DigestLedgerStore } from '../../src/adapters/digest-ledger.js';
import { SecurityHubInsightError, SlackChannelError } from '../../src/app/errors.js';
import type { SlackMessage } from '../../src/local/emulators/slack-emulator.js';
import type { Env } from '../../src/local/sandbox.js';
import {
  accountId,
  countByHand,
  countsOf,
  digestHandler,
  digestTable,
  lambdaContext,
  SEVERITIES,
  seededFindings,
  suppressedByHand,
} from '../helpers/digest.js';
import { type ImportedEvent, loadEvent, withFinding } from '../helpers/events.js';
import { startTestReplayer } from '../helpers/replay.js';

/**
 * The daily digest through its real handler and clients (AWS SDK v3, @slack/web-api) against the
 * emulators: the numbers against a count by hand of the seeded findings, the changes of a second
 * digest, the lists against the ledger, escaping, Slack's limits with 200 accounts, loud failures.
 */

type TestReplayer = Awaited<ReturnType<typeof startTestReplayer>>;

let replayer: TestReplayer | undefined;
afterEach(async () => {
  await replayer?.close();
  replayer = undefined;
});

async function start(): Promise<TestReplayer> {
  replayer = await startTestReplayer();
  return replayer;
}

const envOf = (r: TestReplayer, extra: Env = {}): Env => ({
  ...r.sandbox.env,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  DIGEST_TIME_ZONE: 'Asia/Tokyo',
  ...extra,
});

/** The top-level digest messages posted to a channel, in order. */
const digestsIn = (r: TestReplayer, channel = '#security-alerts'): SlackMessage[] =>
  (r.sandbox.slack?.messagesIn(channel) ?? []).filter((m) => m.text.startsWith('Security Hub digest'));

/** Every mrkdwn text of a message (top-level blocks and attachments). */
function mrkdwnOf(message: SlackMessage): string[] {
  const blocks = [
    ...(message.blocks ?? []),
    ...((message.attachments ?? []) as Array<{ blocks?: unknown[] }>).flatMap((a) => a.blocks ?? []),
  ] as Array<{ text?: { type: string; text: string }; elements?: Array<{ type: string; text: string }> }>;
  return blocks.flatMap((block) => [
    ...(block.text?.type === 'mrkdwn' ? [block.text.text] : []),
    ...(block.elements ?? []).filter((e) => e.type === 'mrkdwn').map((e) => e.text),
  ]);
}

function sectionWith(message: SlackMessage, title: string): string {
  const found = mrkdwnOf(message).find((text) => text.startsWith(`*${title}`));
  if (!found) throw new Error(`no section ${title} in ${JSON.stringify(mrkdwnOf(message))}`);
  return found;
}

describe('the digest table', () => {
  it('shows the count done by hand of the seeded findings, per account and severity, and the total', async () => {
    const r = await start();
    const findings = seededFindings(8, 40, 7);
    r.sandbox.securityHub?.importFindings(findings);
    const names = { [accountId(0)]: 'prod-payments', [accountId(3)]: 'staging' };
    const handler = digestHandler(envOf(r, { ACCOUNT_NAMES: JSON.stringify(names) }));

    await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('run-1'));

    const [message] = digestsIn(r);
    const rows = digestTable(message as SlackMessage);
    const byHand = countByHand(findings);
    const accounts = rows.filter((row) => !row.label.startsWith('Total'));
    expect(accounts).toHaveLength(byHand.size);
    for (const [id, counts] of byHand) {
      const row = accounts.find((candidate) => candidate.label.includes(id));
      expect(row?.counts, id).toEqual(countsOf(counts));
      expect(row?.link, id).toContain(encodeURIComponent(encodeURIComponent(id)));
    }
    const total = SEVERITIES.map((label) => [...byHand.values()].reduce((sum, row) => sum + row[label], 0));
    expect(rows.at(-1)?.counts).toEqual([...total, total.reduce((a, b) => a + b, 0)]);
    expect(rows.at(-1)?.label).toBe(`Total (${byHand.size} accounts)`);
    expect(accounts.map((row) => row.label)).toContain(`prod-payments (${accountId(0)})`);
    expect(accounts.map((row) => row.label)).toContain(`staging (${accountId(3)})`);
    // Worst first: by critical, then high, ...
    const sorted = [...accounts].sort((a, b) => {
      for (let i = 0; i < 5; i++)
        if (a.counts[i] !== b.counts[i]) return (b.counts[i] ?? 0) - (a.counts[i] ?? 0);
      return 0;
    });
    expect(accounts.map((row) => row.counts)).toEqual(sorted.map((row) => row.counts));
    expect(JSON.stringify(message?.blocks)).toContain(
      `Currently suppressed: *${suppressedByHand(findings)}*`,
    );
  });

  it('asks Security Hub a handful of questions: six insights, found or created once, whatever the findings', async () => {
    const r = await start();
    r.sandbox.securityHub?.importFindings(seededFindings(20, 60, 3));
    const handler = digestHandler(envOf(r));

    await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('run-1'));
    const first = (r.sandbox.securityHub?.calls ?? []).map((call) => call.operation);
    await handler({ scheduledTime: '2030-01-08T00:00:00Z' }, lambdaContext('run-2'));
    const second = (r.sandbox.securityHub?.calls ?? []).map((call) => call.operation).slice(first.length);

    expect(first.filter((op) => op === 'CreateInsight')).toHaveLength(6);
    expect(first.filter((op) => op === 'GetInsightResults')).toHaveLength(6);
    expect(first).not.toContain('GetFindings');
    expect(second.sort()).toEqual(['DescribeSecurityHubV2', ...Array(6).fill('GetInsightResults')].sort());
    expect(r.sandbox.securityHub?.insights.insights.size).toBe(6);
  });

  it("reads the stack's insights by their ARNs when DIGEST_INSIGHT_ARNS names them, creating none", async () => {
    const r = await start();
    const findings = seededFindings(4, 20, 11);
    r.sandbox.securityHub?.importFindings(findings);
    await digestHandler(envOf(r))({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('create'));
    const arns = Object.fromEntries(
      [...(r.sandbox.securityHub?.insights.insights.values() ?? [])].map((insight) => [
        /suppressed/.test(insight.Name) ? 'SUPPRESSED' : /active (\w+) /.exec(insight.Name)?.[1],
        insight.InsightArn,
      ]),
    );
    const before = r.sandbox.securityHub?.calls.length ?? 0;

    await digestHandler(envOf(r, { DIGEST_INSIGHT_ARNS: JSON.stringify(arns), DIGEST_COUNTS: 'insights' }))(
      { scheduledTime: '2030-01-08T00:00:00Z' },
      lambdaContext('stack'),
    );

    const calls = (r.sandbox.securityHub?.calls ?? []).slice(before).map((call) => call.operation);
    expect(calls).toEqual(Array(6).fill('GetInsightResults'));
    expect(
      digestTable(digestsIn(r).at(-1) as SlackMessage)
        .at(-1)
        ?.counts.at(-1),
    ).toBe([...countByHand(findings).values()].reduce((sum, row) => sum + (countsOf(row)[5] ?? 0), 0));
  });

  it("counts with the new Security Hub's GetFindingStatisticsV2 when it is enabled", async () => {
    const r = await start();
    const hub = r.sandbox.securityHub;
    hub?.insights.setSecurityHubV2(true);
    const ocsf = Array.from({ length: 60 }, (_, i) => ({
      metadata: { uid: `uid-${i}` },
      finding_info: { uid: `finding-${i}` },
      cloud: { account: { uid: accountId(i % 3) } },
      severity: ['Critical', 'Fatal', 'High', 'Medium', 'Low', 'Informational'][i % 6],
      status: ['New', 'In Progress', 'Resolved', 'Suppressed', 'New'][i % 5],
      ...(i % 7 === 0
        ? { compliance: { status: 'Pass' } }
        : i % 2 === 0
          ? { compliance: { status: 'Fail' } }
          : {}),
    }));
    hub?.importFindingsV2(ocsf);

    await digestHandler(envOf(r))({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('v2'));

    const label = { Critical: 0, Fatal: 0, High: 1, Medium: 2, Low: 3, Informational: 4 } as Record<
      string,
      number
    >;
    const byHand = new Map<string, number[]>();
    for (const f of ocsf) {
      if (!['New', 'In Progress'].includes(f.status as string) || f.compliance?.status === 'Pass') continue;
      const row = byHand.get(f.cloud.account.uid) ?? [0, 0, 0, 0, 0];
      const column = label[f.severity as string] as number;
      row[column] = (row[column] ?? 0) + 1;
      byHand.set(f.cloud.account.uid, row);
    }
    const rows = digestTable(digestsIn(r)[0] as SlackMessage);
    for (const [id, counts] of byHand) {
      expect(rows.find((row) => row.label.includes(id))?.counts, id).toEqual([
        ...counts,
        counts.reduce((a, b) => a + b, 0),
      ]);
    }
    expect(hub?.calls.map((call) => call.operation)).toEqual([
      'DescribeSecurityHubV2',
      'GetFindingStatisticsV2',
      'GetFindingStatisticsV2',
    ]);
    expect(rows[0]?.link).toContain('/securityhub/v2/home');
  });
});

describe('the second digest', () => {
  it('shows each cell change since the previous one, accounts gone and new included', async () => {
    const r = await start();
    const hub = r.sandbox.securityHub;
    hub?.importFindings(seededFindings(6, 30, 21));
    const handler = digestHandler(envOf(r));
    await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('day-1'));
    const before = countByHand(hub?.findings.values() ?? []);
    // A day later: some resolved, some archived, new findings, one account with nothing left, one new.
    const stored = [...(hub?.findings.values() ?? [])];
    stored.forEach((finding, index) => {
      if (index % 5 === 0) finding.Workflow = { Status: 'RESOLVED' };
      if (index % 11 === 0) finding.RecordState = 'ARCHIVED';
      if (finding.AwsAccountId === accountId(2)) finding.RecordState = 'ARCHIVED';
    });
    hub?.importFindings([
      ...seededFindings(2, 25, 99, 'day2'),
      ...seededFindings(8, 10, 5, 'new').slice(-10),
    ]);
    const after = countByHand(hub?.findings.values() ?? []);

    await handler({ scheduledTime: '2030-01-08T00:00:00Z' }, lambdaContext('day-2'));

    const [, second] = digestsIn(r);
    const rows = digestTable(second as SlackMessage);
    for (const [id, counts] of after) {
      const previous = before.get(id);
      const expected = countsOf(counts).map((n, i) => n - (previous ? (countsOf(previous)[i] ?? 0) : 0));
      expect(rows.find((row) => row.label.includes(id))?.changes, id).toEqual(expected);
    }
    expect(rows.some((row) => row.label.includes(accountId(2)))).toBe(false);
    const sum = (counts: typeof before) =>
      [...counts.values()].reduce(
        (acc, row) => acc.map((n, i) => n + (countsOf(row)[i] ?? 0)),
        [0, 0, 0, 0, 0, 0],
      );
    const totalChange = sum(after).map((n, i) => n - (sum(before)[i] ?? 0));
    expect(rows.at(-1)?.changes).toEqual(totalChange);
    expect(JSON.stringify(second?.blocks)).toContain('▲▼ since');
  });

  it('after a missed or failed day, compares with the last digest posted; a dry run records nothing', async () => {
    const r = await start();
    const hub = r.sandbox.securityHub;
    hub?.importFindings(seededFindings(3, 20, 4));
    const handler = digestHandler(envOf(r));
    await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('day-1'));
    const posted = countByHand(hub?.findings.values() ?? []);
    hub?.importFindings(seededFindings(3, 20, 5, 'day2'));
    r.sandbox.slack?.failNext('chat.postMessage', { error: 'channel_not_found' });
    const failed = await handler({ scheduledTime: '2030-01-08T00:00:00Z' }, lambdaContext('day-2')).catch(
      (error: unknown) => error,
    );
    await handler({ dryRun: true }, lambdaContext('dry'));
    hub?.importFindings(seededFindings(3, 20, 6, 'day3'));

    await handler({ scheduledTime: '2030-01-09T00:00:00Z' }, lambdaContext('day-3'));

    expect(failed).toBeInstanceOf(SlackChannelError);
    expect(String((failed as Error).message)).toContain('#security-alerts');
    const [first, third] = digestsIn(r);
    expect(digestsIn(r)).toHaveLength(2);
    const now = countByHand(hub?.findings.values() ?? []);
    const total = (counts: typeof now) =>
      [...counts.values()].reduce((sum, row) => sum + (countsOf(row)[5] ?? 0), 0);
    expect(
      digestTable(third as SlackMessage)
        .at(-1)
        ?.changes.at(-1),
    ).toBe(total(now) - total(posted));
    expect(
      digestTable(first as SlackMessage)
        .at(-1)
        ?.changes.at(-1),
    ).toBe(0);
  });

  it('posts once per scheduled run, whatever the retries', async () => {
    const r = await start();
    r.sandbox.securityHub?.importFindings(seededFindings(2, 5, 8));
    const handler = digestHandler(envOf(r));

    const first = await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('attempt-1'));
    const retry = await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('attempt-2'));

    expect(digestsIn(r)).toHaveLength(1);
    expect(first).toEqual([expect.objectContaining({ posted: 'now' })]);
    expect(retry).toEqual([
      expect.objectContaining({ posted: 'before', ts: (first as Array<{ ts: string }>)[0]?.ts }),
    ]);
  });
});

// --- the lists, against the ledger -------------------------------------------------------------

const control = loadEvent('fsbp-cloudtrail-2.json');
const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');

function changed(event: ImportedEvent, at: string, change: (finding: Record<string, unknown>) => void) {
  return withFinding(
    event,
    (finding) => {
      finding.UpdatedAt = at;
      finding.Note = {
        Text: 'Notified by securityhub-notifier. Backlog SEC-1',
        UpdatedBy: 'securityhub-notifier',
        UpdatedAt: at,
      };
      change(finding);
    },
    `${event.id}-${at}`,
  );
}

/** A third filed finding: another GuardDuty finding (its own issue). */
const another = withFinding(
  guardDuty,
  (finding) => {
    finding.Id = `${String(finding.Id)}-another`;
    finding.Title = 'Another finding';
  },
  'another',
);

/** What issue 14 records on the item holding an issue: its severity and due date. */
async function recordDue(r: TestReplayer, key: string, severity: string, dueDate: string) {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(r.sandbox.env, 'DYNAMODB')));
  await doc.send(
    new UpdateCommand({
      TableName: r.sandbox.env.LEDGER_TABLE,
      Key: { findingKey: key },
      UpdateExpression: 'SET severity = :severity, dueDate = :due',
      ExpressionAttributeValues: { ':severity': severity, ':due': dueDate },
    }),
  );
}

describe('the lists', () => {
  it('match the ledger: closed and why, suppressed by whom and why (escaped), open and overdue issues', async () => {
    const r = await start();
    const filed = await r.replay([control, guardDuty, another]);
    const keys = filed.results.map((result) => String(result.key));
    await recordDue(r, keys[2] as string, 'HIGH', '2000-01-01');
    await recordDue(r, keys[0] as string, 'CRITICAL', '2999-01-01');
    const hostile = 'accepted <!channel> *bold* \u202Eevil';
    await r.replay([
      changed(control, '2030-01-03T00:00:00Z', (f) => {
        f.Compliance = { ...(f.Compliance as object), Status: 'PASSED' };
        f.Workflow = { Status: 'RESOLVED' };
      }),
      changed(guardDuty, '2030-01-05T00:00:00Z', (f) => {
        f.Workflow = { Status: 'SUPPRESSED' };
        f.Note = { Text: hostile, UpdatedBy: 'alice <@U1>', UpdatedAt: '2030-01-05T00:00:00Z' };
      }),
    ]);

    await digestHandler(envOf(r))({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('lists'));

    const message = digestsIn(r)[0] as SlackMessage;
    const ledger = new DigestLedgerStore(
      new DynamoDBClient(awsClientConfig(r.sandbox.env, 'DYNAMODB')),
      r.sandbox.env.LEDGER_TABLE as string,
    );
    const events = await ledger.eventsBetween(new Date(Date.now() - 86_400_000), new Date());
    const closed = events.filter((event) => event.kind === 'closed');
    const suppressed = events.filter((event) => event.kind === 'suppressed');
    expect(closed.map((event) => event.finding)).toEqual([keys[0]]);
    expect(suppressed.map((event) => event.finding)).toEqual([keys[1]]);

    const closedSection = sectionWith(message, 'Closed (1)');
    expect(closedSection).toContain('|SEC-1>');
    expect(closedSection).toContain(closed[0]?.detail.because);
    const suppressedSection = sectionWith(message, 'Suppressed (1)');
    expect(suppressedSection).toContain('|SEC-2>');
    expect(suppressedSection).toContain('alice &lt;@U1&gt;');
    expect(suppressedSection).toContain('accepted &lt;!channel&gt; ∗bold∗ evil');
    expect(suppressedSection).not.toContain('\u202E');
    expect(sectionWith(message, 'Notified in the last day: 3 findings')).toMatch(/SEC-1>.*SEC-2>.*SEC-3>/);
    // SEC-1 (CRITICAL) was closed: nothing is open but SEC-3, late since 2000-01-01.
    const oldest = sectionWith(message, 'Oldest open CRITICAL and HIGH issues');
    expect(oldest).toContain('|SEC-3>');
    expect(oldest).not.toContain('SEC-1');
    const overdue = sectionWith(message, 'Past their due date (1)');
    expect(overdue).toContain('|SEC-3> · HIGH');
    expect(overdue).toMatch(/due 2000-01-01, [\d,]+ days late/);
    const open = await ledger.openIssues();
    expect(open.map((issue) => issue.key).sort()).toEqual(['SEC-3']);
    for (const text of mrkdwnOf(message)) expect(text).not.toMatch(/<!channel>|<@U1>/);
  });
});

describe('escaping and limits', () => {
  it('keeps hostile account names inert: literal text in the table, escaped in mrkdwn and the fallback', async () => {
    const r = await start();
    r.sandbox.securityHub?.importFindings(seededFindings(2, 5, 12));
    const hostile = '<!channel> *prod* <https://evil.example|click> \u202Egnp.exe';
    const handler = digestHandler(envOf(r, { ACCOUNT_NAMES: JSON.stringify({ [accountId(0)]: hostile }) }));

    await handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('hostile'));

    const message = digestsIn(r)[0] as SlackMessage;
    const row = digestTable(message).find((candidate) => candidate.label.includes(accountId(0)));
    expect(row?.label).toBe(`<!channel> *prod* <https://evil.example|click> gnp.exe (${accountId(0)})`);
    const fallback = String((message.attachments?.[0] as { fallback?: string } | undefined)?.fallback);
    expect(fallback).toContain('&lt;!channel&gt; ∗prod∗ &lt;https://evil.example|click&gt;');
    expect(`${message.text}\n${mrkdwnOf(message).join('\n')}\n${fallback}`).not.toMatch(
      /<!channel>|<https:\/\/evil|\u202E/,
    );
  });

  it('stays within Slack limits with 200 accounts: one table of at most 100 rows, "+n more accounts" summed', async () => {
    const r = await start();
    const findings = seededFindings(200, 12, 33);
    r.sandbox.securityHub?.importFindings(findings);

    for (const [run, shown] of [
      ['default', '25'],
      ['widest', '97'],
    ] as const) {
      await digestHandler(envOf(r, { DIGEST_TABLE_ACCOUNTS: shown }))(
        { scheduledTime: `2030-01-07T00:0${run === 'default' ? 0 : 1}:00Z` },
        lambdaContext(run),
      );
    }

    const byHand = countByHand(findings);
    for (const [message, shown] of [
      [digestsIn(r)[0], 25],
      [digestsIn(r)[1], 97],
    ] as const) {
      const rows = digestTable(message as SlackMessage);
      expect(rows).toHaveLength(shown + 2);
      const more = rows.at(-2);
      expect(more?.label).toBe(`+${byHand.size - shown} more accounts`);
      const listed = rows.slice(0, shown).reduce((sum, row) => sum + (row.counts[5] ?? 0), 0);
      expect((more?.counts[5] ?? 0) + listed).toBe(rows.at(-1)?.counts[5]);
    }
    // The emulator checked every post against Slack's limits (it answers invalid_attachments otherwise).
    expect(r.sandbox.slack?.calls.filter((call) => call.method === 'chat.postMessage')).toHaveLength(2);
  });
});

describe('failures', () => {
  it('fails the invocation naming the insight when it cannot be read, and records nothing', async () => {
    const r = await start();
    r.sandbox.securityHub?.importFindings(seededFindings(2, 5, 2));
    await digestHandler(envOf(r))({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('ok'));
    const insights = r.sandbox.securityHub?.insights.insights;
    const high = [...(insights?.values() ?? [])].find((insight) => insight.Name.includes('active HIGH'));
    const arns = Object.fromEntries(
      [...(insights?.values() ?? [])].map((insight) => [
        /suppressed/.test(insight.Name) ? 'SUPPRESSED' : /active (\w+) /.exec(insight.Name)?.[1],
        insight.InsightArn,
      ]),
    );
    insights?.delete(String(high?.InsightArn));

    const error = await digestHandler(envOf(r, { DIGEST_INSIGHT_ARNS: JSON.stringify(arns) }))(
      { scheduledTime: '2030-01-08T00:00:00Z' },
      lambdaContext('broken'),
    ).catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(SecurityHubInsightError);
    expect((error as Error).message).toContain(String(high?.InsightArn));
    expect((error as Error).message).toContain('HIGH');
    expect((error as Error).message).toContain('redeploy');
    expect(digestsIn(r)).toHaveLength(1);
  });

  it('fails naming the channel when Slack refuses the post', async () => {
    const r = await start();
    r.sandbox.slack?.removeBotFrom('#security-alerts');

    const error = await digestHandler(envOf(r))(
      { scheduledTime: '2030-01-07T00:00:00Z' },
      lambdaContext('x'),
    ).catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(SlackChannelError);
    expect((error as Error).message).toMatch(
      /#security-alerts.*not_in_channel|not_in_channel.*#security-alerts/,
    );
  });
});
