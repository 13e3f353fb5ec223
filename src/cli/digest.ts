/**
 * `npm run digest [-- --dry-run] [events.json ...]`: the daily digest, now, against the endpoints
 * and environment `npm run replay` uses (README "The daily digest"). Every endpoint not set is
 * served by an embedded emulator; event files name findings to import into the embedded Security
 * Hub first (to see a table without a shared one). `--dry-run` prints the digest instead of posting
 * it and records nothing.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Log } from '../app/ports.js';
import { type DigestOutcome, postDigest } from '../app/post-digest.js';
import { digestSetup } from '../handlers/digest.js';
import { lazySecretClients, makeLogger } from '../handlers/runtime.js';
import { readEventFiles } from '../local/replayer.js';
import { type Env, startSandbox } from '../local/sandbox.js';

export interface DigestCliResult {
  exitCode: number;
  outcome?: DigestOutcome;
}

/** Warnings and errors on stderr; the use case's routine lines only when asked (DIGEST_VERBOSE=1). */
function cliLog(env: Env, write: (line: string) => void): Log {
  const line =
    (level: string) =>
    (message: string, ...extra: Array<Record<string, unknown>>) =>
      write(
        `${level}: ${message}${extra.length > 0 ? ` ${JSON.stringify(Object.assign({}, ...extra))}` : ''}`,
      );
  return {
    info: env.DIGEST_VERBOSE === '1' ? line('info') : () => undefined,
    warn: line('warn'),
    error: line('error'),
  };
}

export async function runDigestCli(
  argv: string[],
  env: Env = process.env,
  out: (text: string) => void = (text) => console.log(text),
  err: (text: string) => void = (text) => console.error(text),
): Promise<DigestCliResult> {
  const dryRun = argv.includes('--dry-run');
  const unknown = argv.filter((arg) => arg.startsWith('--') && arg !== '--dry-run');
  if (unknown.length > 0) {
    err(`unknown option ${unknown.join(', ')}; usage: npm run digest -- [--dry-run] [events.json ...]`);
    return { exitCode: 2 };
  }
  const files = argv.filter((arg) => !arg.startsWith('--'));
  if (files.length > 0 && env.AWS_ENDPOINT_URL_SECURITYHUB) {
    err('event files are imported into the embedded Security Hub only: unset AWS_ENDPOINT_URL_SECURITYHUB');
    return { exitCode: 2 };
  }
  const sandbox = await startSandbox(env);
  try {
    const { events } = await readEventFiles(files);
    sandbox.securityHub?.importFindings(
      events.flatMap(
        (event) =>
          (event as { detail?: { findings?: Array<Record<string, unknown>> } }).detail?.findings ?? [],
      ),
    );
    const { ports, options } = digestSetup(
      sandbox.env,
      makeLogger(sandbox.env),
      lazySecretClients(sandbox.env),
    );
    ports.log = cliLog(env, err);
    const outcome = await postDigest(
      { run: `cli:${new Date().toISOString()}`, attempt: randomUUID(), dryRun },
      options,
      ports,
    );
    for (const post of outcome.posts) {
      if (post.posted === 'dry-run') out(`--- ${post.channel} (dry run: not posted) ---\n${post.text}\n`);
      else out(`posted the digest to ${post.channel} (ts ${post.ts ?? '-'})`);
    }
    return { exitCode: 0, outcome };
  } catch (error) {
    err(`digest failed: ${(error as Error).name}: ${(error as Error).message}`);
    return { exitCode: 1 };
  } finally {
    await sandbox.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runDigestCli(process.argv.slice(2)).then(
    ({ exitCode }) => process.exit(exitCode),
    (error) => {
      console.error(`digest failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
