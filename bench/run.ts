/**
 * `npm run bench`: bundle size, cold start, storm throughput, API economy and cost, drain time.
 * Prints markdown tables and writes bench/results.json. Exits non-zero on an error only; a missed
 * target is printed as MISSED with the gap.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type BundleFigures, packageAndMeasure } from './bundle.js';
import { measureChurn, renderChurn } from './churn.js';
import { type ColdStartFigures, measureColdStarts, unpackArtifacts } from './cold-start.js';
import { duration, type FunctionKey, kb, REPO, round, run, table } from './common.js';
import { measureDigest, renderDigest } from './digest.js';
import {
  BACKLOG_WRITES_PER_MINUTE,
  BATCH_UPDATE_FINDINGS_PER_SECOND,
  countStorm,
  drainTime,
  estimateCost,
  LAMBDA_ASSUMPTIONS,
  type PipelineCounts,
  SLACK_MESSAGES_PER_SECOND_PER_CHANNEL,
} from './economy.js';
import { type LatencyFigures, measureLatency } from './latency.js';
import { buildNaiveBundles, NAIVE_OPTIONS } from './naive/build.js';
import { PRICE_TABLE, PRICES } from './prices.js';
import { type Mix, measureThroughput, type ThroughputFigures, warmUp } from './throughput.js';
import {
  countVulnerabilityStorm,
  renderVulnerabilityStorm,
  VULNERABILITY_STORM,
  vulnerabilityTargets,
} from './vulnerability-storm.js';

const TARGETS = {
  // 300 KB since the functions bundle the AWS SDK clients they use (README "Performance").
  zippedBytes: 300 * 1024,
  coldStartRatio: 0.5,
  stormFindingsPerSecond: 500,
};
const COLD_START_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
/** Mix, size, repeats (median taken): the cheap ones three times, the long distinct ones once. */
const THROUGHPUT_PLAN: Array<[Mix, number, number]> = [
  ['storm', 100, 3],
  ['storm', 1000, 3],
  ['storm', 5000, 3],
  ['distinct', 100, 3],
  ['distinct', 1000, 1],
  ['distinct', 5000, 1],
];
const ECONOMY_FINDINGS = 1000;
/** Forwarded events about findings the notifier never filed: the cost of churn, per 10,000. */
const CHURN_EVENTS = 10_000;
const LATENCY_FINDINGS = 100;

interface Target {
  name: string;
  target: string;
  result: string;
  met: boolean;
  gap?: string;
}

const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
const usd = (value: number) => `$${value < 0.01 ? value.toFixed(5) : value.toFixed(4)}`;
const pct = (value: number) => `${round(value * 100, 0)} %`;

async function main(): Promise<void> {
  const started = Date.now();
  if (!process.version.startsWith('v24.')) {
    progress(`warning: running on Node ${process.version}, not the pinned v24 (use npm run bench)`);
  }
  const targets: Target[] = [];

  progress('npm run package ...');
  const bundles = await packageAndMeasure();
  progress('building the naive bundles ...');
  const naive = await buildNaiveBundles();
  for (const bundle of bundles) {
    const met = bundle.zippedBytes < TARGETS.zippedBytes;
    targets.push({
      name: `bundle ${bundle.function}`,
      target: `< ${kb(TARGETS.zippedBytes)} zipped`,
      result: kb(bundle.zippedBytes),
      met,
      ...(met ? {} : { gap: `${kb(bundle.zippedBytes - TARGETS.zippedBytes)} over` }),
    });
  }

  progress(`cold starts: ${COLD_START_RUNS} fresh processes per bundle ...`);
  const artifacts = await unpackArtifacts();
  const naivePaths = Object.fromEntries(naive.map((n) => [n.function, n.file])) as Record<
    FunctionKey,
    string
  >;
  const coldStarts = await measureColdStarts(artifacts, naivePaths, COLD_START_RUNS);
  for (const cold of coldStarts) {
    const met = cold.ratio <= TARGETS.coldStartRatio;
    targets.push({
      name: `cold start ${cold.function}`,
      target: `ours <= ${TARGETS.coldStartRatio} x naive`,
      result: `${cold.ratio} x (${cold.ours.medianImportMs} / ${cold.naive.medianImportMs} ms)`,
      met,
      ...(met
        ? {}
        : {
            gap: `${round(cold.ours.medianImportMs - TARGETS.coldStartRatio * cold.naive.medianImportMs)} ms too slow`,
          }),
    });
  }

  progress('throughput: warming up ...');
  await warmUp();
  const throughput: ThroughputFigures[] = [];
  for (const [mix, count, repeats] of THROUGHPUT_PLAN) {
    progress(`throughput: ${mix} ${count} x ${repeats} ...`);
    throughput.push(await measureThroughput(mix, count, repeats));
  }
  const storm1000 = throughput.find((t) => t.mix === 'storm' && t.findings === 1000);
  if (storm1000) {
    const met = storm1000.findingsPerSecond >= TARGETS.stormFindingsPerSecond;
    targets.push({
      name: 'throughput storm 1,000',
      target: `>= ${TARGETS.stormFindingsPerSecond} findings/s`,
      result: `${storm1000.findingsPerSecond} findings/s`,
      met,
      ...(met
        ? {}
        : { gap: `${TARGETS.stormFindingsPerSecond - storm1000.findingsPerSecond} findings/s short` }),
    });
  }

  progress(`latency: ${LATENCY_FINDINGS} findings one at a time, event in to Slack post ...`);
  const latency = await measureLatency(LATENCY_FINDINGS);

  progress('API economy: 1,000-finding storm, grouped and with grouping off ...');
  const grouped = await countStorm('ours (grouped)', ECONOMY_FINDINGS, { grouping: true });
  const ungrouped = await countStorm('grouping off', ECONOMY_FINDINGS, { grouping: false });
  const initMs = Object.fromEntries(coldStarts.map((c) => [c.function, c.ours.medianImportMs]));
  const costs = [estimateCost(grouped, initMs), estimateCost(ungrouped, initMs)] as const;
  const drains = [
    drainTime(grouped.label, grouped.slack.total, grouped.backlog.writes, grouped.batchUpdateFindings.calls),
    drainTime(
      ungrouped.label,
      ungrouped.slack.total,
      ungrouped.backlog.writes,
      ungrouped.batchUpdateFindings.calls,
    ),
    drainTime('one per finding', ECONOMY_FINDINGS, ECONOMY_FINDINGS, ECONOMY_FINDINGS),
    drainTime('one per finding, pooled marks', ECONOMY_FINDINGS, ECONOMY_FINDINGS, ECONOMY_FINDINGS / 100),
  ];

  progress('Churn: 10,000 forwarded events about findings never filed ...');
  const churn = await measureChurn(CHURN_EVENTS);
  progress('vulnerability storm: 1,000 CVE findings over 20 images in 2 accounts ...');
  const vulnerabilities = await countVulnerabilityStorm();
  targets.push(...vulnerabilityTargets(vulnerabilities));
  progress('daily digest: 100,000 active findings over 200 accounts, beside paging GetFindings ...');
  const digest = await measureDigest();
  for (const run of digest.runs.slice(1)) {
    const met = run.securityHubCalls <= digest.target;
    targets.push({
      name: `digest, ${run.label}`,
      target: `<= ${digest.target} Security Hub calls`,
      result: `${run.securityHubCalls} calls, ${run.wallMs} ms (paging GetFindings: ${digest.paging.calls} calls)`,
      met,
      ...(met ? {} : { gap: `${run.securityHubCalls - digest.target} calls over` }),
    });
  }

  const report = render({
    bundles,
    naive,
    coldStarts,
    throughput,
    latency,
    grouped,
    ungrouped,
    costs,
    drains,
    targets,
  });
  console.log(
    report.replace('\n## Targets\n', `\n${renderVulnerabilityStorm(vulnerabilities)}\n\n## Targets\n`),
  );
  console.log(renderChurn(churn));
  console.log(renderDigest(digest));

  const results = {
    command: 'npm run bench',
    generatedAt: new Date().toISOString(),
    elapsedSeconds: round((Date.now() - started) / 1000),
    machine: {
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${process.arch}`,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      memoryGiB: round(totalmem() / 1024 ** 3),
    },
    targets,
    bundle: bundles.map(({ entries, ...rest }) => ({
      ...rest,
      entries: entries.map((e) => ({ name: e.name, bytes: e.bytes, compressedBytes: e.compressedBytes })),
    })),
    naive: {
      howBuilt:
        'esbuild of the same handler entry with every runtime dependency of package.json imported as a namespace and re-exported, @aws-sdk/* bundled, no minify, no tree shaking, no source maps (bench/naive/build.ts)',
      esbuildOptions: NAIVE_OPTIONS,
      bundles: naive.map((n) => ({ ...n, file: n.file.replace(REPO, '') })),
    },
    coldStart: {
      runs: COLD_START_RUNS,
      measure:
        'performance.now() around import() of the bundle in a fresh node_modules/.bin/node process (AWS SDK resolved from the repo node_modules), median',
      functions: coldStarts,
    },
    throughput: {
      setup:
        'createReplayer on the embedded emulators, fastRetries, POWERTOOLS_LOG_LEVEL=SILENT, NOTIFY_MIN_SEVERITY=MEDIUM, fresh replayer per run, after one warm-up replay; storm = stormEvents(n, 3 controls, 2 accounts); distinct = GuardDuty findings with a unique type each over 2 accounts',
      runs: throughput,
    },
    latency: {
      setup:
        'one warm createReplayer on the embedded emulators (fastRetries, POWERTOOLS_LOG_LEVEL=SILENT), distinct GuardDuty findings one at a time, each a new delivery; from replay() called to the ts Slack gave the message',
      ...latency,
    },
    economy: {
      findings: ECONOMY_FINDINGS,
      counts: [grouped, ungrouped],
      cost: [
        { label: grouped.label, ...costs[0] },
        { label: ungrouped.label, ...costs[1] },
      ],
      lambdaAssumptions: { ...LAMBDA_ASSUMPTIONS, initMs },
      prices: PRICES,
    },
    churn: {
      setup:
        'churnEvents(10,000): GuardDuty findings never filed, half SUPPRESSED by an automation rule, half RESOLVED by a person; replayed with DynamoDB behind the counting proxy',
      ...churn,
    },
    vulnerabilityStorm: { shape: VULNERABILITY_STORM, ...vulnerabilities },
    drain: {
      limits: {
        slackMessagesPerSecondPerChannel: SLACK_MESSAGES_PER_SECOND_PER_CHANNEL,
        backlogWritesPerMinute: BACKLOG_WRITES_PER_MINUTE,
        batchUpdateFindingsPerSecond: BATCH_UPDATE_FINDINGS_PER_SECOND,
      },
      designs: drains.map((d) => ({ ...d, seconds: round(d.seconds) })),
    },
    digest: {
      setup:
        'startSandbox (embedded emulators), findings seeded in process (importFindings/importFindingsV2), postDigest through digestSetup with the real clients; Security Hub calls from the emulator call log (bench/digest.ts)',
      ...digest,
    },
  };
  const resultsFile = join(REPO, 'bench', 'results.json');
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  try {
    // The repository's formatter owns JSON layout: keep `npm run lint` clean.
    await run(join(REPO, 'node_modules', '.bin', 'biome'), ['format', '--write', resultsFile], { cwd: REPO });
  } catch (error) {
    progress(`warning: could not format results.json: ${(error as Error).message}`);
  }
  progress(`wrote bench/results.json in ${duration((Date.now() - started) / 1000)}`);
}

function render(figures: {
  bundles: BundleFigures[];
  naive: Awaited<ReturnType<typeof buildNaiveBundles>>;
  coldStarts: ColdStartFigures[];
  throughput: ThroughputFigures[];
  latency: LatencyFigures;
  grouped: PipelineCounts;
  ungrouped: PipelineCounts;
  costs: readonly [ReturnType<typeof estimateCost>, ReturnType<typeof estimateCost>];
  drains: ReturnType<typeof drainTime>[];
  targets: Target[];
}): string {
  const { bundles, naive, coldStarts, throughput, latency, grouped, ungrouped, costs, drains, targets } =
    figures;
  const out: string[] = [];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  out.push(`# securityhub-notifier benchmarks (${new Date().toISOString().slice(0, 10)})`);
  out.push(`Node ${process.version}, ${cpu} x ${cpus().length}, ${process.platform} ${process.arch}\n`);

  out.push(`## Bundle (npm run package; KB = 1,024 bytes)\n`);
  out.push(
    table(
      [
        'function',
        'zipped',
        'unpacked',
        'naive bundle',
        'naive deflated',
        `target < ${kb(TARGETS.zippedBytes)}`,
      ],
      bundles.map((b) => {
        const n = naive.find((x) => x.function === b.function);
        return [
          b.function,
          kb(b.zippedBytes),
          kb(b.unpackedBytes),
          n ? kb(n.bytes) : '-',
          n ? kb(n.deflatedBytes) : '-',
          b.zippedBytes < TARGETS.zippedBytes ? 'met' : 'MISSED',
        ];
      }),
    ),
  );

  out.push(
    `\n## Cold start (import + client construction, fresh Node process, median of ${COLD_START_RUNS})\n`,
  );
  out.push(
    table(
      [
        'function',
        'ours',
        'of which AWS SDK',
        'naive',
        'ours / naive',
        'process ours',
        'process naive',
        'target <= 0.5',
      ],
      coldStarts.map((c) => [
        c.function,
        `${c.ours.medianImportMs} ms`,
        c.sdk.packages.length === 0
          ? 'bundled'
          : `${c.sdk.medianImportMs} ms (${pct(c.sdk.medianImportMs / c.ours.medianImportMs)})`,
        `${c.naive.medianImportMs} ms`,
        c.ratio,
        `${c.ours.medianProcessMs} ms`,
        `${c.naive.medianProcessMs} ms`,
        c.ratio <= TARGETS.coldStartRatio ? 'met' : 'MISSED',
      ]),
    ),
  );

  out.push(
    '\n"of which AWS SDK": the `@aws-sdk/*` packages the bundle leaves external (the Lambda runtime ' +
      'provides them) imported alone in a fresh process ("bundled": none is left external); "process": since the ' +
      'process started (Node boot included).',
  );

  out.push('\n## Throughput (local pipeline on the embedded emulators)\n');
  out.push(
    table(
      [
        'mix',
        'findings',
        'runs',
        'median',
        'findings/s',
        'executions',
        'Slack msgs',
        'issues',
        'BatchUpdateFindings',
      ],
      throughput.map((t) => [
        t.mix,
        t.findings,
        t.repeats,
        `${t.medianMs} ms`,
        t.findingsPerSecond,
        t.executions,
        t.slackMessages,
        t.backlogIssues,
        t.batchUpdateFindings,
      ]),
    ),
  );

  out.push(`\n## End-to-end latency (one finding, event in to Slack post, ${latency.findings} findings)\n`);
  out.push(
    table(['local pipeline', 'p50', 'p99'], [['measured', `${latency.p50Ms} ms`, `${latency.p99Ms} ms`]]),
  );
  out.push(
    `\nProduction estimate for a lone finding: about ${latency.production.p50Seconds} s, of which the queue's ` +
      `batching window is ${latency.production.batchingWindowSeconds} s (read from functions/dispatch.yml):\n`,
  );
  out.push(
    table(
      ['part', 'seconds'],
      latency.production.parts.map((part) => [part.part, round(part.seconds, 2)]),
    ),
  );

  out.push(
    `\n## API economy (${grouped.findings.toLocaleString('en-US')}-finding storm, 3 controls x 2 accounts)\n`,
  );
  const row = (label: string, pick: (c: PipelineCounts) => string | number) => [
    label,
    pick(grouped),
    pick(ungrouped),
  ];
  out.push(
    table(
      ['', grouped.label, ungrouped.label],
      [
        row(
          'Slack messages (top-level + replies)',
          (c) => `${c.slack.total} (${c.slack.topLevel} + ${c.slack.threadReplies})`,
        ),
        row('Backlog issues / comments', (c) => `${c.backlog.issues} / ${c.backlog.comments}`),
        row('Backlog writes (POST/PATCH) / reads', (c) => `${c.backlog.writes} / ${c.backlog.reads}`),
        row(
          'BatchUpdateFindings calls (floor)',
          (c) =>
            `${c.batchUpdateFindings.calls} (${c.batchUpdateFindings.floor}), <= ${c.batchUpdateFindings.maxIdentifiers} ids`,
        ),
        row('Step Functions executions', (c) => c.stepFunctions.executions),
        row('Step Functions state transitions', (c) => c.stepFunctions.transitions),
        row('Lambda: dispatch (SQS batches)', (c) => c.lambda.dispatch),
        row(
          'Lambda: tasks (FileBacklogIssue + PostSlackMessage)',
          (c) =>
            `${c.lambda.fileBacklogIssue + c.lambda.postSlackMessage} (${c.lambda.fileBacklogIssue} + ${c.lambda.postSlackMessage})`,
        ),
        row('DynamoDB reads: requests / RRU', (c) => `${c.dynamoDb.readRequests} / ${c.dynamoDb.readUnits}`),
        row(
          'DynamoDB writes: requests / WRU',
          (c) => `${c.dynamoDb.writeRequests} / ${c.dynamoDb.writeUnits}`,
        ),
        row('SQS requests (modelled)', (c) => c.sqs.total),
        ['Estimated AWS cost per 1,000 findings', usd(costs[0].totalUsd), usd(costs[1].totalUsd)],
      ],
    ),
  );

  out.push(
    `\nGrouping makes the storm ${pct(1 - costs[0].totalUsd / costs[1].totalUsd)} cheaper than with grouping off ` +
      `(${usd(costs[0].totalUsd)} against ${usd(costs[1].totalUsd)}).`,
  );
  out.push('\n### Cost breakdown per 1,000 findings\n');
  out.push(
    table(
      ['item', `${grouped.label}`, '', `${ungrouped.label}`, ''],
      costs[0].lines.map((line, index) => {
        const other = costs[1].lines[index];
        return [
          line.item,
          `${line.quantity} ${line.unit}`,
          usd(line.usd),
          other ? `${other.quantity} ${other.unit}` : '-',
          other ? usd(other.usd) : '-',
        ];
      }),
    ),
  );
  const { durationMs, memoryGb } = LAMBDA_ASSUMPTIONS;
  out.push(
    `\nLambda: ${memoryGb * 1024} MB arm64; assumed billed durations dispatch ${durationMs.dispatch} ms, ` +
      `fileBacklogIssue ${durationMs.fileBacklogIssue} ms, postSlackMessage ${durationMs.postSlackMessage} ms an invocation; ` +
      `one cold start a function, INIT billed at the measured cold start. SQS modelled: one SendMessage an event, ` +
      'ReceiveMessage and DeleteMessageBatch per 10 messages (idle long polling not included). Security Hub charges ' +
      '(checks, ingested findings) and CloudWatch Logs are the same for any design and left out.',
  );
  out.push('\nPrices (us-east-1 list prices, bench/prices.ts):\n');
  out.push(table(['service', 'price'], PRICE_TABLE));

  out.push(
    `\n## Drain time (Slack ${SLACK_MESSAGES_PER_SECOND_PER_CHANNEL} msg/s in one channel, Backlog ${BACKLOG_WRITES_PER_MINUTE} writes/min, ` +
      `BatchUpdateFindings ${BATCH_UPDATE_FINDINGS_PER_SECOND}/s)\n`,
  );
  out.push(
    table(
      [
        'design',
        'Slack msgs',
        'Backlog writes',
        'BatchUpdateFindings',
        'Slack',
        'Backlog',
        'Security Hub',
        'drain',
        'bound by',
      ],
      drains.map((d) => [
        d.label,
        d.slackMessages,
        d.backlogWrites,
        d.batchUpdateFindings,
        duration(d.slackSeconds),
        duration(d.backlogSeconds),
        duration(d.securityHubSeconds),
        duration(d.seconds),
        d.bottleneck,
      ]),
    ),
  );
  const oneEach = drains[2];
  const ours = drains[0];
  if (oneEach && ours && ours.seconds > 0) {
    out.push(
      `\nOurs drains ${round(oneEach.seconds / ours.seconds, 0)} x faster than one message per finding.`,
    );
  }

  out.push('\n## Targets\n');
  out.push(
    table(
      ['target', 'wanted', 'got', 'status'],
      targets.map((t) => [t.name, t.target, t.result, t.met ? 'met' : `MISSED (${t.gap ?? ''})`]),
    ),
  );
  const missed = targets.filter((t) => !t.met).length;
  out.push(missed === 0 ? '\nAll targets met.' : `\n${missed} target(s) MISSED.`);
  return out.join('\n');
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
