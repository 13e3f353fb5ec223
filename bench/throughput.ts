import { join } from 'node:path';
import { createReplayer, type Replayer, type ReplayResult } from '../src/local/replayer.js';
import type { Env } from '../src/local/sandbox.js';
import { median, round, WORK } from './common.js';
import { distinct, storm } from './events.js';

export type Mix = 'storm' | 'distinct';

/** The environment of the local pipeline, as the integration tests run it. */
export function replayEnv(extra: Env = {}): Env {
  return {
    PATH: process.env.PATH,
    NOTIFY_MIN_SEVERITY: 'MEDIUM',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...extra,
  };
}

/** A replayer on fresh embedded emulators, quiet, with millisecond retries. */
export function startReplayer(extra: Env = {}): Promise<Replayer> {
  return createReplayer({
    env: replayEnv(extra),
    fastRetries: true,
    deadLetterDir: join(WORK, 'dead-letter'),
    print: () => {},
  });
}

export const eventsFor = (mix: Mix, count: number) => (mix === 'storm' ? storm(count) : distinct(count));

/** The replay failed, or left findings not notified: the figures would mean nothing. */
export function checkAllNotified(label: string, count: number, result: ReplayResult): void {
  const notified = result.results.filter((r) => r.outcome === 'notified').length;
  if (result.exitCode !== 0 || notified !== count) {
    const other = result.results.find((r) => r.outcome !== 'notified');
    throw new Error(
      `${label}: ${notified} of ${count} findings notified (exit ${result.exitCode})${
        other ? `; e.g. ${other.outcome} ${other.key}: ${other.detail ?? ''}` : ''
      }`,
    );
  }
}

export interface ThroughputFigures {
  mix: Mix;
  findings: number;
  repeats: number;
  /** Median wall time of `replay(events)` (events built beforehand), fresh replayer each repeat. */
  medianMs: number;
  findingsPerSecond: number;
  samplesMs: number[];
  executions: number;
  slackMessages: number;
  backlogIssues: number;
  batchUpdateFindings: number;
}

/** Warms the JIT and the module graph once (a throwaway replayer), so the first size is not penalised. */
export async function warmUp(): Promise<void> {
  const replayer = await startReplayer();
  try {
    await replayer.replay(storm(30));
    await replayer.replay(distinct(10));
  } finally {
    await replayer.close();
  }
}

export async function measureThroughput(
  mix: Mix,
  count: number,
  repeats: number,
): Promise<ThroughputFigures> {
  const samples: number[] = [];
  let last: Omit<
    ThroughputFigures,
    'mix' | 'findings' | 'repeats' | 'medianMs' | 'findingsPerSecond' | 'samplesMs'
  > = { executions: 0, slackMessages: 0, backlogIssues: 0, batchUpdateFindings: 0 };
  for (let index = 0; index < repeats; index += 1) {
    const events = eventsFor(mix, count);
    const replayer = await startReplayer();
    try {
      const start = performance.now();
      const result = await replayer.replay(events);
      samples.push(performance.now() - start);
      checkAllNotified(`${mix} ${count}`, count, result);
      last = {
        executions: result.runs.length,
        slackMessages: replayer.sandbox.slack?.messages.length ?? 0,
        backlogIssues: replayer.sandbox.backlog?.issues.length ?? 0,
        batchUpdateFindings: replayer.sandbox.securityHub?.batchUpdates.length ?? 0,
      };
    } finally {
      await replayer.close();
    }
  }
  const medianMs = median(samples);
  return {
    mix,
    findings: count,
    repeats,
    medianMs: round(medianMs),
    findingsPerSecond: round(count / (medianMs / 1000), 0),
    samplesMs: samples.map((s) => round(s)),
    ...last,
  };
}
