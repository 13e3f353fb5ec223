import {
  CreateInsightCommand,
  DeleteInsightCommand,
  DescribeSecurityHubV2Command,
  GetFindingStatisticsV2Command,
  GetFindingsCommand,
  GetInsightResultsCommand,
  GetInsightsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { activeFindingsFilters } from '../../src/domain/digest/counts.js';
import {
  type SecurityHubEmulator,
  startSecurityHubEmulator,
} from '../../src/local/emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';
import { accountId, countByHand, seededFindings } from '../helpers/digest.js';

/**
 * The emulators' parts the digest relies on, through the real clients: Security Hub's insights and
 * GetFindingStatisticsV2 computed from the stored findings (filters as documented, nothing canned),
 * and Slack's table block checked within its documented limits.
 */

let hub: SecurityHubEmulator | undefined;
let slack: SlackEmulator | undefined;
afterEach(async () => {
  await hub?.close();
  await slack?.close();
  hub = undefined;
  slack = undefined;
});

const clientOf = (emulator: SecurityHubEmulator) =>
  new SecurityHubClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('Security Hub insights (emulated)', () => {
  it('group the findings the filters match, as paging GetFindings with the same filters counts them', async () => {
    const findings = seededFindings(5, 40, 17);
    hub = await startSecurityHubEmulator({ findings });
    const client = clientOf(hub);
    const { InsightArn } = await client.send(
      new CreateInsightCommand({
        Name: 'high by account',
        Filters: activeFindingsFilters('HIGH'),
        GroupByAttribute: 'AwsAccountId',
      }),
    );

    const { InsightResults } = await client.send(new GetInsightResultsCommand({ InsightArn }));

    const paged = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await client.send(
        new GetFindingsCommand({
          Filters: activeFindingsFilters('HIGH'),
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const f of page.Findings ?? [])
        paged.set(String(f.AwsAccountId), (paged.get(String(f.AwsAccountId)) ?? 0) + 1);
      token = page.NextToken;
    } while (token);
    const results = new Map(InsightResults?.ResultValues?.map((v) => [v.GroupByAttributeValue, v.Count]));
    expect(results).toEqual(paged);
    expect(results).toEqual(
      new Map(
        [...countByHand(findings)].filter(([, row]) => row.HIGH > 0).map(([id, row]) => [id, row.HIGH]),
      ),
    );
    expect(InsightResults?.GroupByAttribute).toBe('AwsAccountId');
    const counts = InsightResults?.ResultValues?.map((v) => v.Count ?? 0) ?? [];
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('answer from the findings as they are at the call', async () => {
    const findings = seededFindings(2, 10, 3);
    hub = await startSecurityHubEmulator({ findings });
    const client = clientOf(hub);
    const { InsightArn } = await client.send(
      new CreateInsightCommand({
        Name: 'all',
        Filters: { RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }] },
        GroupByAttribute: 'SeverityLabel',
      }),
    );
    const before = (await client.send(new GetInsightResultsCommand({ InsightArn }))).InsightResults
      ?.ResultValues;

    hub.importFindings(
      seededFindings(1, 1, 1, 'later').map((f) => ({
        ...f,
        RecordState: 'ACTIVE',
        Severity: { Label: 'CRITICAL' },
      })),
    );

    const after = (await client.send(new GetInsightResultsCommand({ InsightArn }))).InsightResults
      ?.ResultValues;
    const critical = (values: typeof before) =>
      values?.find((v) => v.GroupByAttributeValue === 'CRITICAL')?.Count ?? 0;
    expect(critical(after)).toBe(critical(before) + 1);
  });

  it('refuse what they cannot evaluate, list custom and managed insights by pages, and forget deleted ones', async () => {
    hub = await startSecurityHubEmulator();
    const client = clientOf(hub);

    const unknownFilter = await rejection(
      client.send(
        new CreateInsightCommand({
          Name: 'x',
          Filters: { Confidence: [{ Gte: 10 }] },
          GroupByAttribute: 'AwsAccountId',
        }),
      ),
    );
    const unknownGroup = await rejection(
      client.send(new CreateInsightCommand({ Name: 'x', Filters: {}, GroupByAttribute: 'Nothing' })),
    );
    const { InsightArn } = await client.send(
      new CreateInsightCommand({ Name: 'mine', Filters: {}, GroupByAttribute: 'AwsAccountId' }),
    );
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new GetInsightsCommand({ MaxResults: 1, ...(token ? { NextToken: token } : {}) }),
      );
      names.push(...(page.Insights ?? []).map((insight) => String(insight.Name)));
      token = page.NextToken;
    } while (token);
    await client.send(new DeleteInsightCommand({ InsightArn }));
    const gone = await rejection(client.send(new GetInsightResultsCommand({ InsightArn })));

    expect(unknownFilter.name).toBe('InvalidInputException');
    expect(unknownFilter.message).toContain('Confidence');
    expect(unknownGroup.name).toBe('InvalidInputException');
    expect(names).toContain('mine');
    expect(names.length).toBeGreaterThan(1);
    expect(gone.name).toBe('ResourceNotFoundException');
  });
});

describe("the new Security Hub's statistics (emulated)", () => {
  const ocsf = (i: number, fields: Record<string, unknown>) => ({
    metadata: { uid: `uid-${i}` },
    cloud: { account: { uid: accountId(i % 2) } },
    ...fields,
  });

  it('is off until enabled: DescribeSecurityHubV2 and the statistics answer ResourceNotFoundException', async () => {
    hub = await startSecurityHubEmulator();
    const client = clientOf(hub);

    const described = await rejection(client.send(new DescribeSecurityHubV2Command({})));
    hub.insights.setSecurityHubV2(true);

    expect(described.name).toBe('ResourceNotFoundException');
    expect((await client.send(new DescribeSecurityHubV2Command({}))).HubV2Arn).toMatch(
      /^arn:aws:securityhub:/,
    );
  });

  it('evaluates AND, OR and nested filters, NOT_EQUALS on a missing field, and groups per rule', async () => {
    hub = await startSecurityHubEmulator({ securityHubV2: true });
    hub.importFindingsV2([
      ocsf(0, { severity: 'High', status: 'New' }),
      ocsf(1, { severity: 'High', status: 'In Progress', compliance: { status: 'Fail' } }),
      ocsf(2, { severity: 'High', status: 'New', compliance: { status: 'Pass' } }),
      ocsf(3, { severity: 'Low', status: 'Resolved' }),
      ocsf(4, { severity: 'Low', status: 'New' }),
    ]);
    const client = clientOf(hub);

    const { GroupByResults } = await client.send(
      new GetFindingStatisticsV2Command({
        GroupByRules: [
          {
            GroupByField: 'cloud.account.uid',
            Filters: {
              CompositeFilters: [
                {
                  Operator: 'AND',
                  StringFilters: [
                    { FieldName: 'severity', Filter: { Value: 'High', Comparison: 'EQUALS' } },
                    { FieldName: 'compliance.status', Filter: { Value: 'Pass', Comparison: 'NOT_EQUALS' } },
                  ],
                },
              ],
            },
          },
          {
            GroupByField: 'severity',
            Filters: {
              CompositeFilters: [
                {
                  Operator: 'OR',
                  StringFilters: [
                    { FieldName: 'status', Filter: { Value: 'Resolved', Comparison: 'EQUALS' } },
                    { FieldName: 'status', Filter: { Value: 'In Progress', Comparison: 'EQUALS' } },
                  ],
                },
              ],
            },
          },
          { GroupByField: 'status' },
        ],
        SortOrder: 'asc',
        MaxStatisticResults: 2,
      }),
    );

    expect(GroupByResults?.[0]).toEqual({
      GroupByField: 'cloud.account.uid',
      GroupByValues: [
        { FieldValue: accountId(0), Count: 1 },
        { FieldValue: accountId(1), Count: 1 },
      ],
    });
    expect(GroupByResults?.[1]?.GroupByValues).toEqual([
      { FieldValue: 'High', Count: 1 },
      { FieldValue: 'Low', Count: 1 },
    ]);
    // Three statuses, ascending, cut at MaxStatisticResults.
    expect(GroupByResults?.[2]?.GroupByValues).toEqual([
      { FieldValue: 'In Progress', Count: 1 },
      { FieldValue: 'Resolved', Count: 1 },
    ]);
  });

  it('refuses more than five rules, a result size out of 1..400, and filters it cannot evaluate', async () => {
    hub = await startSecurityHubEmulator({ securityHubV2: true });
    const client = clientOf(hub);
    const rule = { GroupByField: 'severity' as const };

    const six = await rejection(
      client.send(new GetFindingStatisticsV2Command({ GroupByRules: Array(6).fill(rule) })),
    );
    const size = await rejection(
      client.send(new GetFindingStatisticsV2Command({ GroupByRules: [rule], MaxStatisticResults: 401 })),
    );
    const dates = await rejection(
      client.send(
        new GetFindingStatisticsV2Command({
          GroupByRules: [
            {
              GroupByField: 'severity',
              Filters: {
                CompositeFilters: [
                  {
                    DateFilters: [
                      {
                        FieldName: 'finding_info.created_time_dt',
                        Filter: { DateRange: { Value: 1, Unit: 'DAYS' } },
                      },
                    ],
                  },
                ],
              },
            },
          ],
        }),
      ),
    );

    expect([six.name, size.name, dates.name]).toEqual([
      'ValidationException',
      'ValidationException',
      'ValidationException',
    ]);
    expect(dates.message).toContain('DateFilters');
  });
});

describe("Slack's table block (emulated)", () => {
  const raw = (text: string) => ({ type: 'raw_text', text });
  const table = (rows: number, cells: number) => ({
    type: 'table',
    rows: Array.from({ length: rows }, (_, r) => Array.from({ length: cells }, (_, c) => raw(`${r}.${c}`))),
  });
  const post = async (extra: Record<string, unknown>) => {
    slack ??= await startSlackEmulator();
    const client = new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
    return client.chat.postMessage({ channel: '#security-alerts', text: 'digest', ...extra } as never).then(
      () => 'ok',
      (error: { data?: { error?: string; response_metadata?: { messages?: string[] } } }) =>
        `${error.data?.error}: ${(error.data?.response_metadata?.messages ?? []).join(' ')}`,
    );
  };

  it('takes one table in an attachment, within 100 rows of 20 cells, raw_text or rich_text', async () => {
    const richText = {
      type: 'rich_text',
      elements: [
        { type: 'rich_text_section', elements: [{ type: 'link', url: 'https://example.com', text: 'a' }] },
      ],
    };
    expect(await post({ attachments: [{ blocks: [table(100, 20)] }] })).toBe('ok');
    expect(
      await post({
        attachments: [
          {
            blocks: [
              {
                type: 'table',
                rows: [[richText, raw('1')]],
                column_settings: [{ is_wrapped: true }, null, { align: 'right' }],
              },
            ],
          },
        ],
      }),
    ).toBe('ok');
  });

  it('refuses more rows or cells, an empty cell, a bad column setting, two tables, and a table in the blocks', async () => {
    expect(await post({ attachments: [{ blocks: [table(101, 2)] }] })).toMatch(
      /^invalid_attachments: .*no more than 100 items.*\/rows\]/,
    );
    expect(await post({ attachments: [{ blocks: [table(2, 21)] }] })).toMatch(
      /^invalid_attachments: .*no more than 20 items/,
    );
    expect(await post({ attachments: [{ blocks: [{ type: 'table', rows: [[raw('')]] }] }] })).toMatch(
      /^invalid_attachments: .*more than 0 characters/,
    );
    expect(
      await post({
        attachments: [
          { blocks: [{ type: 'table', rows: [[raw('a')]], column_settings: [{ align: 'middle' }] }] },
        ],
      }),
    ).toMatch(/^invalid_attachments: .*align/);
    expect(await post({ attachments: [{ blocks: [table(1, 1)] }, { blocks: [table(1, 1)] }] })).toMatch(
      /^invalid_attachments: .*only_one_table_allowed/,
    );
    expect(await post({ blocks: [table(1, 1)] })).toMatch(/^invalid_blocks: /);
    expect(slack?.messages).toHaveLength(0);
  });
});
