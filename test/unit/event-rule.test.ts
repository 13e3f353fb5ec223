import { describe, expect, it } from 'vitest';
import { buildEventPattern, matchesEventPattern } from '../../src/domain/finding/event-pattern.js';
import { loadEvent, loadThirdParty, withFinding } from '../helpers/events.js';

describe('the EventBridge rule pattern', () => {
  const medium = buildEventPattern('MEDIUM');

  it('lists the severity labels at or above the threshold', () => {
    const labels = (pattern: ReturnType<typeof buildEventPattern>) =>
      pattern.detail.findings.$or.flatMap((branch) => (branch.Severity ? [branch.Severity.Label] : []));
    expect(labels(buildEventPattern('HIGH'))).toEqual([
      ['HIGH', 'CRITICAL'],
      ['HIGH', 'CRITICAL'],
    ]);
    expect(labels(buildEventPattern('INFORMATIONAL'))[0]).toHaveLength(5);
  });

  it('matches a NEW, ACTIVE GuardDuty finding with no Compliance at all', () => {
    expect(matchesEventPattern(loadEvent('guardduty-ssh-bruteforce.json'), medium)).toBe(true);
  });

  it('matches a FAILED control finding and not a PASSED one', () => {
    const failed = loadEvent('fsbp-cloudtrail-2.json');
    const passed = withFinding(failed, (f) => {
      f.Compliance = { Status: 'PASSED' };
    });

    expect(matchesEventPattern(failed, medium)).toBe(true);
    expect(matchesEventPattern(passed, medium)).toBe(false);
  });

  it.each([
    ['below the threshold', (f: Record<string, unknown>) => (f.Severity = { Label: 'LOW' })],
    ['NOTIFIED', (f: Record<string, unknown>) => (f.Workflow = { Status: 'NOTIFIED' })],
    ['ARCHIVED', (f: Record<string, unknown>) => (f.RecordState = 'ARCHIVED')],
  ])('does not match a finding %s', (_label, change) => {
    expect(matchesEventPattern(withFinding(loadEvent('guardduty-ssh-bruteforce.json'), change), medium)).toBe(
      false,
    );
  });

  it('does not match a finding with no Workflow (the rule needs Workflow.Status NEW)', () => {
    expect(
      matchesEventPattern(loadThirdParty('defectdojo-prowler-accessanalyzer.json'), buildEventPattern('LOW')),
    ).toBe(false);
  });

  it('does not match another detail-type', () => {
    const other = {
      ...loadEvent('guardduty-ssh-bruteforce.json'),
      'detail-type': 'Security Hub Findings - Custom Action',
    };
    expect(matchesEventPattern(other, medium)).toBe(false);
  });
});
