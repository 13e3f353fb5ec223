import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildBacklogIssue,
  buildReopenComment,
  DEFAULT_PRIORITY_IDS,
  MAX_SUMMARY_LENGTH,
  priorityIdFor,
} from '../../src/domain/backlog/finding-issue.js';
import {
  backlogCodeBlock,
  escapeBacklogInline,
  escapeBacklogText,
  escapeMarkdownInline,
  escapeMarkdownText,
  linkTarget,
  markdownCodeBlock,
  normalizeCode,
  normalizeInline,
  normalizeMultiline,
  type TextFormattingRule,
} from '../../src/domain/backlog/format.js';
import { extractMarker, findingMarker, hasMarker, markerLine } from '../../src/domain/backlog/marker.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { SEVERITY_LABELS, type SeverityLabel } from '../../src/domain/finding/severity.js';
import { loadFixture } from '../helpers/fixtures.js';
import { MARKUP_FRAGMENTS, markupHostile } from '../helpers/hostile.js';
import { backlogTokens, DIRECTION_MARK, LONE_SURROGATE, markdownTokens, TOKENS } from '../helpers/markup.js';

// ---------------------------------------------------------------------------------------------
// Samples
// ---------------------------------------------------------------------------------------------

type RawFinding = Record<string, unknown>;

function rawFinding(relativePath: string): RawFinding {
  const fixture = loadFixture<unknown>(relativePath);
  const raw = Array.isArray(fixture)
    ? fixture[0]
    : (fixture as { detail: { findings: unknown[] } }).detail.findings[0];
  return structuredClone(raw) as RawFinding;
}

function toFinding(raw: unknown): Finding {
  return normalizeFinding(raw, { eventId: 'test', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' });
}

const SAMPLES = {
  guardDutySsh: 'events/guardduty-ssh-bruteforce.json',
  guardDutyIam: 'third-party/defectdojo-guardduty-iamuser-networkpermissions.json',
  control: 'events/fsbp-cloudtrail-2.json',
  inspector: 'third-party/defectdojo-inspector-one-vuln.json',
  prowler: 'third-party/defectdojo-prowler-accessanalyzer.json',
} as const;

const sample = (name: keyof typeof SAMPLES): Finding => toFinding(rawFinding(SAMPLES[name]));

const RULES: TextFormattingRule[] = ['markdown', 'backlog'];

/** The structural lines each rule writes: heading, table, list item, link, code block. */
const SYNTAX = {
  markdown: {
    h1: (text: string) => `# ${text}`,
    h2: (text: string) => `## ${text}`,
    tableHeader: '| Item | Value |',
    row: (key: string, value: string) => `| ${key} | ${value} |`,
    item: (text: string) => `- ${text}`,
    subItem: (text: string) => `  - ${text}`,
    link: (label: string, url: string) => `[${label}](${url})`,
    code: (value: string) => `\`\`\`\n${value}\n\`\`\``,
  },
  backlog: {
    h1: (text: string) => `* ${text}`,
    h2: (text: string) => `** ${text}`,
    tableHeader: '|Item|Value|h',
    row: (key: string, value: string) => `|${key}|${value}|`,
    item: (text: string) => `- ${text}`,
    subItem: (text: string) => `-- ${text}`,
    link: (label: string, url: string) => `[[${label}>${url}]]`,
    code: (value: string) => `{code}\n${value}\n{/code}`,
  },
} as const;

function lines(text: string): string[] {
  return text.split('\n');
}

// ---------------------------------------------------------------------------------------------
// Sections, per sample and rule
// ---------------------------------------------------------------------------------------------

describe('buildBacklogIssue: description sections', () => {
  describe.each(RULES)('%s', (rule) => {
    const s = SYNTAX[rule];

    it('renders the common sections of a GuardDuty finding in order, the marker line last', () => {
      const finding = sample('guardDutySsh');

      const { description, marker } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      const order = [
        s.h1('199.241.229.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356.'),
        s.tableHeader,
        s.h2('Description'),
        s.h2('Resources (1)'),
        s.h2('Links'),
        s.h2('Identifiers'),
        markerLine(marker),
      ].map((line) => out.indexOf(line));
      expect(order.every((index) => index >= 0)).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(out.filter((line) => line !== '').at(-1)).toBe(markerLine(marker));
    });

    it('lists GuardDuty type, remote IP and port, and links the product console', () => {
      const finding = sample('guardDutySsh');

      const { description } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      expect(out).toContain(s.row('Product', 'GuardDuty'));
      expect(out).toContain(s.row('Account', '193043430472'));
      expect(out).toContain(s.row('Region', 'us-east-1'));
      expect(out).toContain(s.row('Severity', 'MEDIUM'));
      expect(out).toContain(s.row('Workflow status', 'NEW'));
      expect(out).toContain(s.row('Record state', 'ACTIVE'));
      expect(out).toContain(s.row('GuardDuty finding type', 'UnauthorizedAccess:EC2-SSHBruteForce'));
      expect(out).toContain(s.row('Remote IP', '199.241.229.197 (United States, CenturyLink)'));
      expect(out).toContain(s.row('Remote port', '46717'));
      expect(out).toContain(s.row('Updated', '2020-09-30T12:14:00.206Z'));
      expect(out).toContain(s.row('First observed', '2020-08-22T09:15:57.000Z'));
      expect(out).toContain(s.item(s.link('Open in the Security Hub console', finding.consoleUrl)));
      expect(out).toContain(s.item(s.link('Open in the product console', finding.sourceUrl ?? '')));
    });

    it('lists GuardDuty count, actor, and every resource with its tags', () => {
      const finding = sample('guardDutyIam');

      const { description } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      expect(out).toContain(s.row('Count', '2'));
      expect(out).toContain(s.row('API / domain', 'GeneratedFindingAPIName'));
      expect(out).toContain(
        s.row('Remote IP', '198.51.100.0 (GeneratedFindingCountryName, GeneratedFindingORG)'),
      );
      expect(out).toContain(s.h2('Resources (2)'));
      expect(out).toContain(
        s.item('AwsEc2Instance: arn:aws:ec2:eu-west-1:123456789012:instance/i-99999999 (eu-west-1)'),
      );
      expect(out).toContain(
        s.item('AwsIamAccessKey: AWS::IAM::AccessKey:GeneratedFindingAccessKeyId (eu-west-1)'),
      );
      const tags = out.find((line) => line.startsWith(s.subItem('Tags: ')));
      expect(tags).toContain('GeneratedFindingInstaceTag1=GeneratedFindingInstaceValue1');
      expect(tags).toContain('GeneratedFindingInstaceTag9=GeneratedFindingInstaceTagValue9');
    });

    it('shows a control finding with control id, compliance status and remediation', () => {
      const finding = sample('control');

      const { description } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      expect(out).toContain(s.h1('CloudTrail.2 CloudTrail should have encryption at-rest enabled'));
      expect(out).toContain(s.row('Product', 'Security Hub'));
      expect(out).toContain(s.row('Control', 'CloudTrail.2'));
      expect(out).toContain(s.row('Compliance status', 'FAILED'));
      expect(out).toContain(s.h2('Remediation'));
      expect(out).toContain(
        'For directions on how to correct this issue, consult the AWS Security Hub controls documentation.',
      );
      expect(out).toContain(
        s.link(
          'Remediation guide',
          'https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation',
        ),
      );
      expect(description).toContain(s.code(finding.identifier.Id));
      expect(description).toContain(s.code('arn:aws:securityhub:us-east-2::product/aws/securityhub'));
    });

    it('shows an Inspector finding with CVE, package and installed → fixed versions', () => {
      const finding = sample('inspector');

      const { description } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      expect(out).toContain(s.row('Product', 'Inspector'));
      expect(out).toContain(s.row('Vulnerabilities', 'CVE-2017-9735'));
      expect(out).toContain(s.h2('Vulnerabilities'));
      expect(out).toContain(s.item('CVE-2017-9735'));
      expect(out).toContain(
        s.subItem('org.eclipse.jetty:jetty-server: 8.1.14.v20131031 → fixed in 9.4.6.v20170531'),
      );
      expect(out).toContain(s.subItem('Tags: Name=MyWebServer'));
    });

    it('shows a Prowler finding (third-party product, no workflow, no account name)', () => {
      const finding = sample('prowler');

      const { description } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      expect(out).toContain(s.row('Product', 'Prowler'));
      expect(out).toContain(s.row('Severity', 'LOW'));
      expect(out).toContain(s.row('Compliance status', 'FAILED'));
      expect(out).toContain(s.row('Account', '123456789012'));
      expect(out).toContain(s.item('Other: 123456789012 (ap-northeast-1)'));
      expect(description).toContain(
        s.code('prowler-accessanalyzer_enabled-123456789012-ap-northeast-1-fb33278bd'),
      );
      expect(description).toContain(s.code('arn:aws:securityhub:ap-northeast-1::product/prowler/prowler'));
    });

    it('names the account by name and id when the finding carries AwsAccountName', () => {
      const raw = rawFinding(SAMPLES.control);
      raw.AwsAccountName = 'prod-payments';

      const { description, summary } = buildBacklogIssue(toFinding(raw), { textFormattingRule: rule });

      expect(lines(description)).toContain(s.row('Account', 'prod-payments (123456789012)'));
      expect(summary).toBe(
        '[MEDIUM] CloudTrail.2 CloudTrail should have encryption at-rest enabled (prod-payments)',
      );
    });

    it('lists the first 10 resources and "+N more" for the rest', () => {
      const raw = rawFinding(SAMPLES.control);
      raw.Resources = Array.from({ length: 12 }, (_, index) => ({
        Type: 'AwsS3Bucket',
        Id: `bucket-${index}`,
      }));

      const { description } = buildBacklogIssue(toFinding(raw), { textFormattingRule: rule });

      const out = lines(description);
      expect(out).toContain(s.h2('Resources (12)'));
      expect(out).toContain(s.item('AwsS3Bucket: bucket-9'));
      expect(out).not.toContain(s.item('AwsS3Bucket: bucket-10'));
      expect(out).toContain(s.item('+2 more, see Security Hub'));
    });
  });
});

describe('buildReopenComment', () => {
  it.each(RULES)('%s: says why, shows the state now, when, and links the console', (rule) => {
    const s = SYNTAX[rule];
    const raw = rawFinding(SAMPLES.guardDutyIam);
    raw.Compliance = { Status: 'FAILED' };
    const finding = toFinding(raw);

    const comment = buildReopenComment(finding, {
      textFormattingRule: rule,
      previousUpdatedAt: '2020-11-20T00:00:00Z',
      reason: 'compliance FAILED again',
    });

    const out = lines(comment);
    expect(out[0]).toContain('compliance FAILED again');
    expect(out).toContain(s.row('Compliance status', 'FAILED'));
    expect(out).toContain(s.row('Record state', 'ACTIVE'));
    expect(out).toContain(s.row('Severity', 'MEDIUM'));
    expect(out).toContain(s.row('GuardDuty count', '2'));
    expect(out).toContain(s.row('Updated', '2020-11-28T23:11:30.811Z'));
    expect(out).toContain(s.row('Previously updated', '2020-11-20T00:00:00.000Z'));
    expect(out).toContain(s.link('Open in the Security Hub console', finding.consoleUrl));
  });

  it('escapes the reason and the title like any value', () => {
    const raw = rawFinding(SAMPLES.control);
    raw.Title = '[[x>javascript:alert(1)]] <script>';

    const markdown = buildReopenComment(toFinding(raw), {
      textFormattingRule: 'markdown',
      reason: '**now**',
    });
    const backlog = buildReopenComment(toFinding(raw), { textFormattingRule: 'backlog', reason: "''now''" });

    expect(markdown).toContain('\\*\\*now\\*\\*');
    expect(markdown).toContain('\\[\\[x\\>javascript:alert(1)\\]\\] \\<script\\>');
    expect(backlog).toContain("\\'\\'now\\'\\'");
    expect(backlog).toContain('\\[\\[x>javascript:alert(1)\\]\\] <script>');
  });
});

// ---------------------------------------------------------------------------------------------
// Links and URLs from the finding
// ---------------------------------------------------------------------------------------------

describe('links and URLs from the finding', () => {
  it.each(RULES)(
    '%s: a SourceUrl or remediation link to an unknown host is named as text, not linked',
    (rule) => {
      const s = SYNTAX[rule];
      const raw = rawFinding(SAMPLES.prowler);
      raw.SourceUrl = 'https://evil.example/x?login=1';
      raw.Remediation = { Recommendation: { Text: 'Fix it.', Url: 'https://evil.example/fix' } };
      const finding = toFinding(raw);

      const { description } = buildBacklogIssue(finding, { textFormattingRule: rule });

      const out = lines(description);
      expect(description).not.toContain('Open in the product console');
      expect(description).not.toContain('https://evil.example');
      expect(out).toContain(s.item('Product console (unverified host evil.example): evil.example/x?login=1'));
      expect(out).toContain('Remediation guide (unverified host evil.example): evil.example/fix');
      expect(out).toContain(s.item(s.link('Open in the Security Hub console', finding.consoleUrl)));
    },
  );

  it.each(RULES)('%s: links to AWS consoles and docs keep their titles', (rule) => {
    const s = SYNTAX[rule];
    const finding = sample('guardDutySsh');

    const { description } = buildBacklogIssue(
      { ...finding, remediationUrl: 'https://docs.aws.amazon.com/guardduty/latest/ug/x.html' },
      { textFormattingRule: rule },
    );

    expect(lines(description)).toContain(
      s.item(s.link('Open in the product console', finding.sourceUrl ?? '')),
    );
    expect(lines(description)).toContain(
      s.link('Remediation guide', 'https://docs.aws.amazon.com/guardduty/latest/ug/x.html'),
    );
    expect(description).not.toContain('unverified host');
  });

  it('Backlog notation: a bare URL in finding text is escaped so Backlog does not link it', () => {
    const raw = rawFinding(SAMPLES.control);
    raw.Description = 'Log in at https://x.example/y or www.x.example to keep access.';
    raw.Title = 'See http://x.example/title';

    const { description } = buildBacklogIssue(toFinding(raw), { textFormattingRule: 'backlog' });

    const out = lines(description);
    const line = 'Log in at https\\://x.example/y or www\\.x.example to keep access.';
    expect(out).toContain(line);
    expect(backlogTokens(line)).toEqual([]);
    expect(out).toContain('* See http\\://x.example/title');
    expect(description).not.toMatch(/(?<!\\)https?:\/\/x\.example/);
  });

  it.each(RULES)(
    '%s: direction marks in any value are dropped, U+200E, U+200F and U+061C included',
    (rule) => {
      const raw = rawFinding(SAMPLES.control);
      raw.Title = 'abc\u200Edef\u200Fghi\u061Cjkl\u202Emno\u2066pqr\u2069';
      raw.Description = 'x\u200Ey';
      raw.AwsAccountName = '\u200Fprod';

      const { description, summary } = buildBacklogIssue(toFinding(raw), { textFormattingRule: rule });

      expect(summary).toBe('[MEDIUM] abcdefghijklmnopqr (prod)');
      expect(description).toContain('abcdefghijklmnopqr');
      expect(lines(description)).toContain('xy');
      expect(description).not.toMatch(DIRECTION_MARK);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

describe('buildBacklogIssue: summary', () => {
  it('is "[SEVERITY] title (account)"', () => {
    const finding = sample('inspector');

    const { summary } = buildBacklogIssue(finding, { textFormattingRule: 'markdown' });

    expect(summary).toBe(
      '[HIGH] CVE-2017-9735 - org.eclipse.jetty:jetty-server, org.eclipse.jetty:jetty-util (123456789123)',
    );
  });

  it('cuts a very long Japanese and emoji title to 255 characters without splitting a character', () => {
    const raw = rawFinding(SAMPLES.control);
    const title = 'S3バケットが公開されています🔥👨‍👩‍👧‍👦🇯🇵'.repeat(40);
    raw.Title = title;
    raw.AwsAccountName = '本番アカウント';
    raw.Severity = { Label: 'CRITICAL' };

    const { summary } = buildBacklogIssue(toFinding(raw), { textFormattingRule: 'backlog' });

    expect(summary.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(summary.length).toBeGreaterThan(MAX_SUMMARY_LENGTH - 15);
    expect(summary).not.toMatch(LONE_SURROGATE);
    expect(summary.startsWith('[CRITICAL] S3バケットが公開されています🔥👨‍👩‍👧‍👦🇯🇵')).toBe(true);
    expect(summary.endsWith('… (本番アカウント)')).toBe(true);
    const kept = summary.slice('[CRITICAL] '.length, summary.indexOf('… (本番アカウント)'));
    expect(title.startsWith(kept)).toBe(true);
  });

  it('collapses newlines and tabs to single spaces and drops control characters and direction marks', () => {
    const raw = rawFinding(SAMPLES.control);
    raw.Title = '  line one\r\n\tline\u0000two\u2028three \u200Efour\u200F\u061C  ';

    const { summary } = buildBacklogIssue(toFinding(raw), { textFormattingRule: 'markdown' });

    expect(summary).toBe('[MEDIUM] line one linetwo three four (123456789012)');
  });

  it('is one well-formed line of at most 255 characters for any title and account name', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), { nil: undefined }),
        (graphemeTitle, binaryTitle, accountName) => {
          const finding = { ...sample('control'), title: `${graphemeTitle}${binaryTitle}`, accountName };

          const { summary } = buildBacklogIssue(finding, { textFormattingRule: 'markdown' });

          expect(summary.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
          expect(summary).not.toMatch(/[\n\r\u2028\u2029\p{Cc}]/u);
          expect(summary.startsWith('[MEDIUM] ')).toBe(true);
          expect(summary.endsWith(')')).toBe(true);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Priorities
// ---------------------------------------------------------------------------------------------

describe('priorities', () => {
  it.each([
    ['CRITICAL', 2],
    ['HIGH', 2],
    ['MEDIUM', 3],
    ['LOW', 4],
    ['INFORMATIONAL', 4],
  ] as const)('maps %s to priority id %i by default', (severity, expected) => {
    const priority = priorityIdFor(severity);

    expect(priority).toBe(expected);
    expect(DEFAULT_PRIORITY_IDS[severity]).toBe(expected);
  });

  it('takes an override for the severities it names and the default for the rest', () => {
    const overrides = { CRITICAL: 11, LOW: 3 };

    const priorities = SEVERITY_LABELS.map((severity) => priorityIdFor(severity, overrides));

    expect(priorities).toEqual([4, 3, 3, 2, 11]);
  });

  it('ignores an override that is not a positive integer id', () => {
    const overrides = { HIGH: 0, MEDIUM: 2.5, LOW: Number.NaN };

    const priorities = (['HIGH', 'MEDIUM', 'LOW'] as SeverityLabel[]).map((s) => priorityIdFor(s, overrides));

    expect(priorities).toEqual([2, 3, 4]);
  });

  it('puts the priority for the finding severity on the issue', () => {
    const inspector = sample('inspector');
    const prowler = sample('prowler');

    const high = buildBacklogIssue(inspector, { textFormattingRule: 'markdown' });
    const overridden = buildBacklogIssue(inspector, {
      textFormattingRule: 'markdown',
      priorityOverrides: { HIGH: 3 },
    });
    const low = buildBacklogIssue(prowler, { textFormattingRule: 'backlog' });

    expect([high.priorityId, overridden.priorityId, low.priorityId]).toEqual([2, 3, 4]);
  });
});

// ---------------------------------------------------------------------------------------------
// Marker
// ---------------------------------------------------------------------------------------------

describe('findingMarker', () => {
  it('is one alphanumeric word derived from the finding key, the same on every call', () => {
    const key = sample('guardDutySsh').key;

    const first = findingMarker(key);
    const second = findingMarker(key);

    expect(first).toBe(second);
    expect(first).toMatch(/^shnf[0-9a-f]{24}$/);
  });

  it('differs between keys', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(findingMarker(a)).not.toBe(findingMarker(b));
      }),
    );
  });

  it('is the marker the issue carries, on the last line of the description, exactly once', () => {
    const finding = sample('control');

    const issue = buildBacklogIssue(finding, { textFormattingRule: 'markdown' });

    expect(issue.marker).toBe(findingMarker(finding.key));
    expect(issue.description.trimEnd().split('\n').at(-1)).toBe(markerLine(issue.marker));
    expect(issue.description.split(issue.marker)).toHaveLength(2);
    expect(hasMarker(issue.description, issue.marker)).toBe(true);
    expect(extractMarker(issue.description)).toBe(issue.marker);
  });

  it.each(RULES)('%s: a finding cannot carry another finding’s marker into its issue', (rule) => {
    const other = findingMarker('arn:aws:securityhub:::product/x/y|other');
    const raw = rawFinding(SAMPLES.control);
    raw.Title = `fake ${other}`;
    raw.Description = `${markerLine(other)}\n${other.toUpperCase()}`;
    raw.Id = other;

    const issue = buildBacklogIssue(toFinding(raw), { textFormattingRule: rule });

    expect(hasMarker(issue.description, other)).toBe(false);
    expect(issue.description.toLowerCase()).not.toContain(other);
    expect(issue.summary).not.toContain(other);
    expect(extractMarker(issue.description)).toBe(issue.marker);
  });
});

// ---------------------------------------------------------------------------------------------
// Escaping: hostile values
// ---------------------------------------------------------------------------------------------

/** Escaping only ever inserts `\` before a character: removing it gives the normalised value back. */
function removeEscapes(text: string): string {
  return text.replace(/\\([\s\S])/g, '$1');
}

/** The shared fragments, and more of each notation's syntax, entities and whitespace. */
const HOSTILE_FRAGMENTS = [
  ...MARKUP_FRAGMENTS,
  '[[x:javascript:alert(1)]]',
  '![x](https://evil.example/p.png)',
  '[x]: https://evil.example',
  '<img src=x onerror=alert(1)>',
  '<javascript:alert(1)>',
  '<!-- ',
  'mailto:a@evil.example',
  '{ / code }',
  '{quote}',
  '``',
  '~~~',
  "'''",
  "'",
  '%',
  '&color(red) { x }',
  '&lt;b&gt;',
  '&#60;',
  '#image(https://evil.example/x.png)',
  '#thumbnail(x)',
  '#contents',
  '## x ##',
  '** ',
  '-- ',
  '+ ',
  '~',
  '||',
  '|h',
  '|~x|',
  '2) ',
  '===',
  '---',
  '***',
  '___',
  '__u__',
  '~~s~~',
  '\\*',
  '\n\n',
  '\t',
  '    ',
  '\u0000',
  'ABC-123',
  ':smile:',
  '🔥',
];

const hostileString = markupHostile(HOSTILE_FRAGMENTS, { maxParts: 8, binary: true });

type Texts = {
  title: string;
  description: string;
  remediation: string;
  accountName: string;
  productName: string;
  region: string;
  workflow: string;
  record: string;
  compliance: string;
  control: string;
  standard: string;
  type: string;
  resourceType: string;
  resourceId: string;
  resourceRegion: string;
  tagKey: string;
  tagValue: string;
  gdType: string;
  gdActor: string;
  gdIp: string;
  gdPort: string;
  gdCountry: string;
  cve: string;
  pkg: string;
  version: string;
  fixed: string;
  id: string;
  productArn: string;
  updatedAt: string;
};

const TEXT_KEYS: Array<keyof Texts> = [
  'title',
  'description',
  'remediation',
  'accountName',
  'productName',
  'region',
  'workflow',
  'record',
  'compliance',
  'control',
  'standard',
  'type',
  'resourceType',
  'resourceId',
  'resourceRegion',
  'tagKey',
  'tagValue',
  'gdType',
  'gdActor',
  'gdIp',
  'gdPort',
  'gdCountry',
  'cve',
  'pkg',
  'version',
  'fixed',
  'id',
  'productArn',
  'updatedAt',
];

const hostileTexts: fc.Arbitrary<Texts> = fc.record(
  Object.fromEntries(TEXT_KEYS.map((key) => [key, hostileString])) as Record<
    keyof Texts,
    fc.Arbitrary<string>
  >,
);

/** A finding with every text field replaced: the structure stays that of the GuardDuty sample. */
function findingWith(texts: Texts): Finding {
  const base = sample('guardDutyIam');
  return {
    ...base,
    title: texts.title,
    description: texts.description,
    remediationText: texts.remediation,
    remediationUrl: 'https://docs.aws.amazon.com/guardduty/latest/ug/remediation.html',
    accountName: texts.accountName,
    productName: texts.productName,
    region: texts.region,
    workflowStatus: texts.workflow,
    recordState: texts.record,
    complianceStatus: texts.compliance,
    control: { id: texts.control, standardsArn: texts.standard },
    types: [texts.type, 'TTPs/Persistence'],
    resources: [
      {
        type: texts.resourceType,
        id: texts.resourceId,
        region: texts.resourceRegion,
        tags: { [texts.tagKey]: texts.tagValue },
      },
      { type: 'AwsS3Bucket', id: texts.resourceId, tags: {} },
    ],
    resourceCount: 14,
    guardDuty: {
      type: texts.gdType,
      count: 7,
      actor: texts.gdActor,
      remoteIp: texts.gdIp,
      remotePort: texts.gdPort,
      remoteCountry: texts.gdCountry,
      remoteOrganization: texts.gdCountry,
      actionType: texts.gdType,
    },
    vulnerabilities: [
      { id: texts.cve, packages: [{ name: texts.pkg, version: texts.version, fixedVersion: texts.fixed }] },
    ],
    identifier: { Id: texts.id, ProductArn: texts.productArn },
    updatedAt: texts.updatedAt,
  };
}

/**
 * The same finding with harmless values of the same shape: `x` where the value has text, empty
 * where it normalises to nothing (a cell then reads "(none)"), and for a code block a value that
 * takes the same path (verbatim block, or escaped text when Backlog notation cannot hold it).
 */
function benignTexts(texts: Texts, rule: TextFormattingRule): Texts {
  const benign = { ...texts };
  for (const key of TEXT_KEYS) {
    benign[key] = normalizeMultiline(texts[key]) === '' ? '' : 'x';
  }
  for (const key of ['id', 'productArn'] as const) {
    const fallsBack = rule === 'backlog' && backlogCodeBlock(texts[key])[0] !== '{code}';
    benign[key] = fallsBack ? '{/code}' : 'x';
  }
  benign.updatedAt = Number.isNaN(Date.parse(texts.updatedAt)) ? benign.updatedAt : '2020-01-01T00:00:00Z';
  return benign;
}

describe('escaping: hostile values', () => {
  it.each(RULES)(
    '%s: the description has exactly the markup the builder emits, whatever the values',
    (rule) => {
      fc.assert(
        fc.property(hostileTexts, (texts) => {
          const hostile = buildBacklogIssue(findingWith(texts), { textFormattingRule: rule });
          const benign = buildBacklogIssue(findingWith(benignTexts(texts, rule)), {
            textFormattingRule: rule,
          });

          expect(TOKENS[rule](hostile.description)).toEqual(TOKENS[rule](benign.description));
          expect(hostile.description.trimEnd().split('\n').at(-1)).toBe(markerLine(hostile.marker));
          expect(hostile.description).not.toMatch(DIRECTION_MARK);
          expect(hostile.summary).not.toMatch(DIRECTION_MARK);
        }),
        { numRuns: 300 },
      );
    },
  );

  it.each(RULES)('%s: the reopen comment has exactly the markup the builder emits', (rule) => {
    fc.assert(
      fc.property(hostileTexts, hostileString, (texts, reason) => {
        const ctx = { textFormattingRule: rule, reason, previousUpdatedAt: texts.updatedAt };
        const hostile = buildReopenComment(findingWith(texts), ctx);
        const benignReason = normalizeInline(reason) === '' ? '' : 'x';
        const benign = buildReopenComment(findingWith(benignTexts(texts, rule)), {
          ...ctx,
          reason: benignReason,
          previousUpdatedAt: benignTexts(texts, rule).updatedAt,
        });

        expect(TOKENS[rule](hostile)).toEqual(TOKENS[rule](benign));
      }),
      { numRuns: 200 },
    );
  });

  it('renders the sample hostile values as escaped text (Markdown)', () => {
    const finding = findingWith({ ...plainTexts(), description: HOSTILE_DESCRIPTION });

    const { description } = buildBacklogIssue(finding, { textFormattingRule: 'markdown' });

    expect(description).toContain('\\[\\[x\\>javascript:alert(1)\\]\\]');
    expect(description).toContain('\\<script\\>alert(1)\\</script\\>');
    expect(description).toContain('\\# not a heading');
    expect(description).toContain('\\- not a list');
    expect(description).toContain('\\`\\`\\`');
    expect(description).toContain('https\\://evil.example');
    expect(description).toContain('a \\| b');
  });

  it('renders the sample hostile values as escaped text (Backlog notation)', () => {
    const finding = findingWith({ ...plainTexts(), description: HOSTILE_DESCRIPTION });

    const { description } = buildBacklogIssue(finding, { textFormattingRule: 'backlog' });

    expect(description).toContain('\\[\\[x>javascript:alert(1)\\]\\]');
    expect(description).toContain('\\{/code\\}');
    expect(description).toContain('\\&br;');
    expect(description).toContain('\\#image(x)');
    expect(description).toContain("\\'\\'bold\\'\\'");
    expect(description).toContain('\\%\\%strike\\%\\%');
    expect(description).toContain('\\* not a heading');
    expect(description).toContain('\\- not a list');
    expect(description).toContain('https\\://evil.example');
    expect(description).toContain('a \\| b');
  });
});

const HOSTILE_DESCRIPTION = [
  '[[x>javascript:alert(1)]]',
  '<script>alert(1)</script>',
  '# not a heading',
  '* not a heading',
  '- not a list',
  '```',
  '{/code}',
  'line&br;break #image(x)',
  "''bold'' %%strike%%",
  'https://evil.example',
  'a | b',
].join('\n');

function plainTexts(): Texts {
  const texts = Object.fromEntries(TEXT_KEYS.map((key) => [key, 'x'])) as Texts;
  return { ...texts, updatedAt: '2021-01-01T00:00:00Z' };
}

describe('escaping: fragments round-trip', () => {
  it('markdown and backlog inline escaping only inserts backslashes before the normalised value', () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const normalized = normalizeInline(value);

        expect(removeEscapes(escapeMarkdownInline(value))).toBe(normalized);
        expect(removeEscapes(escapeBacklogInline(value))).toBe(normalized);
        expect(markdownTokens(escapeMarkdownInline(value))).toEqual([]);
        expect(backlogTokens(escapeBacklogInline(value))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('multi-line text keeps its lines, each escaped', () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const normalized = normalizeMultiline(value);
        const markdown = escapeMarkdownText(value);
        const backlog = escapeBacklogText(value);

        expect(markdown.map(removeEscapes).join('\n')).toBe(normalized);
        expect(backlog.map(removeEscapes).join('\n')).toBe(normalized);
        expect(markdownTokens(markdown.join('\n'))).toEqual([]);
        expect(backlogTokens(backlog.join('\n'))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('a Markdown code block shows the value verbatim and no line of it closes the fence', () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const block = markdownCodeBlock(value);
        const fence = block[0] ?? '';

        expect(block.slice(1, -1).join('\n')).toBe(normalizeCode(value));
        expect(block.at(-1)).toBe(fence);
        expect(block.slice(1, -1).some((line) => new RegExp(`^ {0,3}${fence}`).test(line))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a Backlog code block shows the value verbatim, or escaped text when {code} could break it', () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const block = backlogCodeBlock(value);

        if (block[0] === '{code}') {
          expect(block.at(-1)).toBe('{/code}');
          expect(block.slice(1, -1).join('\n')).toBe(normalizeCode(value));
          expect(block.slice(1, -1).some((line) => /\{\s*\/?\s*code/i.test(line))).toBe(false);
        } else {
          expect(block.map(removeEscapes).join('\n')).toBe(normalizeMultiline(normalizeCode(value)));
          expect(backlogTokens(block.join('\n'))).toEqual([]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('link targets are http(s) only and carry nothing that closes link syntax', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        hostileString,
        (url, extra) => {
          const target = linkTarget(`${url}/${extra}()[]<>'"|{}%%\\^\``);

          expect(target).toBeDefined();
          expect(target).toMatch(/^https?:\/\//);
          expect(target).not.toMatch(/[\s()[\]<>'"`{}|\\^]|%(?![0-9A-Fa-f]{2})/);
          expect(new URL(target ?? '').origin).toBe(new URL(url).origin);
        },
      ),
    );
  });

  it('drops link targets that are not http(s)', () => {
    const targets = ['javascript:alert(1)', 'data:text/html,x', 'ftp://x.example/', 'not a url'].map(
      linkTarget,
    );

    expect(targets).toEqual([undefined, undefined, undefined, undefined]);
  });
});
