import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/domain/delivery/delivery.js';
import {
  type Candidate,
  consolidationKey,
  DEFAULT_GROUPING,
  GROUP_OPENING_STALE_MS,
  groupKey,
  isOpen,
  type OpenGroup,
  packExecutions,
  planDeliveries,
} from '../../src/domain/delivery/grouping.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { loadEvent } from '../helpers/events.js';
import { controlFindings } from '../helpers/groups.js';

const NOW = new Date('2030-01-01T12:00:00Z');
const BOTH = { slack: true, backlog: true };
const ROUTE: Route = {
  name: 'prod',
  slackChannel: '#prod',
  backlog: { projectKey: 'PROD', issueTypeName: 'Bug' },
};
const guardDuty = normalizeFinding(loadEvent('guardduty-ssh-bruteforce.json').detail.findings[0], {
  eventId: 'e',
  path: 'detail.findings[0]',
});

function candidates(findings: Finding[], mode: Candidate['mode'] = 'new', route?: Route): Candidate[] {
  return findings.map((finding) => ({ finding, mode, destinations: BOTH, ...(route ? { route } : {}) }));
}

function openGroup(key: string, change: Partial<OpenGroup> = {}): OpenGroup {
  const at = new Date(NOW.getTime() - 60_000).toISOString();
  return { key, memberCount: 5, lastActivityAt: at, openedAt: at, delivered: true, ...change };
}

describe('groupKey and consolidationKey', () => {
  it('keys a storm by account, control (or GuardDuty type) and route', () => {
    const [control] = controlFindings(1);
    expect(groupKey(control as Finding, undefined)).toBe('group|123456789012|CloudTrail.2|default');
    expect(groupKey(control as Finding, ROUTE)).toBe('group|123456789012|CloudTrail.2|prod');
    expect(groupKey(guardDuty, undefined)).toBe(
      `group|${guardDuty.accountId}|UnauthorizedAccess:EC2-SSHBruteForce|default`,
    );
  });

  it('consolidates only a control on a resource, never a finding without either', () => {
    const [control] = controlFindings(1);
    expect(consolidationKey(control as Finding)).toMatch(/\|CloudTrail\.2\|arn:aws:cloudtrail:.*trail-0$/);
    expect(consolidationKey(guardDuty)).toBeUndefined();
  });
});

describe('isOpen', () => {
  it('is open while active within the window and delivered', () => {
    expect(isOpen(openGroup('g'), DEFAULT_GROUPING, NOW)).toBe(true);
  });

  it('is closed once the window has passed since the last activity', () => {
    const last = new Date(NOW.getTime() - (DEFAULT_GROUPING.windowMinutes * 60_000 + 1)).toISOString();
    expect(isOpen(openGroup('g', { lastActivityAt: last }), DEFAULT_GROUPING, NOW)).toBe(false);
  });

  it('treats a group still being opened as open only while its opening is fresh', () => {
    const fresh = openGroup('g', { delivered: false });
    const staleAt = new Date(NOW.getTime() - GROUP_OPENING_STALE_MS - 1).toISOString();
    expect(isOpen(fresh, DEFAULT_GROUPING, NOW)).toBe(true);
    expect(isOpen(openGroup('g', { delivered: false, openedAt: staleAt }), DEFAULT_GROUPING, NOW)).toBe(
      false,
    );
    expect(isOpen(undefined, DEFAULT_GROUPING, NOW)).toBe(false);
  });
});

describe('planDeliveries', () => {
  it('delivers fewer than minFindings of a control one by one, opening no group', () => {
    const plan = planDeliveries(candidates(controlFindings(2)), new Map(), DEFAULT_GROUPING, NOW);

    expect(plan.opens).toEqual([]);
    expect(plan.deliveries.map((d) => [d.kind, d.mode, d.members.length])).toEqual([
      ['single', 'new', 1],
      ['single', 'new', 1],
    ]);
  });

  it('makes minFindings of one control in one account one new group, and opens it', () => {
    const plan = planDeliveries(candidates(controlFindings(3)), new Map(), DEFAULT_GROUPING, NOW);

    expect(plan.opens).toEqual(['group|123456789012|CloudTrail.2|default']);
    expect(plan.deliveries).toHaveLength(1);
    expect(plan.deliveries[0]).toMatchObject({
      kind: 'group',
      mode: 'new',
      deliveryKey: 'group|123456789012|CloudTrail.2|default',
      group: { label: 'CloudTrail.2', accountId: '123456789012', previousCount: 0 },
    });
    expect(plan.deliveries[0]?.members).toHaveLength(3);
  });

  it('appends even one finding to a group open in the ledger, counting what it held', () => {
    const key = 'group|123456789012|CloudTrail.2|default';
    const plan = planDeliveries(
      candidates(controlFindings(1)),
      new Map([[key, openGroup(key)]]),
      DEFAULT_GROUPING,
      NOW,
    );

    expect(plan.opens).toEqual([]);
    expect(plan.deliveries[0]).toMatchObject({ kind: 'group', mode: 'append', group: { previousCount: 5 } });
  });

  it('keeps routes apart: the same control under two routes is two groups', () => {
    const findings = controlFindings(6);
    const plan = planDeliveries(
      [...candidates(findings.slice(0, 3)), ...candidates(findings.slice(3), 'new', ROUTE)],
      new Map(),
      DEFAULT_GROUPING,
      NOW,
    );

    expect(plan.opens.sort()).toEqual([
      'group|123456789012|CloudTrail.2|default',
      'group|123456789012|CloudTrail.2|prod',
    ]);
    expect(plan.deliveries.find((d) => d.route)?.route).toEqual(ROUTE);
  });

  it('keeps reopens single, whatever the group', () => {
    const plan = planDeliveries(candidates(controlFindings(4), 'reopen'), new Map(), DEFAULT_GROUPING, NOW);

    expect(plan.opens).toEqual([]);
    expect(plan.deliveries.map((d) => d.mode)).toEqual(['reopen', 'reopen', 'reopen', 'reopen']);
  });

  it('consolidates the same control on the same resource seen by several standards, before grouping', () => {
    const findings = controlFindings(3, (raw, index) => {
      raw.Id = `arn:aws:securityhub:us-east-2:123456789012:subscription/standard-${index}/v/1.0.0/CloudTrail.2/finding/x`;
      const [resource] = raw.Resources;
      if (resource) resource.Id = 'arn:aws:cloudtrail:us-east-2:123456789012:trail/one';
    });

    const plan = planDeliveries(candidates(findings), new Map(), DEFAULT_GROUPING, NOW);

    expect(plan.opens).toEqual([]);
    expect(plan.deliveries).toHaveLength(1);
    expect(plan.deliveries[0]).toMatchObject({ kind: 'single', mode: 'new' });
    expect(plan.deliveries[0]?.members).toHaveLength(3);
  });

  it('does not group when grouping is off', () => {
    const plan = planDeliveries(
      candidates(controlFindings(5)),
      new Map(),
      { ...DEFAULT_GROUPING, enabled: false },
      NOW,
    );

    expect(plan.opens).toEqual([]);
    expect(plan.deliveries).toHaveLength(5);
  });

  it('describes a group by its most severe member', () => {
    const findings = controlFindings(3, (raw, index) => {
      raw.Severity = { Label: index === 2 ? 'CRITICAL' : 'MEDIUM' };
    });

    const plan = planDeliveries(candidates(findings), new Map(), DEFAULT_GROUPING, NOW);

    expect(plan.deliveries[0]?.finding.severity).toBe('CRITICAL');
  });
});

describe('packExecutions', () => {
  it('keeps small deliveries in one execution', () => {
    const plan = planDeliveries(candidates(controlFindings(2)), new Map(), DEFAULT_GROUPING, NOW);

    expect(packExecutions(plan.deliveries, 200_000)).toEqual([plan.deliveries]);
  });

  it('splits a group too large for one execution into parts that append, each under the limit', () => {
    const plan = planDeliveries(candidates(controlFindings(300)), new Map(), DEFAULT_GROUPING, NOW);
    const limit = 40_000;

    const executions = packExecutions(plan.deliveries, limit);

    expect(executions.length).toBeGreaterThan(1);
    const parts = executions.flat();
    expect(parts[0]?.mode).toBe('new');
    expect(parts.slice(1).every((part) => part.mode === 'append')).toBe(true);
    expect(parts.reduce((n, part) => n + part.members.length, 0)).toBe(300);
    expect(new Set(parts.map((part) => part.deliveryId)).size).toBe(parts.length);
    for (const execution of executions) {
      expect(Buffer.byteLength(JSON.stringify(execution))).toBeLessThanOrEqual(limit);
    }
    const previous = parts.map((part) => ('group' in part ? part.group?.previousCount : -1));
    expect(previous[0]).toBe(0);
    expect(previous[1]).toBe(parts[0]?.members.length);
  });
});
