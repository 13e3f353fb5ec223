import { readFileSync } from 'node:fs';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/adapters/aws-config.js';
import { loadEvent, withFinding } from '../helpers/events.js';
import { startTestReplayer } from '../helpers/replay.js';

type TestReplayer = Awaited<ReturnType<typeof startTestReplayer>>;

const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');
const control = loadEvent('fsbp-cloudtrail-2.json');
const keyOf = (event: typeof control) => {
  const finding = event.detail.findings[0] as { ProductArn: string; Id: string };
  return `${finding.ProductArn}|${finding.Id}`;
};

async function ledgerItem(replayer: TestReplayer, key: string) {
  const client = new DynamoDBClient(awsClientConfig(replayer.sandbox.env, 'DYNAMODB'));
  const result = await client.send(
    new GetItemCommand({ TableName: replayer.sandbox.env.LEDGER_TABLE, Key: { findingKey: { S: key } } }),
  );
  return result.Item;
}

describe('the workflow definition, run locally against the emulators with the real clients', () => {
  let replayer: TestReplayer | undefined;
  afterEach(async () => {
    await replayer?.close();
    replayer = undefined;
  });

  it('files, posts and marks NOTIFIED each finding, with a note naming the issue', async () => {
    replayer = await startTestReplayer();
    const { slack, backlog, securityHub } = replayer.sandbox;

    const result = await replayer.replay([guardDuty, control]);

    expect(result.exitCode).toBe(0);
    expect(result.results.map((r) => r.outcome)).toEqual(['notified', 'notified']);
    expect(backlog?.issues.map((i) => i.issueKey)).toEqual(['SEC-1', 'SEC-2']);
    expect(slack?.messages).toHaveLength(2);
    expect(
      securityHub
        ?.notified()
        .map((i) => i.Id)
        .sort(),
    ).toEqual([guardDuty.detail.findings[0]?.Id, control.detail.findings[0]?.Id].sort());
    expect(securityHub?.batchUpdates.map((u) => u.Note?.Text)).toEqual([
      expect.stringContaining('Backlog SEC-1'),
      expect.stringContaining('Backlog SEC-2'),
    ]);
    const item = await ledgerItem(replayer, keyOf(control));
    expect(item?.issueKey?.S).toBe('SEC-2');
    expect(item?.slackTs?.S).toBe(result.results[1]?.slackTs);
    expect(item?.status?.S).toBe('NOTIFIED');
  });

  it('files nothing for a repeat of a delivered finding', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([guardDuty]);

    const repeat = await replayer.replay([guardDuty]);

    expect(repeat.exitCode).toBe(0);
    expect(repeat.results).toEqual([
      expect.objectContaining({ outcome: 'already filed', issueKey: 'SEC-1' }),
    ]);
    expect(replayer.sandbox.backlog?.issues).toHaveLength(1);
    expect(replayer.sandbox.slack?.messages).toHaveLength(1);
    expect(replayer.sandbox.securityHub?.batchUpdates).toHaveLength(1);
  });

  it('turns a reopened finding into a Backlog comment and a broadcast thread reply', async () => {
    replayer = await startTestReplayer();
    const first = await replayer.replay([control]);
    const failedAgain = withFinding(control, (f) => (f.UpdatedAt = '2030-01-02T00:00:00Z'), 'failed-again');

    const reopen = await replayer.replay([failedAgain]);

    expect(reopen.results).toEqual([expect.objectContaining({ outcome: 'reopened', issueKey: 'SEC-1' })]);
    expect(replayer.sandbox.backlog?.issues).toHaveLength(1);
    expect(replayer.sandbox.backlog?.comments.map((c) => c.issueKey)).toEqual(['SEC-1']);
    const reply = replayer.sandbox.slack?.messages[1];
    expect(reply?.threadTs).toBe(first.results[0]?.slackTs);
    expect(reply?.replyBroadcast).toBe(true);
    expect(replayer.sandbox.securityHub?.batchUpdates).toHaveLength(2);
  });

  it('delivers the rest of a batch holding a malformed event, exits non-zero and keeps the rejected event', async () => {
    replayer = await startTestReplayer();
    const malformed = withFinding(control, (f) => (f.Severity = { Label: 'HIGH' }), 'malformed-event');
    (malformed.detail.findings[0] as Record<string, unknown>).AwsAccountId = 'not-an-account';

    const result = await replayer.replay([guardDuty, malformed, control]);

    expect(result.exitCode).toBe(1);
    expect(result.results.filter((r) => r.outcome === 'notified')).toHaveLength(2);
    expect(result.results.find((r) => r.outcome === 'rejected')?.detail).toBe(
      'event malformed-event: detail.findings[0].AwsAccountId: not a 12-digit account id',
    );
    expect(readFileSync(result.rejectedFile as string, 'utf8')).toContain('"id":"malformed-event"');
    expect(replayer.lines.join('\n')).toContain(`rejected events written to ${result.rejectedFile}`);
  });

  it('leaves a finding NEW and records the failure when Slack refuses the channel', async () => {
    replayer = await startTestReplayer();
    replayer.sandbox.slack?.failNext('chat.postMessage', { error: 'channel_not_found' });

    const result = await replayer.replay([control, guardDuty]);

    expect(result.exitCode).toBe(1);
    const failed = result.results.find((r) => r.outcome === 'failed');
    expect(failed?.detail).toContain('SlackChannelError');
    expect(failed?.detail).toContain('#security-alerts');
    expect(replayer.sandbox.securityHub?.notified().map((i) => i.Id)).toEqual([
      guardDuty.detail.findings[0]?.Id,
    ]);
    const item = await ledgerItem(replayer, keyOf(control));
    expect(item?.lastError?.S).toContain('SlackChannelError');
    expect(item?.slackTs).toBeUndefined();
  });

  it('retries identifiers BatchUpdateFindings returns with a retryable error code', async () => {
    replayer = await startTestReplayer();
    replayer.sandbox.securityHub?.unprocessedNext('ConcurrentUpdateError');

    const result = await replayer.replay([control]);

    expect(result.results.map((r) => r.outcome)).toEqual(['notified']);
    expect(replayer.sandbox.securityHub?.batchUpdates).toHaveLength(2);
    expect(replayer.sandbox.securityHub?.notified()).toHaveLength(1);
  });

  it('reports identifiers BatchUpdateFindings cannot process, without retrying them', async () => {
    replayer = await startTestReplayer();
    replayer.sandbox.securityHub?.unprocessedNext('FindingNotFound');

    const result = await replayer.replay([control]);

    expect(result.exitCode).toBe(1);
    expect(result.results[0]).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/^delivered, not marked: FindingNotFound/),
    });
    expect(replayer.sandbox.securityHub?.batchUpdates).toHaveLength(1);
  });
});
