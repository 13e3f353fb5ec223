/**
 * Use case: file the Backlog issue for a delivery exactly once. A recorded key is reused;
 * otherwise the finding (or group) is claimed in the ledger, an issue an earlier attempt filed
 * without recording it is looked for by its marker, then the issue is created and recorded. A
 * reopen comments on the recorded issue; an append to an open group comments with what it adds.
 */

import { buildBacklogDeliveryIssue } from '../domain/backlog/delivery-issue.js';
import { buildReopenComment, type PriorityOverrides } from '../domain/backlog/finding-issue.js';
import { buildGroupAppendComment } from '../domain/backlog/group-issue.js';
import { findingMarker } from '../domain/backlog/marker.js';
import type { Delivery, IssueRef } from '../domain/delivery/delivery.js';
import { appendApplied, type FindingItem } from '../domain/delivery/ledger-items.js';
import { ClaimHeldError } from './errors.js';
import type { IssueLedger, IssueTarget, IssueTracker, Log } from './ports.js';

export interface FileIssueInput {
  delivery: Delivery;
  execution: string;
}

export interface FileIssuePorts {
  ledger: IssueLedger;
  tracker: IssueTracker;
  /** Where issues go by default (a delivery's route overrides it). */
  target: IssueTarget;
  priorityOverrides: PriorityOverrides;
  log: Log;
}

/** What the task returns when the delivery is below the policy's Backlog threshold. */
export const NO_ISSUE: IssueRef = { key: '', url: '', created: false };

export async function fileIssue(input: FileIssueInput, ports: FileIssuePorts): Promise<IssueRef> {
  const { delivery } = input;
  if (!delivery.destinations.backlog) return NO_ISSUE;
  const target = targetOf(delivery, ports.target);
  const entry = await ports.ledger.get(delivery.deliveryKey);
  if (delivery.mode === 'append') return commentAppend(delivery, entry, target, ports);
  if (delivery.mode === 'reopen' && entry?.issueKey && entry.issueUrl) {
    return commentReopen(input, entry as Recorded, target, ports);
  }
  if (entry?.issueKey && entry.issueUrl) return { key: entry.issueKey, url: entry.issueUrl, created: false };
  return createOnce(input, target, ports);
}

type Recorded = FindingItem & { issueKey: string; issueUrl: string };

/** The delivery's route, over the configured defaults. */
export function targetOf(delivery: Delivery, defaults: IssueTarget): IssueTarget {
  const backlog = delivery.route?.backlog;
  if (!backlog) return defaults;
  return {
    ...defaults,
    projectKey: backlog.projectKey,
    issueTypeName: backlog.issueTypeName,
    ...(backlog.categoryName ? { categoryName: backlog.categoryName } : {}),
    ...(backlog.assigneeId ? { assigneeId: backlog.assigneeId } : {}),
  };
}

/** An append to an open group: one comment listing the findings it adds. */
async function commentAppend(
  delivery: Delivery,
  entry: FindingItem | undefined,
  target: IssueTarget,
  ports: FileIssuePorts,
): Promise<IssueRef> {
  if (!entry?.issueKey || !entry.issueUrl) {
    throw new ClaimHeldError(
      `group ${delivery.deliveryKey} has no issue yet: its first delivery is still running`,
    );
  }
  if (!appendApplied(entry, 'commented', delivery.deliveryId)) {
    const project = await ports.tracker.project(target.projectKey);
    const comment = buildGroupAppendComment(delivery, { textFormattingRule: project.textFormattingRule });
    await ports.tracker.reopenWithComment(
      entry.issueKey,
      comment,
      findingMarker(`append|${delivery.deliveryId}`),
    );
    await ports.ledger.recordAppend(delivery.deliveryKey, 'commented', delivery.deliveryId);
  }
  return { key: entry.issueKey, url: entry.issueUrl, created: false };
}

/** A finding Security Hub set back to NEW: one comment on its issue, which goes back to Open. */
async function commentReopen(
  { delivery, execution }: FileIssueInput,
  entry: Recorded,
  target: IssueTarget,
  ports: FileIssuePorts,
): Promise<IssueRef> {
  const { finding } = delivery;
  const token = `${execution}/${delivery.deliveryId}`;
  const claim = await ports.ledger.claimReopen(delivery.deliveryKey, 'issue', finding.updatedAt, token);
  if (claim === 'held')
    throw new ClaimHeldError(`the reopen of ${delivery.deliveryKey} is being commented on`);
  if (claim === 'claimed') {
    const project = await ports.tracker.project(target.projectKey);
    const comment = buildReopenComment(finding, {
      textFormattingRule: project.textFormattingRule,
      previousUpdatedAt: entry.findingUpdatedAt,
      reason: 'Security Hub set this finding back to NEW',
    });
    const marker = findingMarker(`reopen|${delivery.deliveryKey}|${finding.updatedAt}`);
    const { reopened } = await ports.tracker.reopenWithComment(entry.issueKey, comment, marker);
    await ports.ledger.recordReopen(delivery.deliveryKey, 'issue', finding.updatedAt);
    ports.log.info('reopen commented', { issueKey: entry.issueKey, reopened });
  }
  return { key: entry.issueKey, url: entry.issueUrl, created: false };
}

/** Claim, look for an issue an earlier attempt filed, else create; record it either way. */
async function createOnce(
  { delivery, execution }: FileIssueInput,
  target: IssueTarget,
  ports: FileIssuePorts,
) {
  const { ledger, tracker } = ports;
  const claim = await ledger.claim(delivery.deliveryKey, `${execution}/${delivery.deliveryId}`, 'issue');
  if (!claim.claimed) {
    if (claim.current?.issueKey && claim.current.issueUrl) {
      return { key: claim.current.issueKey, url: claim.current.issueUrl, created: false };
    }
    throw new ClaimHeldError(`${delivery.deliveryKey} is being filed by another execution`);
  }
  // An item existed before this claim: an earlier attempt may have created the issue and died (or
  // lost the answer) before recording it. Backlog's keyword search finds the marker every issue carries.
  if (claim.previous) {
    const existing = await tracker.findByMarker(target.projectKey, findingMarker(delivery.deliveryKey));
    if (existing) {
      await ledger.recordIssue(delivery.deliveryKey, existing);
      ports.log.info('found an issue filed by an earlier attempt', { issueKey: existing.key });
      return { key: existing.key, url: existing.url, created: false };
    }
  }
  const project = await tracker.project(target.projectKey);
  const content = buildBacklogDeliveryIssue(delivery, {
    textFormattingRule: project.textFormattingRule,
    priorityOverrides: ports.priorityOverrides,
  });
  const issue = await tracker.createIssue(target, content);
  await ledger.recordIssue(delivery.deliveryKey, issue);
  ports.log.info('issue filed', { issueKey: issue.key, deliveryKey: delivery.deliveryKey });
  return { key: issue.key, url: issue.url, created: true };
}
