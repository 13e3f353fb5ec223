/**
 * Use case: file the Backlog issue for a delivery exactly once. A recorded key is reused;
 * otherwise the finding (or group) is claimed in the ledger for this attempt; when an earlier
 * attempt's create may have landed without being recorded, it is waited for and looked up by its
 * marker before creating again. A reopen comments on the recorded issue; an append to an open group
 * comments with the findings it announces.
 */
import { buildAppendComments, buildBacklogDeliveryIssue } from '../domain/backlog/delivery-issue.js';
import { buildReopenComment, type PriorityOverrides } from '../domain/backlog/finding-issue.js';
import { buildCloseComment } from '../domain/backlog/lifecycle-comment.js';
import { findingMarker } from '../domain/backlog/marker.js';
import { type Delivery, type IssueRef, memberKey, shortHash } from '../domain/delivery/delivery.js';
import { DELIVERED_STATUSES, type FindingItem, type GroupItem } from '../domain/delivery/ledger-items.js';
import { type CloseReason, groupCloses, resolutionFor } from '../domain/delivery/lifecycle.js';
import { earlierDate, worseSeverity } from '../domain/policy/sla.js';
import { BacklogIssueGoneError, BacklogUnavailableError, ClaimHeldError } from './errors.js';
import { exactlyOnce } from './exactly-once.js';
import type {
  Clock,
  IssueDue,
  IssueHandle,
  IssueLedger,
  IssueTarget,
  IssueTracker,
  Log,
  Timing,
} from './ports.js';
import { orWait, type WaitResult } from './task-results.js';

export interface FileIssueInput {
  delivery: Delivery;
  execution: string;
  /** This attempt (the Lambda request id): claims are per attempt. */
  attempt: string;
}

export interface FileIssuePorts {
  ledger: IssueLedger;
  tracker: IssueTracker;
  /** Where issues go by default (a delivery's route overrides it). */
  target: IssueTarget;
  priorityOverrides: PriorityOverrides;
  timing: Timing;
  clock: Clock;
  log: Log;
}

/** What the task returns when the delivery is below the policy's Backlog threshold. */
export const NO_ISSUE: IssueRef = { key: '', url: '', created: false };

export function fileIssue(input: FileIssueInput, ports: FileIssuePorts): Promise<IssueRef | WaitResult> {
  return orWait(() => fileIssueNow(input, ports), ports.timing);
}

async function fileIssueNow(input: FileIssueInput, ports: FileIssuePorts): Promise<IssueRef> {
  const { delivery } = input;
  if (!delivery.destinations.backlog) return NO_ISSUE;
  const { entry, down } = await ports.ledger.readDelivery(delivery.deliveryKey, 'backlog');
  ensureBacklogUp(down, input.execution);
  const target = targetOf(delivery, ports.target);
  if (delivery.mode !== 'new' && entry?.issueKey && entry.issueUrl && entry.issueGoneAt) {
    ports.log.warn('the issue was deleted in Backlog: nothing to write to', { issueKey: entry.issueKey });
    return { key: entry.issueKey, url: entry.issueUrl, created: false };
  }
  if (delivery.mode === 'close')
    return whileIssueExists(delivery.deliveryKey, ports, () => closeIssue(input, entry, target, ports));
  if (delivery.mode === 'append')
    return whileIssueExists(delivery.deliveryKey, ports, () => commentAppend(input, entry, target, ports));
  if (delivery.mode === 'reopen' && entry?.issueKey && entry.issueUrl) {
    return whileIssueExists(delivery.deliveryKey, ports, () =>
      commentReopen(input, entry as Recorded, target, ports),
    );
  }
  if (entry?.issueKey && entry.issueUrl) return { key: entry.issueKey, url: entry.issueUrl, created: false };
  return createOnce(input, entry, target, ports);
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
    ...(backlog.closedStatus ? { closedStatus: backlog.closedStatus } : {}),
  };
}

/** Backlog failed past its retries earlier in this execution: fail this delivery's Backlog side at once. */
function ensureBacklogUp(down: { execution: string; reason: string } | undefined, execution: string): void {
  if (down?.execution === execution) {
    throw new BacklogUnavailableError(
      `Backlog failed past its retries earlier in execution ${execution} (${down.reason}); the next execution tries it again`,
    );
  }
}

/** Run a change to a recorded issue; an issue deleted in Backlog is recorded and logged, nothing retried. */
async function whileIssueExists(
  key: string,
  ports: FileIssuePorts,
  change: () => Promise<IssueRef>,
): Promise<IssueRef> {
  try {
    return await change();
  } catch (error) {
    if (!(error instanceof BacklogIssueGoneError)) throw error;
    await ports.ledger.recordGone(key, 'issue');
    ports.log.warn('the Backlog issue was deleted; recorded, nothing retried', {
      deliveryKey: key,
      error: error.message,
    });
    const entry = await ports.ledger.get(key);
    return { key: entry?.issueKey ?? '', url: entry?.issueUrl ?? '', created: false };
  }
}

/**
 * The finding is fixed, gone, resolved or suppressed: the issue closed with a comment saying why
 * (the route's closed status; Won't Fix for a suppression), unless a person closed it already. A
 * storm group's issue closes with its last finding; until then one comment per batch, "n of m".
 */
async function closeIssue(
  input: FileIssueInput,
  entry: FindingItem | undefined,
  target: IssueTarget,
  ports: FileIssuePorts,
) {
  const { delivery } = input;
  const reason = delivery.close as CloseReason;
  if (!entry?.issueKey || !entry.issueUrl) return NO_ISSUE;
  const progress = delivery.group
    ? await ports.ledger.tallyClosed(
        delivery.deliveryKey,
        delivery.deliveryId,
        delivery.members.map(memberKey),
      )
    : undefined;
  const project = await ports.tracker.project(target.projectKey);
  const comment = buildCloseComment(delivery, reason, progress, {
    textFormattingRule: project.textFormattingRule,
  });
  const name = `close|${delivery.deliveryKey}|${reason.at}|${progress ? delivery.deliveryId : ''}`;
  if (progress && !groupCloses(progress)) {
    await commentOnce(input, entry.issueKey, comment, name, ports);
  } else {
    const marker = findingMarker(name);
    const close = {
      status: target.closedStatus ?? 'Closed',
      resolution: resolutionFor(reason),
      comment,
      marker,
    };
    const issueKey = entry.issueKey;
    await exactlyOnce(
      {
        id: `comment|${shortHash(name, 32)}`,
        what: `closing ${issueKey}`,
        find: async () => ((await ports.tracker.hasComment(issueKey, marker)) ? { closed: true } : undefined),
        act: () => ports.tracker.close(issueKey, close),
        encode: (done) => ({ closed: String(done.closed) }),
        decode: (done) => ({ closed: done.closed === 'true' }),
      },
      effectContext(input, ports),
    );
  }
  return { key: entry.issueKey, url: entry.issueUrl, created: false };
}

/** An append to an open group: one comment (in parts when long) for the members it announces. */
async function commentAppend(
  input: FileIssueInput,
  entry: FindingItem | undefined,
  target: IssueTarget,
  ports: FileIssuePorts,
): Promise<IssueRef> {
  const { delivery } = input;
  if (!entry?.issueKey || !entry.issueUrl || !DELIVERED_STATUSES.has(entry.status)) {
    throw new ClaimHeldError(`group ${delivery.deliveryKey} is still being opened by another delivery`);
  }
  const keys = delivery.members.map(memberKey);
  const takeover = [...(entry.failedDeliveries ?? [])];
  const announced = await ports.ledger.claimMembers(
    delivery.deliveryKey,
    delivery.deliveryId,
    keys,
    takeover,
    entry,
  );
  const members = delivery.members.filter((member) => announced.has(memberKey(member)));
  if (members.length > 0) {
    const project = await ports.tracker.project(target.projectKey);
    const parts = buildAppendComments(
      { ...delivery, members },
      { textFormattingRule: project.textFormattingRule },
    );
    for (const [index, part] of parts.entries()) {
      await commentOnce(input, entry.issueKey, part, `append|${delivery.deliveryId}|${index}`, ports);
    }
  }
  await moveDue(delivery, entry as Recorded, ports);
  return { key: entry.issueKey, url: entry.issueUrl, created: false };
}

/** The severity and due date recorded with an issue (what the digest reads). */
function dueOf(delivery: Delivery): IssueDue {
  return { severity: delivery.finding.severity, dueDate: delivery.due?.date };
}

/**
 * A group's due date is its worst member's: an append that brings an earlier one moves the
 * issue's due date, and the ledger keeps the earliest date and the worst severity.
 */
async function moveDue(delivery: Delivery, entry: Recorded, ports: FileIssuePorts): Promise<void> {
  const due: IssueDue = {
    severity: worseSeverity(entry.severity, delivery.finding.severity),
    dueDate: earlierDate(entry.dueDate, delivery.due?.date),
  };
  if (due.severity === entry.severity && due.dueDate === entry.dueDate) return;
  if (due.dueDate !== undefined && due.dueDate !== entry.dueDate) {
    await ports.tracker.setDueDate(entry.issueKey, due.dueDate);
    ports.log.info('due date moved', { issueKey: entry.issueKey, dueDate: due.dueDate });
  }
  await ports.ledger.recordDue(delivery.deliveryKey, due);
}

/** A finding Security Hub set back to NEW: one comment on its issue, which goes back to Open. */
async function commentReopen(
  input: FileIssueInput,
  entry: Recorded,
  target: IssueTarget,
  ports: FileIssuePorts,
) {
  const { finding, deliveryKey } = input.delivery;
  const project = await ports.tracker.project(target.projectKey);
  const comment = buildReopenComment(finding, {
    textFormattingRule: project.textFormattingRule,
    previousUpdatedAt: entry.findingUpdatedAt,
    reason: 'Security Hub set this finding back to NEW',
  });
  const { reopened } = await commentOnce(
    input,
    entry.issueKey,
    comment,
    `reopen|${deliveryKey}|${finding.updatedAt}`,
    ports,
  );
  ports.log.info('reopen commented', { issueKey: entry.issueKey, reopened });
  return { key: entry.issueKey, url: entry.issueUrl, created: false };
}

/** One comment, exactly once: its marker names it in Backlog, its effect id in the ledger. */
async function commentOnce(
  input: FileIssueInput,
  issueKey: string,
  comment: string,
  name: string,
  ports: FileIssuePorts,
) {
  const marker = findingMarker(name);
  const { result } = await exactlyOnce(
    {
      id: `comment|${shortHash(name, 32)}`,
      what: `comment ${name} on ${issueKey}`,
      find: async () =>
        (await ports.tracker.hasComment(issueKey, marker)) ? { reopened: false } : undefined,
      act: () => ports.tracker.comment(issueKey, comment, marker),
      encode: (done) => ({ reopened: String(done.reopened) }),
      decode: (done) => ({ reopened: done.reopened === 'true' }),
    },
    effectContext(input, ports),
  );
  return result;
}

function effectContext(input: FileIssueInput, ports: FileIssuePorts) {
  const token = `${input.execution}/${input.delivery.deliveryId}/${input.attempt}`;
  return { ledger: ports.ledger, token, timing: ports.timing, clock: ports.clock };
}

/**
 * Create the issue exactly once (an earlier attempt's lost create is waited for, then found by its
 * marker), then record it on the delivery's ledger item.
 */
async function createOnce(
  input: FileIssueInput,
  entry: FindingItem | undefined,
  target: IssueTarget,
  ports: FileIssuePorts,
) {
  const { delivery } = input;
  const { tracker } = ports;
  const opening = (entry as Partial<GroupItem> | undefined)?.openedAt ?? '';
  const { result: issue, done } = await exactlyOnce<IssueHandle>(
    {
      id: `issue|${shortHash(`${delivery.deliveryKey}|${opening}`, 32)}`,
      what: `the issue of ${delivery.deliveryKey}`,
      find: () => tracker.findByMarker(target.projectKey, findingMarker(delivery.deliveryKey)),
      act: async () => {
        const project = await tracker.project(target.projectKey);
        const content = buildBacklogDeliveryIssue(delivery, {
          textFormattingRule: project.textFormattingRule,
          priorityOverrides: ports.priorityOverrides,
        });
        return tracker.createIssue(target, {
          ...content,
          ...(delivery.due ? { dueDate: delivery.due.date } : {}),
        });
      },
      encode: (handle) => ({ key: handle.key, url: handle.url, id: String(handle.id) }),
      decode: (handle) => ({ key: handle.key ?? '', url: handle.url ?? '', id: Number(handle.id) }),
      // Every attempt reads the delivery's item first: an issue recorded there is never filed again.
      record: (handle) => ports.ledger.recordIssue(delivery.deliveryKey, handle, dueOf(delivery)),
    },
    effectContext(input, ports),
  );
  ports.log.info(done === 'now' ? 'issue filed' : 'issue filed by an earlier attempt, recorded', {
    issueKey: issue.key,
    deliveryKey: delivery.deliveryKey,
  });
  return { key: issue.key, url: issue.url, created: done === 'now' };
}
