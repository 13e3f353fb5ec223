import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildBacklogDeliveryIssue } from '../../src/domain/backlog/delivery-issue.js';
import { buildBacklogIssue, MAX_SUMMARY_LENGTH } from '../../src/domain/backlog/finding-issue.js';
import {
  backlogCodeBlock,
  normalizeCode,
  normalizeInline,
  type TextFormattingRule,
} from '../../src/domain/backlog/format.js';
import {
  buildBacklogGroupIssue,
  buildGroupAppendComment,
  GROUP_ISSUE_LIMITS,
} from '../../src/domain/backlog/group-issue.js';
import { extractMarker, findingMarker, hasMarker, markerLine } from '../../src/domain/backlog/marker.js';
import { buildDelivery, type Delivery, type DeliveryMember } from '../../src/domain/delivery/delivery.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { SEVERITY_LABELS, type SeverityLabel } from '../../src/domain/finding/severity.js';
import { controlFindings, GROUP, groupDelivery } from '../helpers/groups.js';
import { MARKUP_FRAGMENTS, markupHostile } from '../helpers/hostile.js';
import { DIRECTION_MARK, TOKENS } from '../helpers/markup.js';

// ---------------------------------------------------------------------------------------------
// Samples
// ---------------------------------------------------------------------------------------------

const RULES: TextFormattingRule[] = ['markdown', 'backlog'];
const TITLE = 'CloudTrail.2 CloudTrail should have encryption at-rest enabled';
const ID_PREFIX =
  'arn:aws:securityhub:us-east-2:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0/CloudTrail.2/finding/a1b2c3d4-5678-90ab-cdef-';

const CIS_ID =
  'arn:aws:securityhub:us-east-2:123456789012:subscription/cis-aws-foundations-benchmark/v/1.2.0/2.7/finding/0f1e2d3c';

/** The same control on the same trail, reported by FSBP and by the CIS benchmark. */
function consolidatedFindings(): Finding[] {
  const [fsbp] = controlFindings(1);
  const [cis] = controlFindings(1, (raw) => {
    raw.Id = CIS_ID;
    raw.Title = '2.7 Ensure CloudTrail logs are encrypted at rest using KMS CMKs';
  });
  if (!fsbp || !cis) throw new Error('fixture');
  return [fsbp, cis];
}

const SYNTAX = {
  markdown: {
    h1: (text: string) => `# ${text}`,
    h2: (text: string) => `## ${text}`,
    h3: (text: string) => `### ${text}`,
    row: (key: string, value: string) => `| ${key} | ${value} |`,
    item: (text: string) => `- ${text}`,
    subItem: (text: string) => `  - ${text}`,
    strong: (text: string) => `**${text}**`,
    fence: '```',
    fenceEnd: '```',
  },
  backlog: {
    h1: (text: string) => `* ${text}`,
    h2: (text: string) => `** ${text}`,
    h3: (text: string) => `*** ${text}`,
    row: (key: string, value: string) => `|${key}|${value}|`,
    item: (text: string) => `- ${text}`,
    subItem: (text: string) => `-- ${text}`,
    strong: (text: string) => `''${text}''`,
    fence: '{code}',
    fenceEnd: '{/code}',
  },
} as const;

function lines(text: string): string[] {
  return text.split('\n');
}

/** The lines of the first code block after `heading`. */
function codeAfter(out: string[], heading: string, rule: TextFormattingRule): string[] {
  const start = out.indexOf(SYNTAX[rule].fence, out.indexOf(heading));
  const end = out.indexOf(SYNTAX[rule].fenceEnd, start + 1);
  return out.slice(start + 1, end);
}

// ---------------------------------------------------------------------------------------------
// The group issue
// ---------------------------------------------------------------------------------------------

describe('buildBacklogGroupIssue', () => {
  it('summary, priority and marker of a 137-finding storm', () => {
    const delivery = groupDelivery(controlFindings(137));

    const issue = buildBacklogGroupIssue(delivery, { textFormattingRule: 'markdown' });

    expect(issue.summary).toBe('[HIGH] CloudTrail.2: 137 findings in prod-payments');
    expect(issue.priorityId).toBe(2);
    expect(issue.marker).toBe(findingMarker('group|123456789012|CloudTrail.2'));
    expect(issue.marker).not.toBe(findingMarker(delivery.finding.key));
  });

  describe.each(RULES)('%s', (rule) => {
    const s = SYNTAX[rule];

    it('describes the group, the representative, lists all 137 members and their Ids, marker last', () => {
      const delivery = groupDelivery(controlFindings(137));

      const { description, marker } = buildBacklogGroupIssue(delivery, { textFormattingRule: rule });

      const out = lines(description);
      const order = [
        s.h1('CloudTrail.2: 137 findings in prod-payments (123456789012)'),
        s.row('Control', 'CloudTrail.2'),
        s.h2(`Representative finding: ${TITLE}`),
        s.h3('Description'),
        s.h3('Remediation'),
        s.h3('Links'),
        s.h2('Findings (137)'),
        s.h3('Finding Ids'),
        markerLine(marker),
      ].map((line) => out.indexOf(line));
      expect(order.every((index) => index >= 0)).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(out.filter((line) => line !== '').at(-1)).toBe(markerLine(marker));
      expect(hasMarker(description, marker)).toBe(true);
      expect(extractMarker(description)).toBe(marker);

      expect(out).toContain(s.row('Account', 'prod-payments (123456789012)'));
      expect(out).toContain(s.row('Findings', '137'));
      expect(out).toContain(s.row('Severity', 'HIGH (137)'));
      expect(out).toContain(s.row('Regions', 'us-east-2'));
      expect(out).toContain(s.row('Product', 'Security Hub'));
      expect(out).toContain(s.row('Compliance status', 'FAILED'));
      expect(description).toContain(
        'Security Hub raised 137 findings for CloudTrail.2 in this account together.',
      );

      const items = out.filter((line) => line.startsWith(s.item('HIGH ')));
      expect(items).toHaveLength(137);
      expect(items[0]).toBe(
        s.item(
          'HIGH AwsCloudTrailTrail: arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-0 (us-east-2)',
        ),
      );
      expect(out.filter((line) => line === s.subItem(TITLE))).toHaveLength(0);
      const ids = codeAfter(out, s.h3('Finding Ids'), rule);
      expect(ids).toHaveLength(137);
      expect(ids[0]).toBe(`${ID_PREFIX}00000`);
      expect(ids[136]).toBe(`${ID_PREFIX}00136`);
    });

    it('a storm larger than the list budget: the first 200 listed, the rest counted', () => {
      const delivery = groupDelivery(controlFindings(230));

      const { description } = buildBacklogGroupIssue(delivery, { textFormattingRule: rule });

      const out = lines(description);
      expect(out.filter((line) => line.startsWith(s.item('HIGH ')))).toHaveLength(
        GROUP_ISSUE_LIMITS.listedMembers,
      );
      expect(out).toContain(s.item('+30 more, listed in Security Hub'));
      expect(codeAfter(out, s.h3('Finding Ids'), rule)).toHaveLength(GROUP_ISSUE_LIMITS.listedMembers);
    });

    it('mixed severities, regions, titles and resources', () => {
      const findings = controlFindings(4, (raw, index) => {
        if (index === 1) raw.Severity = { Label: 'CRITICAL' };
        if (index === 2) {
          raw.Region = 'eu-west-1';
          raw.Title = 'Another title';
        }
        if (index === 3) {
          raw.Resources = [
            { Type: 'AwsEc2Instance', Id: 'i-1' },
            { Type: 'AwsEc2Instance', Id: 'i-2' },
          ];
        }
      });

      const issue = buildBacklogGroupIssue(groupDelivery(findings), {
        textFormattingRule: rule,
        priorityOverrides: { CRITICAL: 7 },
      });

      const out = lines(issue.description);
      expect(issue.summary).toBe('[CRITICAL] CloudTrail.2: 4 findings in prod-payments');
      expect(issue.priorityId).toBe(7);
      expect(out).toContain(s.row('Severity', 'CRITICAL (1), HIGH (3)'));
      expect(out).toContain(s.row('Regions', 'us-east-2, eu-west-1'));
      expect(out).toContain(
        s.item(
          'CRITICAL AwsCloudTrailTrail: arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-1 (us-east-2)',
        ),
      );
      expect(out).toContain(s.subItem('Another title'));
      expect(out).toContain(s.item('HIGH AwsEc2Instance: i-1 (us-east-2, +1 more resource)'));
    });
  });

  it.each(RULES)('%s: a remediation link to an unknown host is named as text, not a titled link', (rule) => {
    const findings = controlFindings(3, (raw) => {
      raw.Remediation = { Recommendation: { Text: 'Fix it.', Url: 'https://evil.example/fix' } };
    });

    const { description } = buildBacklogGroupIssue(groupDelivery(findings), { textFormattingRule: rule });

    expect(lines(description)).toContain(
      'Remediation guide (unverified host evil.example): evil.example/fix',
    );
    expect(description).not.toContain('https://evil.example');
  });

  it('the summary stays within 255 for any label and account name, and keeps the count', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 600 }),
        fc.string({ maxLength: 300 }),
        (label, name) => {
          const issue = buildBacklogGroupIssue(
            groupDelivery(controlFindings(1), 'new', { label, accountName: name, previousCount: 136 }),
            { textFormattingRule: 'backlog' },
          );

          expect(issue.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
          expect(issue.summary).not.toMatch(/[\n\r]/);
          expect(issue.summary).toMatch(/^\[HIGH\] .*: 137 findings in /);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names the account by id when neither the group nor the finding has a name', () => {
    const findings = controlFindings(2, (raw) => {
      delete raw.AwsAccountName;
    });

    const issue = buildBacklogGroupIssue(groupDelivery(findings), { textFormattingRule: 'markdown' });

    expect(issue.summary).toBe('[HIGH] CloudTrail.2: 2 findings in 123456789012');
  });
});

// ---------------------------------------------------------------------------------------------
// The append comment
// ---------------------------------------------------------------------------------------------

describe('buildGroupAppendComment', () => {
  it.each(RULES)('%s: 20 more findings for a group of 137, listed with their Ids, no marker', (rule) => {
    const s = SYNTAX[rule];
    const delivery = groupDelivery(controlFindings(157).slice(137), 'append', { previousCount: 137 });

    const comment = buildGroupAppendComment(delivery, { textFormattingRule: rule });

    const out = lines(comment);
    expect(out[0]).toBe(`${s.strong('20 more findings')} (total 157)`);
    expect(out).toContain('CloudTrail.2 in prod-payments (123456789012), severity HIGH (20)');
    expect(out).toContain(s.h2('New findings (20)'));
    const items = out.filter((line) => line.startsWith(s.item('HIGH ')));
    expect(items).toHaveLength(20);
    expect(items[0]).toBe(
      s.item(
        'HIGH AwsCloudTrailTrail: arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-137 (us-east-2)',
      ),
    );
    const ids = codeAfter(out, s.h3('Finding Ids'), rule);
    expect(ids).toEqual(delivery.members.map((member) => member.identifier.Id));
    expect(extractMarker(comment)).toBeUndefined();
    expect(comment.endsWith('\n')).toBe(true);
  });

  it('one more finding is singular', () => {
    const delivery = groupDelivery(controlFindings(1), 'append', { previousCount: 4 });

    const comment = buildGroupAppendComment(delivery, { textFormattingRule: 'markdown' });

    expect(lines(comment)[0]).toBe('**1 more finding** (total 5)');
  });
});

// ---------------------------------------------------------------------------------------------
// Dispatch and consolidation
// ---------------------------------------------------------------------------------------------

describe('buildBacklogDeliveryIssue', () => {
  it('a group is the group issue', () => {
    const delivery = groupDelivery(controlFindings(3));
    const ctx = { textFormattingRule: 'backlog' as const };

    expect(buildBacklogDeliveryIssue(delivery, ctx)).toEqual(buildBacklogGroupIssue(delivery, ctx));
  });

  it.each(RULES)('%s: a single finding is exactly the single-finding issue', (rule) => {
    const [finding] = controlFindings(1);
    if (!finding) throw new Error('fixture');
    const delivery = buildDelivery(finding, 'new');

    const issue = buildBacklogDeliveryIssue(delivery, {
      textFormattingRule: rule,
      priorityOverrides: { HIGH: 9 },
    });

    expect(issue).toEqual(
      buildBacklogIssue(delivery.finding, { textFormattingRule: rule, priorityOverrides: { HIGH: 9 } }),
    );
  });

  it.each(RULES)('%s: a consolidated single lists the other standard before the marker line', (rule) => {
    const s = SYNTAX[rule];
    const delivery = buildDelivery(consolidatedFindings(), 'new');

    const issue = buildBacklogDeliveryIssue(delivery, { textFormattingRule: rule });

    const single = buildBacklogIssue(delivery.finding, { textFormattingRule: rule });
    expect(issue.summary).toBe(single.summary);
    expect(issue.priorityId).toBe(single.priorityId);
    expect(issue.marker).toBe(findingMarker(delivery.finding.key));
    const out = lines(issue.description);
    const heading = out.indexOf(s.h2('Also reported by 1 other standard'));
    const marker = out.indexOf(markerLine(issue.marker));
    expect(heading).toBeGreaterThan(out.indexOf(s.h2('Identifiers')));
    expect(marker).toBeGreaterThan(heading);
    expect(out.filter((line) => line !== '').at(-1)).toBe(markerLine(issue.marker));
    expect(out).toContain(
      s.item('HIGH AwsCloudTrailTrail: arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-0 (us-east-2)'),
    );
    expect(out).toContain(s.subItem('2.7 Ensure CloudTrail logs are encrypted at rest using KMS CMKs'));
    expect(codeAfter(out, s.h2('Also reported by 1 other standard'), rule)).toEqual([CIS_ID]);
    // Everything before the added section is the single-finding description.
    const before = single.description.slice(0, single.description.lastIndexOf(markerLine(single.marker)));
    expect(issue.description.startsWith(before)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Escaping: hostile member values
// ---------------------------------------------------------------------------------------------

const hostileString = markupHostile([...MARKUP_FRAGMENTS, '#image(x)'], { maxParts: 6 });

interface MemberTexts {
  title: string | undefined;
  region: string;
  type: string;
  id: string;
  findingId: string;
  severity: SeverityLabel;
}

const hostileMember: fc.Arbitrary<MemberTexts> = fc.record({
  title: fc.option(hostileString, { nil: undefined }),
  region: hostileString,
  type: hostileString,
  id: hostileString,
  findingId: hostileString,
  severity: fc.constantFrom(...SEVERITY_LABELS),
});

function withMembers(delivery: Delivery, members: MemberTexts[]): Delivery {
  const [template] = delivery.members;
  if (!template) throw new Error('fixture');
  const list: DeliveryMember[] = members.map((m) => {
    const member: DeliveryMember = {
      ...template,
      identifier: { ...template.identifier, Id: m.findingId },
      severity: m.severity,
      region: m.region,
      resources: [{ type: m.type, id: m.id, tags: {} }],
      resourceCount: 3,
    };
    if (m.title === undefined) delete member.title;
    else member.title = m.title;
    return member;
  });
  return { ...delivery, members: list };
}

/** Harmless values of the same shape; Ids take the same code-block path as the hostile ones. */
function benign(members: MemberTexts[], rule: TextFormattingRule): MemberTexts[] {
  const x = (value: string) => (normalizeInline(value) === '' ? '' : 'x');
  const ids = members.map((m) => m.findingId.replace(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/g, ' ')).join('\n');
  const fallsBack = rule === 'backlog' && backlogCodeBlock(ids)[0] !== '{code}';
  return members.map((m) => ({
    title: m.title === undefined ? undefined : x(m.title),
    region: x(m.region),
    type: x(m.type),
    id: x(m.id),
    findingId: fallsBack ? '{/code}' : normalizeCode(m.findingId) === '' ? '' : 'x',
    severity: m.severity,
  }));
}

describe('escaping: hostile member values', () => {
  it.each(RULES)('%s: the group issue has exactly the markup the builder emits', (rule) => {
    const base = groupDelivery(controlFindings(1));
    fc.assert(
      fc.property(
        fc.array(hostileMember, { minLength: 1, maxLength: 8 }),
        hostileString,
        hostileString,
        (members, label, accountName) => {
          const group = { ...GROUP, label, accountName };
          const hostile = buildBacklogGroupIssue(
            { ...withMembers(base, members), group },
            { textFormattingRule: rule },
          );
          const harmless = buildBacklogGroupIssue(
            {
              ...withMembers(base, benign(members, rule)),
              group: {
                ...group,
                label: normalizeInline(label) === '' ? '' : 'x',
                accountName: normalizeInline(accountName) === '' ? '' : 'x',
              },
            },
            { textFormattingRule: rule },
          );

          expect(TOKENS[rule](hostile.description)).toEqual(TOKENS[rule](harmless.description));
          expect(hostile.description.trimEnd().split('\n').at(-1)).toBe(markerLine(hostile.marker));
          expect(extractMarker(hostile.description)).toBe(hostile.marker);
          expect(hostile.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
          expect(hostile.description).not.toMatch(DIRECTION_MARK);
          expect(hostile.summary).not.toMatch(DIRECTION_MARK);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each(RULES)('%s: the append comment and the consolidated single stay escaped too', (rule) => {
    const group = groupDelivery(controlFindings(1), 'append', { previousCount: 10 });
    const single = buildDelivery(consolidatedFindings(), 'new');
    fc.assert(
      fc.property(fc.array(hostileMember, { minLength: 1, maxLength: 8 }), (members) => {
        const harmless = benign(members, rule);
        expect(
          TOKENS[rule](buildGroupAppendComment(withMembers(group, members), { textFormattingRule: rule })),
        ).toEqual(
          TOKENS[rule](buildGroupAppendComment(withMembers(group, harmless), { textFormattingRule: rule })),
        );

        const [first] = single.members;
        if (!first) throw new Error('fixture');
        const consolidated = (list: MemberTexts[]) =>
          buildBacklogDeliveryIssue(
            { ...single, members: [first, ...withMembers(single, list).members] },
            { textFormattingRule: rule },
          );
        const hostile = consolidated(members);
        expect(TOKENS[rule](hostile.description)).toEqual(TOKENS[rule](consolidated(harmless).description));
        expect(hostile.description.trimEnd().split('\n').at(-1)).toBe(markerLine(hostile.marker));
      }),
      { numRuns: 150 },
    );
  });
});
