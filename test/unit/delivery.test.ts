import { describe, expect, it } from 'vitest';
import {
  buildDelivery,
  compactFinding,
  memberKey,
  shortHash,
  toMember,
} from '../../src/domain/delivery/delivery.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { controlFindings, GROUP } from '../helpers/groups.js';

const [first, second] = controlFindings(2) as [Finding, Finding];

describe('buildDelivery', () => {
  it('delivers one finding under its own key, to both destinations by default', () => {
    const delivery = buildDelivery(first, 'new');

    expect(delivery).toMatchObject({ deliveryKey: first.key, mode: 'new', kind: 'single' });
    expect(delivery.destinations).toEqual({ slack: true, backlog: true });
    expect(delivery.members.map(memberKey)).toEqual([first.key]);
    expect(delivery.group).toBeUndefined();
    expect(delivery.route).toBeUndefined();
  });

  it('records a group under the group key, kind group', () => {
    const delivery = buildDelivery([first, second], 'new', { group: GROUP });

    expect(delivery).toMatchObject({ deliveryKey: GROUP.key, kind: 'group', group: GROUP });
    expect(delivery.members.map(memberKey)).toEqual([first.key, second.key]);
  });

  it('gives the same findings in the same versions the same id, whatever their order', () => {
    const a = buildDelivery([first, second], 'new', { group: GROUP });
    const b = buildDelivery([second, first], 'new', { group: GROUP });

    expect(a.deliveryId).toBe(b.deliveryId);
  });

  it('gives a new id to a new version, another mode or another key', () => {
    const base = buildDelivery(first, 'new').deliveryId;

    expect(buildDelivery({ ...first, updatedAt: '2031-01-01T00:00:00Z' }, 'new').deliveryId).not.toBe(base);
    expect(buildDelivery(first, 'reopen').deliveryId).not.toBe(base);
    expect(buildDelivery(second, 'new').deliveryId).not.toBe(base);
  });

  it('throws on no findings', () => {
    expect(() => buildDelivery([], 'new')).toThrow(/at least one finding/);
  });

  it('keeps the workflow input compact: long texts cut, members without tags or repeated titles', () => {
    const long = { ...first, description: 'd'.repeat(10_000), remediationText: 'r'.repeat(10_000) };

    const compact = compactFinding(long);
    const member = toMember(second, second.title);

    expect(compact.description).toHaveLength(2000);
    expect(compact.remediationText).toHaveLength(1000);
    expect(member.title).toBeUndefined();
    expect(member.resources.every((resource) => Object.keys(resource.tags).length === 0)).toBe(true);
    expect(toMember(second, 'another title').title).toBe(second.title);
  });

  it('hashes stably and to the length asked', () => {
    expect(shortHash('x')).toHaveLength(16);
    expect(shortHash('x', 32)).toHaveLength(32);
    expect(shortHash('x')).toBe(shortHash('x'));
  });
});
