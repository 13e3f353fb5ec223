/**
 * The loop from Backlog back to Security Hub: how an issue stands once re-read (open, closed as
 * fixed, closed as not to fix), how a finding stands in Security Hub (does it agree it is fixed?),
 * and the words for it: the notes written with RESOLVED, SUPPRESSED and NOTIFIED, and the comments
 * that say why the notifier reopened an issue or left a finding as it was.
 */
import { formatterFor, type TextFormattingRule } from '../backlog/format.js';
import { BACKLOG_LIMITS, fitText, MARKER_ROOM } from '../backlog/limits.js';
import type { FindingIdentifier } from '../finding/finding.js';
import { at, isRecord, str } from '../finding/json.js';
import type { NotificationPolicy } from '../policy/policy.js';
import { singleLine } from '../text/sanitize.js';
import { truncate } from '../text/truncate.js';
import { MAX_NOTE_LENGTH } from './note.js';

/** The statuses that mean "closed" in a project whose policy block names none. */
export const DEFAULT_CLOSED_STATUSES: readonly string[] = ['Closed', 'Resolved'];

/**
 * The Backlog projects the notifier files into (the policy's routes and default), each with the
 * statuses that mean closed there: the union of what its blocks name, else the default.
 */
export function trackerProjects(policy: NotificationPolicy): Map<string, readonly string[]> {
  const named = new Map<string, Set<string>>();
  for (const route of [policy.defaultRoute, ...policy.routes.map((rule) => rule.route)]) {
    const statuses = named.get(route.backlog.projectKey) ?? new Set<string>();
    for (const status of route.backlog.closedStatuses ?? []) statuses.add(status);
    named.set(route.backlog.projectKey, statuses);
  }
  return new Map(
    [...named].map(([key, statuses]) => [key, statuses.size > 0 ? [...statuses] : DEFAULT_CLOSED_STATUSES]),
  );
}

/** How an issue stands, re-read from Backlog. */
export type IssueVerdict =
  | { kind: 'open' }
  /** Closed as Fixed, with no resolution, or anything but the three below: checked against Security Hub. */
  | { kind: 'fixed'; resolution: string }
  /** Closed as Won't Fix, Invalid or Duplication: a person decided the finding is not to be fixed. */
  | { kind: 'not-to-fix'; resolution: string };

/** Backlog's built-in resolutions a person uses to say "not to be fixed" (ids are the same in every space). */
const NOT_TO_FIX = new Map<number, string>([
  [1, "Won't Fix"],
  [2, 'Invalid'],
  [3, 'Duplication'],
]);

export function issueVerdict(
  issue: { status: { name: string }; resolution?: { id: number; name: string } },
  closedStatuses: readonly string[],
): IssueVerdict {
  if (!closedStatuses.includes(issue.status.name)) return { kind: 'open' };
  const { resolution } = issue;
  if (!resolution) return { kind: 'fixed', resolution: 'Fixed' };
  const builtIn = NOT_TO_FIX.get(resolution.id);
  if (builtIn || [...NOT_TO_FIX.values()].includes(resolution.name)) {
    return { kind: 'not-to-fix', resolution: builtIn ?? resolution.name };
  }
  return { kind: 'fixed', resolution: resolution.id === 0 ? 'Fixed' : resolution.name };
}

/** A finding as Security Hub reports it now (GetFindings), not as an event or the webhook said. */
export interface FindingState {
  identifier: FindingIdentifier;
  /** PASSED, FAILED, WARNING, NOT_AVAILABLE; absent for a finding without a compliance check. */
  complianceStatus?: string;
  recordState?: string;
  workflowStatus?: string;
  /** The control (`CloudTrail.2`), else the title: what the comment names. */
  label: string;
  resource?: string;
  lastObservedAt?: string;
}

const field = (raw: Record<string, unknown>, ...path: string[]) => str(at(raw, ...path));

/** An ASFF finding as GetFindings returns it, reduced to its state; undefined without Id and ProductArn. */
export function findingStateOf(raw: unknown): FindingState | undefined {
  if (!isRecord(raw)) return undefined;
  const Id = str(raw.Id);
  const ProductArn = str(raw.ProductArn);
  if (!Id || !ProductArn) return undefined;
  const resources = Array.isArray(raw.Resources) ? raw.Resources : [];
  const state: FindingState = {
    identifier: { Id, ProductArn },
    label:
      field(raw, 'Compliance', 'SecurityControlId') ??
      field(raw, 'ProductFields', 'ControlId') ??
      field(raw, 'Title') ??
      Id,
  };
  const set = <K extends keyof FindingState>(key: K, value: FindingState[K] | undefined) => {
    if (value !== undefined) state[key] = value;
  };
  set('complianceStatus', field(raw, 'Compliance', 'Status'));
  set('recordState', field(raw, 'RecordState'));
  set('workflowStatus', field(raw, 'Workflow', 'Status') ?? field(raw, 'WorkflowState'));
  set('resource', isRecord(resources[0]) ? str(resources[0].Id) : undefined);
  set('lastObservedAt', field(raw, 'LastObservedAt') ?? field(raw, 'UpdatedAt'));
  return state;
}

/** OCSF status ids as the CSPM workflow statuses the comments and checks speak of. */
const OCSF_WORKFLOW: Readonly<Record<number, string>> = {
  1: 'NEW',
  2: 'NOTIFIED',
  3: 'SUPPRESSED',
  4: 'RESOLVED',
};
const OCSF_COMPLIANCE: Readonly<Record<string, string>> = {
  Pass: 'PASSED',
  Fail: 'FAILED',
  Warning: 'WARNING',
};

/**
 * An OCSF finding as GetFindingsV2 returns it (the new Security Hub), reduced to the same state as
 * an ASFF one: compliance Pass/Fail/Warning as PASSED/FAILED/WARNING (anything else NOT_AVAILABLE),
 * status 5 Archived as the ARCHIVED record state, status ids 1–4 as the workflow statuses. The
 * identifier is `finding_info.uid` with `metadata.product.uid`, and the uid is kept.
 */
export function ocsfFindingStateOf(raw: unknown): (FindingState & { metadataUid: string }) | undefined {
  if (!isRecord(raw)) return undefined;
  const metadataUid = field(raw, 'metadata', 'uid');
  const Id = field(raw, 'finding_info', 'uid');
  const ProductArn = field(raw, 'metadata', 'product', 'uid');
  if (!metadataUid || !Id || !ProductArn) return undefined;
  const resources = Array.isArray(raw.resources) ? raw.resources : [];
  const statusId = typeof raw.status_id === 'number' ? raw.status_id : undefined;
  const compliance = isRecord(raw.compliance) ? str(raw.compliance.status) : undefined;
  const state: FindingState & { metadataUid: string } = {
    identifier: { Id, ProductArn },
    metadataUid,
    label: field(raw, 'compliance', 'control') ?? field(raw, 'finding_info', 'title') ?? Id,
    recordState: statusId === 5 ? 'ARCHIVED' : 'ACTIVE',
  };
  if (compliance !== undefined) state.complianceStatus = OCSF_COMPLIANCE[compliance] ?? 'NOT_AVAILABLE';
  const workflow = statusId === undefined ? undefined : OCSF_WORKFLOW[statusId];
  if (workflow) state.workflowStatus = workflow;
  const first = resources[0];
  const resource = isRecord(first) ? (str(first.uid_alt) ?? str(first.uid)) : undefined;
  if (resource) state.resource = resource;
  const seen =
    field(raw, 'finding_info', 'last_seen_time_dt') ?? field(raw, 'finding_info', 'modified_time_dt');
  if (seen) state.lastObservedAt = seen;
  return state;
}

/**
 * Whether Security Hub agrees a finding is fixed: its record is ARCHIVED (the resource is gone), its
 * compliance PASSED, or it has no compliance check at all (GuardDuty, Inspector: a person's word
 * is all there is). FAILED, WARNING or NOT_AVAILABLE on an active record: it does not.
 */
export function securityHubAgrees(state: FindingState): boolean {
  if (state.recordState === 'ARCHIVED') return true;
  return state.complianceStatus === undefined || state.complianceStatus === 'PASSED';
}

/** What Security Hub reports: `CloudTrail.2 FAILED on arn:aws:s3:::bucket, last observed T`. */
export function describeState(state: FindingState): string {
  const status = state.recordState === 'ARCHIVED' ? 'ARCHIVED' : (state.complianceStatus ?? 'ACTIVE');
  const on = state.resource ? ` on ${state.resource}` : '';
  const when = state.lastObservedAt ? `, last observed ${state.lastObservedAt}` : '';
  return `${state.label} ${status}${on}${when}`;
}

// --- notes (Security Hub: plain text, at most 512 characters) -----------------------------------

/** Untrusted text (a user name, a comment) on one line, sanitised. */
const plain = (value: unknown, max: number) => truncate(singleLine(value), max);

function note(text: string): string {
  return truncate(text, MAX_NOTE_LENGTH);
}

/** With RESOLVED: the issue, the user, the resolution, and why Security Hub agrees. */
export function trackerResolvedNote(issueKey: string, user: string, resolution: string): string {
  return note(
    `Resolved by securityhub-notifier: Backlog ${issueKey} closed as ${plain(resolution, 64)} by ${plain(user, 128)}; Security Hub reports it fixed.`,
  );
}

/** With SUPPRESSED: the issue, the user, the resolution and the latest comment (sanitised). */
export function trackerSuppressedNote(
  issueKey: string,
  user: string,
  resolution: string,
  latestComment?: string,
): string {
  const head = `Suppressed by securityhub-notifier: Backlog ${issueKey} closed as ${plain(resolution, 64)} by ${plain(user, 128)}.`;
  const comment = latestComment ? plain(latestComment, MAX_NOTE_LENGTH) : '';
  return note(comment ? `${head} Latest comment: ${comment}` : head);
}

/** With NOTIFIED, when a person reopens the issue. */
export function trackerReopenedNote(issueKey: string, user: string): string {
  return note(`Notified by securityhub-notifier: Backlog ${issueKey} reopened by ${plain(user, 128)}.`);
}

// --- comments (Backlog: escaped for the project's formatting rule) ------------------------------

interface CommentContext {
  textFormattingRule: TextFormattingRule;
  /** Who closed or reopened the issue (untrusted). */
  by: string;
  resolution?: string;
}

function finish(lines: string[]): string {
  return fitText(`${lines.join('\n')}\n`, BACKLOG_LIMITS.comment - MARKER_ROOM, '');
}

/**
 * Closed as fixed while Security Hub still reports findings failing: one comment for all of them,
 * the issue reopened with it; nothing changed in Security Hub.
 */
export function buildStillFailingComment(failing: readonly FindingState[], ctx: CommentContext): string {
  const f = formatterFor(ctx.textFormattingRule);
  const sentences = failing
    .map((state) => `Security Hub still reports ${describeState(state)}: reopened.`)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const head = `${f.strong('Reopened')}: ${f.inline(`closed as ${ctx.resolution ?? 'Fixed'} by ${singleLine(ctx.by)}, but Security Hub does not agree.`)}`;
  const body =
    sentences.length === 1
      ? [f.inline(sentences[0] as string)]
      : sentences.map((s) => f.listItem(f.inline(s)));
  return finish([
    head,
    '',
    ...body,
    '',
    f.inline(
      "Nothing was changed in Security Hub. The issue closes by itself when Security Hub reports it fixed; close it as Won't Fix to suppress the finding instead.",
    ),
  ]);
}

/**
 * Reopened by a person while Security Hub reports some findings fixed or gone: those stay as they
 * are in Security Hub (marking them NOTIFIED would report them open, and close the issue again).
 */
export function buildLeftAsTheyAreComment(fixed: readonly FindingState[], ctx: CommentContext): string {
  const f = formatterFor(ctx.textFormattingRule);
  return finish([
    `${f.strong('Reopened')}: ${f.inline(`by ${singleLine(ctx.by)}. Security Hub reports ${fixed.length === 1 ? 'this finding' : 'these findings'} fixed, so ${fixed.length === 1 ? 'it stays' : 'they stay'} as ${fixed.length === 1 ? 'it is' : 'they are'} there:`)}`,
    '',
    ...fixed
      .map((state) => `${describeState(state)} (workflow ${state.workflowStatus ?? 'unknown'})`)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .map((line) => f.listItem(f.inline(line))),
  ]);
}
