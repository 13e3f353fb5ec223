import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO, round } from './common.js';
import { LAMBDA_ASSUMPTIONS } from './economy.js';
import { distinct } from './events.js';
import { startReplayer } from './throughput.js';

/**
 * One finding's way through the local pipeline, event in → Slack post: the real dispatch handler,
 * the real workflow in aws-local-stepfunctions and the real task handlers against the emulators,
 * one finding at a time (each a new delivery) on one warm replayer, as on warm Lambdas. The time is
 * from handing the event to the pipeline to the `ts` Slack gave the message.
 */
export interface LatencyFigures {
  findings: number;
  p50Ms: number;
  p99Ms: number;
  samplesMs: number[];
  production: ProductionEstimate;
}

/** What production adds to the local figure, each part named (none of it runs here). */
export interface ProductionEstimate {
  /** The dispatch event source's MaximumBatchingWindowInSeconds, read from functions/dispatch.yml. */
  batchingWindowSeconds: number;
  parts: Array<{ part: string; seconds: number }>;
  /** A lone finding's estimate: it waits out the whole window (no batch fills it sooner). */
  p50Seconds: number;
}

/** Security Hub → EventBridge → SQS delivery: typically well under a second (an assumption, not measured here). */
const EVENTBRIDGE_TO_SQS_SECONDS = 0.5;
/** The SQS poller handing a batch to dispatch after the window, and StartExecution to the first task. */
const POLL_AND_START_SECONDS = 0.3;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** The window dispatch's event source waits to fill a batch, as deployed. */
export async function batchingWindowSeconds(): Promise<number> {
  const dispatch = parse(await readFile(join(REPO, 'functions', 'dispatch.yml'), 'utf8')) as {
    function: { events: Array<{ sqs?: { maximumBatchingWindow?: number } }> };
  };
  const window = dispatch.function.events.find((event) => event.sqs)?.sqs?.maximumBatchingWindow;
  if (typeof window !== 'number') throw new Error('functions/dispatch.yml: no sqs maximumBatchingWindow');
  return window;
}

export function productionEstimate(windowSeconds: number, localP50Ms: number): ProductionEstimate {
  const { durationMs } = LAMBDA_ASSUMPTIONS;
  const parts = [
    { part: 'EventBridge to the buffer queue (assumed)', seconds: EVENTBRIDGE_TO_SQS_SECONDS },
    { part: 'batching window (functions/dispatch.yml)', seconds: windowSeconds },
    { part: 'poll, invoke, StartExecution (assumed)', seconds: POLL_AND_START_SECONDS },
    { part: 'dispatch (assumed, bench/economy.ts)', seconds: durationMs.dispatch / 1000 },
    { part: 'FileBacklogIssue: Backlog API (assumed)', seconds: durationMs.fileBacklogIssue / 1000 },
    { part: 'PostSlackMessage: Slack API (assumed)', seconds: durationMs.postSlackMessage / 1000 },
    { part: 'the pipeline itself (measured p50, local)', seconds: localP50Ms / 1000 },
  ];
  const p50Seconds = round(
    parts.reduce((sum, part) => sum + part.seconds, 0),
    1,
  );
  return { batchingWindowSeconds: windowSeconds, parts, p50Seconds };
}

export async function measureLatency(count = 100): Promise<LatencyFigures> {
  const replayer = await startReplayer();
  const samples: number[] = [];
  try {
    // Warm: the first delivery loads every module and client, as a cold start does.
    await replayer.replay(distinct(1));
    const events = distinct(count + 1).slice(1);
    for (const event of events) {
      const before = replayer.sandbox.slack?.messages.length ?? 0;
      const start = Date.now();
      const result = await replayer.replay([event]);
      const message = replayer.sandbox.slack?.messages[before];
      if (result.exitCode !== 0 || !message)
        throw new Error(`latency: the finding was not posted (${result.results[0]?.detail ?? ''})`);
      // The ts Slack gave the post: seconds.microseconds since the epoch.
      samples.push(Number(message.ts) * 1000 - start);
    }
  } finally {
    await replayer.close();
  }
  const p50Ms = round(percentile(samples, 50));
  return {
    findings: count,
    p50Ms,
    p99Ms: round(percentile(samples, 99)),
    samplesMs: samples.map((sample) => round(sample)),
    production: productionEstimate(await batchingWindowSeconds(), p50Ms),
  };
}
