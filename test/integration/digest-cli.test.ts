import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDigestCli } from '../../src/cli/digest.js';
import { loadDigestSettings } from '../../src/config/settings.js';
import * as digest from '../../src/handlers/digest.js';
import { accountId, digestHandler, digestTable, lambdaContext, seededFindings } from '../helpers/digest.js';
import { startTestReplayer } from '../helpers/replay.js';

/**
 * `npm run digest` (its main, against the embedded emulators), the digest's settings, and the
 * route channels a policy names.
 */

const BASE = { PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'SILENT' };
const SAMPLES = ['samples/events/fsbp-cloudtrail-2.json', 'samples/events/guardduty-ssh-bruteforce.json'];

describe('npm run digest', () => {
  it('--dry-run prints the table of the imported findings, and posts nothing', async () => {
    const out: string[] = [];
    const err: string[] = [];

    const { exitCode, outcome } = await runDigestCli(
      ['--dry-run', ...SAMPLES],
      { ...BASE },
      (t) => out.push(t),
      (t) => err.push(t),
    );

    expect(exitCode).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(text).toContain('--- #security-alerts (dry run: not posted) ---');
    expect(text).toMatch(/Account\s+Critical\s+High\s+Medium\s+Low\s+Info\s+Total/);
    // Both samples are MEDIUM: one in each account.
    expect(text).toMatch(/Total \(2 accounts\)\s+0\s+0\s+2\s+0\s+0\s+2/);
    expect(outcome?.posts.map((post) => post.posted)).toEqual(['dry-run']);
  });

  it('posts the digest, and refuses an unknown option or event files for a Security Hub it does not embed', async () => {
    const out: string[] = [];
    const err: string[] = [];

    const posted = await runDigestCli(
      SAMPLES,
      { ...BASE },
      (t) => out.push(t),
      (t) => err.push(t),
    );
    const unknown = await runDigestCli(
      ['--post-twice'],
      { ...BASE },
      (t) => out.push(t),
      (t) => err.push(t),
    );
    const shared = await runDigestCli(
      SAMPLES,
      { ...BASE, AWS_ENDPOINT_URL_SECURITYHUB: 'http://127.0.0.1:9' },
      () => {},
      (t) => err.push(t),
    );

    expect(posted.exitCode).toBe(0);
    expect(out[0]).toMatch(/^posted the digest to #security-alerts \(ts \d+\.\d+\)$/);
    expect(posted.outcome?.posts[0]?.message.attachments[0]?.blocks[0]?.type).toBe('table');
    expect(unknown.exitCode).toBe(2);
    expect(shared.exitCode).toBe(2);
    expect(err.join('\n')).toContain('unknown option --post-twice');
    expect(err.join('\n')).toContain('unset AWS_ENDPOINT_URL_SECURITYHUB');
  });

  it('fails naming what to fix: exit code 1', async () => {
    const err: string[] = [];

    const { exitCode } = await runDigestCli(
      ['--dry-run'],
      { ...BASE, DIGEST_TIME_ZONE: 'Mars/Olympus' },
      () => {},
      (t) => err.push(t),
    );

    expect(exitCode).toBe(1);
    expect(err.join('\n')).toMatch(/ConfigError: .*DIGEST_TIME_ZONE: must be an IANA time zone/);
  });
});

describe('the digest settings', () => {
  const LAMBDA = {
    AWS_LAMBDA_FUNCTION_NAME: 'digest',
    SLACK_CHANNEL: '#security-alerts',
    SLACK_BOT_TOKEN_PARAMETER: '/shn/test/slack-bot-token',
  };

  it('require the stack insights inside Lambda (unless the counts come from the new Security Hub), naming the missing', () => {
    expect(() =>
      loadDigestSettings({ ...LAMBDA, DIGEST_INSIGHT_ARNS: '{"CRITICAL":"arn:aws:securityhub:x"}' }),
    ).toThrow(
      /DIGEST_INSIGHT_ARNS: required in Lambda, with an ARN for each of HIGH, MEDIUM, LOW, INFORMATIONAL, SUPPRESSED/,
    );
    expect(loadDigestSettings({ ...LAMBDA, DIGEST_COUNTS: 'statistics-v2' }).counts).toBe('statistics-v2');
  });

  it.each([
    [{ DIGEST_TABLE_ACCOUNTS: '98' }, /DIGEST_TABLE_ACCOUNTS: /],
    [{ DIGEST_COUNTS: 'guess' }, /DIGEST_COUNTS: /],
    [
      { DIGEST_INSIGHT_ARNS: '{"CRITICAL":"not-an-arn"}' },
      /DIGEST_INSIGHT_ARNS: each value is an insight ARN/,
    ],
    [{ DIGEST_ROUTE_CHANNELS: 'yes' }, /DIGEST_ROUTE_CHANNELS: /],
  ])('refuse %o, naming it', (bad, message) => {
    expect(() => loadDigestSettings({ SLACK_CHANNEL: '#x', SLACK_BOT_TOKEN: 'xoxb-local', ...bad })).toThrow(
      message,
    );
  });

  it('fail the handler at cold start, before any work', async () => {
    const handler = digest.makeHandler(digest.defaultDeps({ ...LAMBDA, POWERTOOLS_LOG_LEVEL: 'SILENT' }));

    await expect(handler({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('r'))).rejects.toThrow(
      /DIGEST_INSIGHT_ARNS: required in Lambda/,
    );
  });
});

describe('route channels', () => {
  let replayer: Awaited<ReturnType<typeof startTestReplayer>> | undefined;
  afterEach(async () => {
    await replayer?.close();
    replayer = undefined;
  });

  it("post each route's channel a digest of only the accounts it names, besides the default channel's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shn-digest-policy-'));
    const policy = join(dir, 'policy.yml');
    writeFileSync(
      policy,
      [
        'version: 1',
        'accounts:',
        `  "${accountId(1)}": prod-payments`,
        'routes:',
        '  - name: prod',
        '    match: { account: [prod-*] }',
        '    slack: { channel: "#sec-prod" }',
        'default:',
        '  slack: { channel: "#security-alerts" }',
      ].join('\n'),
    );
    replayer = await startTestReplayer({ NOTIFICATION_POLICY_FILE: policy });
    replayer.sandbox.securityHub?.importFindings(seededFindings(4, 10, 9));
    const env = { ...replayer.sandbox.env, POWERTOOLS_LOG_LEVEL: 'SILENT', DIGEST_ROUTE_CHANNELS: 'true' };

    await digestHandler(env)({ scheduledTime: '2030-01-07T00:00:00Z' }, lambdaContext('routes'));

    const [all] = replayer.sandbox.slack?.messagesIn('#security-alerts') ?? [];
    const [prod] = replayer.sandbox.slack?.messagesIn('#sec-prod') ?? [];
    const prodRows = digestTable(prod as never);
    expect(prodRows.map((row) => row.label)).toEqual([
      `prod-payments (${accountId(1)})`,
      'Total (1 account)',
    ]);
    expect(digestTable(all as never).find((row) => row.label.includes(accountId(1)))?.counts).toEqual(
      prodRows[0]?.counts,
    );
    expect(String(prod?.blocks && JSON.stringify(prod.blocks))).toContain('route prod');
    expect(JSON.stringify(prod?.attachments)).not.toContain('Past their due date');
  });
});
