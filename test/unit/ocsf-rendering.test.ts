import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildBacklogDeliveryIssue } from '../../src/domain/backlog/delivery-issue.js';
import { BACKLOG_LIMITS } from '../../src/domain/backlog/limits.js';
import { buildDelivery } from '../../src/domain/delivery/delivery.js';
import { normalizeOcsfFinding } from '../../src/domain/finding/normalize-ocsf.js';
import { buildSlackDeliveryMessage } from '../../src/domain/slack/delivery-message.js';
import { MARKUP_FRAGMENTS, markupHostile, SLACK_FRAGMENTS, slackHostile } from '../helpers/hostile.js';
import { DIRECTION_MARK, markdownTokens } from '../helpers/markup.js';
import { loadOcsf } from '../helpers/ocsf.js';
import { expectSafe, expectWithinSlackLimits } from '../helpers/slack.js';

/**
 * Hostile text in the new Security Hub's OCSF fields is escaped exactly as in ASFF ones: the
 * findings normalise into the same model, and the same builders render them.
 */

const GUARDDUTY = loadOcsf('guardduty-detection-runtime-newbinary-create.json');
const CONTEXT = { eventId: 'e', path: 'detail.findings[0]', homeRegion: 'us-east-1' };

/** An OCSF finding with hostile text in its title, description, resource name and tags. */
function hostileOcsf(text: fc.Arbitrary<string>) {
  return fc.record({ title: text, desc: text, name: text, tagName: text, tagValue: text }).map((h) => {
    const raw = structuredClone(GUARDDUTY);
    const info = raw.finding_info as Record<string, unknown>;
    info.title = h.title || 'x';
    info.desc = h.desc;
    const [resource] = (raw.resources as Array<Record<string, unknown>> | undefined) ?? [];
    if (resource) {
      resource.name = h.name;
      resource.tags = [{ name: h.tagName || 'k', value: h.tagValue }];
    }
    return normalizeOcsfFinding(raw, CONTEXT);
  });
}

describe('OCSF findings over hostile text (properties)', () => {
  it('never lets a raw <, > or & into the Slack message, and keeps every Slack limit', () => {
    fc.assert(
      fc.property(hostileOcsf(slackHostile(SLACK_FRAGMENTS, 300)), (finding) => {
        const message = buildSlackDeliveryMessage(buildDelivery(finding, 'new'), {});
        expectSafe(message);
        expectWithinSlackLimits(message);
        expect(JSON.stringify(message)).not.toMatch(DIRECTION_MARK);
      }),
      { numRuns: 150 },
    );
  });

  it('escapes the Backlog description like an ASFF one: no raw <, no live link, within the limit', () => {
    fc.assert(
      fc.property(hostileOcsf(markupHostile(MARKUP_FRAGMENTS, { maxParts: 12 })), (finding) => {
        const { description, summary } = buildBacklogDeliveryIssue(buildDelivery(finding, 'new'), {
          textFormattingRule: 'markdown',
        });
        const tokens = markdownTokens(description);
        expect(tokens).not.toContain('<');
        expect(tokens).not.toContain('@');
        expect(description).not.toMatch(DIRECTION_MARK);
        expect(description.length).toBeLessThanOrEqual(BACKLOG_LIMITS.description);
        expect(summary.length).toBeLessThanOrEqual(BACKLOG_LIMITS.summary);
      }),
      { numRuns: 150 },
    );
  });
});
