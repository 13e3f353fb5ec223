import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import { startDynamo } from '../../src/local/emulators/dynamo.js';
import { startSecurityHubEmulator } from '../../src/local/emulators/security-hub-emulator.js';
import { startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';
import { loadEvent, withFinding } from '../helpers/events.js';

const run = promisify(execFile);

type Servers = {
  slack: Awaited<ReturnType<typeof startSlackEmulator>>;
  backlog: Awaited<ReturnType<typeof startBacklogEmulator>>;
  securityHub: Awaited<ReturnType<typeof startSecurityHubEmulator>>;
  dynamo: Awaited<ReturnType<typeof startDynamo>>;
};

/** `npm run replay` as a user runs it: a separate process, configured only through its environment. */
async function replayCli(files: string[], env: Record<string, string>) {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/replay.ts', ...files], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      cwd: process.cwd(),
    });
    return { code: 0, stdout };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout + failure.stderr };
  }
}

describe('npm run replay against endpoints that are not the embedded ones', () => {
  let servers: Servers;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'shn-replay-'));

  beforeAll(async () => {
    servers = {
      slack: await startSlackEmulator({ token: 'xoxb-external', channels: ['#sec-external'] }),
      backlog: await startBacklogEmulator({
        apiKey: 'external-key',
        projects: [{ key: 'OPS', textFormattingRule: 'backlog', issueTypes: ['Incident'] }],
      }),
      securityHub: await startSecurityHubEmulator(),
      dynamo: await startDynamo(),
    };
    env = {
      SLACK_API_URL: servers.slack.url,
      SLACK_BOT_TOKEN: 'xoxb-external',
      SLACK_CHANNEL: '#sec-external',
      BACKLOG_API_URL: servers.backlog.url,
      BACKLOG_HOST: 'acme.backlog.jp',
      BACKLOG_API_KEY: 'external-key',
      BACKLOG_PROJECT_KEY: 'OPS',
      BACKLOG_ISSUE_TYPE: 'Incident',
      AWS_ENDPOINT_URL_SECURITYHUB: servers.securityHub.url,
      AWS_ENDPOINT_URL_DYNAMODB: servers.dynamo.url,
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: 'external',
      AWS_SECRET_ACCESS_KEY: 'external',
      LEDGER_TABLE: 'external-ledger',
      NOTIFY_MIN_SEVERITY: 'MEDIUM',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      REPLAY_DEAD_LETTER_DIR: dir,
    };
  });

  afterAll(async () => {
    for (const server of Object.values(servers ?? {})) await server.close();
  });

  it('delivers through the configured servers, then exits non-zero naming the malformed event it kept', async () => {
    const good = loadEvent('guardduty-ssh-bruteforce.json');
    const malformed = withFinding(
      loadEvent('fsbp-cloudtrail-2.json'),
      (f) => delete f.Title,
      'broken-event-7',
    );
    const control = loadEvent('fsbp-cloudtrail-2.json');
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, [good, malformed, control].map((event) => JSON.stringify(event)).join('\n'));

    const result = await replayCli([file], env);

    expect(result.code).toBe(1);
    expect(servers.backlog.issues.map((issue) => issue.issueKey)).toEqual(['OPS-1', 'OPS-2']);
    expect(servers.slack.messages.map((message) => message.channel)).toEqual([
      servers.slack.channels[0]?.id,
      servers.slack.channels[0]?.id,
    ]);
    expect(servers.securityHub.notified()).toHaveLength(2);
    expect(result.stdout).toMatch(/^notified\s+\S+\s+issue=OPS-1\s+ts=\d+\.\d+$/m);
    expect(result.stdout).toContain(
      '(event broken-event-7: detail.findings[0].Title: Invalid input: expected string, received undefined)',
    );
    expect(result.stdout).toContain('summary: 3 finding(s): 1 rejected, 2 notified');
    const written = /rejected events written to (\S+)/.exec(result.stdout)?.[1] as string;
    expect(JSON.parse(readFileSync(written, 'utf8').trim()).id).toBe('broken-event-7');
  });

  it('exits 0 for a repeat: everything already filed, nothing new sent', async () => {
    const file = join(dir, 'repeat.json');
    writeFileSync(file, JSON.stringify(loadEvent('guardduty-ssh-bruteforce.json')));
    const issuesBefore = servers.backlog.issues.length;

    const result = await replayCli([file], env);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^already filed\s+\S+\s+issue=OPS-1/m);
    expect(servers.backlog.issues).toHaveLength(issuesBefore);
  });
});
