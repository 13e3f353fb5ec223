/**
 * Use case: one Backlog activity the webhook queued, handled once. Nothing of it is trusted but
 * which issues it names: each issue is re-read through the Backlog API, its findings found in the
 * ledger by issue key, and each finding read from Security Hub before anything is changed there.
 *
 * - closed as Fixed (or with no resolution): RESOLVED where Security Hub agrees (compliance PASSED,
 *   the record ARCHIVED, or no compliance check); where it still reports the finding failing,
 *   nothing changes in Security Hub and the issue is reopened with a comment saying so;
 * - closed as Won't Fix, Invalid or Duplication: SUPPRESSED, the note naming the issue, the user,
 *   the resolution and the latest comment;
 * - open again after a close: the closed findings back to NOTIFIED (those Security Hub reports
 *   fixed stay as they are there, and a comment says so).
 *
 * The ledger is written first: the Security Hub events these updates cause find the findings
 * closed already (or NOTIFIED, which no rule forwards) and do nothing.
 */

import type { BacklogActivity } from '../domain/backlog/activity.js';
import { projectKeyOfIssue } from '../domain/backlog/activity.js';
import { findingMarker } from '../domain/backlog/marker.js';
import { type FindingItem, identifierOfKey, isOpenLifecycle } from '../domain/delivery/ledger-items.js';
import {
  buildLeftAsTheyAreComment,
  buildStillFailingComment,
  type FindingState,
  type IssueVerdict,
  issueVerdict,
  securityHubAgrees,
  trackerReopenedNote,
  trackerResolvedNote,
  trackerSuppressedNote,
} from '../domain/delivery/tracker-lifecycle.js';
import { findingKey } from '../domain/finding/finding.js';
import { BacklogIssueGoneError, ClaimHeldError } from './errors.js';
import type {
  ActivityLedger,
  Clock,
  FindingsReader,
  FindingsUpdater,
  IssueTracker,
  Log,
  TrackedIssue,
} from './ports.js';
import { type IssueStanding, type MessageLookPorts, restyleForIssue } from './tracker-message-look.js';
import { updateFindingCopies } from './update-findings.js';

export interface HandleActivityPorts extends MessageLookPorts {
  ledger: ActivityLedger;
  tracker: Pick<IssueTracker, 'read' | 'self' | 'comment' | 'hasComment' | 'project'>;
  /** Security Hub: read before anything is changed there, then updated. */
  reader: FindingsReader;
  updater: FindingsUpdater;
  /** The projects the notifier files into, each with the statuses that mean closed there. */
  projects: ReadonlyMap<string, readonly string[]>;
  clock: Clock;
  log: Log;
}

export type IssueOutcome = {
  issueKey: string;
  outcome:
    | 'not-ours'
    | 'not-filed'
    | 'gone'
    | 'no-change'
    | 'resolved'
    | 'suppressed'
    | 'reopened'
    | 'kept-open';
  /** Keys of the findings changed (resolved, suppressed, reopened) or kept open. */
  findings?: string[];
  detail?: string;
};

export type ActivityOutcome =
  | { activityId: number; outcome: 'own' | 'duplicate' }
  | { activityId: number; outcome: 'handled'; issues: IssueOutcome[] };

/** Security Hub error codes of a finding it could not update now but may later. */
/** Handle one activity once; `attempt` names this delivery of it (its claim). */
export async function handleBacklogActivity(
  activity: BacklogActivity,
  attempt: string,
  ports: HandleActivityPorts,
): Promise<ActivityOutcome> {
  const self = await ports.tracker.self();
  if (activity.user.id === self.id) return { activityId: activity.id, outcome: 'own' };
  const claim = await ports.ledger.claimActivity(activity.id, attempt);
  if (claim === 'done') return { activityId: activity.id, outcome: 'duplicate' };
  if (claim === 'held') {
    throw new ClaimHeldError(`Backlog activity ${activity.id} is being handled by another delivery`);
  }
  try {
    const issues: IssueOutcome[] = [];
    for (const issueKey of activity.issueKeys) {
      issues.push(await handleIssue(issueKey, activity, self, ports));
    }
    await ports.ledger.completeActivity(
      activity.id,
      Object.fromEntries(issues.map((issue) => [issue.issueKey, issue.outcome])),
    );
    ports.log.info('Backlog activity handled', { activityId: activity.id, user: activity.user.name, issues });
    return { activityId: activity.id, outcome: 'handled', issues };
  } catch (error) {
    await ports.ledger.releaseActivity(activity.id, attempt).catch(() => undefined);
    throw error;
  }
}

/** What an issue's handling knows: the issue as re-read, who changed it, its findings. */
interface IssueContext {
  issueKey: string;
  issue: TrackedIssue;
  /** The user named in notes and comments: the issue's last updater, else the activity's user. */
  by: string;
  findings: FindingItem[];
  /** The item the issue was filed under (a group's, a consolidated delivery's, the finding's own). */
  deliveryKey: string;
  activity: BacklogActivity;
  self: { id: number; name: string };
}

async function handleIssue(
  issueKey: string,
  activity: BacklogActivity,
  self: { id: number; name: string },
  ports: HandleActivityPorts,
): Promise<IssueOutcome> {
  const closedStatuses = ports.projects.get(projectKeyOfIssue(issueKey));
  if (!closedStatuses) return { issueKey, outcome: 'not-ours' };
  const items = await ports.ledger.findByIssueKey(issueKey);
  const findings = items.filter((item) => identifierOfKey(item.findingKey) !== undefined);
  if (findings.length === 0) return { issueKey, outcome: 'not-filed' };
  let issue: TrackedIssue;
  try {
    issue = await ports.tracker.read(issueKey);
  } catch (error) {
    if (!(error instanceof BacklogIssueGoneError)) throw error;
    return { issueKey, outcome: 'gone', detail: error.message };
  }
  const updater = issue.updatedBy && issue.updatedBy.id !== self.id ? issue.updatedBy.name : undefined;
  const context: IssueContext = {
    issueKey,
    issue,
    by: updater ?? activity.user.name,
    findings,
    deliveryKey:
      items.find((item) => item.findingKey.startsWith('group|'))?.findingKey ??
      findings.find((item) => item.deliveredWith)?.deliveredWith ??
      (findings[0] as FindingItem).findingKey,
    activity,
    self,
  };
  const verdict = issueVerdict(issue, closedStatuses);
  const outcome =
    verdict.kind === 'open'
      ? await reopenFindings(context, ports)
      : verdict.kind === 'not-to-fix'
        ? await suppressFindings(context, verdict, ports)
        : await resolveFindings(context, verdict, ports);
  await restyleForIssue(await standingAfter(context, verdict, outcome, items, ports), ports);
  return outcome;
}

/** Where the issue's findings stand after the activity: what its Slack message should show. */
async function standingAfter(
  context: IssueContext,
  verdict: IssueVerdict,
  outcome: IssueOutcome,
  items: readonly FindingItem[],
  ports: HandleActivityPorts,
): Promise<IssueStanding> {
  const changedNow = ['resolved', 'suppressed', 'reopened'].includes(outcome.outcome);
  const after = changedNow ? await ports.ledger.findByIssueKey(context.issueKey) : items;
  const latest = context.issue.latestComment;
  return {
    issueKey: context.issueKey,
    verdict,
    by: context.by,
    at: ports.clock.now().toISOString(),
    deliveryItem: after.find((item) => item.findingKey === context.deliveryKey),
    findings: after.filter((item) => identifierOfKey(item.findingKey) !== undefined),
    changedNow,
    comment: latest && latest.author !== context.self.name ? latest.text : undefined,
  };
}

const identifierOf = (item: FindingItem) =>
  identifierOfKey(item.findingKey) as { Id: string; ProductArn: string };

/** Closed as fixed: RESOLVED where Security Hub agrees; the rest keep the issue open, saying why. */
async function resolveFindings(
  context: IssueContext,
  verdict: Extract<IssueVerdict, { kind: 'fixed' }>,
  ports: HandleActivityPorts,
): Promise<IssueOutcome> {
  const { issueKey, by } = context;
  const open = context.findings.filter(isOpenLifecycle);
  if (open.length === 0) return { issueKey, outcome: 'no-change', detail: 'its findings are closed already' };
  const states = await readStates(open, ports);
  const failing = open.filter((item) => {
    const state = states.get(item.findingKey);
    return state !== undefined && !securityHubAgrees(state);
  });
  const agreed = open.filter((item) => !failing.includes(item));
  if (agreed.length > 0) {
    const keys = agreed.map((item) => item.findingKey);
    await ports.ledger.recordClosed(
      keys,
      {
        kind: 'resolved',
        at: ports.clock.now().toISOString(),
        by: `${by} (Backlog ${issueKey})`,
        note: `closed as ${verdict.resolution} in Backlog; Security Hub reports it fixed`,
      },
      context.deliveryKey,
    );
    const known = agreed.filter((item) => states.has(item.findingKey));
    await updateFindingCopies(
      known,
      { status: 'RESOLVED', note: trackerResolvedNote(issueKey, by, verdict.resolution) },
      ports,
    );
  }
  if (failing.length === 0)
    return { issueKey, outcome: 'resolved', findings: agreed.map((i) => i.findingKey) };
  await keepOpen(context, verdict, failing, states, ports);
  return { issueKey, outcome: 'kept-open', findings: failing.map((item) => item.findingKey) };
}

/** Closed as fixed while Security Hub still reports findings failing: reopened, one comment, recorded. */
async function keepOpen(
  context: IssueContext,
  verdict: Extract<IssueVerdict, { kind: 'fixed' }>,
  failing: readonly FindingItem[],
  states: ReadonlyMap<string, FindingState>,
  ports: HandleActivityPorts,
): Promise<void> {
  const { issueKey, by } = context;
  const why = `closed as ${verdict.resolution} in Backlog by ${by}, but Security Hub still reports it failing: the issue was reopened`;
  await ports.ledger.recordEvents(
    failing.map((item) => ({ kind: 'reopened', finding: item.findingKey, detail: { issueKey, by, why } })),
  );
  const project = await ports.tracker.project(context.issue.projectKey);
  const comment = buildStillFailingComment(
    failing.map((item) => states.get(item.findingKey) as FindingState),
    { textFormattingRule: project.textFormattingRule, by, resolution: verdict.resolution },
  );
  await commentOnce(context, 'still-failing', comment, ports);
  ports.log.info('closed as fixed while still failing: reopened', { issueKey, findings: failing.length });
}

/** Closed as Won't Fix, Invalid or Duplication: SUPPRESSED, with the person's words. */
async function suppressFindings(
  context: IssueContext,
  verdict: Extract<IssueVerdict, { kind: 'not-to-fix' }>,
  ports: HandleActivityPorts,
): Promise<IssueOutcome> {
  const { issueKey, by, issue } = context;
  const open = context.findings.filter(isOpenLifecycle);
  if (open.length === 0) return { issueKey, outcome: 'no-change', detail: 'its findings are closed already' };
  const latest =
    issue.latestComment && issue.latestComment.author !== context.self.name
      ? issue.latestComment.text
      : undefined;
  const keys = open.map((item) => item.findingKey);
  await ports.ledger.recordClosed(
    keys,
    {
      kind: 'suppressed',
      at: ports.clock.now().toISOString(),
      by: `${by} (Backlog ${issueKey})`,
      note: `closed as ${verdict.resolution} in Backlog${latest ? `: ${latest}` : ''}`.slice(0, 1000),
    },
    context.deliveryKey,
  );
  await updateFindingCopies(
    open,
    { status: 'SUPPRESSED', note: trackerSuppressedNote(issueKey, by, verdict.resolution, latest) },
    ports,
  );
  return { issueKey, outcome: 'suppressed', findings: keys };
}

/**
 * Open again: the closed findings back to NOTIFIED, except those Security Hub reports fixed or gone
 * (NOTIFIED would report them open, and their event would close the issue again): they stay as
 * they are, and a comment says so.
 */
async function reopenFindings(context: IssueContext, ports: HandleActivityPorts): Promise<IssueOutcome> {
  const { issueKey, by } = context;
  const closed = context.findings.filter((item) => !isOpenLifecycle(item));
  if (closed.length === 0) return { issueKey, outcome: 'no-change', detail: 'nothing closed to reopen' };
  const states = await readStates(closed, ports);
  const fixed = (item: FindingItem) => {
    const state = states.get(item.findingKey);
    return state?.recordState === 'ARCHIVED' || state?.complianceStatus === 'PASSED';
  };
  const reopening = closed.filter((item) => !fixed(item));
  const left = closed.filter(fixed);
  const reopened = await ports.ledger.recordReopenedBy(
    reopening.map((item) => item.findingKey),
    { issueKey, by, why: `issue reopened in Backlog by ${by}` },
  );
  const known = reopening.filter((item) => reopened.includes(item.findingKey) && states.has(item.findingKey));
  await updateFindingCopies(known, { status: 'NOTIFIED', note: trackerReopenedNote(issueKey, by) }, ports);
  if (left.length > 0) {
    const project = await ports.tracker.project(context.issue.projectKey);
    const comment = buildLeftAsTheyAreComment(
      left.map((item) => states.get(item.findingKey) as FindingState),
      { textFormattingRule: project.textFormattingRule, by },
    );
    await commentOnce(context, 'left-as-they-are', comment, ports);
  }
  return { issueKey, outcome: 'reopened', findings: reopened };
}

/**
 * Each finding as Security Hub reports it now, by ledger key (one it does not have is absent):
 * CSPM's copy (GetFindings), else the new Security Hub's (GetFindingsV2, by the uid marked).
 */
async function readStates(
  items: readonly FindingItem[],
  ports: HandleActivityPorts,
): Promise<Map<string, FindingState>> {
  const asff = await ports.reader.read(items.map(identifierOf));
  const states = new Map(asff.map((state) => [findingKey(state.identifier), state]));
  const byUid = new Map(
    items.flatMap((item) =>
      states.has(item.findingKey) ? [] : [...(item.ocsfUids ?? [])].map((uid) => [uid, item] as const),
    ),
  );
  if (byUid.size === 0) return states;
  for (const state of await ports.reader.readOcsf([...byUid.keys()] as string[])) {
    const item = byUid.get(state.metadataUid);
    if (item) states.set(item.findingKey, state);
  }
  return states;
}

/** One comment for this activity and issue, once (found by its marker when a retry repeats it). */
async function commentOnce(
  context: IssueContext,
  kind: string,
  comment: string,
  ports: HandleActivityPorts,
): Promise<void> {
  const marker = findingMarker(`activity|${context.activity.id}|${context.issueKey}|${kind}`);
  if (await ports.tracker.hasComment(context.issueKey, marker)) return;
  await ports.tracker.comment(context.issueKey, comment, marker);
}
