import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unlinkedRegions } from '../../src/app/diagnose-stage.js';
import { formatChecklist } from '../../src/cli/doctor.js';
import { loadStageSettings } from '../../src/config/stage-settings.js';

function serviceFile(params: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'shn-stage-')), 'serverless.yml');
  writeFileSync(file, `service: securityhub-notifier\nparams:\n${params}`);
  return file;
}

const DEFAULTS = `  default:
    homeRegion: ap-northeast-1
    slackChannel: security-alerts
    backlogHost: example.backlog.com
    backlogProjectKey: SEC
    backlogIssueType: Task
    minSeverity: HIGH
    slackTokenParameter: /securityhub-notifier/\${sls:stage}/slack-bot-token
    backlogApiKeyParameter: /securityhub-notifier/\${sls:stage}/backlog-api-key
    backlogWebhookTokenParameter: /\${self:service}/\${sls:stage}/backlog-webhook-token
    policyFile: policy/notification-policy.yml
    heartbeatIntervalHours: 6
    linkedRegions: ''
`;

describe("a stage's settings, as serverless deploy resolves them", () => {
  it('takes params.default, then params.<stage>, then --param, with the stage and service resolved', () => {
    const file = serviceFile(`${DEFAULTS}  prod:\n    minSeverity: CRITICAL\n    homeRegion: us-east-1\n`);

    const settings = loadStageSettings(file, 'prod', {
      homeRegion: 'eu-west-1',
      linkedRegions: 'us-east-1, eu-central-1',
    });

    expect(settings).toMatchObject({
      stack: 'securityhub-notifier-prod',
      ledgerTable: 'securityhub-notifier-prod-ledger',
      minSeverity: 'CRITICAL',
      homeRegion: 'eu-west-1',
      slackTokenParameter: '/securityhub-notifier/prod/slack-bot-token',
      backlogWebhookTokenParameter: '/securityhub-notifier/prod/backlog-webhook-token',
      heartbeatIntervalHours: 6,
      linkedRegions: ['us-east-1', 'eu-central-1'],
    });
  });

  it('reads the repository serverless.yml', () => {
    expect(loadStageSettings('serverless.yml', 'dev')).toMatchObject({
      stack: 'securityhub-notifier-dev',
      homeRegion: 'ap-northeast-1',
      linkedRegions: [],
    });
  });

  it('fails naming the param it cannot resolve or that is wrong', () => {
    const file = serviceFile(`${DEFAULTS}  prod:\n    alarmTopicArn: \${ssm:/x}\n`);
    expect(() => loadStageSettings(file, 'prod')).toThrow(
      'param alarmTopicArn: cannot resolve ${ssm:/x} here; pass --param alarmTopicArn=<value>',
    );
    expect(() => loadStageSettings(serviceFile(DEFAULTS), 'dev', { minSeverity: 'SEVERE' })).toThrow(
      /param minSeverity: Invalid option/,
    );
    expect(() => loadStageSettings(serviceFile(DEFAULTS), 'dev; rm')).toThrow('--stage: not a stage name');
  });
});

describe('the linked regions an aggregator misses', () => {
  it.each([
    ['ALL_REGIONS', [], []],
    ['ALL_REGIONS_EXCEPT_SPECIFIED', ['eu-west-1'], ['eu-west-1']],
    ['SPECIFIED_REGIONS', ['us-east-1'], ['eu-west-1']],
    ['NO_REGIONS', [], ['us-east-1', 'eu-west-1']],
  ])('%s (%j)', (mode, regions, missing) => {
    expect(unlinkedRegions({ mode, regions }, ['us-east-1', 'eu-west-1'])).toEqual(missing);
  });
});

describe('the checklist', () => {
  it('prints a heading a section, ✓ or ✗ a check, the fix under each ✗, and the count', () => {
    const lines = formatChecklist([
      { title: 'Slack', results: [{ name: 'Slack bot token', ok: true, detail: 'valid' }] },
      {
        title: 'EventBridge',
        results: [
          {
            name: 'FindingsRule',
            ok: false,
            detail: 'r is DISABLED',
            fix: 'aws events enable-rule --name r',
          },
        ],
      },
    ]);

    expect(lines).toEqual([
      'Slack',
      '  ✓ Slack bot token: valid',
      'EventBridge',
      '  ✗ FindingsRule: r is DISABLED',
      '      fix: aws events enable-rule --name r',
      '2 checks: 1 ✓, 1 ✗',
    ]);
  });
});
