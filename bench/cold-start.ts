import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTIONS, type FunctionKey, median, NODE, REPO, round, run, WORK } from './common.js';

/**
 * Runs in a fresh process: the time to import the handler module (load the bundle, evaluate it,
 * which constructs its clients), and the time since the process started (Node's own boot included).
 */
const PROBE = `const start = performance.now();
for (const specifier of process.argv.slice(2)) await import(specifier);
const end = performance.now();
process.stdout.write(JSON.stringify({ importMs: end - start, sinceProcessStartMs: end }));
process.exit(0);
`;

/**
 * What the probe runs with: a region and fake credentials so that client construction works, every
 * AWS endpoint pointed at a closed local port and instance metadata off, so that nothing can reach
 * AWS; nothing inherited (no NODE_OPTIONS from tsx).
 */
const PROBE_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  AWS_REGION: 'ap-northeast-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCHFAKE',
  AWS_SECRET_ACCESS_KEY: 'bench-fake-secret',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_EC2_METADATA_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  LEDGER_TABLE: 'bench-ledger',
};

export interface ColdStartSample {
  importMs: number;
  sinceProcessStartMs: number;
}

export interface ColdStartFigures {
  function: FunctionKey;
  runs: number;
  ours: { medianImportMs: number; medianProcessMs: number; samples: number[] };
  naive: { medianImportMs: number; medianProcessMs: number; samples: number[] };
  /**
   * The `@aws-sdk/*` packages our bundle leaves to the runtime, imported alone (no bundle, no client
   * constructed): the part of our cold start that is the runtime's AWS SDK.
   */
  sdk: { packages: string[]; medianImportMs: number; medianProcessMs: number; samples: number[] };
  /** ours / naive, of the median import times. */
  ratio: number;
}

/** The AWS SDK packages a bundle imports (external: the Lambda runtime provides them). */
export async function externalSdkPackages(bundle: string): Promise<string[]> {
  const text = await readFile(bundle, 'utf8');
  const found = new Set<string>();
  // Import statements only (at the start of the file or after a `;`): error messages in the bundled
  // SDK quote `import "@aws-sdk/…"` as advice.
  const statements = /(?:^|[;\n])\s*import\s*(?:[^;'"]*?\bfrom\s*)?["'](@aws-sdk\/[^"']+)["']/g;
  for (const match of text.matchAll(statements)) {
    if (match[1]) found.add(match[1]);
  }
  return [...found].sort();
}

async function probe(probeFile: string, specifiers: string[]): Promise<ColdStartSample> {
  const { stdout } = await run(NODE, [probeFile, ...specifiers], {
    cwd: REPO,
    env: PROBE_ENV,
    timeout: 60_000,
  });
  return JSON.parse(stdout) as ColdStartSample;
}

/** Unzips each artifact under bench/.work (so `@aws-sdk/*`, external to it, resolves to the repo's). */
export async function unpackArtifacts(): Promise<Record<FunctionKey, string>> {
  const paths = {} as Record<FunctionKey, string>;
  for (const fn of FUNCTIONS) {
    const dir = join(WORK, 'artifacts', fn.key);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await run('unzip', ['-q', '-o', join(REPO, '.serverless', `${fn.key}.zip`), '-d', dir]);
    paths[fn.key] = join(dir, fn.bundle);
  }
  return paths;
}

/**
 * Median of `runs` fresh-process imports of each function's artifact and of its naive bundle,
 * and of the AWS SDK packages it leaves external, interleaved (ours, naive, SDK, ours, ...) so that
 * drift in the machine's load hits all alike; one discarded warm-up of each bundle first (file cache).
 */
export async function measureColdStarts(
  ours: Record<FunctionKey, string>,
  naive: Record<FunctionKey, string>,
  runs: number,
): Promise<ColdStartFigures[]> {
  await mkdir(WORK, { recursive: true });
  const probeFile = join(WORK, 'cold-start-probe.mjs');
  await writeFile(probeFile, PROBE);
  const figures: ColdStartFigures[] = [];
  for (const fn of FUNCTIONS) {
    const oursUrl = [pathToFileURL(ours[fn.key]).href];
    const naiveUrl = [pathToFileURL(naive[fn.key]).href];
    const sdkPackages = await externalSdkPackages(ours[fn.key]);
    await probe(probeFile, oursUrl);
    await probe(probeFile, naiveUrl);
    const samples = {
      ours: [] as ColdStartSample[],
      naive: [] as ColdStartSample[],
      sdk: [] as ColdStartSample[],
    };
    for (let index = 0; index < runs; index += 1) {
      samples.ours.push(await probe(probeFile, oursUrl));
      samples.naive.push(await probe(probeFile, naiveUrl));
      // Nothing external (the SDK bundled): nothing to import alone.
      if (sdkPackages.length > 0) samples.sdk.push(await probe(probeFile, sdkPackages));
    }
    const summary = (list: ColdStartSample[]) => ({
      medianImportMs: list.length === 0 ? 0 : round(median(list.map((s) => s.importMs))),
      medianProcessMs: list.length === 0 ? 0 : round(median(list.map((s) => s.sinceProcessStartMs))),
      samples: list.map((s) => round(s.importMs)),
    });
    const oursSummary = summary(samples.ours);
    const naiveSummary = summary(samples.naive);
    figures.push({
      function: fn.key,
      runs,
      ours: oursSummary,
      naive: naiveSummary,
      sdk: { packages: sdkPackages, ...summary(samples.sdk) },
      ratio: round(oursSummary.medianImportMs / naiveSummary.medianImportMs, 2),
    });
  }
  return figures;
}
