import { createHash } from 'node:crypto';
import type { Finding, FindingIdentifier } from './finding.js';

/** BatchUpdateFindings takes at most this many identifiers a call. */
export const MAX_IDENTIFIERS_PER_UPDATE = 100;

export type DeliveryMode = 'new' | 'reopen';

/** One Backlog issue + one Slack message: what one iteration of the workflow's Map delivers. */
export interface Delivery {
  deliveryId: string;
  /** The ledger item the delivery is recorded under (the finding key). */
  deliveryKey: string;
  mode: DeliveryMode;
  finding: Finding;
  /** The findings to mark NOTIFIED once delivered, at most 100 a chunk. */
  identifierChunks: FindingIdentifier[][];
}

export interface WorkflowInput {
  batchId: string;
  deliveries: Delivery[];
}

/** What the FileBacklogIssue task returns. */
export interface IssueRef {
  key: string;
  url: string;
  /** false when an earlier attempt had already filed it (reused from the ledger or found by marker). */
  created: boolean;
}

/** What the PostSlackMessage task returns. */
export interface SlackRef {
  channel: string;
  ts: string;
  /** Set when the message was a reply in an earlier message's thread. */
  threadTs?: string;
  /** false when an earlier attempt had already posted it. */
  posted: boolean;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export function shortHash(text: string, length = 16): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Text fields are cut so a batch stays far below Step Functions' 256 KB input limit. */
const MAX_DESCRIPTION = 2000;
const MAX_REMEDIATION = 1000;

export function compactFinding(finding: Finding): Finding {
  const compact = { ...finding, description: finding.description.slice(0, MAX_DESCRIPTION) };
  if (compact.remediationText) compact.remediationText = compact.remediationText.slice(0, MAX_REMEDIATION);
  return compact;
}

export function buildDelivery(finding: Finding, mode: DeliveryMode): Delivery {
  return {
    deliveryId: shortHash(`${finding.key}|${finding.updatedAt}|${mode}`),
    deliveryKey: finding.key,
    mode,
    finding: compactFinding(finding),
    identifierChunks: chunk([finding.identifier], MAX_IDENTIFIERS_PER_UPDATE),
  };
}
