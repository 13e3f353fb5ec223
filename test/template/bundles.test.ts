import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultProductArn, HEARTBEAT_ID_PREFIX } from '../../src/domain/heartbeat/heartbeat.js';
import {
  type SecurityHubEmulator,
  startSecurityHubEmulator,
} from '../../src/local/emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';
import { type PackagedStack, packageStack, ROOT } from '../helpers/template.js';

const run = promisify(execFile);
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
/** The artifact size goal once the functions bundle the AWS SDK (README "Performance"). */
const MAX_ZIPPED_BYTES = 300 * 1024;
/**
 * The measured floor of the three functions that carry the Slack client (axios), backlog-js and the
 * Security Hub client with the ASFF finding's whole schema (GetFindings), plus the policy's YAML
 * parser: about 350-375 KB zipped (README "Performance" says what each part weighs). Held below this.
 */
const WIDE_FUNCTIONS: Readonly<Record<string, number>> = {
  'backlogActivity.zip': 400 * 1024,
  'slackAction.zip': 400 * 1024,
  'digest.zip': 400 * 1024,
};
/** Not bundled: the runtime's copy, imported on first use (serverless.yml custom.esbuild.exclude). */
const LEFT_TO_THE_RUNTIME = [
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
];
interface ServiceFile {
  custom: { esbuild: { exclude: string[] } };
}

let stack: PackagedStack;
let unpacked: string;
beforeAll(async () => {
  stack = await packageStack();
  unpacked = await mkdtemp(join(tmpdir(), 'shn-bundles-'));
  for (const name of Object.keys(stack.artifacts)) {
    await run('unzip', ['-q', '-o', join(stack.dir, name), '-d', join(unpacked, name.replace(/\.zip$/, ''))]);
  }
});
afterAll(async () => {
  await rm(unpacked, { recursive: true, force: true });
});

const bundleOf = (fn: string, handler: string) => join(unpacked, fn, 'src', 'handlers', `${handler}.mjs`);

/**
 * Import a packaged handler in a fresh Node 24 process (nothing of the repository on its path but
 * the bundle) and invoke it once: its result, or its error's name and message.
 */
async function invokeBundle(bundle: string, event: unknown, env: Record<string, string>) {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const context = { functionName: 'bundle-test', awsRequestId: 'r1', getRemainingTimeInMillis: () => 30000 };
    try {
      process.stdout.write(JSON.stringify({ result: await handler(${JSON.stringify(event)}, context) }));
    } catch (error) {
      process.stdout.write(JSON.stringify({ error: error.name, message: error.message }));
    }
    process.exit(0);`;
  const { stdout } = await run(NODE, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'ap-northeast-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as { result?: unknown; error?: string; message?: string };
}

describe('the packaged functions', () => {
  it("bundle every dependency, the AWS SDK clients included; only what is used rarely, if ever, is left to the runtime's SDK, imported on use", async () => {
    const esbuild = (parse(await readFile(join(ROOT, 'serverless.yml'), 'utf8')) as ServiceFile).custom
      .esbuild;
    expect(esbuild.exclude).toEqual(LEFT_TO_THE_RUNTIME);
    for (const name of Object.keys(stack.artifacts)) {
      const fn = name.replace(/\.zip$/, '');
      const files = (await run('unzip', ['-Z1', join(stack.dir, name)])).stdout.split('\n').filter(Boolean);
      expect(
        files.filter((file) => file.includes('node_modules')),
        fn,
      ).toEqual([]);
      const bundle = files.find((file) => file.endsWith('.mjs')) ?? '';
      const text = await readFile(join(unpacked, fn, bundle), 'utf8');
      const statements = /(?:^|[;\n])\s*import\s*(?:[^;'"]*?\bfrom\s*)?["']([^"']+)["']/g;
      const imports = [...text.matchAll(statements)].map((match) => match[1] ?? '');
      expect(
        imports.filter((specifier) => !specifier.startsWith('node:')),
        fn,
      ).toEqual([]);
      const dynamic = [...text.matchAll(/import\(["']([^"']+)["']\)/g)].map((match) => match[1] ?? '');
      const outside = dynamic.filter((specifier) => !specifier.startsWith('node:'));
      expect(
        outside.filter((specifier) => !LEFT_TO_THE_RUNTIME.includes(specifier)),
        fn,
      ).toEqual([]);
    }
  });

  it('stay under 300 KB zipped each, the three that talk to Slack, Backlog and Security Hub under 400 KB', () => {
    for (const [name, bytes] of Object.entries(stack.artifacts))
      expect(bytes, name).toBeLessThan(WIDE_FUNCTIONS[name] ?? MAX_ZIPPED_BYTES);
    expect(Object.keys(stack.artifacts)).toEqual(expect.arrayContaining(Object.keys(WIDE_FUNCTIONS)));
  });

  describe('run from their bundles', () => {
    let securityHub: SecurityHubEmulator;
    let slack: SlackEmulator;
    beforeAll(async () => {
      securityHub = await startSecurityHubEmulator({ region: 'ap-northeast-1' });
      slack = await startSlackEmulator({ token: 'xoxb-bundle-test', channels: ['#security-alerts'] });
    });
    afterAll(async () => {
      await securityHub.close();
      await slack.close();
    });

    it('the heartbeat imports its finding with the bundled Security Hub client', async () => {
      const productArn = defaultProductArn('aws', 'ap-northeast-1', '123456789012');

      const outcome = await invokeBundle(
        bundleOf('heartbeat', 'heartbeat'),
        { send: true },
        {
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_SECURITYHUB: securityHub.url,
          HEARTBEAT_STACK: 'securityhub-notifier-dev',
          HEARTBEAT_PRODUCT_ARN: productArn,
        },
      );

      expect(outcome.error).toBeUndefined();
      const stored = [...securityHub.findings.values()];
      expect(stored).toEqual([
        expect.objectContaining({ ProductArn: productArn, Id: expect.stringContaining(HEARTBEAT_ID_PREFIX) }),
      ]);
    });

    it("a check fails with the catalogue's error name, minified or not (the workflow's Retry/Catch match it)", async () => {
      slack.revokeToken();
      const check = {
        deliveryId: 'd1',
        deliveryKey: 'heartbeat|securityhub-notifier-dev',
        mode: 'check',
        members: [
          { identifier: { Id: `${HEARTBEAT_ID_PREFIX}x/2026-01-01T00:00:00.000Z`, ProductArn: 'p' } },
        ],
        heartbeat: { stack: 'securityhub-notifier-dev', sentAt: '2026-01-01T00:00:00.000Z' },
        destinations: { slackChannels: ['#security-alerts'], backlog: [] },
      };

      const outcome = await invokeBundle(
        bundleOf('postSlackMessage', 'post-slack-message'),
        { check },
        {
          SLACK_API_URL: slack.url,
          SLACK_BOT_TOKEN: 'xoxb-bundle-test',
          SLACK_CHANNEL: '#security-alerts',
        },
      );

      expect(outcome).toEqual({
        error: 'SlackAuthError',
        message: expect.stringContaining('Slack rejected the bot token from SLACK_BOT_TOKEN: token_revoked'),
      });
      expect(slack.calls.map((call) => call.method)).toEqual(['auth.test']);
    });
  });
});
