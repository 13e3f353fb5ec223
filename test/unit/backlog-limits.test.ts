import { describe, expect, it } from 'vitest';
import { buildBacklogDeliveryIssue } from '../../src/domain/backlog/delivery-issue.js';
import { buildGroupAppendComments } from '../../src/domain/backlog/group-issue.js';
import { BACKLOG_LIMITS, fitText } from '../../src/domain/backlog/limits.js';
import { findingMarker, markerLine } from '../../src/domain/backlog/marker.js';
import { buildDelivery } from '../../src/domain/delivery/delivery.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { loadEvent } from '../helpers/events.js';
import { controlFindings, groupDelivery } from '../helpers/groups.js';

const RULES = ['markdown', 'backlog'] as const;

/** A finding on 10 resources with 20 long tags each, every character one that escaping doubles: over 150,000 characters. */
function tagHeavyFinding(): Finding {
  const raw = structuredClone(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0]) as Record<
    string,
    unknown
  >;
  const tags = Object.fromEntries(
    Array.from({ length: 20 }, (_, i) => [`${i}${'_'.repeat(125)}`, '[]{}|*_#'.repeat(32)]),
  );
  raw.Resources = Array.from({ length: 10 }, (_, i) => ({
    Type: 'AwsS3Bucket',
    Id: `arn:aws:s3:::bucket-${i}`,
    Region: 'us-east-2',
    Tags: tags,
  }));
  return normalizeFinding(raw, { eventId: 'e', path: 'detail.findings[0]' });
}

describe("descriptions within Backlog's limit", () => {
  it.each(RULES)(
    'cuts the resource tags of a tag-heavy finding until it fits (%s), keeping the marker',
    (rule) => {
      const delivery = buildDelivery(tagHeavyFinding(), 'new');

      const draft = buildBacklogDeliveryIssue(delivery, { textFormattingRule: rule });

      expect(delivery.finding.resources.flatMap((r) => Object.keys(r.tags))).toHaveLength(200);
      expect(draft.description.length).toBeLessThanOrEqual(BACKLOG_LIMITS.description);
      expect(draft.description).toContain(markerLine(findingMarker(delivery.deliveryKey)));
      expect(draft.description).toContain('more, see Security Hub');
      expect(draft.description).toContain('arn:aws:s3:::bucket-9');
      expect(draft.summary.length).toBeLessThanOrEqual(BACKLOG_LIMITS.summary);
    },
  );

  it('cuts any text at a line as a last resort, says so and keeps the marker line last', () => {
    const line = markerLine(findingMarker('k'));
    const text = `${'x\n'.repeat(60_000)}${line}\n`;

    const fitted = fitText(text, 1_000, line);

    expect(fitted.length).toBeLessThanOrEqual(1_000);
    expect(fitted.endsWith(`${line}\n`)).toBe(true);
    expect(fitted).toContain('cut to fit Backlog');
  });
});

describe("storm appends within Backlog's comment limit", () => {
  it.each(RULES)(
    'splits 200 members into comments of at most 50,000 characters, each member once (%s)',
    (rule) => {
      const findings = controlFindings(200, (raw, index) => {
        raw.Title = `${'A long GuardDuty-like title '.repeat(8)}${index}`;
        const [resource] = raw.Resources;
        if (resource)
          resource.Id = `arn:aws:ec2:us-east-2:123456789012:instance/i-${String(index).padStart(17, '0')}${'x'.repeat(120)}`;
      });
      const delivery = groupDelivery(findings, 'append', { previousCount: 12 });

      const comments = buildGroupAppendComments(delivery, { textFormattingRule: rule });

      expect(comments.length).toBeGreaterThan(1);
      for (const comment of comments)
        expect(comment.length).toBeLessThanOrEqual(BACKLOG_LIMITS.comment - 200);
      const all = comments.join('\n');
      for (const finding of findings) {
        expect(all.split(finding.identifier.Id).length - 1, finding.identifier.Id).toBe(1);
      }
      expect(comments[0]).toContain(`part 1 of ${comments.length}`);
      expect(comments.at(-1)).toContain('(total 212)');
    },
  );

  it('keeps a small append in one comment, unnumbered', () => {
    const delivery = groupDelivery(controlFindings(3), 'append');

    const comments = buildGroupAppendComments(delivery, { textFormattingRule: 'markdown' });

    expect(comments).toHaveLength(1);
    expect(comments[0]).not.toContain('part 1');
  });
});
