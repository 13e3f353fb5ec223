/**
 * One daily digest for an organisation of 100,000 active findings across 200 accounts, on the
 * embedded emulators: the Security Hub calls it makes and its wall time, beside counting the same
 * by paging GetFindings (1,000 calls of 100). The findings are seeded in process (the emulator's
 * importFindings, no HTTP). Both Security Hubs: the insights (the first run finds none and creates
 * them; the next runs read them) and GetFindingStatisticsV2 over as many OCSF findings.
 *
 * Runs from `npm run bench` (bench/run.ts) or alone: `npx tsx bench/digest.ts`.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig } from '../src/adapters/aws-config.js';
import { postDigest } from '../src/app/post-digest.js';
import { activeFindingsFilters } from '../src/domain/digest/counts.js';
import { digestSetup } from '../src/handlers/digest.js';
import { makeLogger } from '../src/handlers/runtime.js';
import type { SecurityHubEmulator } from '../src/local/emulators/security-hub-emulator.js';
import { type Env, startSandbox } from '../src/local/sandbox.js';
import { round, table } from './common.js';

export const DIGEST_FINDINGS = 100_000;
export const DIGEST_ACCOUNTS = 200;
export const DIGEST_CALL_TARGET = 20;
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'] as const;
const OCSF_SEVERITY = {
  CRITICAL: 'Critical',
  HIGH: 'High',
  MEDIUM: 'Medium',
  LOW: 'Low',
  INFORMATIONAL: 'Informational',
};

export interface DigestRun {
  label: string;
  securityHubCalls: number;
  byOperation: Record<string, number>;
  wallMs: number;
  /** What the table's total row said. */
  total: number;
}

export interface DigestFigures {
  findings: number;
  accounts: number;
  seedMs: number;
  runs: DigestRun[];
  /** Paging GetFindings: the calls it takes, `timedPages` of them timed, the whole extrapolated. */
  paging: { calls: number; timedPages: number; wallMs: number; total: number };
  target: number;
}

const account = (i: number) => String(200000000000 + i);

/** 100,000 active findings (ACTIVE, NEW or NOTIFIED, FAILED), spread over the accounts and severities. */
function seed(hub: SecurityHubEmulator): void {
  const findings: Array<Record<string, unknown>> = [];
  const ocsf: Array<Record<string, unknown>> = [];
  for (let i = 0; i < DIGEST_FINDINGS; i++) {
    const accountId = account(i % DIGEST_ACCOUNTS);
    const severity = SEVERITIES[(i * 7) % SEVERITIES.length] as (typeof SEVERITIES)[number];
    findings.push({
      Id: `bench-${i}`,
      ProductArn: 'arn:aws:securityhub:ap-northeast-1::product/aws/securityhub',
      AwsAccountId: accountId,
      GeneratorId: `control/${i % 50}`,
      Title: 'bench',
      Description: 'bench',
      Resources: [{ Type: 'AwsS3Bucket', Id: `arn:aws:s3:::bench-${i}` }],
      Severity: { Label: severity },
      Workflow: { Status: i % 3 === 0 ? 'NOTIFIED' : 'NEW' },
      Compliance: { Status: 'FAILED' },
    });
    ocsf.push({
      metadata: { uid: `bench-${i}` },
      cloud: { account: { uid: accountId } },
      severity: OCSF_SEVERITY[severity],
      status: i % 3 === 0 ? 'In Progress' : 'New',
      compliance: { status: 'Fail' },
    });
  }
  hub.importFindings(findings);
  hub.importFindingsV2(ocsf);
}

async function timedDigest(env: Env, hub: SecurityHubEmulator, label: string): Promise<DigestRun> {
  const logger = makeLogger(env);
  const { ports, options } = digestSetup(env, logger);
  const before = hub.calls.length;
  const started = performance.now();
  const outcome = await postDigest({ run: `bench:${label}`, attempt: randomUUID() }, options, ports);
  const wallMs = performance.now() - started;
  const calls = hub.calls.slice(before).map((call) => call.operation);
  const byOperation: Record<string, number> = {};
  for (const operation of calls) byOperation[operation] = (byOperation[operation] ?? 0) + 1;
  const counts = outcome.digest.total.counts;
  return {
    label,
    securityHubCalls: calls.length,
    byOperation,
    wallMs: round(wallMs),
    total: SEVERITIES.reduce((sum, s) => sum + counts[s], 0),
  };
}

/** Pages of GetFindings timed (each one filters all the emulated findings, as a real call would). */
export const PAGES_TIMED = 20;

/**
 * The same question by paging GetFindings (100 a page), as a notifier without aggregation would:
 * `PAGES_TIMED` pages are fetched and timed, the rest of the 1,000 calls follow from the count
 * (`ceil(active / 100)`) and the mean time of the pages fetched.
 */
async function paging(env: Env, active: number): Promise<DigestFigures['paging']> {
  const client = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  // Every severity at once: the digest's active filter without its severity condition.
  const { SeverityLabel: _, ...Filters } = activeFindingsFilters('CRITICAL');
  let token: string | undefined;
  let fetched = 0;
  const started = performance.now();
  for (let page = 0; page < PAGES_TIMED; page++) {
    const answer = await client.send(
      new GetFindingsCommand({ Filters, MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
    );
    fetched += answer.Findings?.length ?? 0;
    token = answer.NextToken;
    if (!token) break;
  }
  const meanMs = (performance.now() - started) / PAGES_TIMED;
  const calls = Math.ceil(active / 100);
  if (fetched !== Math.min(active, PAGES_TIMED * 100)) throw new Error(`paging fetched ${fetched} findings`);
  return { calls, timedPages: PAGES_TIMED, wallMs: round(meanMs * calls), total: active };
}

export async function measureDigest(): Promise<DigestFigures> {
  const sandbox = await startSandbox({
    PATH: process.env.PATH,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_REGION: 'ap-northeast-1',
    DIGEST_TIME_ZONE: 'Asia/Tokyo',
  });
  try {
    const hub = sandbox.securityHub as SecurityHubEmulator;
    const seedStarted = performance.now();
    seed(hub);
    const seedMs = round(performance.now() - seedStarted);
    const runs: DigestRun[] = [];
    runs.push(
      await timedDigest(
        { ...sandbox.env, DIGEST_COUNTS: 'insights' },
        hub,
        'insights, first run (creates them)',
      ),
    );
    const arns = Object.fromEntries(
      [...hub.insights.insights.values()].map((insight) => [
        /suppressed/.test(insight.Name) ? 'SUPPRESSED' : /active (\w+) /.exec(insight.Name)?.[1],
        insight.InsightArn,
      ]),
    );
    runs.push(
      await timedDigest(
        { ...sandbox.env, DIGEST_COUNTS: 'auto', DIGEST_INSIGHT_ARNS: JSON.stringify(arns) },
        hub,
        'insights, as deployed (auto, the stack insights)',
      ),
    );
    hub.insights.setSecurityHubV2(true);
    runs.push(
      await timedDigest(
        { ...sandbox.env, DIGEST_COUNTS: 'auto' },
        hub,
        'new Security Hub (auto: GetFindingStatisticsV2)',
      ),
    );
    return {
      findings: DIGEST_FINDINGS,
      accounts: DIGEST_ACCOUNTS,
      seedMs,
      runs,
      paging: await paging(sandbox.env, runs[0]?.total ?? 0),
      target: DIGEST_CALL_TARGET,
    };
  } finally {
    await sandbox.close();
  }
}

export function renderDigest(figures: DigestFigures): string {
  const out = [
    `\n## Daily digest: ${figures.findings.toLocaleString('en-US')} active findings, ${figures.accounts} accounts (emulated)\n`,
  ];
  out.push(
    table(
      [
        'how',
        'Security Hub calls',
        'of which',
        'wall time',
        'total counted',
        `target <= ${figures.target} calls`,
      ],
      [
        ...figures.runs.map((run) => [
          run.label,
          String(run.securityHubCalls),
          Object.entries(run.byOperation)
            .map(([operation, n]) => `${n} ${operation}`)
            .join(', '),
          `${run.wallMs} ms`,
          run.total.toLocaleString('en-US'),
          run.securityHubCalls <= figures.target ? 'met' : 'MISSED',
        ]),
        [
          'paging GetFindings (100 a page)',
          String(figures.paging.calls),
          `${figures.paging.calls} GetFindings`,
          `${figures.paging.wallMs} ms (${figures.paging.timedPages} pages timed)`,
          figures.paging.total.toLocaleString('en-US'),
          figures.paging.calls <= figures.target ? 'met' : 'MISSED',
        ],
      ],
    ),
  );
  out.push(
    `\nSeeding the emulator in process: ${figures.seedMs} ms. Wall times are the emulator's (it evaluates every filter over every finding per call); against AWS each call is a network round trip, so the calls are the figure that carries over. Paging: ${figures.paging.timedPages} pages fetched and timed, the ${figures.paging.calls.toLocaleString('en-US')} calls it takes (ceil(active / 100)) at their mean.`,
  );
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  measureDigest().then(
    (figures) => console.log(renderDigest(figures)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
