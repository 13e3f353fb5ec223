/**
 * The cost of churn (issue: "the loop closes both ways"): the transition rules must forward every
 * RESOLVED or SUPPRESSED finding, because only the ledger knows which ones the notifier filed.
 * Automation rules that suppress noise, people resolving findings below the threshold, and the
 * products re-importing a suppressed finding at each evaluation all reach dispatch. This replays
 * `count` such events about findings the notifier never filed, DynamoDB behind the counting proxy,
 * and counts what they cost: dispatch invocations, ledger reads, executions (must be none), dollars.
 */
import { DISPATCH_BATCH_SIZE } from '../src/config/constants.js';
import { round } from './common.js';
import { type DynamoCounts, startDynamoMeter } from './dynamo-meter.js';
import { LAMBDA_ASSUMPTIONS, SQS_MESSAGES_PER_REQUEST } from './economy.js';
import { distinct } from './events.js';
import { PRICES } from './prices.js';
import { startReplayer } from './throughput.js';

export interface ChurnFigures {
  events: number;
  /** What the replay reported for them: `not filed` for every one, or the figures mean nothing. */
  outcomes: Record<string, number>;
  dispatchInvocations: number;
  executions: number;
  dynamoDb: DynamoCounts;
  sqsRequests: number;
  usd: { lambda: number; sqs: number; dynamoDb: number; stepFunctions: number; total: number };
  /** Per 10,000 forwarded events. */
  usdPer10k: number;
}

/** Half suppressed by an automation rule, half resolved by a person: none of them ever filed. */
export function churnEvents(count: number) {
  return distinct(count).map((event, index) => {
    const finding = event.detail.findings[0] as Record<string, unknown>;
    const status = index % 2 === 0 ? 'SUPPRESSED' : 'RESOLVED';
    finding.Workflow = { Status: status };
    finding.Note = {
      Text: status === 'SUPPRESSED' ? 'suppressed by automation rule: lab accounts' : 'false positive',
      UpdatedBy: 'arn:aws:iam::111111111111:role/SecurityAutomation',
      UpdatedAt: '2026-11-30T00:00:00Z',
    };
    return event;
  });
}

export async function measureChurn(count: number): Promise<ChurnFigures> {
  const meter = await startDynamoMeter();
  try {
    const replayer = await startReplayer({ AWS_ENDPOINT_URL_DYNAMODB: meter.url });
    try {
      meter.reset();
      const events = churnEvents(count);
      const result = await replayer.replay(events);
      const outcomes: Record<string, number> = {};
      for (const r of result.results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if (outcomes['not filed'] !== count) {
        throw new Error(`churn: expected ${count} "not filed", got ${JSON.stringify(outcomes)}`);
      }
      const dynamoDb = meter.counts();
      const dispatchInvocations = Math.ceil(events.length / DISPATCH_BATCH_SIZE);
      const receives = Math.ceil(events.length / SQS_MESSAGES_PER_REQUEST);
      const sqsRequests = events.length + 2 * receives;
      const gbSeconds =
        (dispatchInvocations * LAMBDA_ASSUMPTIONS.durationMs.dispatch * LAMBDA_ASSUMPTIONS.memoryGb) / 1000;
      const usd = {
        lambda: dispatchInvocations * PRICES.lambdaPerRequest + gbSeconds * PRICES.lambdaArm64PerGbSecond,
        sqs: sqsRequests * PRICES.sqsPerRequest,
        dynamoDb:
          dynamoDb.readUnits * PRICES.dynamoDbPerReadRequestUnit +
          dynamoDb.writeUnits * PRICES.dynamoDbPerWriteRequestUnit,
        stepFunctions: 0,
        total: 0,
      };
      usd.total = usd.lambda + usd.sqs + usd.dynamoDb + usd.stepFunctions;
      return {
        events: count,
        outcomes,
        dispatchInvocations,
        executions: result.runs.length,
        dynamoDb,
        sqsRequests,
        usd,
        usdPer10k: round((usd.total * 10_000) / count, 4),
      };
    } finally {
      await replayer.close();
    }
  } finally {
    await meter.close();
  }
}

/** The report's section. */
export function renderChurn(churn: ChurnFigures): string {
  const per10k = (value: number) => round((value * 10_000) / churn.events, 4);
  const rows = [
    ['dispatch invocations', String(churn.dispatchInvocations), `batches of ${DISPATCH_BATCH_SIZE}`],
    ['workflow executions', String(churn.executions), 'none: nothing was filed'],
    [
      'ledger reads',
      `${churn.dynamoDb.readRequests} requests, ${churn.dynamoDb.readUnits} RRU`,
      JSON.stringify(churn.dynamoDb.byOperation),
    ],
    ['ledger writes', `${churn.dynamoDb.writeRequests} requests, ${churn.dynamoDb.writeUnits} WRU`, ''],
    ['SQS requests', String(churn.sqsRequests), 'send + receive + delete (modelled)'],
    [
      'dollars',
      `$${per10k(churn.usd.total)} per 10,000 events`,
      `Lambda $${per10k(churn.usd.lambda)}, SQS $${per10k(churn.usd.sqs)}, DynamoDB $${per10k(churn.usd.dynamoDb)}`,
    ],
  ];
  return [
    `\n## Churn: ${churn.events.toLocaleString('en-US')} forwarded events about findings never filed\n`,
    'RESOLVED or SUPPRESSED findings the notifier never filed (automation rules, people, re-imports of',
    'suppressed findings): the transition rules forward them, dispatch reads the ledger and drops them.\n',
    '| what | count | note |',
    '|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
