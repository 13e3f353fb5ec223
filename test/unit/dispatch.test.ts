import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Rejection } from '../../src/app/ports.js';
import type { WorkflowInput } from '../../src/domain/delivery/delivery.js';
import type { LedgerEntry } from '../../src/domain/delivery/ledger-items.js';
import { defaultPolicy } from '../../src/domain/policy/policy.js';
import { type DispatchDeps, makeHandler } from '../../src/handlers/dispatch.js';
import { makeLogger } from '../../src/handlers/runtime.js';
import { loadEvent, withFinding } from '../helpers/events.js';

function record(body: unknown, messageId: string): SQSRecord {
  return { messageId, body: typeof body === 'string' ? body : JSON.stringify(body) } as SQSRecord;
}

function fakeDeps(
  options: { entries?: LedgerEntry[]; startFails?: boolean; deadLetterFails?: boolean } = {},
) {
  const started: Array<{ input: WorkflowInput; name: string }> = [];
  const deadLettered: Rejection[] = [];
  const logger = makeLogger();
  const deps: DispatchDeps = {
    logger,
    ports: () => ({
      settings: { homeRegion: 'ap-northeast-1', accountNames: {} },
      policy: defaultPolicy({
        minSeverity: 'MEDIUM',
        slackChannel: '#sec',
        backlogProjectKey: 'SEC',
        backlogIssueType: 'Task',
      }),
      ledger: {
        getMany: async (keys) =>
          new Map(
            (options.entries ?? []).filter((e) => keys.includes(e.findingKey)).map((e) => [e.findingKey, e]),
          ),
        getGroups: async () => new Map(),
        openGroup: async () => true,
        retakeGroup: async () => true,
      },
      workflow: {
        start: async (input, name) => {
          if (options.startFails) throw new Error('ThrottlingException');
          started.push({ input, name });
        },
      },
      deadLetter: {
        send: async (rejections) => {
          if (options.deadLetterFails) throw new Error('SQS unavailable');
          deadLettered.push(...rejections);
        },
      },
      clock: { now: () => new Date() },
      log: logger,
    }),
  };
  return { deps, started, deadLettered };
}

const context = {
  functionName: 'dispatch',
  awsRequestId: 'r1',
  getRemainingTimeInMillis: () => 30_000,
} as never;
const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');
const control = loadEvent('fsbp-cloudtrail-2.json');

describe('dispatch handler', () => {
  it('delivers the good records of a mixed batch and dead-letters the bad ones without failing them', async () => {
    const { deps, started, deadLettered } = fakeDeps();
    const malformed = withFinding(control, (f) => delete f.AwsAccountId, 'bad-event');
    const records = [
      record(guardDuty, 'm1'),
      record('{not json', 'm2'),
      record(malformed, 'm3'),
      record(control, 'm4'),
    ];

    const response = await makeHandler(deps)({ Records: records } as never, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(started).toHaveLength(1);
    expect(started[0]?.input.deliveries.map((d) => ('finding' in d ? d.finding.title : d.mode))).toEqual([
      guardDuty.detail.findings[0]?.Title,
      control.detail.findings[0]?.Title,
    ]);
    expect(deadLettered.map((r) => [r.messageId, r.eventId, r.field])).toEqual([
      ['m2', '(unparsed)', 'body'],
      ['m3', 'bad-event', 'detail.findings[0].AwsAccountId'],
    ]);
  });

  it('fails only the bad records when they cannot be dead-lettered, after delivering the good ones', async () => {
    const { deps, started } = fakeDeps({ deadLetterFails: true });
    const malformed = withFinding(control, (f) => delete f.Title, 'bad-event');

    const response = await makeHandler(deps)(
      { Records: [record(guardDuty, 'm1'), record(malformed, 'm2'), record(control, 'm3')] } as never,
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(started[0]?.input.deliveries).toHaveLength(2);
  });

  it('reports the records whose workflow could not be started, so SQS delivers them again', async () => {
    const { deps } = fakeDeps({ startFails: true });
    const filtered = withFinding(control, (f) => (f.Severity = { Label: 'LOW' }), 'low');

    const response = await makeHandler(deps)(
      { Records: [record(guardDuty, 'm1'), record(filtered, 'm2')] } as never,
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('filters below-threshold and PASSED findings, skips already-filed ones, reopens updated ones', async () => {
    const gdFinding = guardDuty.detail.findings[0] as { Id: string; ProductArn: string; UpdatedAt: string };
    const ctFinding = control.detail.findings[0] as { Id: string; ProductArn: string; UpdatedAt: string };
    const { deps, started } = fakeDeps({
      entries: [
        {
          findingKey: `${gdFinding.ProductArn}|${gdFinding.Id}`,
          status: 'DELIVERED',
          issueKey: 'SEC-1',
          findingUpdatedAt: gdFinding.UpdatedAt,
        },
        {
          findingKey: `${ctFinding.ProductArn}|${ctFinding.Id}`,
          status: 'DELIVERED',
          issueKey: 'SEC-2',
          findingUpdatedAt: '2020-01-01T00:00:00Z',
        },
      ],
    });
    const passed = withFinding(control, (f) => {
      f.Id = 'passed';
      f.Compliance = { Status: 'PASSED' };
    });
    const low = withFinding(control, (f) => {
      f.Id = 'low';
      f.Severity = { Label: 'LOW' };
    });
    const reports: unknown[] = [];

    await makeHandler({ ...deps, onReport: (r) => reports.push(r) })(
      {
        Records: [record(guardDuty, 'm1'), record(control, 'm2'), record(passed, 'm3'), record(low, 'm4')],
      } as never,
      context,
    );

    expect(
      started[0]?.input.deliveries.map((d) => [d.mode, 'finding' in d ? d.finding.control?.id : undefined]),
    ).toEqual([['reopen', 'CloudTrail.2']]);
    expect(
      (reports[0] as { outcomes: Array<{ outcome: string }> }).outcomes.map((o) => o.outcome).sort(),
    ).toEqual(['already-filed', 'filtered', 'not-filed', 'queued']);
  });

  it('names the execution after its deliveries, so a redelivered batch starts nothing new', async () => {
    const first = fakeDeps();
    const second = fakeDeps();

    await makeHandler(first.deps)({ Records: [record(guardDuty, 'm1')] } as never, context);
    await makeHandler(second.deps)({ Records: [record(guardDuty, 'other-id')] } as never, context);

    expect(first.started[0]?.name).toMatch(/^batch-[0-9a-f]{32}$/);
    expect(second.started[0]?.name).toBe(first.started[0]?.name);
  });
});
