import { describe, expect, it } from 'vitest';
import { decideAgainstLedger, type LedgerEntry } from '../../src/domain/delivery/ledger-items.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { loadEvent } from '../helpers/events.js';

const finding = normalizeFinding(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0], {
  eventId: 'e',
  path: 'detail.findings[0]',
});
const delivered: LedgerEntry = {
  findingKey: finding.key,
  status: 'DELIVERED',
  issueKey: 'SEC-1',
  slackTs: '1.000001',
  findingUpdatedAt: finding.updatedAt,
};

describe('decideAgainstLedger', () => {
  it('delivers a finding the ledger has never seen', () => {
    expect(decideAgainstLedger(finding, undefined)).toEqual({ kind: 'new' });
  });

  it.each(['CLAIMED', 'FILED'] as const)(
    'delivers again a finding left %s (the tasks reuse what was recorded)',
    (status) => {
      expect(decideAgainstLedger(finding, { ...delivered, status }).kind).toBe('new');
    },
  );

  it('treats a repeat of the delivered version as already filed', () => {
    expect(decideAgainstLedger(finding, delivered)).toEqual({ kind: 'already-filed', entry: delivered });
  });

  it('treats a delivered finding updated since as reopened', () => {
    const later = { ...finding, updatedAt: '2030-01-01T00:00:00Z' };

    expect(decideAgainstLedger(later, delivered)).toEqual({ kind: 'reopen', entry: delivered });
  });
});
