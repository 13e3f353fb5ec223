import { describe, expect, it } from 'vitest';
import { summarizePolicy } from '../../src/cli/check-policy.js';
import { PolicyError, parsePolicy } from '../../src/config/policy-file.js';
import { buildDelivery } from '../../src/domain/delivery/delivery.js';
import { SEVERITY_LABELS, type SeverityLabel } from '../../src/domain/finding/severity.js';
import { defaultPolicy } from '../../src/domain/policy/policy.js';
import {
  DEFAULT_SLA_DAYS,
  daysUntil,
  describeDue,
  describeSla,
  dueOf,
  earlierDate,
  earliestDue,
  isOverdue,
  worseSeverity,
} from '../../src/domain/policy/sla.js';
import { buildSlackDeliveryMessage } from '../../src/domain/slack/delivery-message.js';
import { controlFindings, groupDelivery } from '../helpers/groups.js';
import { mrkdwnTexts } from '../helpers/slack.js';

const DEFAULTS = {
  minSeverity: 'HIGH',
  slackChannel: 'security-alerts',
  backlogProjectKey: 'SEC',
  backlogIssueType: 'Task',
} as const;

const FIRST_SEEN = '2026-12-01T10:00:00Z';

function source(severity: SeverityLabel, firstObservedAt?: string) {
  return {
    severity,
    createdAt: '2026-12-05T23:30:00-05:00',
    ...(firstObservedAt ? { firstObservedAt } : {}),
  };
}

describe('dueOf: the due date of one finding', () => {
  it.each([
    ['CRITICAL', '2026-12-04', 3],
    ['HIGH', '2026-12-15', 14],
    ['MEDIUM', '2027-01-15', 45],
    ['LOW', '2027-03-01', 90],
  ] as const)('%s: first observed + %s (%i days, the shipped default)', (severity, date, days) => {
    expect(dueOf(source(severity, FIRST_SEEN), DEFAULT_SLA_DAYS)).toEqual({ date, severity, days });
  });

  it('INFORMATIONAL has no due date by default; a policy may give it one', () => {
    expect(dueOf(source('INFORMATIONAL', FIRST_SEEN), DEFAULT_SLA_DAYS)).toBeUndefined();
    expect(dueOf(source('INFORMATIONAL', FIRST_SEEN), { INFORMATIONAL: 180 })).toEqual({
      date: '2027-05-30',
      severity: 'INFORMATIONAL',
      days: 180,
    });
  });

  it('counts from CreatedAt when the finding names no first observation, in UTC', () => {
    // 2026-12-05T23:30-05:00 is 2026-12-06T04:30Z.
    expect(dueOf(source('CRITICAL'), DEFAULT_SLA_DAYS)?.date).toBe('2026-12-09');
  });

  it('none when the SLA is off, or the time is no time', () => {
    expect(dueOf(source('CRITICAL', FIRST_SEEN), 'off')).toBeUndefined();
    expect(dueOf({ severity: 'CRITICAL', createdAt: 'yesterday' }, DEFAULT_SLA_DAYS)).toBeUndefined();
    expect(
      dueOf({ severity: 'NOT-A-LABEL' as SeverityLabel, createdAt: FIRST_SEEN }, DEFAULT_SLA_DAYS),
    ).toBeUndefined();
  });

  it('a group is due when its worst member is: the earliest date, the more severe on a tie', () => {
    const sources = [
      source('MEDIUM', '2026-11-01T00:00:00Z'), // 2026-12-16
      source('HIGH', '2026-12-01T00:00:00Z'), // 2026-12-15
      source('CRITICAL', '2026-12-12T00:00:00Z'), // 2026-12-15
      source('LOW', '2026-01-01T00:00:00Z'), // 2026-04-01: earliest of all
    ];

    expect(earliestDue(sources, DEFAULT_SLA_DAYS)).toEqual({ date: '2026-04-01', severity: 'LOW', days: 90 });
    expect(earliestDue(sources.slice(0, 3), DEFAULT_SLA_DAYS)).toEqual({
      date: '2026-12-15',
      severity: 'CRITICAL',
      days: 3,
    });
    expect(earliestDue(sources, 'off')).toBeUndefined();
  });
});

describe('describing a due date relative to now', () => {
  const now = new Date('2026-12-01T23:59:00Z');

  it.each([
    ['2026-12-14', 'due 2026-12-14, 13 days', false],
    ['2026-12-02', 'due 2026-12-02, 1 day', false],
    ['2026-12-01', 'due 2026-12-01, today', false],
    ['2026-11-28', 'due 2026-11-28, overdue by 3 days', true],
    ['2020-01-01', 'due 2020-01-01, overdue by 2,526 days', true],
  ])('%s → %s', (date, text, overdue) => {
    expect(describeDue(date, now)).toBe(text);
    expect(isOverdue(date, now)).toBe(overdue);
  });

  it('a malformed date is shown as it is', () => {
    expect(daysUntil('2026-13-45x', now)).toBeNaN();
    expect(describeDue('soon', now)).toBe('due soon');
  });

  it('the earlier of two dates, the worse of two severities', () => {
    expect(earlierDate('2026-12-14', '2026-12-02')).toBe('2026-12-02');
    expect(earlierDate(undefined, '2026-12-02')).toBe('2026-12-02');
    expect(earlierDate('2026-12-14', undefined)).toBe('2026-12-14');
    expect(worseSeverity('HIGH', 'CRITICAL')).toBe('CRITICAL');
    expect(worseSeverity('CRITICAL', 'LOW')).toBe('CRITICAL');
    expect(worseSeverity(undefined, 'LOW')).toBe('LOW');
    expect(worseSeverity('garbage', 'LOW')).toBe('LOW');
  });
});

describe('the policy: sla', () => {
  const parse = (yaml: string) => parsePolicy(`version: 1\n${yaml}`, 'policy.yml', DEFAULTS);
  const problem = (yaml: string) => {
    try {
      parse(yaml);
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      return (error as PolicyError).message;
    }
    throw new Error('expected the policy to be rejected');
  };

  it('ships CRITICAL 3, HIGH 14, MEDIUM 45, LOW 90 days, with or without a policy file', () => {
    expect(parse('').sla).toEqual({ CRITICAL: 3, HIGH: 14, MEDIUM: 45, LOW: 90 });
    expect(defaultPolicy(DEFAULTS).sla).toEqual(DEFAULT_SLA_DAYS);
    expect(describeSla(DEFAULT_SLA_DAYS)).toBe('CRITICAL 3 · HIGH 14 · MEDIUM 45 · LOW 90 days');
  });

  it('`sla: off` (or YAML 1.1 `false`) disables due dates', () => {
    expect(parse('sla: off\n').sla).toBe('off');
    expect(parse('sla: false\n').sla).toBe('off');
    expect(describeSla('off')).toBe('off');
  });

  it('days per severity over the defaults; `off` for one severity removes its due date', () => {
    expect(parse('sla: { CRITICAL: 1, LOW: off, INFORMATIONAL: 365 }\n').sla).toEqual({
      CRITICAL: 1,
      HIGH: 14,
      MEDIUM: 45,
      INFORMATIONAL: 365,
    });
  });

  it.each([
    ['sla: sometimes\n', /^policy\.yml:2:6: sla: expected off, or days per severity/],
    [
      'sla: { HIGH: -1 }\n',
      /^policy\.yml:2:14: sla\.HIGH: expected a whole number of days \(0 to 3650\) or off, got the number -1$/,
    ],
    ['sla: { HIGH: 2.5 }\n', /^policy\.yml:2:14: sla\.HIGH: expected a whole number .* got the number 2\.5$/],
    [
      'sla: { HIGH: 99999 }\n',
      /^policy\.yml:2:14: sla\.HIGH: expected a whole number .* got the number 99999$/,
    ],
    ['sla: { HIGH: soon }\n', /^policy\.yml:2:14: sla\.HIGH: expected a whole number .* got "soon"$/],
    ['sla: { HGIH: 3 }\n', /^policy\.yml:2:8: sla\.HGIH: unknown setting "HGIH" \(did you mean "HIGH"\?\)/],
  ])('rejects %j naming the line and the setting', (yaml, expected) => {
    expect(problem(yaml)).toMatch(expected);
  });

  it('names every severity in its schema', () => {
    for (const label of SEVERITY_LABELS)
      expect(parse(`sla: { ${label}: 7 }\n`).sla).toMatchObject({ [label]: 7 });
  });
});

describe('the due date in the Slack message of a single finding and of a storm', () => {
  const now = new Date('2030-01-01T00:00:00Z');

  it('a single finding: one line, relative to now, marked when overdue', () => {
    const [finding] = controlFindings(1);
    if (!finding) throw new Error('fixture');
    const due = dueOf(finding, DEFAULT_SLA_DAYS);
    if (!due) throw new Error('the fixture has a due date');
    const delivery = buildDelivery(finding, 'new', { due });

    const message = buildSlackDeliveryMessage(delivery, { now });

    const line = mrkdwnTexts(message).find((text) => text.startsWith('⏰'));
    expect(line).toMatch(
      new RegExp(
        `^⏰ Remediation ⚠️ due ${due.date}, overdue by [\\d,]+ days \\(HIGH: 14 days from first seen\\)$`,
      ),
    );
    expect(buildSlackDeliveryMessage({ ...delivery, due: undefined }, { now })).not.toEqual(message);
  });

  it('a storm group: the same line; an append or a delivery without a due date has none', () => {
    const storm = groupDelivery(controlFindings(5));
    const due = { date: '2030-01-15', severity: 'HIGH' as const, days: 14 };

    const texts = mrkdwnTexts(buildSlackDeliveryMessage({ ...storm, due }, { now }));
    const append = mrkdwnTexts(buildSlackDeliveryMessage({ ...storm, mode: 'append', due }, { now }));
    const none = mrkdwnTexts(buildSlackDeliveryMessage(storm, { now }));

    expect(texts).toContain('⏰ Remediation due 2030-01-15, 14 days (HIGH: 14 days from first seen)');
    expect(append.some((text) => text.startsWith('⏰'))).toBe(false);
    expect(none.some((text) => text.startsWith('⏰'))).toBe(false);
  });
});

describe('check-policy names the due dates', () => {
  it('in its one-line summary', () => {
    const parse = (yaml: string) => parsePolicy(`version: 1\n${yaml}`, 'policy.yml', DEFAULTS);

    expect(summarizePolicy(parse(''))).toMatch(/; due dates CRITICAL 3 · HIGH 14 · MEDIUM 45 · LOW 90 days$/);
    expect(summarizePolicy(parse('sla: off\n'))).toMatch(/; due dates off$/);
  });
});
