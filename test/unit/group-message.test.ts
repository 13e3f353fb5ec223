import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDelivery, type Delivery } from '../../src/domain/delivery/delivery.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { SEVERITY_LABELS, type SeverityLabel } from '../../src/domain/finding/severity.js';
import { withFindingActions } from '../../src/domain/slack/actions.js';
import { buildSlackDeliveryMessage } from '../../src/domain/slack/delivery-message.js';
import {
  buildSlackMessage,
  SEVERITY_COLORS,
  SLACK_LIMITS,
  type SlackMessage,
} from '../../src/domain/slack/finding-message.js';
import {
  buildSlackAppendReply,
  buildSlackGroupMessage,
  GROUP_LIMITS,
} from '../../src/domain/slack/group-message.js';
import { controlFindings, groupDelivery } from '../helpers/groups.js';
import { emphasisText, SLACK_FRAGMENTS, slackHostile } from '../helpers/hostile.js';
import { DIRECTION_MARK, mapStrings, withoutEmphasis } from '../helpers/markup.js';
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

const ISSUE = { key: 'SEC-42', url: 'https://example.backlog.com/view/SEC-42' };

/** The same control on the same trail, reported by FSBP and by the CIS benchmark. */
function consolidatedFindings(): Finding[] {
  const [fsbp] = controlFindings(1);
  const [cis] = controlFindings(1, (raw) => {
    raw.Id =
      'arn:aws:securityhub:us-east-2:123456789012:subscription/cis-aws-foundations-benchmark/v/1.2.0/2.7/finding/0f1e2d3c';
  });
  if (!fsbp || !cis) throw new Error('fixture');
  return [fsbp, cis];
}

/** The section listing resources: its title line and its other lines. */
function resourceList(message: SlackMessage): { title: string; lines: string[] } {
  const text = sectionTexts(message).find((t) => /^\*(?:New r|R)esources/.test(t)) ?? '';
  const [title = '', ...lines] = text.split('\n');
  return { title, lines };
}

function blocksOf(message: SlackMessage) {
  return message.attachments[0]?.blocks ?? [];
}

function contextTexts(message: SlackMessage): string[] {
  return allBlocks(message).flatMap((block) =>
    block.type === 'context' ? block.elements.map((element) => element.text) : [],
  );
}

/** The shared limits, and a message that has top-level blocks. */
function expectWithinLimits(message: SlackMessage): void {
  expectWithinSlackLimits(message);
  expect(message.blocks.length).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// The grouped message

describe('buildSlackGroupMessage', () => {
  it('a storm of 137 CloudTrail.2 findings: one message, the count, the first 15 resources, +122 more', () => {
    // Arrange
    const delivery = groupDelivery(controlFindings(137));

    // Act
    const message = buildSlackGroupMessage(delivery, { issue: ISSUE });

    // Assert
    expect(header(message)).toBe('🟠 CloudTrail.2 — 137 findings in prod-payments (123456789012)');
    expect(message.text).toBe('[HIGH] CloudTrail.2 — 137 findings in prod-payments (123456789012)');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0]?.color).toBe(SEVERITY_COLORS.HIGH);
    expect(message.attachments[0]?.fallback).toBe(message.text);
    expect(fields(message)).toEqual({
      Account: 'prod-payments\n`123456789012`',
      Severity: '🟠 HIGH',
      Product: 'Security Hub',
      Region: '`us-east-2`',
      Control: '`CloudTrail.2`',
      Findings: '137',
      'Backlog issue': 'SEC-42',
    });
    expect(sectionTexts(message)[0]).toMatch(
      /^\*CloudTrail\.2 CloudTrail should have encryption at-rest enabled\*\nThis AWS control checks/,
    );
    expect(sectionTexts(message)[1]).toMatch(/^\*Remediation\*\nFor directions/);
    const list = resourceList(message);
    expect(list.title).toBe('*Resources (first 15 of 137)*');
    expect(list.lines).toHaveLength(GROUP_LIMITS.listedMembers + 1);
    expect(list.lines[0]).toBe(
      '• `AwsCloudTrailTrail` `arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-0`',
    );
    expect(list.lines[14]).toBe(
      '• `AwsCloudTrailTrail` `arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-14`',
    );
    expect(list.lines.at(-1)).toBe('+122 more');
    expect(contextTexts(message).join('\n')).toContain('as comments on SEC-42');
    expect(buttons(message).map((b) => [b.action_id, b.url])).toEqual([
      ['open-security-hub', delivery.finding.consoleUrl],
      ['open-backlog-issue', ISSUE.url],
      ['open-remediation', 'https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation'],
    ]);
    expectWithinLimits(message);
    expectSafe(message);
  });

  it('names the account by id when it has no name, and without an issue shows no issue field or button', () => {
    const findings = controlFindings(3, (raw) => {
      delete raw.AwsAccountName;
    });

    const message = buildSlackGroupMessage(groupDelivery(findings), {});

    expect(header(message)).toBe('🟠 CloudTrail.2 — 3 findings in 123456789012');
    expect(fields(message).Account).toBe('`123456789012`');
    expect(fields(message)['Backlog issue']).toBeUndefined();
    expect(buttons(message).map((b) => b.action_id)).toEqual(['open-security-hub', 'open-remediation']);
    expect(resourceList(message).title).toBe('*Resources (3)*');
    expect(resourceList(message).lines).toHaveLength(3);
  });

  it('takes the account name from the group, and counts the findings the group already had', () => {
    const delivery = groupDelivery(controlFindings(5), 'new', {
      accountName: 'payments <prod>',
      previousCount: 7,
    });

    const message = buildSlackGroupMessage(delivery, {});

    expect(header(message)).toBe('🟠 CloudTrail.2 — 12 findings in payments <prod> (123456789012)');
    expect(message.text).toBe('[HIGH] CloudTrail.2 — 12 findings in payments &lt;prod&gt; (123456789012)');
    expect(fields(message).Findings).toBe('12 (5 new)');
  });

  it('mixed severities and regions: colour and marker of the worst, the range, per-line severity and region', () => {
    const findings = controlFindings(6, (raw, index) => {
      if (index === 4) raw.Severity = { Label: 'CRITICAL' };
      if (index === 5) raw.Severity = { Label: 'LOW' };
      if (index >= 4) raw.Region = 'eu-west-1';
    });

    const message = buildSlackGroupMessage(groupDelivery(findings), {});

    expect(header(message)).toBe('🔴 CloudTrail.2 — 6 findings in prod-payments (123456789012)');
    expect(message.text.startsWith('[CRITICAL] ')).toBe(true);
    expect(message.attachments[0]?.color).toBe(SEVERITY_COLORS.CRITICAL);
    expect(fields(message).Severity).toBe('🔴 CRITICAL – 🔵 LOW\n1 CRITICAL · 4 HIGH · 1 LOW');
    expect(fields(message)['Regions (2)']).toBe('`us-east-2`, `eu-west-1`');
    const { lines } = resourceList(message);
    expect(lines[0]).toBe(
      '🟠 `AwsCloudTrailTrail` `arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-0` · us-east-2',
    );
    expect(lines[4]).toBe(
      '🔴 `AwsCloudTrailTrail` `arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-4` · eu-west-1',
    );
  });

  it('a GuardDuty-style label and a member with several resources', () => {
    const findings = controlFindings(2, (raw, index) => {
      if (index === 0) {
        raw.Resources = [
          { Type: 'AwsEc2Instance', Id: 'i-1' },
          { Type: 'AwsEc2Instance', Id: 'i-2' },
          { Type: 'AwsEc2Instance', Id: 'i-3' },
        ];
      }
    });

    const message = buildSlackGroupMessage(
      groupDelivery(findings, 'new', { label: 'Recon:EC2/PortProbe' }),
      {},
    );

    expect(header(message)).toBe('🟠 Recon:EC2/PortProbe — 2 findings in prod-payments (123456789012)');
    expect(resourceList(message).lines[0]).toBe('• `AwsEc2Instance` `i-1` +2 resources');
  });

  it('long resource ids: the list stops where the section would overflow and counts the rest', () => {
    const findings = controlFindings(40, (raw) => {
      const [resource] = raw.Resources;
      if (resource) resource.Id = `arn:aws:s3:::${'b'.repeat(1500)}`;
    });

    const message = buildSlackGroupMessage(groupDelivery(findings), {});

    const { lines } = resourceList(message);
    const shown = lines.length - 1;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(GROUP_LIMITS.listedMembers);
    expect(lines.at(-1)).toBe(`+${40 - shown} more`);
    expectWithinLimits(message);
  });

  it('a remediation link to a host the notifier does not know is named, not a button', () => {
    const findings = controlFindings(3, (raw) => {
      raw.Remediation = { Recommendation: { Text: 'Fix *it* now', Url: 'https://evil.example/fix' } };
    });

    const message = buildSlackGroupMessage(groupDelivery(findings), { issue: ISSUE });

    expect(buttons(message).map((b) => b.action_id)).toEqual(['open-security-hub', 'open-backlog-issue']);
    expect(contextTexts(message)).toContain(
      'Remediation (unverified host `evil.example`): `evil.example/fix`',
    );
    expect(sectionTexts(message)).toContain('*Remediation*\nFix ∗it∗ now');
    expect(blocksOf(message).at(-1)?.type).toBe('actions');
    expectWithinLimits(message);
    expectSafe(message);
  });

  it('a long label and account name keep the header within 150 and the count in it', () => {
    const delivery = groupDelivery(controlFindings(137), 'new', {
      label: `UnauthorizedAccess:${'IAMUser/'.repeat(40)}`,
      accountName: 'a'.repeat(200),
    });

    const message = buildSlackGroupMessage(delivery, { issue: ISSUE });

    expect(header(message).length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    expect(header(message)).toContain('137 findings in');
    expectWithinLimits(message);
  });
});

// ---------------------------------------------------------------------------------------------
// The append reply

describe('buildSlackAppendReply', () => {
  it('20 more findings for a group of 137: a thread reply with the total and the new resources', () => {
    const findings = controlFindings(157).slice(137);
    const delivery = groupDelivery(findings, 'append', { previousCount: 137 });

    const message = buildSlackAppendReply(delivery, { issue: ISSUE });

    expect(message.text).toBe('20 more findings (total 157) of CloudTrail.2 — prod-payments (123456789012)');
    expect(header(message)).toBe('');
    expect(message.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '➕ *20 more findings* (total 157) of `CloudTrail.2` in prod-payments (123456789012)',
          verbatim: true,
        },
      },
    ]);
    expect(message.attachments[0]?.color).toBe(SEVERITY_COLORS.HIGH);
    const list = resourceList(message);
    expect(list.title).toBe('*New resources (first 15 of 20)*');
    expect(list.lines[0]).toBe(
      '• `AwsCloudTrailTrail` `arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-137`',
    );
    expect(list.lines).toHaveLength(16);
    expect(list.lines.at(-1)).toBe('+5 more');
    expect(contextTexts(message)).toEqual(['🟠 20 HIGH · us-east-2']);
    expect(buttons(message).map((b) => b.action_id)).toEqual(['open-backlog-issue', 'open-security-hub']);
    expectWithinLimits(message);
    expectSafe(message);
  });

  it('one more finding: singular, no "+N more"', () => {
    const delivery = groupDelivery(controlFindings(1), 'append', { previousCount: 3 });

    const message = buildSlackAppendReply(delivery, {});

    expect(message.text).toBe('1 more finding (total 4) of CloudTrail.2 — prod-payments (123456789012)');
    expect(resourceList(message).lines).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Dispatch and consolidation

describe('buildSlackDeliveryMessage', () => {
  it('dispatches a new group to the group message and an append to the reply', () => {
    const group = groupDelivery(controlFindings(4));
    const append = groupDelivery(controlFindings(2), 'append', { previousCount: 4 });

    expect(buildSlackDeliveryMessage(group, { issue: ISSUE })).toEqual(
      withFindingActions(buildSlackGroupMessage(group, { issue: ISSUE }), group),
    );
    expect(buildSlackDeliveryMessage(append, { issue: ISSUE })).toEqual(
      buildSlackAppendReply(append, { issue: ISSUE }),
    );
  });

  it('a single finding is exactly the single-finding message (with the action buttons when new), new or reopened', () => {
    const [finding] = controlFindings(1);
    if (!finding) throw new Error('fixture');

    const fresh = buildSlackDeliveryMessage(buildDelivery(finding, 'new'), { issue: ISSUE });
    const reopened = buildSlackDeliveryMessage(buildDelivery(finding, 'reopen'), {
      issue: ISSUE,
      reopenCount: 2,
    });

    expect(fresh).toEqual(
      withFindingActions(
        buildSlackMessage(buildDelivery(finding, 'new').finding, { mode: 'new', issue: ISSUE }),
        buildDelivery(finding, 'new'),
      ),
    );
    expect(reopened).toEqual(
      buildSlackMessage(buildDelivery(finding, 'reopen').finding, {
        mode: 'reopen',
        issue: ISSUE,
        reopenCount: 2,
      }),
    );
  });

  it('a consolidated single (one control, one trail, two standards): one message naming the other standard', () => {
    const delivery = buildDelivery(consolidatedFindings(), 'new');

    const message = buildSlackDeliveryMessage(delivery, { issue: ISSUE });

    const single = withFindingActions(
      buildSlackMessage(delivery.finding, { mode: 'new', issue: ISSUE }),
      delivery,
    );
    expect(message.text).toBe(single.text);
    expect(message.blocks).toEqual(single.blocks);
    const blocks = message.attachments[0]?.blocks ?? [];
    expect(blocks).toHaveLength((single.attachments[0]?.blocks.length ?? 0) + 1);
    expect(blocks.at(-1)?.type).toBe('actions');
    expect(blocks.at(-2)).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: '➕ Also reported by 1 other standard: `cis-aws-foundations-benchmark/v/1.2.0`',
          verbatim: true,
        },
      ],
    });
    expectWithinLimits(message);
  });

  it('a consolidated reopen keeps the reopen notice and adds the line', () => {
    const delivery = buildDelivery(consolidatedFindings(), 'reopen');

    const message = buildSlackDeliveryMessage(delivery, { issue: ISSUE, reopenCount: 3 });

    expect(header(message)).toMatch(/^🟠 Reopened: /);
    expect(contextTexts(message).join('\n')).toContain('for the 3rd time');
    expect(contextTexts(message)).toContain(
      '➕ Also reported by 1 other standard: `cis-aws-foundations-benchmark/v/1.2.0`',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over hostile text in members, the label and the account

const hostile = slackHostile(SLACK_FRAGMENTS, 3000);

function hostileDeliveryOf(
  hostile: fc.Arbitrary<string>,
): fc.Arbitrary<{ delivery: Delivery; issueKey: string }> {
  const hostileMember = fc.record({
    title: hostile,
    region: hostile,
    severity: fc.constantFrom<SeverityLabel>(...SEVERITY_LABELS),
    resources: fc.array(fc.record({ type: hostile, id: hostile }), { maxLength: 3 }),
    extra: fc.nat({ max: 50 }),
  });

  return fc
    .record({
      members: fc.array(hostileMember, { minLength: 1, maxLength: 40 }),
      label: hostile,
      accountName: fc.option(hostile, { nil: undefined }),
      previousCount: fc.nat({ max: 100_000 }),
      mode: fc.constantFrom<'new' | 'append'>('new', 'append'),
      issueKey: hostile,
    })
    .map((v) => {
      const base = controlFindings(v.members.length);
      const delivery = groupDelivery(base, v.mode, {
        label: v.label,
        previousCount: v.previousCount,
        ...(v.accountName !== undefined ? { accountName: v.accountName } : {}),
      });
      delivery.members = delivery.members.map((member, index) => {
        const m = v.members[index] ?? v.members[0];
        if (!m) return member;
        return {
          ...member,
          title: m.title,
          region: m.region,
          severity: m.severity,
          resources: m.resources.map((r) => ({ ...r, tags: {} })),
          resourceCount: m.resources.length + m.extra,
        };
      });
      return { delivery, issueKey: v.issueKey };
    });
}

const hostileDelivery = hostileDeliveryOf(hostile);

const emphasis = emphasisText(1_000);

describe('grouped messages over hostile members (properties)', () => {
  it('never let a raw <, > or & reach mrkdwn, the text or the fallback, and keep every limit', () => {
    fc.assert(
      fc.property(hostileDelivery, ({ delivery, issueKey }) => {
        const message = buildSlackDeliveryMessage(delivery, {
          issue: { key: issueKey, url: 'https://example.backlog.com/view/X-1' },
        });
        expectSafe(message);
        expectWithinLimits(message);
        const count = resourceList(message).lines.length;
        expect(count).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it('the "+N more" line always accounts for every member not listed', () => {
    fc.assert(
      fc.property(hostileDelivery, ({ delivery }) => {
        const { lines } = resourceList(buildSlackDeliveryMessage(delivery, {}));
        const more = /^\+(\d+) more$/.exec(lines.at(-1) ?? '');
        const shown = more ? lines.length - 1 : lines.length;
        expect(shown + Number(more?.[1] ?? 0)).toBe(delivery.members.length);
      }),
      { numRuns: 100 },
    );
  });

  it('a consolidated single with hostile member titles and Ids stays escaped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: hostile, title: hostile }), { minLength: 1, maxLength: 6 }),
        (others) => {
          const delivery = buildDelivery(consolidatedFindings(), 'new');
          const [first] = delivery.members;
          if (!first) throw new Error('fixture');
          delivery.members = [
            first,
            ...others.map((o) => ({
              ...first,
              title: o.title,
              identifier: { ...first.identifier, Id: `x/subscription/${o.id}/v/1/${o.title}/` },
            })),
          ];
          const message = buildSlackDeliveryMessage(delivery, {});
          expectSafe(message);
          expectWithinLimits(message);
        },
      ),
      { numRuns: 100 },
    );
  });
  it('leave no direction mark or bidi control anywhere in the message', () => {
    fc.assert(
      fc.property(hostileDelivery, ({ delivery, issueKey }) => {
        const message = buildSlackDeliveryMessage(delivery, {
          issue: { key: issueKey, url: 'https://example.backlog.com/view/X-1' },
        });
        expect(JSON.stringify(message)).not.toMatch(DIRECTION_MARK);
      }),
      { numRuns: 100 },
    );
  });

  it('let no emphasis from the members, the label or the account reach mrkdwn', () => {
    fc.assert(
      fc.property(hostileDeliveryOf(emphasis), ({ delivery, issueKey }) => {
        const issue = { key: issueKey, url: 'https://example.backlog.com/view/X-1' };
        const message = buildSlackDeliveryMessage(delivery, { issue });
        const reference = buildSlackDeliveryMessage(mapStrings(delivery, withoutEmphasis), {
          issue: mapStrings(issue, withoutEmphasis),
        });
        expectNoEmphasisFromValues(message, reference);
      }),
      { numRuns: 100 },
    );
  });
});
