import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DISPATCH_BATCH_SIZE } from '../src/config/constants.js';
import { round, WORK } from './common.js';
import { type DynamoCounts, startDynamoMeter } from './dynamo-meter.js';
import { storm } from './events.js';
import { PRICES } from './prices.js';
import { checkAllNotified, startReplayer } from './throughput.js';

/** Slack's chat.postMessage: about one message a second per channel (short bursts tolerated). */
export const SLACK_MESSAGES_PER_SECOND_PER_CHANNEL = 1;
/**
 * Backlog API write (POST/PATCH) limit assumed for a standard space: 60 a minute. Backlog's limits
 * are per minute and depend on the plan; 60 is a conservative figure for the write class.
 */
export const BACKLOG_WRITES_PER_MINUTE = 60;
/** Security Hub BatchUpdateFindings: 10 requests a second (burst 30) per account and region. */
export const BATCH_UPDATE_FINDINGS_PER_SECOND = 10;
/** Security Hub takes at most 100 finding identifiers a BatchUpdateFindings call. */
export const IDENTIFIERS_PER_BATCH_UPDATE = 100;
/** SQS returns at most 10 messages a ReceiveMessage and deletes at most 10 a DeleteMessageBatch. */
export const SQS_MESSAGES_PER_REQUEST = 10;

/** Lambda figures the cost estimate assumes: memory of serverless.yml, durations of a real deployment. */
export const LAMBDA_ASSUMPTIONS = {
  memoryGb: 256 / 1024,
  /**
   * Billed milliseconds an invocation, assumed for production latencies (the local emulators answer
   * in about a millisecond): dispatch of a 500-record batch (parse, policy, ledger BatchGetItem,
   * StartExecution); a Backlog task (ledger claim, 2-3 Backlog API calls from AWS to backlog.com,
   * ledger record); a Slack task (ledger, chat.postMessage, ledger).
   */
  durationMs: { dispatch: 800, fileBacklogIssue: 1000, postSlackMessage: 600 },
  /** A burst after a quiet period: one cold start a function; INIT is billed (since August 2025). */
  coldStartsPerFunction: 1,
};

export interface PipelineCounts {
  label: string;
  findings: number;
  slack: { topLevel: number; threadReplies: number; total: number };
  backlog: { issues: number; comments: number; writes: number; reads: number };
  batchUpdateFindings: { calls: number; maxIdentifiers: number; floor: number };
  stepFunctions: { executions: number; transitions: number; byState: Record<string, number> };
  lambda: { dispatch: number; fileBacklogIssue: number; postSlackMessage: number; total: number };
  /** Modelled, not counted: SendMessage per event, ReceiveMessage and DeleteMessageBatch per 10. */
  sqs: { sendMessage: number; receiveMessage: number; deleteMessageBatch: number; total: number };
  dynamoDb: DynamoCounts;
}

/** Replays a 1,000-finding storm on fresh emulators, DynamoDB behind a counting proxy, and counts. */
export async function countStorm(label: string, findings: number, options: { grouping: boolean }) {
  const meter = await startDynamoMeter();
  const extra: Record<string, string> = { AWS_ENDPOINT_URL_DYNAMODB: meter.url };
  if (!options.grouping) {
    await mkdir(WORK, { recursive: true });
    const policyFile = join(WORK, 'policy-grouping-off.yml');
    await writeFile(policyFile, 'version: 1\ngrouping:\n  enabled: false\n');
    extra.NOTIFICATION_POLICY_FILE = policyFile;
  }
  try {
    const replayer = await startReplayer(extra);
    try {
      meter.reset(); // the ledger table's creation is not the pipeline's
      const events = storm(findings);
      const result = await replayer.replay(events);
      checkAllNotified(label, findings, result);
      const { slack, backlog, securityHub } = replayer.sandbox;
      const messages = slack?.messages ?? [];
      const calls = backlog?.calls ?? [];
      const updates = securityHub?.batchUpdates ?? [];
      const byState: Record<string, number> = {};
      for (const run of result.runs) {
        for (const [state, count] of Object.entries(run.transitions?.byState ?? {})) {
          byState[state] = (byState[state] ?? 0) + count;
        }
      }
      const transitions = result.runs.reduce((sum, run) => sum + (run.transitions?.total ?? 0), 0);
      // The replayer queues every matched event in batches of DISPATCH_BATCH_SIZE, one dispatch each.
      const dispatch = Math.ceil(events.length / DISPATCH_BATCH_SIZE);
      // Every task state entered or retried is one invocation of its function.
      const fileBacklogIssue = byState.FileBacklogIssue ?? 0;
      const postSlackMessage = byState.PostSlackMessage ?? 0;
      const receive = Math.ceil(events.length / SQS_MESSAGES_PER_REQUEST);
      const counts: PipelineCounts = {
        label,
        findings,
        slack: {
          topLevel: messages.filter((m) => !m.threadTs).length,
          threadReplies: messages.filter((m) => m.threadTs).length,
          total: messages.length,
        },
        backlog: {
          issues: backlog?.issues.length ?? 0,
          comments: backlog?.comments.length ?? 0,
          writes: calls.filter((c) => c.method === 'POST' || c.method === 'PATCH').length,
          reads: calls.filter((c) => c.method === 'GET').length,
        },
        batchUpdateFindings: {
          calls: updates.length,
          maxIdentifiers: Math.max(0, ...updates.map((u) => u.FindingIdentifiers.length)),
          floor: Math.ceil(findings / IDENTIFIERS_PER_BATCH_UPDATE),
        },
        stepFunctions: { executions: result.runs.length, transitions, byState },
        lambda: {
          dispatch,
          fileBacklogIssue,
          postSlackMessage,
          total: dispatch + fileBacklogIssue + postSlackMessage,
        },
        sqs: {
          sendMessage: events.length,
          receiveMessage: receive,
          deleteMessageBatch: receive,
          total: events.length + 2 * receive,
        },
        dynamoDb: meter.counts(),
      };
      return counts;
    } finally {
      await replayer.close();
    }
  } finally {
    await meter.close();
  }
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

export interface CostEstimate {
  lines: CostLine[];
  totalUsd: number;
  /** Per finding, in US cents. */
  centsPerFinding: number;
}

/** The estimated AWS bill of the counted run, at PRICES; `initMs` = each function's cold start. */
export function estimateCost(counts: PipelineCounts, initMs: Record<string, number>): CostEstimate {
  const { memoryGb, durationMs, coldStartsPerFunction } = LAMBDA_ASSUMPTIONS;
  const { lambda } = counts;
  const invokeSeconds =
    (lambda.dispatch * durationMs.dispatch +
      lambda.fileBacklogIssue * durationMs.fileBacklogIssue +
      lambda.postSlackMessage * durationMs.postSlackMessage) /
    1000;
  const initSeconds =
    (coldStartsPerFunction *
      ((initMs.dispatch ?? 0) + (initMs.fileBacklogIssue ?? 0) + (initMs.postSlackMessage ?? 0))) /
    1000;
  const gbSeconds = (invokeSeconds + initSeconds) * memoryGb;
  const readUnits = counts.dynamoDb.readUnits;
  const writeUnits = counts.dynamoDb.writeUnits;
  const lines: CostLine[] = [
    {
      item: 'Step Functions Standard',
      quantity: counts.stepFunctions.transitions,
      unit: 'state transitions',
      usd: counts.stepFunctions.transitions * PRICES.stepFunctionsStandardPerTransition,
    },
    {
      item: 'Lambda requests',
      quantity: lambda.total,
      unit: 'invocations',
      usd: lambda.total * PRICES.lambdaPerRequest,
    },
    {
      item: 'Lambda duration (incl. INIT)',
      quantity: round(gbSeconds, 2),
      unit: 'GB-s',
      usd: gbSeconds * PRICES.lambdaArm64PerGbSecond,
    },
    {
      item: 'SQS',
      quantity: counts.sqs.total,
      unit: 'requests',
      usd: counts.sqs.total * PRICES.sqsPerRequest,
    },
    {
      item: 'DynamoDB writes',
      quantity: writeUnits,
      unit: 'WRU',
      usd: writeUnits * PRICES.dynamoDbPerWriteRequestUnit,
    },
    {
      item: 'DynamoDB reads',
      quantity: readUnits,
      unit: 'RRU',
      usd: readUnits * PRICES.dynamoDbPerReadRequestUnit,
    },
    { item: 'EventBridge', quantity: counts.findings, unit: 'events (default bus)', usd: 0 },
  ];
  const totalUsd = lines.reduce((sum, line) => sum + line.usd, 0);
  return { lines, totalUsd, centsPerFinding: (totalUsd * 100) / counts.findings };
}

export interface Drain {
  label: string;
  slackMessages: number;
  backlogWrites: number;
  batchUpdateFindings: number;
  slackSeconds: number;
  backlogSeconds: number;
  securityHubSeconds: number;
  /** The slowest of the three rate limits: the time to get the whole burst out. */
  seconds: number;
  /** The limit(s) that take that long: `Slack`, `Backlog`, `Security Hub`, or two of them tied. */
  bottleneck: string;
}

/**
 * How long the burst takes to leave under the services' rate limits, every Slack message in one
 * channel: max(messages / (1/s), Backlog writes / (60/min), BatchUpdateFindings / (10/s)).
 */
export function drainTime(
  label: string,
  slackMessages: number,
  backlogWrites: number,
  batchUpdateFindings: number,
): Drain {
  const slackSeconds = slackMessages / SLACK_MESSAGES_PER_SECOND_PER_CHANNEL;
  const backlogSeconds = (backlogWrites / BACKLOG_WRITES_PER_MINUTE) * 60;
  const securityHubSeconds = batchUpdateFindings / BATCH_UPDATE_FINDINGS_PER_SECOND;
  const seconds = Math.max(slackSeconds, backlogSeconds, securityHubSeconds);
  const bottleneck = (
    [
      ['Slack', slackSeconds],
      ['Backlog', backlogSeconds],
      ['Security Hub', securityHubSeconds],
    ] as const
  )
    .filter(([, limit]) => seconds - limit < 1e-6)
    .map(([name]) => name)
    .join(' = ');
  return {
    label,
    slackMessages,
    backlogWrites,
    batchUpdateFindings,
    slackSeconds,
    backlogSeconds,
    securityHubSeconds,
    seconds,
    bottleneck,
  };
}
