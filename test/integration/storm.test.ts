import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stormEvents } from '../helpers/events.js';
import { startTestReplayer } from '../helpers/replay.js';

type TestReplayer = Awaited<ReturnType<typeof startTestReplayer>>;

describe('a storm of 1,000 control findings (3 controls x 2 accounts) replayed as one file', () => {
  let replayer: TestReplayer;
  let result: Awaited<ReturnType<TestReplayer['replay']>>;
  const events = stormEvents(1000, ['S3.8', 'S3.2', 'EC2.19'], ['111111111111', '222222222222']);

  beforeAll(async () => {
    replayer = await startTestReplayer();
    result = await replayer.replay(events);
  });

  afterAll(async () => {
    await replayer.close();
  });

  it('loses none: every finding is notified and marked NOTIFIED', () => {
    expect(result.exitCode).toBe(0);
    expect(result.results.filter((r) => r.outcome === 'notified')).toHaveLength(1000);
    const notified = new Set(replayer.sandbox.securityHub?.notified().map((identifier) => identifier.Id));
    expect(notified.size).toBe(1000);
  });

  it('posts at most 12 top-level Slack messages and files at most 12 Backlog issues', () => {
    const slack = replayer.sandbox.slack?.messages ?? [];
    expect(slack.filter((message) => !message.threadTs).length).toBeLessThanOrEqual(12);
    expect(replayer.sandbox.backlog?.issues.length).toBeLessThanOrEqual(12);
  });

  it('marks them in at most 20 BatchUpdateFindings calls of at most 100 identifiers', () => {
    const calls = replayer.sandbox.securityHub?.batchUpdates ?? [];
    expect(calls.length).toBeLessThanOrEqual(20);
    expect(Math.max(...calls.map((call) => call.FindingIdentifiers.length))).toBeLessThanOrEqual(100);
  });

  it('ledgers every finding to its group issue, so the same storm again files nothing', async () => {
    const issuesBefore = replayer.sandbox.backlog?.issues.length;
    const messagesBefore = replayer.sandbox.slack?.messages.length;

    const again = await replayer.replay(events);

    expect(again.results.filter((r) => r.outcome === 'already filed')).toHaveLength(1000);
    expect(again.results.every((r) => r.issueKey?.startsWith('SEC-'))).toBe(true);
    expect(replayer.sandbox.backlog?.issues.length).toBe(issuesBefore);
    expect(replayer.sandbox.slack?.messages.length).toBe(messagesBefore);
  });
});

describe('a storm of one control in one account, too large for one workflow execution', () => {
  let replayer: TestReplayer;

  beforeAll(async () => {
    replayer = await startTestReplayer();
  });

  afterAll(async () => {
    await replayer.close();
  });

  it('is still one issue and one top-level message, its parts appended, every finding marked', async () => {
    const events = stormEvents(1200, ['S3.8'], ['111111111111']);

    const result = await replayer.replay(events);

    expect(result.exitCode).toBe(0);
    expect(result.runs.length).toBeGreaterThan(3);
    expect(result.results.filter((r) => r.outcome === 'notified')).toHaveLength(1200);
    expect(new Set(result.results.map((r) => r.issueKey))).toEqual(new Set(['SEC-1']));
    expect(replayer.sandbox.backlog?.issues).toHaveLength(1);
    expect(replayer.sandbox.slack?.messages.filter((message) => !message.threadTs)).toHaveLength(1);
    expect(new Set(replayer.sandbox.securityHub?.notified().map((identifier) => identifier.Id)).size).toBe(
      1200,
    );
  });
});
