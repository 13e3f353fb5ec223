import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReplayer, type Replayer } from '../../src/local/replayer.js';
import type { Env } from '../../src/local/sandbox.js';

const ENDPOINTS = [
  'SLACK_API_URL',
  'BACKLOG_API_URL',
  'AWS_ENDPOINT_URL_SECURITYHUB',
  'AWS_ENDPOINT_URL_DYNAMODB',
];

/** A replayer on fresh embedded emulators, quiet, with millisecond retries. */
export async function startTestReplayer(env: Env = {}): Promise<Replayer & { lines: string[] }> {
  const base: Env = { PATH: process.env.PATH, NOTIFY_MIN_SEVERITY: 'MEDIUM', POWERTOOLS_LOG_LEVEL: 'SILENT' };
  for (const name of ENDPOINTS) delete base[name];
  const lines: string[] = [];
  const replayer = await createReplayer({
    env: { ...base, ...env },
    fastRetries: true,
    deadLetterDir: mkdtempSync(join(tmpdir(), 'shn-dead-letter-')),
    print: (line) => lines.push(line),
  });
  return Object.assign(replayer, { lines });
}
