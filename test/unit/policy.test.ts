import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/app/errors.js';
import { checkPolicyFile } from '../../src/cli/check-policy.js';
import {
  DEFAULT_POLICY_FILE,
  loadPolicyFile,
  PolicyError,
  parsePolicy,
  policyDefaultsFromEnv,
} from '../../src/config/policy-file.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import {
  defaultPolicy,
  evaluatePolicy,
  groupingSettings,
  matchesWildcard,
  minimumThreshold,
  type NotificationPolicy,
  type PolicyDefaults,
  resolveAccountName,
} from '../../src/domain/policy/policy.js';
import { loadEvent } from '../helpers/events.js';

const DEFAULTS: PolicyDefaults = {
  minSeverity: 'HIGH',
  slackChannel: 'security-alerts',
  backlogProjectKey: 'SEC',
  backlogIssueType: 'Task',
};

const POLICIES = new URL('../fixtures/policies/', import.meta.url);

function fixturePath(name: string): string {
  return new URL(name, POLICIES).pathname;
}

function readPolicyFixture(name: string): string {
  return readFileSync(new URL(name, POLICIES), 'utf8');
}

/** A policy from YAML, `version: 1` and the environment defaults supplied. */
function policyOf(yaml: string, defaults: Partial<PolicyDefaults> = DEFAULTS): NotificationPolicy {
  return parsePolicy(`version: 1\n${yaml}`, 'test.yml', defaults);
}

/** The problems `parsePolicy` reports, one `<source>:<line>:<col>: <setting>: <problem>` each. */
function problemsOf(text: string, defaults: Partial<PolicyDefaults> = DEFAULTS): string[] {
  try {
    parsePolicy(text, 'policy.yml', defaults);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).message.split('\n');
  }
  throw new Error('expected the policy to be rejected');
}

const context = { eventId: 'evt-1', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };

/** CloudTrail.2, Security Hub, account 123456789012, us-east-2, MEDIUM, one AwsCloudTrailTrail. */
const CONTROL = normalizeFinding(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0], context);
/** GuardDuty UnauthorizedAccess:EC2-SSHBruteForce, account 193043430472, us-east-1, MEDIUM. */
const GUARDDUTY = normalizeFinding(loadEvent('guardduty-ssh-bruteforce.json').detail.findings[0], context);

function controlFinding(overrides: Partial<Finding> = {}): Finding {
  return { ...CONTROL, severity: 'HIGH', ...overrides };
}

function guardDutyFinding(overrides: Partial<Finding> = {}): Finding {
  return { ...GUARDDUTY, severity: 'HIGH', ...overrides };
}

/** Whether an exclude rule with `match` drops the finding: the matcher, observed from outside. */
function excludes(match: string, finding: Finding): boolean {
  const policy = policyOf(
    `thresholds: { slack: INFORMATIONAL }\nexclude:\n  - name: rule\n    match: ${match}\n`,
  );
  const outcome = evaluatePolicy(finding, policy);
  return outcome.action === 'filter' && outcome.rule === 'rule';
}

describe('the shipped policy', () => {
  it('parses and keeps the behaviour of the environment settings alone', () => {
    const policy = loadPolicyFile(DEFAULT_POLICY_FILE, DEFAULTS);

    expect(policy).toEqual(defaultPolicy(DEFAULTS));
    expect(groupingSettings(policy)).toEqual({ enabled: true, minFindings: 3, windowMinutes: 60 });
  });

  it('follows NOTIFY_MIN_SEVERITY for both thresholds', () => {
    const policy = loadPolicyFile(DEFAULT_POLICY_FILE, { ...DEFAULTS, minSeverity: 'MEDIUM' });

    expect(policy.thresholds).toEqual({ slack: 'MEDIUM', backlog: 'MEDIUM' });
  });

  it('is summarised by the checker', () => {
    const summary = checkPolicyFile(DEFAULT_POLICY_FILE, DEFAULTS);

    expect(summary).toContain('thresholds Slack HIGH, Backlog HIGH');
    expect(summary).toContain('default (Slack security-alerts, Backlog SEC/Task)');
    expect(summary).toContain('grouping on');
  });
});

describe('evaluatePolicy: the rule conditions', () => {
  const policy = defaultPolicy(DEFAULTS);

  it.each([
    [{ workflowStatus: 'NOTIFIED' }, 'workflow status NOTIFIED'],
    [{ recordState: 'ARCHIVED' }, 'record state ARCHIVED'],
    [{ complianceStatus: 'PASSED' }, 'compliance PASSED'],
  ] as const)('filters %o', (overrides, reason) => {
    const finding = controlFinding(overrides);

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome).toEqual({ action: 'filter', reason });
  });

  it('notifies a NEW, ACTIVE, FAILED finding at the threshold on the default route', () => {
    const outcome = evaluatePolicy(controlFinding(), policy);

    expect(outcome).toEqual({
      action: 'notify',
      route: {
        name: 'default',
        slackChannel: 'security-alerts',
        backlog: { projectKey: 'SEC', issueTypeName: 'Task' },
      },
      destinations: { slack: true, backlog: true },
    });
  });
});

describe('evaluatePolicy: the full fixture policy', () => {
  const policy = parsePolicy(readPolicyFixture('full.yml'), 'full.yml', DEFAULTS);

  it('filters a finding no include entry matches', () => {
    const finding = controlFinding({ product: 'Inspector', productName: 'Inspector' });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome).toEqual({ action: 'filter', reason: 'matches no include rule' });
  });

  it('includes a finding matching any one include entry', () => {
    const finding = controlFinding({ product: 'Other', productName: 'Prowler', title: 'Prowler: S3 bucket' });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome.action).toBe('notify');
  });

  it('filters an excluded finding, naming the rule', () => {
    const finding = controlFinding({ accountId: '999999999999' });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome).toEqual({
      action: 'filter',
      reason: 'excluded by rule sandbox-accounts',
      rule: 'sandbox-accounts',
    });
  });

  it('suppresses a matching finding with a note naming the rule and its reason', () => {
    const finding = controlFinding({
      control: { id: 'S3.8' },
      resources: [{ type: 'AwsS3Bucket', id: 'arn:aws:s3:::www', tags: { Purpose: 'public-website' } }],
    });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome).toEqual({
      action: 'suppress',
      rule: 'accepted-public-website-bucket',
      note: 'Suppressed by securityhub-notifier rule accepted-public-website-bucket: Public by design, accepted in RISK-42',
    });
  });

  it('suppresses a finding below both thresholds too', () => {
    const finding = controlFinding({
      severity: 'LOW',
      control: { id: 'S3.2' },
      resources: [{ type: 'AwsS3Bucket', id: 'arn:aws:s3:::www', tags: { Purpose: 'public-website' } }],
    });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome.action).toBe('suppress');
  });

  it('sends a MEDIUM finding to Slack only (Slack MEDIUM, Backlog HIGH)', () => {
    const outcome = evaluatePolicy(controlFinding({ severity: 'MEDIUM' }), policy);

    expect(outcome).toMatchObject({ action: 'notify', destinations: { slack: true, backlog: false } });
  });

  it('sends a HIGH finding to both', () => {
    const outcome = evaluatePolicy(controlFinding({ severity: 'HIGH' }), policy);

    expect(outcome).toMatchObject({ action: 'notify', destinations: { slack: true, backlog: true } });
  });

  it('filters a finding below both thresholds, naming them', () => {
    const outcome = evaluatePolicy(controlFinding({ severity: 'LOW' }), policy);

    expect(outcome).toEqual({
      action: 'filter',
      reason: 'severity LOW below the Slack threshold MEDIUM and the Backlog threshold HIGH',
    });
  });

  it('routes by the first matching route, with every field it names', () => {
    const finding = controlFinding({ accountId: '111111111111', severity: 'CRITICAL' });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome).toMatchObject({
      action: 'notify',
      route: {
        name: 'prod-critical',
        slackChannel: '#sec-prod',
        backlog: { projectKey: 'PROD', issueTypeName: 'Bug', categoryName: 'Security', assigneeId: 12345 },
      },
    });
  });

  it('tries the next route when the first does not match, and a route without backlog files as the default', () => {
    const finding = controlFinding({ accountId: '111111111111', severity: 'MEDIUM' });

    const outcome = evaluatePolicy(finding, policy);

    expect(outcome).toMatchObject({
      action: 'notify',
      route: {
        name: 'prod-other',
        slackChannel: '#sec-prod-low',
        backlog: { projectKey: 'SEC', issueTypeName: 'Security', categoryName: 'Findings' },
      },
    });
  });

  it('completes a route backlog block with the default project and issue type', () => {
    const outcome = evaluatePolicy(guardDutyFinding(), policy);

    expect(outcome).toMatchObject({
      action: 'notify',
      route: {
        name: 'guardduty',
        slackChannel: '#security-alerts',
        backlog: { projectKey: 'SEC', issueTypeName: 'Security', categoryName: 'Threats' },
      },
    });
  });

  it('uses the default route when no route matches', () => {
    const outcome = evaluatePolicy(controlFinding(), policy);

    expect(outcome).toMatchObject({
      action: 'notify',
      route: {
        name: 'default',
        slackChannel: '#security-alerts',
        backlog: { projectKey: 'SEC', issueTypeName: 'Security', categoryName: 'Findings' },
      },
    });
  });

  it('applies exclude before suppressions and suppressions before routes', () => {
    const suppressible = {
      control: { id: 'S3.8' },
      resources: [{ type: 'AwsS3Bucket', id: 'arn:aws:s3:::www', tags: { Purpose: 'public-website' } }],
    };

    const excluded = evaluatePolicy(controlFinding({ ...suppressible, accountId: '999999999999' }), policy);
    const suppressed = evaluatePolicy(controlFinding({ ...suppressible, accountId: '111111111111' }), policy);

    expect(excluded.action).toBe('filter');
    expect(suppressed.action).toBe('suppress');
  });

  it('reads the grouping settings and the EventBridge threshold', () => {
    expect(groupingSettings(policy)).toEqual({ enabled: false, minFindings: 5, windowMinutes: 30 });
    expect(minimumThreshold(policy)).toBe('MEDIUM');
  });
});

describe('matchers', () => {
  it.each([
    ['product by kind', '{ product: GuardDuty }', guardDutyFinding(), controlFinding()],
    [
      'product by name',
      '{ product: "Prow*" }',
      controlFinding({ product: 'Other', productName: 'Prowler' }),
      controlFinding(),
    ],
    ['account by id', '{ account: ["123456789012"] }', controlFinding(), guardDutyFinding()],
    [
      'account by AwsAccountName',
      '{ account: "prod-*" }',
      controlFinding({ accountName: 'prod-payments' }),
      controlFinding(),
    ],
    [
      'region with *',
      '{ region: "us-east-*" }',
      controlFinding({ region: 'us-east-2' }),
      controlFinding({ region: 'eu-west-1' }),
    ],
    ['severity', '{ severity: [CRITICAL] }', controlFinding({ severity: 'CRITICAL' }), controlFinding()],
    ['control with *', '{ control: "CloudTrail.*" }', controlFinding(), guardDutyFinding()],
    [
      'control with ?',
      '{ control: "S3.?" }',
      controlFinding({ control: { id: 'S3.8' } }),
      controlFinding({ control: { id: 'S3.17' } }),
    ],
    [
      'control literally (a dot is a dot)',
      '{ control: "S3.8" }',
      controlFinding({ control: { id: 'S3.8' } }),
      controlFinding({ control: { id: 'S3x8' } }),
    ],
    [
      'resourceType of any resource',
      '{ resourceType: AwsEc2Instance }',
      guardDutyFinding(),
      controlFinding(),
    ],
    [
      'resourceTag with a value pattern',
      '{ resourceTag: { Name: "kube*" } }',
      guardDutyFinding(),
      controlFinding(),
    ],
    [
      'guardDutyType with *',
      '{ guardDutyType: "UnauthorizedAccess:*" }',
      guardDutyFinding(),
      controlFinding(),
    ],
    ['title with *', '{ title: "*SSH brute force*" }', guardDutyFinding(), controlFinding()],
    [
      'case-sensitively',
      '{ product: GuardDuty }',
      guardDutyFinding(),
      guardDutyFinding({ product: 'Other', productName: 'guardduty' }),
    ],
  ] as const)('match %s', (_, match, matching, other) => {
    expect(excludes(match, matching)).toBe(true);
    expect(excludes(match, other)).toBe(false);
  });

  it('requires one resource to carry every tag listed', () => {
    const match = '{ resourceTag: { Env: prod, Team: web } }';
    const oneResource = controlFinding({
      resources: [{ type: 'AwsS3Bucket', id: 'a', tags: { Env: 'prod', Team: 'web' } }],
    });
    const splitAcrossTwo = controlFinding({
      resources: [
        { type: 'AwsS3Bucket', id: 'a', tags: { Env: 'prod' } },
        { type: 'AwsS3Bucket', id: 'b', tags: { Team: 'web' } },
      ],
    });

    expect(excludes(match, oneResource)).toBe(true);
    expect(excludes(match, splitAcrossTwo)).toBe(false);
  });

  it('needs every field to match and any value of a list', () => {
    const match = '{ product: [Inspector, SecurityHub], severity: [HIGH, CRITICAL] }';

    expect(excludes(match, controlFinding({ severity: 'HIGH' }))).toBe(true);
    expect(excludes(match, controlFinding({ severity: 'MEDIUM' }))).toBe(false);
    expect(excludes(match, guardDutyFinding({ severity: 'HIGH' }))).toBe(false);
  });

  it('matches an account by the name from the account map', () => {
    const policy = policyOf(
      'accounts:\n  "123456789012": sandbox-1\nexclude:\n  - name: sandbox\n    match: { account: "sandbox-*" }\n',
    );

    const outcome = evaluatePolicy(controlFinding(), policy);

    expect(outcome).toMatchObject({ action: 'filter', rule: 'sandbox' });
  });

  it('treats regular-expression characters literally and * as any run', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[*?]/.test(s)),
        fc.string(),
        (literal, tail) => {
          expect(matchesWildcard(literal, literal)).toBe(true);
          expect(matchesWildcard(`${literal}*`, `${literal}${tail}`)).toBe(true);
          expect(matchesWildcard(literal, `${literal}x`)).toBe(false);
        },
      ),
    );
  });
});

describe('resolveAccountName', () => {
  const policy = policyOf('accounts:\n  "123456789012": from-map\n');

  it('prefers AwsAccountName', () => {
    expect(resolveAccountName(controlFinding({ accountName: 'from-finding' }), policy)).toBe('from-finding');
  });

  it('falls back to the account map', () => {
    expect(resolveAccountName(controlFinding(), policy)).toBe('from-map');
  });

  it('is undefined for an unknown account', () => {
    expect(resolveAccountName(guardDutyFinding(), policy)).toBeUndefined();
  });
});

describe('thresholds and defaults', () => {
  it('takes an omitted threshold from NOTIFY_MIN_SEVERITY, HIGH when that is unset too', () => {
    const fromEnv = policyOf('thresholds:\n  slack: LOW\n', { ...DEFAULTS, minSeverity: 'MEDIUM' });
    const unset = policyOf('', { slackChannel: 'c', backlogProjectKey: 'SEC', backlogIssueType: 'Task' });

    expect(fromEnv.thresholds).toEqual({ slack: 'LOW', backlog: 'MEDIUM' });
    expect(unset.thresholds).toEqual({ slack: 'HIGH', backlog: 'HIGH' });
    expect(minimumThreshold(fromEnv)).toBe('LOW');
  });

  it('lets the file override the environment defaults of the default route', () => {
    const policy = policyOf('default:\n  slack: { channel: "#sec" }\n  backlog: { projectKey: OPS }\n');

    expect(policy.defaultRoute).toEqual({
      name: 'default',
      slackChannel: '#sec',
      backlog: { projectKey: 'OPS', issueTypeName: 'Task' },
    });
  });

  it('reads the defaults from the environment variables the functions have', () => {
    const defaults = policyDefaultsFromEnv({
      NOTIFY_MIN_SEVERITY: 'MEDIUM',
      SLACK_CHANNEL: 'alerts',
      BACKLOG_PROJECT_KEY: 'SEC',
      BACKLOG_ISSUE_TYPE: '',
    });

    expect(defaults).toEqual({ minSeverity: 'MEDIUM', slackChannel: 'alerts', backlogProjectKey: 'SEC' });
    expect(() => policyDefaultsFromEnv({ NOTIFY_MIN_SEVERITY: 'SEVERE' })).toThrow(ConfigError);
  });

  it('cuts a long suppression note to 512 characters', () => {
    const policy = policyOf(
      `suppressions:\n  - name: long\n    reason: "${'x'.repeat(600)}"\n    match: { control: CloudTrail.2 }\n`,
    );

    const outcome = evaluatePolicy(controlFinding(), policy);

    expect(outcome.action).toBe('suppress');
    expect(outcome.action === 'suppress' && Array.from(outcome.note)).toHaveLength(512);
  });
});

describe('policies with errors are rejected, naming the line and the setting', () => {
  it('an unknown key, with a suggestion', () => {
    const problems = problemsOf(readPolicyFixture('unknown-key.yml'));

    expect(problems).toEqual([
      expect.stringMatching(
        /^policy\.yml:5:7: routes\[0\]\.match\.acount: unknown setting "acount" \(did you mean "account"\?\)/,
      ),
    ]);
  });

  it('a severity that is not a label', () => {
    const problems = problemsOf(readPolicyFixture('bad-severity.yml'));

    expect(problems).toEqual([
      'policy.yml:4:12: thresholds.backlog: must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, got "SEVERE"',
    ]);
  });

  it('a pattern that is not a string (an unquoted account id)', () => {
    const problems = problemsOf(readPolicyFixture('bad-wildcard-type.yml'));

    expect(problems).toEqual([
      expect.stringMatching(
        /^policy\.yml:6:17: exclude\[0\]\.match\.account\[0\]: expected a string, got the number 111111111111 \(quote it/,
      ),
    ]);
  });

  it('a route without a channel and no default channel', () => {
    const problems = problemsOf(readPolicyFixture('route-without-channel.yml'), {});

    expect(problems).toEqual([
      expect.stringMatching(/^policy\.yml:3:5: routes\[0\]\.slack\.channel: required: .*SLACK_CHANNEL/),
      expect.stringMatching(/^policy\.yml:6:1: default\.slack\.channel: required: .*SLACK_CHANNEL/),
    ]);
  });

  it('accepts the same file when SLACK_CHANNEL gives the default', () => {
    const policy = parsePolicy(readPolicyFixture('route-without-channel.yml'), 'policy.yml', {
      slackChannel: 'alerts',
    });

    expect(policy.routes[0]?.route).toEqual({
      name: 'prod',
      slackChannel: 'alerts',
      backlog: { projectKey: 'PROD', issueTypeName: 'Bug' },
    });
  });

  it('a YAML syntax error', () => {
    const problems = problemsOf(readPolicyFixture('syntax-error.yml'));

    // The unclosed `[` of line 4 is found where line 5 no longer fits in it.
    expect(problems[0]).toMatch(/^policy\.yml:5:5: \(yaml\): Flow sequence .* end with a \]$/);
  });

  it('duplicate route names', () => {
    const problems = problemsOf(readPolicyFixture('duplicate-route-names.yml'));

    expect(problems).toEqual(['policy.yml:7:11: routes[2].name: duplicate name "prod" (also routes[0])']);
  });

  it.each([
    ['a missing version', 'routes: []\n', /^policy\.yml:1:1: version: required/],
    ['another version', 'version: 2\n', /^policy\.yml:1:10: version: must be 1, got the number 2/],
    ['an empty file', '', /^policy\.yml:1:1: \(policy\): expected a mapping/],
    ['a duplicate key', 'version: 1\nversion: 1\n', /^policy\.yml:2:1: \(yaml\): Map keys must be unique/],
    [
      'an unquoted account id losing its leading zero',
      'version: 1\naccounts:\n  012345678901: legacy\n',
      /^policy\.yml:3:3: accounts\["12345678901"\]: must be a 12-digit account id, in quotes/,
    ],
    [
      'an empty include list',
      'version: 1\ninclude: []\n',
      /^policy\.yml:2:10: include: an empty include list drops every finding/,
    ],
    [
      'a match without conditions',
      'version: 1\nexclude:\n  - name: all\n    match: {}\n',
      /^policy\.yml:4:12: exclude\[0\]\.match: needs at least one condition/,
    ],
    [
      'a suppression without a reason',
      'version: 1\nsuppressions:\n  - name: s\n    match: { control: S3.8 }\n',
      /^policy\.yml:3:5: suppressions\[0\]\.reason: required/,
    ],
    [
      'a route named default',
      'version: 1\nroutes:\n  - name: default\n    match: { product: Macie }\n',
      /^policy\.yml:3:11: routes\[0\]\.name: "default" is the name of the default route/,
    ],
    [
      'a project key in lower case',
      'version: 1\ndefault:\n  backlog: { projectKey: sec }\n',
      /^policy\.yml:3:26: default\.backlog\.projectKey: must be a Backlog project key/,
    ],
    [
      'grouping that can never open',
      'version: 1\ngrouping:\n  minFindings: 1\n',
      /^policy\.yml:3:16: grouping\.minFindings: must be at least 2/,
    ],
  ])('%s', (_, text, expected) => {
    const problems = problemsOf(text);

    expect(problems[0]).toMatch(expected);
  });

  it('every problem of a file at once, in line order', () => {
    const problems = problemsOf(
      'version: 1\nthresholds: { slack: high }\nexclude:\n  - name: x\n    match: { title: 42 }\n',
    );

    expect(problems.map((problem) => problem.split(': ')[0])).toEqual(['policy.yml:2:22', 'policy.yml:5:21']);
  });

  it('a missing file, naming it', () => {
    expect(() => loadPolicyFile(fixturePath('missing.yml'), DEFAULTS)).toThrow(
      /missing\.yml: cannot read the notification policy/,
    );
  });

  it('through the checker', () => {
    expect(() => checkPolicyFile(fixturePath('bad-severity.yml'), DEFAULTS)).toThrow(PolicyError);
  });
});

describe('check-policy: the CLI and the serverless resolver', () => {
  const run = promisify(execFile);
  const ROOT = new URL('../../', import.meta.url).pathname;
  const ENV = {
    ...process.env,
    SLACK_CHANNEL: 'security-alerts',
    BACKLOG_PROJECT_KEY: 'SEC',
    BACKLOG_ISSUE_TYPE: 'Task',
  };

  type Resolver = (input: { resolveVariable: (variable: string) => Promise<unknown> }) => Promise<unknown>;
  const resolver = createRequire(import.meta.url)('../../deploy/check-policy.cjs') as Record<
    'policyFile' | 'minSeverity',
    Resolver
  >;

  /** `resolveVariable` as osls answers `param:<name>, '<fallback>'` from these stage params. */
  function withParams(params: Record<string, string>) {
    return {
      resolveVariable: async (variable: string) => {
        const [, name, fallback] = /^param:(\w+), '(.*)'$/.exec(variable) ?? [];
        return name ? (params[name] ?? fallback) : undefined;
      },
    };
  }

  it('prints the summary and exits 0 for the shipped policy', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/check-policy.ts'], {
      cwd: ROOT,
      env: ENV,
    });

    expect(stdout).toMatch(/^policy OK: thresholds Slack HIGH, Backlog HIGH/);
  });

  it('prints every problem and exits 1 for a broken policy', async () => {
    const file = fixturePath('bad-severity.yml');

    const failure = await run(process.execPath, ['--import', 'tsx', 'src/cli/check-policy.ts', file], {
      cwd: ROOT,
      env: ENV,
    }).catch((error: { code: number; stderr: string }) => error);

    expect(failure).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${file}:4:12: thresholds.backlog:`),
    });
  });

  it('resolves the policy path and the minimum threshold from the stage params', async () => {
    const params = withParams({
      policyFile: fixturePath('full.yml'),
      slackChannel: 'security-alerts',
      backlogProjectKey: 'SEC',
      backlogIssueType: 'Task',
    });

    expect(await resolver.policyFile(params)).toBe(fixturePath('full.yml'));
    expect(await resolver.minSeverity(params)).toBe('MEDIUM');
  });

  it('fails the resolution with the checker message', async () => {
    const params = withParams({ policyFile: fixturePath('route-without-channel.yml') });

    await expect(resolver.policyFile(params)).rejects.toThrow(
      /route-without-channel\.yml:3:5: routes\[0\]\.slack\.channel: required/,
    );
  });
});
