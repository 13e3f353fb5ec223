import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/adapters/aws-config.js';
import { buildEventPattern } from '../../src/domain/finding/event-pattern.js';
import { HEARTBEAT_ID_PREFIX } from '../../src/domain/heartbeat/heartbeat.js';
import { type LivePipeline, startLivePipeline } from '../../src/local/live-pipeline.js';

/** Routes to #sec-prod / PROD Bug, default #security-alerts / SEC Security. */
const POLICY = 'test/fixtures/policies/pipeline.yml';

interface Emf {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }> };
  [key: string]: unknown;
}

async function start(): Promise<{ pipeline: LivePipeline; metrics: Emf[] }> {
  const metrics: Emf[] = [];
  const pipeline = await startLivePipeline({
    env: {
      PATH: process.env.PATH,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      NOTIFY_MIN_SEVERITY: 'MEDIUM',
      NOTIFICATION_POLICY_FILE: POLICY,
    },
    fastRetries: true,
    functionTimeoutMs: 5_000,
    deadLetterDir: mkdtempSync(join(tmpdir(), 'shn-heartbeat-')),
    print: () => {},
    metrics: (line) => metrics.push(JSON.parse(line) as Emf),
  });
  return { pipeline, metrics };
}

async function heartbeatItem(pipeline: LivePipeline) {
  const { env } = pipeline.replayer.sandbox;
  const client = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: env.LEDGER_TABLE,
      Key: { findingKey: { S: `heartbeat|${env.HEARTBEAT_STACK}` } },
      ConsistentRead: true,
    }),
  );
  client.destroy();
  return Item;
}

/** The heartbeat findings in the Security Hub emulator: each one's record state. */
function heartbeatFindings(pipeline: LivePipeline) {
  return [...(pipeline.replayer.sandbox.securityHub?.findings.values() ?? [])]
    .filter((finding) => finding.Id.startsWith(HEARTBEAT_ID_PREFIX))
    .map((finding) => ({ id: finding.Id, recordState: finding.RecordState, workflow: finding.Workflow }));
}

describe('the heartbeat, through the whole path against the emulators', () => {
  let pipeline: LivePipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('passes end to end: checked in every routed destination, nothing posted or filed, archived, its metric emitted', async () => {
    const started = await start();
    pipeline = started.pipeline;
    const { slack, backlog } = pipeline.replayer.sandbox;

    await pipeline.sendHeartbeat();

    expect(pipeline.results).toEqual([
      expect.objectContaining({ outcome: 'heartbeat', detail: 'every destination checked, archived' }),
    ]);
    expect(slack?.messages).toEqual([]);
    expect(backlog?.issues).toEqual([]);
    // Checked, not posted: the token, then each routed channel; the key, then each project.
    const slackMethods = slack?.calls.map((call) => call.method) ?? [];
    expect(slackMethods).toContain('auth.test');
    expect(slackMethods.filter((method) => method === 'conversations.info')).toHaveLength(2);
    expect(slackMethods.filter((method) => method.startsWith('chat.'))).toEqual([]);
    const backlogPaths = backlog?.calls.map((call) => `${call.method} ${call.path}`) ?? [];
    expect(backlogPaths).toContain('GET /api/v2/users/myself');
    expect(backlogPaths).toEqual(
      expect.arrayContaining(['GET /api/v2/projects/SEC', 'GET /api/v2/projects/PROD']),
    );
    expect(backlogPaths.filter((path) => /\/projects\/\d+\/users$/.test(path))).toHaveLength(2);
    expect(backlogPaths.filter((path) => !path.startsWith('GET '))).toEqual([]);
    // Archived in Security Hub, never marked.
    expect(heartbeatFindings(pipeline)).toEqual([
      expect.objectContaining({ recordState: 'ARCHIVED', workflow: { Status: 'NEW' } }),
    ]);
    expect(pipeline.replayer.sandbox.securityHub?.batchUpdates).toEqual([]);
    // One metric line: the end-to-end latency and the count the alarm watches.
    expect(started.metrics).toHaveLength(1);
    const [metric] = started.metrics;
    expect(metric?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'securityhub-notifier',
        Dimensions: [['Stack']],
        Metrics: [
          { Name: 'HeartbeatLatency', Unit: 'Milliseconds' },
          { Name: 'Heartbeats', Unit: 'Count' },
        ],
      },
    ]);
    expect(metric).toMatchObject({ Stack: 'securityhub-notifier-local', Heartbeats: 1 });
    expect(metric?.HeartbeatLatency).toEqual(expect.any(Number));
    const item = await heartbeatItem(pipeline);
    expect(item?.heartbeatAt?.S).toEqual(expect.any(String));
    expect(Number(item?.heartbeatLatencyMs?.N)).toBe(metric?.HeartbeatLatency);
  });

  it.each([
    [
      'the Slack token revoked',
      (p: LivePipeline) => p.replayer.sandbox.slack?.revokeToken(),
      'SlackAuthError',
      /Slack bot token: Slack rejected the bot token from SLACK_BOT_TOKEN: token_revoked/,
    ],
    [
      'the bot out of a routed channel',
      (p: LivePipeline) => p.replayer.sandbox.slack?.removeBotFrom('#sec-prod'),
      'SlackChannelError',
      /Slack channel #sec-prod: the bot @securityhub-notifier is not a member of #sec-prod .*\/invite/,
    ],
    [
      'the Backlog key revoked',
      (p: LivePipeline) => p.replayer.sandbox.backlog?.revokeKey(),
      'BacklogAuthError',
      /Backlog API key: Backlog rejected the API key from BACKLOG_API_KEY/,
    ],
    [
      'a routed project missing',
      (p: LivePipeline) => p.replayer.sandbox.backlog?.removeProject('PROD'),
      'BacklogConfigError',
      /Backlog project PROD: no project PROD/,
    ],
  ])('fails with %s, naming which, and emits no metric', async (_label, breakIt, error, cause) => {
    const started = await start();
    pipeline = started.pipeline;
    breakIt(pipeline);

    await pipeline.sendHeartbeat();

    const [result] = pipeline.results;
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result?.detail).toContain(`heartbeat check: ${error}: `);
    expect(result?.detail).toMatch(cause);
    expect(started.metrics).toEqual([]);
    const [run] = pipeline.runs;
    expect(run).toMatchObject({ status: 'FAILED', error });
    const item = await heartbeatItem(pipeline);
    expect(item?.lastError?.S).toMatch(cause);
    expect(item?.heartbeatAt).toBeUndefined();
    expect(pipeline.replayer.sandbox.slack?.messages).toEqual([]);
    expect(pipeline.replayer.sandbox.backlog?.issues).toEqual([]);
    // Archived all the same: the next heartbeat is a new finding.
    expect(heartbeatFindings(pipeline)).toEqual([expect.objectContaining({ recordState: 'ARCHIVED' })]);
  });

  it("emits no success metric when the rule's pattern is broken (the alarm's condition)", async () => {
    const started = await start();
    pipeline = started.pipeline;
    // The rule as it was before the heartbeat branch: an INFORMATIONAL finding no longer matches.
    const broken = buildEventPattern('MEDIUM');
    broken.detail.findings.$or = broken.detail.findings.$or.filter((branch) => !('Id' in branch));
    pipeline.eventBridge.putRule({
      name: pipeline.ruleNames.findings,
      pattern: broken as unknown as Record<string, unknown>,
      state: 'ENABLED',
    });

    await pipeline.sendHeartbeat();

    expect(pipeline.results).toEqual([]);
    expect(started.metrics).toEqual([]);
    expect(await heartbeatItem(pipeline)).toBeUndefined();
    expect(heartbeatFindings(pipeline)).toEqual([expect.objectContaining({ recordState: 'ACTIVE' })]);
  });

  it('emits no success metric when the rule is disabled', async () => {
    const started = await start();
    pipeline = started.pipeline;
    const rule = pipeline.eventBridge.rules.get(pipeline.ruleNames.findings);
    if (rule) rule.state = 'DISABLED';

    await pipeline.sendHeartbeat();

    expect(pipeline.results).toEqual([]);
    expect(started.metrics).toEqual([]);
  });
});
