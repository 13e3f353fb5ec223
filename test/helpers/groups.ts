import { buildDelivery, type Delivery, type GroupInfo } from '../../src/domain/delivery/delivery.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { controlFindingEvents } from './events.js';

const NORMALIZE = { eventId: 'test', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };

/** The CloudTrail.2 storm group of account 123456789012, opened by this delivery. */
export const GROUP: GroupInfo = {
  key: 'group|123456789012|CloudTrail.2',
  label: 'CloudTrail.2',
  accountId: '123456789012',
  previousCount: 0,
};

export type RawFinding = Record<string, unknown> & { Resources: Array<Record<string, unknown>> };

/** `count` CloudTrail.2 findings from the AWS sample, each on its own trail, in `prod-payments`. */
export function controlFindings(
  count: number,
  change: (raw: RawFinding, index: number) => void = () => {},
  severity = 'HIGH',
): Finding[] {
  return controlFindingEvents(count, severity).map((event, index) => {
    const raw = structuredClone(event.detail.findings[0]) as RawFinding;
    raw.AwsAccountName = 'prod-payments';
    const [resource] = raw.Resources;
    if (resource) resource.Id = `arn:aws:cloudtrail:us-east-2:123456789012:trail/trail-${index}`;
    change(raw, index);
    return normalizeFinding(raw, NORMALIZE);
  });
}

/** A group delivery of `findings`, in `GROUP` with `group`'s changes. */
export function groupDelivery(
  findings: Finding[],
  mode: 'new' | 'append' = 'new',
  group: Partial<GroupInfo> = {},
): Delivery {
  return buildDelivery(findings, mode, { group: { ...GROUP, ...group } });
}
