import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/domain/finding/finding.js';
import { buildConsoleUrl, normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { SEVERITY_LABELS } from '../../src/domain/finding/severity.js';
import {
  type Block,
  type ButtonElement,
  buildSlackMessage,
  DEFAULT_SEVERITY_COLOR,
  DEFAULT_SEVERITY_EMOJI,
  SEVERITY_COLORS,
  SEVERITY_EMOJI,
  SLACK_LIMITS,
  type SlackMessage,
  type SlackMessageContext,
  severityColor,
  severityEmoji,
} from '../../src/domain/slack/finding-message.js';
import { isKnownHost, safeUrl } from '../../src/domain/text/url.js';
import { loadFixture } from '../helpers/fixtures.js';
import { emphasisText, SLACK_FRAGMENTS, slackHostile } from '../helpers/hostile.js';
import { DIRECTION_MARK, LONE_SURROGATE, mapStrings, withoutEmphasis } from '../helpers/markup.js';
import {
  allBlocks,
  buttons,
  expectNoEmphasisFromValues,
  expectSafe,
  expectWithinSlackLimits,
  fields,
  header,
  sectionTexts,
} from '../helpers/slack.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const NORMALIZE = { eventId: 'test', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };
const NEW: SlackMessageContext = { mode: 'new' };

function fromEvent(file: string): Finding {
  const event = loadFixture<{ detail: { findings: unknown[] } }>(`events/${file}`);
  return normalizeFinding(event.detail.findings[0], NORMALIZE);
}

function fromThirdParty(file: string): Finding {
  return normalizeFinding(loadFixture<unknown[]>(`third-party/${file}`)[0], NORMALIZE);
}

function fromFindings(file: string): Finding {
  return normalizeFinding(loadFixture<unknown>(`findings/${file}`), NORMALIZE);
}

function attachmentBlocks(message: SlackMessage): Block[] {
  return message.attachments.flatMap((attachment) => attachment.blocks);
}

function button(message: SlackMessage, actionId: string): ButtonElement | undefined {
  return buttons(message).find((element) => element.action_id === actionId);
}

function contextTexts(message: SlackMessage): string[] {
  return allBlocks(message).flatMap((block) =>
    block.type === 'context' ? block.elements.map((element) => element.text) : [],
  );
}

/** The shared limits, a non-empty header without a lone surrogate, and buttons within theirs. */
function expectWithinLimits(message: SlackMessage): void {
  expectWithinSlackLimits(message);
  const title = header(message);
  expect(title.length).toBeGreaterThan(0);
  expect(title).not.toMatch(LONE_SURROGATE);
  for (const element of buttons(message)) {
    expect(element.url.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonUrl);
    expect(element.text.text.length).toBeGreaterThan(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Lookup tables

describe('severity lookup tables', () => {
  it('give every label its own colour and marker, and an explicit default otherwise', () => {
    // Act
    const colors = SEVERITY_LABELS.map(severityColor);
    const emoji = SEVERITY_LABELS.map(severityEmoji);

    // Assert
    expect(new Set(colors).size).toBe(SEVERITY_LABELS.length);
    expect(new Set(emoji).size).toBe(SEVERITY_LABELS.length);
    expect(colors).toEqual(SEVERITY_LABELS.map((label) => SEVERITY_COLORS[label]));
    expect(emoji).toEqual(SEVERITY_LABELS.map((label) => SEVERITY_EMOJI[label]));
    expect(SEVERITY_COLORS.CRITICAL).toBe('#8B0000');
    expect(severityColor('BOGUS')).toBe(DEFAULT_SEVERITY_COLOR);
    expect(severityEmoji(undefined)).toBe(DEFAULT_SEVERITY_EMOJI);
  });
});

// ---------------------------------------------------------------------------------------------
// One test per kind of finding

describe('buildSlackMessage', () => {
  it('GuardDuty (AWS sample, SSH brute force): type, count, remote endpoint, resource, GuardDuty link', () => {
    // Arrange
    const finding = fromEvent('guardduty-ssh-bruteforce.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(message.text).toBe(
      '[MEDIUM] 199.241.229.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356. — 193043430472 us-east-1',
    );
    expect(header(message)).toBe(
      '🟡 199.241.229.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356.',
    );
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0]?.color).toBe(SEVERITY_COLORS.MEDIUM);
    expect(message.attachments[0]?.fallback).toBe(message.text);
    expect(fields(message)).toEqual({
      Severity: '🟡 MEDIUM',
      Product: 'GuardDuty',
      Account: '`193043430472`',
      Region: '`us-east-1`',
      Resource:
        '`AwsEc2Instance` `arn:aws::ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356`\n      Name=kubectl',
      'Finding type': '`UnauthorizedAccess:EC2-SSHBruteForce`\nNETWORK_CONNECTION',
      Count: '74 times',
      Remote: '`199.241.229.197:46717`\nUnited States · CenturyLink',
    });
    expect(sectionTexts(message)[0]).toMatch(
      /^\*Description\*\n199\.241\.229\.197 is performing SSH brute force/,
    );
    expect(buttons(message).map((b) => [b.action_id, b.text.text])).toEqual([
      ['open-security-hub', 'Open in Security Hub'],
      ['open-source', 'Open in GuardDuty'],
    ]);
    expect(button(message, 'open-security-hub')?.url).toBe(finding.consoleUrl);
    expect(button(message, 'open-security-hub')?.url).toMatch(
      /^https:\/\/ap-northeast-1\.console\.aws\.amazon\.com\/securityhub\//,
    );
    expect(button(message, 'open-source')?.url).toBe(finding.sourceUrl);
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('GuardDuty (DefectDojo, IAM user network permissions): actor, remote details, two resources, tags', () => {
    // Arrange
    const finding = fromThirdParty('defectdojo-guardduty-iamuser-networkpermissions.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    const byLabel = fields(message);
    expect(header(message)).toBe('🟡 Unusual changes to network permissions by GeneratedFindingUserName.');
    expect(byLabel['Finding type']).toBe('`Persistence:IAMUser-NetworkPermissions`\nAWS_API_CALL');
    expect(byLabel.Count).toBe('2 times');
    expect(byLabel.Remote).toBe('`198.51.100.0`\nGeneratedFindingCountryName · GeneratedFindingORG');
    expect(byLabel.Actor).toBe('`GeneratedFindingAPIName`');
    expect(byLabel['Resources (2)']).toBe(
      [
        '`AwsEc2Instance` `arn:aws:ec2:eu-west-1:123456789012:instance/i-99999999`',
        '      GeneratedFindingInstaceTag1=GeneratedFindingInstaceValue1, GeneratedFindingInstaceTag2=GeneratedFindingInstaceTagValue2, +7 tags',
        '`AwsIamAccessKey` `AWS::IAM::AccessKey:GeneratedFindingAccessKeyId`',
      ].join('\n'),
    );
    expect(byLabel.Region).toBe('`eu-west-1`');
    expect(button(message, 'open-source')?.url).toBe(finding.sourceUrl);
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('Security Hub control (FSBP CloudTrail.2): control, compliance, description, remediation link', () => {
    // Arrange
    const finding = fromEvent('fsbp-cloudtrail-2.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    const byLabel = fields(message);
    expect(header(message)).toBe('🟡 CloudTrail.2 CloudTrail should have encryption at-rest enabled');
    expect(message.text).toBe(
      '[MEDIUM] CloudTrail.2 CloudTrail should have encryption at-rest enabled — 123456789012 us-east-2',
    );
    expect(byLabel.Product).toBe('Security Hub');
    expect(byLabel.Control).toBe('`CloudTrail.2`');
    expect(byLabel.Compliance).toBe('FAILED');
    expect(byLabel.Resource).toBe(
      '`AwsCloudTrailTrail` `arn:aws:cloudtrail:us-east-2:123456789012:trail/AWSMacieTrail-DO-NOT-EDIT`',
    );
    expect(byLabel['Finding type']).toBeUndefined();
    expect(sectionTexts(message)).toEqual([
      `*Description*\n${finding.description}`,
      '*Remediation*\nFor directions on how to correct this issue, consult the AWS Security Hub controls documentation.',
    ]);
    expect(buttons(message).map((b) => b.action_id)).toEqual(['open-security-hub', 'open-remediation']);
    expect(button(message, 'open-remediation')?.url).toBe(
      'https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation',
    );
    const context = attachmentBlocks(message).find((block) => block.type === 'context');
    expect(context?.type === 'context' && context.elements[0]?.text).toBe(
      'First seen 2020-08-06T02:18:23.076Z · Last seen 2021-09-28T16:10:06.956Z · Updated 2021-09-28T16:10:00.093Z',
    );
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('Inspector (DefectDojo CVE): CVE with each package installed → fixed version', () => {
    // Arrange
    const finding = fromThirdParty('defectdojo-inspector-one-vuln.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    const byLabel = fields(message);
    expect(message.attachments[0]?.color).toBe(SEVERITY_COLORS.HIGH);
    expect(header(message)).toBe(
      '🟠 CVE-2017-9735 - org.eclipse.jetty:jetty-server, org.eclipse.jetty:jetty-util',
    );
    expect(byLabel.Product).toBe('Inspector');
    expect(byLabel['CVE-2017-9735']).toBe(
      [
        '`org.eclipse.jetty:jetty-server` 8.1.14.v20131031 → 9.4.6.v20170531',
        '`org.eclipse.jetty:jetty-util` 8.1.14.v20131031 → 9.4.6.v20170531',
      ].join('\n'),
    );
    expect(byLabel.Resource).toBe(
      '`AwsEc2Instance` `arn:aws:ec2:eu-west-1:123456789123:instance/i-0sdg8sa1k2l3j11m2`\n      Name=MyWebServer',
    );
    expect(sectionTexts(message)[1]).toMatch(/^\*Remediation\*\nRemediation is available\./);
    expect(buttons(message).map((b) => b.action_id)).toEqual(['open-security-hub']);
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('third-party product (Prowler): product name from the provider, LOW colour, compliance, remediation', () => {
    // Arrange
    const finding = fromThirdParty('defectdojo-prowler-accessanalyzer.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(message.text).toBe('[LOW] Check if IAM Access Analyzer is enabled — 123456789012 ap-northeast-1');
    expect(header(message)).toBe('🔵 Check if IAM Access Analyzer is enabled');
    expect(message.attachments[0]?.color).toBe(SEVERITY_COLORS.LOW);
    expect(fields(message)).toEqual({
      Severity: '🔵 LOW',
      Product: 'Prowler',
      Account: '`123456789012`',
      Region: '`ap-northeast-1`',
      Resource: '`Other` `123456789012`',
      Compliance: 'FAILED',
    });
    expect(sectionTexts(message)[0]).toBe(
      '*Description*\nIAM Access Analyzer in account 123456789012 is not enabled',
    );
    expect(button(message, 'open-remediation')?.url).toBe(
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/what-is-access-analyzer.html',
    );
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('a finding with only the required ASFF fields', () => {
    // Arrange
    const finding = fromFindings('required-fields-only.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(message.text).toBe(
      '[HIGH] Security group allows SSH from 0.0.0.0/0 — 111122223333 ap-northeast-1',
    );
    expect(header(message)).toBe('🟠 Security group allows SSH from 0.0.0.0/0');
    expect(fields(message)).toEqual({
      Severity: '🟠 HIGH',
      Product: 'default',
      Account: '`111122223333`',
      Region: '`ap-northeast-1`',
      Resource:
        '`AwsEc2SecurityGroup` `arn:aws:ec2:ap-northeast-1:111122223333:security-group/sg-0123456789abcdef0`',
    });
    expect(sectionTexts(message)).toEqual([
      '*Description*\nSecurity group sg-0123456789abcdef0 allows inbound TCP 22 from any address.',
    ]);
    expect(buttons(message).map((b) => b.action_id)).toEqual(['open-security-hub']);
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('keeps a Japanese title and account name intact and shortens a long Japanese description', () => {
    // Arrange
    const finding = fromFindings('japanese-title.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(header(message)).toBe('🔴 S3 バケット「顧客データ」が公開されています 🚨👨‍👩‍👧');
    expect(message.text).toBe(
      '[CRITICAL] S3 バケット「顧客データ」が公開されています 🚨👨‍👩‍👧 — 本番アカウント 🏭 (444455556666) ap-northeast-1',
    );
    expect(fields(message).Account).toBe('本番アカウント 🏭\n`444455556666`');
    expect(fields(message).Resource).toBe(
      '`AwsS3Bucket` `arn:aws:s3:::顧客データ-bucket`\n      Name=顧客データ, 環境=本番',
    );
    const description = sectionTexts(message)[0] ?? '';
    const shown = description.replace('*Description*\n', '');
    expect(shown.length).toBeLessThanOrEqual(SLACK_LIMITS.description);
    expect(shown).toMatch(/[。、]…$/);
    expect(finding.description.startsWith(shown.slice(0, -1))).toBe(true);
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('says a reopened finding was reopened, names the issue and links it', () => {
    // Arrange
    const finding = fromFindings('required-fields-only.json');
    const ctx: SlackMessageContext = {
      mode: 'reopen',
      issue: { key: 'SEC-12', url: 'https://example.backlog.com/view/SEC-12' },
      reopenCount: 2,
    };

    // Act
    const message = buildSlackMessage(finding, ctx);

    // Assert
    expect(message.text).toBe(
      '[HIGH] Reopened: Security group allows SSH from 0.0.0.0/0 — 111122223333 ap-northeast-1',
    );
    expect(header(message)).toBe('🟠 Reopened: Security group allows SSH from 0.0.0.0/0');
    expect(message.blocks[1]).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: '🔁 *Reopened*: Security Hub set this finding back to NEW, for the 2nd time. It is already filed as SEC-12.',
          verbatim: true,
        },
      ],
    });
    expect(fields(message)['Backlog issue']).toBe('SEC-12');
    expect(button(message, 'open-backlog-issue')).toEqual({
      type: 'button',
      text: { type: 'plain_text', text: 'Backlog SEC-12', emoji: true },
      url: 'https://example.backlog.com/view/SEC-12',
      action_id: 'open-backlog-issue',
    });
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('renders a hostile finding inert: escaped in mrkdwn, literal in plain text, bad links not linked', () => {
    // Arrange
    const finding = fromFindings('hostile.json');

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(message.text).toBe(
      '[CRITICAL] &lt;!channel&gt; urgent: &lt;https://evil.example/login|click to verify&gt; &amp; &lt;@U123&gt; &lt;#C42&gt; — &lt;!everyone&gt; prod &amp; &lt;@U0BOSS&gt; (111122223333) ap-northeast-1',
    );
    expect(header(message)).toBe(
      '🔴 <!channel> urgent: <https://evil.example/login|click to verify> & <@U123> <#C42>',
    );
    const byLabel = fields(message);
    expect(byLabel.Product).toBe('Evil &lt;!here&gt; &amp; Co');
    expect(byLabel.Resource).toBe(
      '`AwsS3Bucket &lt;!here&gt;` `&lt;https://evil.example|bucket&gt;`\n      Name=&lt;@U999&gt; &amp; friends, Owner=&lt;!channel&gt;',
    );
    expect(sectionTexts(message)[0]).toBe(
      '*Description*\nPlease see &lt;https://evil.example|the fix&gt; &amp;amp; ping &lt;!subteam^S999|@sre&gt; or @\u2060here.\n&gt; quoted \u2217bold\u2217 \u02CBcode\u02CB',
    );
    expect(button(message, 'open-source')).toBeUndefined();
    expect(button(message, 'open-remediation')).toBeUndefined();
    expect(contextTexts(message)).toContain(
      'Remediation (unverified host `docs.example.com`): `docs.example.com/fix?a=1&amp;b=%3C2%3E|c`',
    );
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('shows emphasis from a finding literally: no bold, italics, strike-through or code in mrkdwn', () => {
    // Arrange
    const base = fromFindings('required-fields-only.json');
    const finding: Finding = {
      ...base,
      title: '*bold* _italic_ ~strike~ `code`',
      description: '*Urgent*: run `rm -rf /` ~now~ and _quietly_\n```\nblock\n```',
      accountName: '_prod_',
      resources: [{ type: 'AwsS3Bucket', id: 'arn:aws:s3:::bucket/*', tags: { '*Name*': '_x_' } }],
      resourceCount: 1,
      guardDuty: { type: 'Recon:EC2/PortProbe', actionType: 'NETWORK_CONNECTION' },
    };

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(header(message)).toBe('🟠 *bold* _italic_ ~strike~ `code`');
    expect(message.text).toBe(
      '[HIGH] ∗bold∗ ˍitalicˍ ∼strike∼ ˋcodeˋ — ˍprodˍ (111122223333) ap-northeast-1',
    );
    expect(sectionTexts(message)[0]).toBe(
      '*Description*\n∗Urgent∗: run ˋrm -rf /ˋ ∼now∼ and ˍquietlyˍ\nˋˋˋ\nblock\nˋˋˋ',
    );
    expect(fields(message).Account).toBe('ˍprodˍ\n`111122223333`');
    expect(fields(message).Resource).toBe('`AwsS3Bucket` `arn:aws:s3:::bucket/*`\n      ∗Name∗=ˍxˍ');
    expect(fields(message)['Finding type']).toBe('`Recon:EC2/PortProbe`\nNETWORK_CONNECTION');
    expectSafe(message);
  });

  it('names the unverified host of a custom product’s SourceUrl instead of an "Open in …" button', () => {
    // Arrange
    const raw = loadFixture<Record<string, unknown>>('findings/required-fields-only.json');
    const finding = normalizeFinding(
      {
        ...raw,
        ProductName: 'Security Hub',
        SourceUrl: 'https://evil.example/x?login=1',
        Remediation: { Recommendation: { Url: 'https://evil.example/fix' } },
      },
      NORMALIZE,
    );

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(buttons(message).map((b) => [b.action_id, b.text.text])).toEqual([
      ['open-security-hub', 'Open in Security Hub'],
    ]);
    expect(buttons(message).some((b) => b.url.includes('evil.example'))).toBe(false);
    expect(contextTexts(message)).toContain(
      [
        'Source (unverified host `evil.example`): `evil.example/x?login=1`',
        'Remediation (unverified host `evil.example`): `evil.example/fix`',
      ].join('\n'),
    );
    expectSafe(message);
    expectWithinLimits(message);
  });

  it('keeps the buttons of links to AWS consoles and docs', () => {
    // Arrange
    const base = fromFindings('required-fields-only.json');
    const finding: Finding = {
      ...base,
      sourceUrl: 'https://eu-west-1.console.aws.amazon.com/macie/home?region=eu-west-1#findings',
      remediationUrl: 'https://docs.aws.amazon.com/macie/latest/user/findings.html',
    };

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(buttons(message).map((b) => b.action_id)).toEqual([
      'open-security-hub',
      'open-source',
      'open-remediation',
    ]);
    expect(contextTexts(message).join('\n')).not.toContain('unverified host');
  });

  it('lists the first three resources and counts the rest', () => {
    // Arrange
    const base = fromFindings('required-fields-only.json');
    const resources = Array.from({ length: 10 }, (_, i) => ({
      type: 'AwsS3Bucket',
      id: `bucket-${i}`,
      tags: {},
    }));
    const finding: Finding = { ...base, resources, resourceCount: 12 };

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(fields(message)['Resources (12)']).toBe(
      '`AwsS3Bucket` `bucket-0`\n`AwsS3Bucket` `bucket-1`\n`AwsS3Bucket` `bucket-2`\n+9 more',
    );
  });

  it('splits fields into sections of at most ten and summarises vulnerabilities beyond three', () => {
    // Arrange
    const base = fromFindings('required-fields-only.json');
    const finding: Finding = {
      ...base,
      control: { id: 'EC2.19' },
      complianceStatus: 'FAILED',
      guardDuty: {
        type: 'Recon:EC2-PortProbeUnprotectedPort',
        count: 1,
        remoteIp: '203.0.113.9',
        actor: 'x',
      },
      vulnerabilities: Array.from({ length: 6 }, (_, i) => ({
        id: `CVE-2024-000${i}`,
        packages: Array.from({ length: 5 }, (_, j) => ({
          name: `pkg-${j}`,
          version: '1.0',
          fixedVersion: '1.1',
        })),
      })),
    };

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    const sections = attachmentBlocks(message).filter((block) => block.type === 'section' && block.fields);
    expect(sections.map((block) => (block.type === 'section' ? block.fields?.length : 0))).toEqual([5, 10]);
    const byLabel = fields(message);
    expect(byLabel['CVE-2024-0000']).toBe(
      '`pkg-0` 1.0 → 1.1\n`pkg-1` 1.0 → 1.1\n`pkg-2` 1.0 → 1.1\n+2 more packages',
    );
    expect(byLabel['+3 more vulnerabilities']).toBe('CVE-2024-0003, CVE-2024-0004, CVE-2024-0005');
    expect(byLabel.Count).toBe('1 time');
    expectWithinLimits(message);
  });

  it('leaves out a link longer than Slack accepts rather than cutting it', () => {
    // Arrange
    const base = fromFindings('required-fields-only.json');
    const finding: Finding = { ...base, remediationUrl: `https://example.com/${'a'.repeat(3000)}` };

    // Act
    const message = buildSlackMessage(finding, NEW);

    // Assert
    expect(button(message, 'open-remediation')).toBeUndefined();
    expect(button(message, 'open-security-hub')).toBeDefined();
  });

  it('never throws, even on a value that is not a finding at all', () => {
    // Arrange
    const inputs: unknown[] = [{}, null, undefined, 'finding', { title: 42, resources: 'x', guardDuty: [] }];
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );

    // Act
    const messages = [...inputs, throwing].map((input) =>
      buildSlackMessage(input as Finding, { mode: 'reopen', reopenCount: Number.NaN }),
    );

    // Assert
    for (const message of messages) {
      expectSafe(message);
      expectWithinLimits(message);
    }
    expect(header(messages[0] as SlackMessage)).toBe('❔ Reopened: Security Hub finding');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over hostile text

const hostile = slackHostile([...SLACK_FRAGMENTS, '<!everyone>', '<!subteam^S1>'], 4000);
/** The normaliser's console link; it cannot encode an Id with a lone surrogate, so use a fixed one. */
function consoleUrlFor(id: string): string {
  try {
    return buildConsoleUrl(id, 'ap-northeast-1');
  } catch {
    return buildConsoleUrl('unencodable', 'ap-northeast-1');
  }
}

function href(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return new URL(url).href;
}

const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** Links a finding may carry: AWS consoles and docs, a look-alike host, customer hosts under amazonaws.com, any web URL. */
const findingUrl = fc.oneof(
  fc.constantFrom(
    'https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?fId=1',
    'https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html',
    'https://docs.example.com/x?a=<b>|c',
    'https://console.aws.amazon.com.evil.example/x',
    'https://bucket.s3.amazonaws.com/login.html',
    'http://docs.aws.amazon.com/x',
    'javascript:alert(1)',
    'nope',
  ),
  fc.webUrl(),
);

function hostileFindingOf(
  hostile: fc.Arbitrary<string>,
): fc.Arbitrary<{ finding: Finding; ctx: SlackMessageContext }> {
  return fc
    .record({
      id: hostile.map((id) => id.slice(0, 512)),
      title: hostile,
      description: hostile,
      accountName: maybe(hostile),
      productName: hostile,
      region: hostile,
      severity: fc.constantFrom<string>(...SEVERITY_LABELS, 'BOGUS'),
      resources: fc.array(
        fc.record({ type: hostile, id: hostile, tags: fc.dictionary(hostile, hostile, { maxKeys: 4 }) }),
        { maxLength: 10 },
      ),
      extraResources: fc.nat({ max: 1000 }),
      control: maybe(hostile),
      compliance: maybe(hostile),
      guardDuty: maybe(
        fc.record({
          type: hostile,
          count: maybe(fc.nat()),
          remoteIp: maybe(hostile),
          remotePort: maybe(hostile),
          remoteCountry: maybe(hostile),
          remoteOrganization: maybe(hostile),
          actor: maybe(hostile),
          actionType: maybe(hostile),
        }),
      ),
      vulnerabilities: fc.array(
        fc.record({
          id: hostile,
          packages: fc.array(
            fc.record({ name: hostile, version: maybe(hostile), fixedVersion: maybe(hostile) }),
            { maxLength: 5 },
          ),
        }),
        { maxLength: 12 },
      ),
      remediationText: maybe(hostile),
      remediationUrl: maybe(findingUrl),
      sourceUrl: maybe(findingUrl),
      firstObservedAt: maybe(hostile),
      mode: fc.constantFrom<'new' | 'reopen'>('new', 'reopen'),
      issueKey: maybe(hostile),
      reopenCount: maybe(fc.integer({ min: -5, max: 100 })),
    })
    .map((v) => {
      const finding = {
        ...fromFindings('required-fields-only.json'),
        identifier: { Id: v.id, ProductArn: 'arn:aws:securityhub:ap-northeast-1::product/aws/guardduty' },
        title: v.title,
        description: v.description,
        productName: v.productName,
        region: v.region,
        severity: v.severity,
        resources: v.resources,
        resourceCount: v.resources.length + v.extraResources,
        vulnerabilities: v.vulnerabilities,
        consoleUrl: consoleUrlFor(v.id),
      } as Finding;
      if (v.accountName !== undefined) finding.accountName = v.accountName;
      if (v.control !== undefined) finding.control = { id: v.control };
      if (v.compliance !== undefined) finding.complianceStatus = v.compliance;
      if (v.guardDuty) finding.guardDuty = v.guardDuty as Finding['guardDuty'];
      if (v.remediationText !== undefined) finding.remediationText = v.remediationText;
      if (v.remediationUrl !== undefined) finding.remediationUrl = v.remediationUrl;
      if (v.sourceUrl !== undefined) finding.sourceUrl = v.sourceUrl;
      if (v.firstObservedAt !== undefined) finding.firstObservedAt = v.firstObservedAt;
      const ctx: SlackMessageContext = { mode: v.mode };
      if (v.issueKey !== undefined)
        ctx.issue = { key: v.issueKey, url: 'https://example.backlog.com/view/X-1' };
      if (v.reopenCount !== undefined) ctx.reopenCount = v.reopenCount;
      return { finding, ctx };
    });
}

const hostileFinding = hostileFindingOf(hostile);

const emphasis = emphasisText(1_500);

describe('buildSlackMessage over hostile findings (properties)', () => {
  it('never lets a raw <, > or & reach mrkdwn, the notification text or the fallback', () => {
    fc.assert(
      fc.property(hostileFinding, ({ finding, ctx }) => {
        expectSafe(buildSlackMessage(finding, ctx));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps every Slack limit', () => {
    fc.assert(
      fc.property(hostileFinding, ({ finding, ctx }) => {
        expectWithinLimits(buildSlackMessage(finding, ctx));
      }),
      { numRuns: 200 },
    );
  });

  it('links only through buttons, and only to http(s) URLs from the finding or the issue', () => {
    fc.assert(
      fc.property(hostileFinding, ({ finding, ctx }) => {
        const message = buildSlackMessage(finding, ctx);
        const allowed = [finding.consoleUrl, finding.sourceUrl, finding.remediationUrl, ctx.issue?.url];
        for (const element of buttons(message)) {
          expect(allowed.map(href)).toContain(element.url);
        }
      }),
      { numRuns: 100 },
    );
  });
  it('puts only links to known hosts behind a labelled button, and names the host of the others', () => {
    fc.assert(
      fc.property(hostileFinding, ({ finding, ctx }) => {
        const message = buildSlackMessage(finding, ctx);
        for (const element of buttons(message)) {
          if (element.action_id !== 'open-backlog-issue') expect(isKnownHost(element.url)).toBe(true);
        }
        const context = allBlocks(message)
          .flatMap((block) => (block.type === 'context' ? block.elements.map((e) => e.text) : []))
          .join('\n');
        for (const url of [finding.sourceUrl, finding.remediationUrl]) {
          const parsed = safeUrl(url);
          if (parsed === undefined || isKnownHost(parsed)) continue;
          expect(context).toContain(`(unverified host \`${new URL(parsed).hostname}\`)`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('leaves no direction mark or bidi control anywhere in the message', () => {
    fc.assert(
      fc.property(hostileFinding, ({ finding, ctx }) => {
        expect(JSON.stringify(buildSlackMessage(finding, ctx))).not.toMatch(DIRECTION_MARK);
      }),
      { numRuns: 200 },
    );
  });

  it('lets no emphasis from the finding reach mrkdwn: only the builder’s own delimiters remain', () => {
    fc.assert(
      fc.property(hostileFindingOf(emphasis), ({ finding, ctx }) => {
        const message = buildSlackMessage(finding, ctx);
        const reference = buildSlackMessage(
          mapStrings(finding, withoutEmphasis),
          mapStrings(ctx, withoutEmphasis),
        );
        expectNoEmphasisFromValues(message, reference);
      }),
      { numRuns: 200 },
    );
  });
});
