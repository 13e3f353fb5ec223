import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { type SsmEmulator, startSsmEmulator } from '../../src/local/emulators/ssm-emulator.js';
import { type LivePipeline, startLivePipeline } from '../../src/local/live-pipeline.js';

/** Routes to #sec-prod / PROD Bug, default #security-alerts / SEC Security. */
const POLICY = 'test/fixtures/policies/pipeline.yml';
const SLACK_TOKEN = '/securityhub-notifier/local/slack-bot-token';
const BACKLOG_KEY = '/securityhub-notifier/local/backlog-api-key';
const WEBHOOK_TOKEN = '/securityhub-notifier/local/backlog-webhook-token';

interface Stage {
  pipeline: LivePipeline;
  ssm: SsmEmulator;
  /** `npm run doctor -- --stage local --param policyFile=<POLICY> ...extra`: its exit code and lines. */
  doctor(extra?: string[], now?: Date): Promise<{ code: number; lines: string[] }>;
}

/**
 * The stage `local` (stack securityhub-notifier-local) on the emulators, healthy: its secrets in
 * SSM, Security Hub enabled and aggregating into the home region, the rules deployed, and one
 * heartbeat passed.
 */
async function healthyStage(options: { heartbeat?: boolean } = {}): Promise<Stage> {
  const pipeline = await startLivePipeline({
    env: {
      PATH: process.env.PATH,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_REGION: 'ap-northeast-1',
      LEDGER_TABLE: 'securityhub-notifier-local-ledger',
      NOTIFICATION_POLICY_FILE: POLICY,
    },
    fastRetries: true,
    functionTimeoutMs: 5_000,
    deadLetterDir: mkdtempSync(join(tmpdir(), 'shn-doctor-')),
    print: () => {},
  });
  const { env, securityHub, slack, backlog } = pipeline.replayer.sandbox;
  securityHub?.setAggregator({ region: 'ap-northeast-1', mode: 'ALL_REGIONS' });
  const ssm = await startSsmEmulator({
    region: 'ap-northeast-1',
    parameters: {
      [SLACK_TOKEN]: slack?.token ?? '',
      [BACKLOG_KEY]: backlog?.apiKey ?? '',
      [WEBHOOK_TOKEN]: 'a-webhook-token-of-at-least-24-characters',
    },
  });
  if (options.heartbeat !== false) await pipeline.sendHeartbeat();
  const doctorEnv = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_SECURITYHUB: env.AWS_ENDPOINT_URL_SECURITYHUB,
    AWS_ENDPOINT_URL_DYNAMODB: env.AWS_ENDPOINT_URL_DYNAMODB,
    AWS_ENDPOINT_URL_EVENTBRIDGE: pipeline.eventBridge.url,
    SLACK_API_URL: env.SLACK_API_URL,
    BACKLOG_API_URL: env.BACKLOG_API_URL,
  };
  return {
    pipeline,
    ssm,
    doctor: async (extra = [], now = new Date()) => {
      const lines: string[] = [];
      const code = await runDoctor(
        ['--stage', 'local', '--param', `policyFile=${POLICY}`, ...extra],
        doctorEnv,
        {
          print: (line) => lines.push(line),
          now: () => now,
        },
      );
      return { code, lines };
    },
  };
}

const failures = (lines: string[]) => lines.filter((line) => line.trimStart().startsWith('✗'));
/** The line after a ✗ line: its fix. */
const fixOf = (lines: string[], failure: RegExp) => {
  const index = lines.findIndex((line) => line.trimStart().startsWith('✗') && failure.test(line));
  return lines[index + 1]?.trim() ?? '';
};

describe('npm run doctor, against the emulators', () => {
  let stage: Stage | undefined;
  afterEach(async () => {
    await stage?.ssm.close();
    await stage?.pipeline.close();
    stage = undefined;
  });

  it('prints every check ✓ for a healthy stage and exits 0', async () => {
    stage = await healthyStage();

    const { code, lines } = await stage.doctor();

    expect(failures(lines)).toEqual([]);
    expect(code).toBe(0);
    expect(lines[0]).toBe(
      'securityhub-notifier doctor: stage local (securityhub-notifier-local) in ap-northeast-1',
    );
    for (const check of [
      `✓ Slack bot token ${SLACK_TOKEN}: exists and decrypts`,
      `✓ Backlog API key ${BACKLOG_KEY}: exists and decrypts`,
      `✓ Backlog webhook token ${WEBHOOK_TOKEN}: exists and decrypts`,
      '✓ Slack bot token: valid: bot @securityhub-notifier in Local Sandbox',
      '✓ Slack channel #security-alerts: the bot @securityhub-notifier is a member',
      '✓ Slack channel #sec-prod: the bot @securityhub-notifier is a member',
      '✓ Backlog API key: valid: user Security Hub Notifier, may add issues',
      '✓ Backlog project SEC: exists; Security Hub Notifier is a member',
      '✓ Backlog issue type Security in SEC: exists',
      '✓ Backlog project PROD: exists; Security Hub Notifier is a member',
      '✓ Backlog issue type Bug in PROD: exists',
      '✓ Security Hub in ap-northeast-1: enabled',
      '✓ Cross-region aggregation: into ap-northeast-1, ALL_REGIONS',
      '✓ FindingsRule: securityhub-notifier-local-FindingsRule-LOCAL0000001 enabled, with the expected pattern',
      '✓ Last heartbeat: passed 0.0 h ago',
    ]) {
      expect(
        lines.some((line) => line.trim().startsWith(check)),
        check,
      ).toBe(true);
    }
    expect(lines.at(-1)).toMatch(/^(\d+) checks: \1 ✓, 0 ✗$/);
    // Never a secret's value.
    expect(lines.join('\n')).not.toContain(stage.pipeline.replayer.sandbox.slack?.token);
    expect(lines.join('\n')).not.toContain(stage.pipeline.replayer.sandbox.backlog?.apiKey);
  });

  it.each<[string, (s: Stage) => void, RegExp, RegExp, string[]?]>([
    [
      'an SSM parameter missing',
      (s) => s.ssm.parameters.delete(BACKLOG_KEY),
      /Backlog API key \/securityhub-notifier\/local\/backlog-api-key: ParameterNotFound/,
      /fix: aws ssm put-parameter --region ap-northeast-1 --type SecureString --name \/securityhub-notifier\/local\/backlog-api-key/,
    ],
    [
      'an SSM parameter that does not decrypt',
      (s) => s.ssm.denyDecrypt(WEBHOOK_TOKEN),
      /Backlog webhook token .*AccessDeniedException: .*kms:Decrypt/,
      /fix: allow kms:Decrypt/,
    ],
    [
      'the Slack token revoked',
      (s) => s.pipeline.replayer.sandbox.slack?.revokeToken(),
      /Slack bot token: Slack rejected the bot token from \/securityhub-notifier\/local\/slack-bot-token: token_revoked/,
      /fix: reinstall the Slack app .* --name \/securityhub-notifier\/local\/slack-bot-token/,
    ],
    [
      'the bot out of a routed channel',
      (s) => s.pipeline.replayer.sandbox.slack?.removeBotFrom('#sec-prod'),
      /Slack channel #sec-prod: the bot @securityhub-notifier is not a member of #sec-prod/,
      /fix: invite the bot: \/invite @securityhub-notifier in #sec-prod/,
    ],
    [
      'the Backlog key revoked',
      (s) => s.pipeline.replayer.sandbox.backlog?.revokeKey(),
      /Backlog API key: Backlog rejected the API key from \/securityhub-notifier\/local\/backlog-api-key/,
      /fix: issue a new API key/,
    ],
    [
      'the key demoted to Viewer',
      (s) => s.pipeline.replayer.sandbox.backlog?.setRoleType(4),
      /Backlog API key: user Security Hub Notifier is a Viewer and may not add issues/,
      /fix: give Security Hub Notifier a role that may add issues/,
    ],
    [
      'a routed project missing',
      (s) => s.pipeline.replayer.sandbox.backlog?.removeProject('PROD'),
      /Backlog project PROD: no project PROD/,
      /fix: create the project .* backlogProjectKey param/,
    ],
    [
      "the notifier's user out of a routed project",
      (s) => s.pipeline.replayer.sandbox.backlog?.removeMember('PROD', 1),
      /Backlog project PROD: user Security Hub Notifier is not a member of PROD/,
      /fix: add Security Hub Notifier to PROD/,
    ],
    [
      'a routed issue type missing',
      (s) => {
        const prod = s.pipeline.replayer.sandbox.backlog?.projects.find((p) => p.projectKey === 'PROD');
        prod?.issueTypes.splice(
          prod.issueTypes.findIndex((type) => type.name === 'Bug'),
          1,
        );
      },
      /Backlog issue type Bug in PROD: PROD has no issue type Bug \(has: Task\)/,
      /fix: add it \(Project settings → Issue types\)/,
    ],
    [
      'Security Hub disabled in the home region',
      (s) => s.pipeline.replayer.sandbox.securityHub?.setEnabled(false),
      /Security Hub in ap-northeast-1: InvalidAccessException/,
      /fix: enable Security Hub CSPM in ap-northeast-1/,
    ],
    [
      'no cross-region aggregation',
      (s) => s.pipeline.replayer.sandbox.securityHub?.setAggregator(undefined),
      /Cross-region aggregation: no finding aggregator/,
      /fix: aws securityhub create-finding-aggregator --region ap-northeast-1 --region-linking-mode ALL_REGIONS/,
    ],
    [
      'aggregation into another region',
      (s) =>
        s.pipeline.replayer.sandbox.securityHub?.setAggregator({ region: 'us-east-1', mode: 'ALL_REGIONS' }),
      /Cross-region aggregation: findings are aggregated into us-east-1, not ap-northeast-1/,
      /fix: deploy the stage into us-east-1/,
    ],
    [
      'an expected linked region not linked',
      (s) =>
        s.pipeline.replayer.sandbox.securityHub?.setAggregator({
          region: 'ap-northeast-1',
          mode: 'SPECIFIED_REGIONS',
          regions: ['us-east-1'],
        }),
      /Linked regions: eu-west-1 not linked \(SPECIFIED_REGIONS \(us-east-1\)\)/,
      /fix: aws securityhub update-finding-aggregator --region ap-northeast-1 --finding-aggregator-arn arn:aws:securityhub:/,
      ['--param', 'linkedRegions=us-east-1,eu-west-1'],
    ],
    [
      'the rule disabled',
      (s) => {
        const rule = s.pipeline.eventBridge.rules.get(s.pipeline.ruleNames.findings);
        if (rule) rule.state = 'DISABLED';
      },
      /FindingsRule: securityhub-notifier-local-FindingsRule-LOCAL0000001 is DISABLED/,
      /fix: aws events enable-rule --region ap-northeast-1 --name securityhub-notifier-local-FindingsRule-LOCAL0000001/,
    ],
    [
      "the rule's pattern changed",
      (s) => {
        const rule = s.pipeline.eventBridge.rules.get(s.pipeline.ruleNames.findings);
        if (rule) rule.pattern = { source: ['aws.securityhub'] };
      },
      /FindingsRule: .* its pattern differs from the one this checkout deploys/,
      /fix: npx serverless deploy --stage local/,
    ],
    [
      'the rule missing',
      (s) => s.pipeline.eventBridge.rules.delete(s.pipeline.ruleNames.findings),
      /FindingsRule: no rule named securityhub-notifier-local-FindingsRule-… on the default bus/,
      /fix: deploy the stage/,
    ],
  ])('prints ✗ with its fix for %s, and exits 1', async (_label, breakIt, failure, fix, extra) => {
    stage = await healthyStage();
    breakIt(stage);

    const { code, lines } = await stage.doctor(extra);

    expect(code).toBe(1);
    const failed = failures(lines).filter((line) => !line.includes('not checked:'));
    expect(failed, lines.join('\n')).toHaveLength(1);
    expect(failed[0]).toMatch(failure);
    expect(fixOf(lines, failure)).toMatch(fix);
  });

  it('prints ✗ when no heartbeat has passed yet, saying how to send one', async () => {
    stage = await healthyStage({ heartbeat: false });

    const { code, lines } = await stage.doctor();

    expect(code).toBe(1);
    expect(failures(lines)).toEqual(['  ✗ Last heartbeat: none passed yet']);
    expect(fixOf(lines, /Last heartbeat/)).toMatch(
      /the schedule sends one every 6 h; to send one now: aws lambda invoke .*--function-name securityhub-notifier-local-heartbeat/,
    );
  });

  it('prints ✗ when the last heartbeat is more than two intervals old', async () => {
    stage = await healthyStage();

    const { code, lines } = await stage.doctor([], new Date(Date.now() + 13 * 3_600_000));

    expect(code).toBe(1);
    expect(failures(lines)).toEqual([
      expect.stringMatching(
        /✗ Last heartbeat: passed 13\.0 h ago: more than two intervals \(6 h each\) without one/,
      ),
    ]);
  });

  it('prints ✗ when the last heartbeat failed, naming what failed', async () => {
    stage = await healthyStage();
    stage.pipeline.replayer.sandbox.slack?.removeBotFrom('#sec-prod');
    await stage.pipeline.sendHeartbeat();
    stage.pipeline.replayer.sandbox.slack?.addBotTo('#sec-prod');

    const { code, lines } = await stage.doctor();

    expect(code).toBe(1);
    expect(failures(lines)).toEqual([
      expect.stringMatching(
        /✗ Last heartbeat: the last heartbeat failed \(.*\): SlackChannelError: heartbeat check failed: Slack channel #sec-prod: the bot @securityhub-notifier is not a member/,
      ),
    ]);
  });

  it('refuses a bad param, naming it', async () => {
    stage = await healthyStage({ heartbeat: false });
    await expect(stage.doctor(['--param', 'heartbeatIntervalHours=0'])).rejects.toThrow(
      /param heartbeatIntervalHours: Too small/,
    );
    expect((await stage.doctor(['--stage'])).code).toBe(2);
  });
});
