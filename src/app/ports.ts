/**
 * The ports the use cases talk to the world through. The application owns these interfaces; the
 * adapters in src/adapters implement them, and tests pass fakes of them.
 */
import type { BacklogActivity } from '../domain/backlog/activity.js';
import type { Delivery, Suppression, WorkflowInput, WorkflowItem } from '../domain/delivery/delivery.js';
import type { OpenGroup } from '../domain/delivery/grouping.js';
import type { FindingItem } from '../domain/delivery/ledger-items.js';
import type { CloseProgress, CloseReason } from '../domain/delivery/lifecycle.js';
import type { FindingState } from '../domain/delivery/tracker-lifecycle.js';
import type { CountsSnapshot } from '../domain/digest/counts.js';
import type { DigestEventRecord, IssueRef, OpenIssue, StoredDigest } from '../domain/digest/digest.js';
import type { QueuedSlackAction } from '../domain/slack/interaction.js';

export type { Delivery, Suppression, WorkflowInput, WorkflowItem };

/** What a use case logs through: the Powertools Logger has this shape. */
export interface Log {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

// --- ledger ------------------------------------------------------------------------------------

/**
 * The claim on one external effect (an issue created, a message or reply posted, a comment): held
 * by one attempt at a time, done once, with what it produced.
 */
export type EffectClaim =
  | { state: 'done'; result: Record<string, string> }
  | { state: 'held' }
  | { state: 'claimed'; attemptedAt?: string };

/** A member as the ledger records it: its version, and the copies its delivery marks. */
export interface LedgeredMember {
  key: string;
  updatedAt: string;
  /** The copy keys (each Security Hub's) the delivery marks, and the OCSF copies' metadata uids. */
  copies: readonly string[];
  ocsfUids: readonly string[];
}

/** Where a delivery went, written onto every finding it covers. */
export interface MemberRecord {
  issueKey?: string | undefined;
  issueUrl?: string | undefined;
  slackChannel?: string | undefined;
  slackTs?: string | undefined;
  deliveryKey: string;
  /** The delivery that announced them (a storm group's members are announced once). */
  announcedBy: string;
  /** Whether every destination was reached: MARK_PENDING, else POSTED (the issue is still owed). */
  complete: boolean;
}

/** What dispatch reads and writes: finding items, and the opening of storm groups. */
export interface DispatchLedger {
  getMany(findingKeys: readonly string[]): Promise<Map<string, FindingItem>>;
  getGroups(groupKeys: readonly string[]): Promise<Map<string, OpenGroup>>;
  /** Open a group for `token`: false when it is open already (another batch opened it meanwhile). */
  openGroup(groupKey: string, token: string, windowMinutes: number): Promise<boolean>;
  /** Take up a group whose opening failed, keeping its issue: false when another batch did. */
  retakeGroup(groupKey: string, token: string): Promise<boolean>;
}

/** Exactly-once external effects, by effect id. */
export interface EffectLedger {
  /** Claim `effectId` for `token` (one attempt of one task): held by nobody who may still be running. */
  claimEffect(effectId: string, token: string): Promise<EffectClaim>;
  /**
   * The claiming attempt is about to act: until completed, its outcome is unknown. A claim with no
   * earlier attempt (no `attemptedAt`) has recorded this one already.
   */
  recordEffectAttempt(effectId: string, token: string): Promise<void>;
  completeEffect(effectId: string, result: Record<string, string>): Promise<void>;
  /** Give a claim back after a failure (best effort: a stale claim expires on its own). */
  releaseEffect(effectId: string, token: string): Promise<void>;
}

/** What both delivery tasks do with the ledger. */
export interface DeliveryLedger extends EffectLedger {
  get(key: string): Promise<FindingItem | undefined>;
  /**
   * Claim the announcement of storm members for `claimant` (a delivery id): the keys no other
   * delivery announced in this group. Claims of `takeover` (deliveries recorded as failed) may be
   * taken.
   */
  claimMembers(
    groupKey: string,
    claimant: string,
    keys: readonly string[],
    takeover: readonly string[],
    /** The group's item as the caller read it: tried first, read again if it moved on. */
    seen?: FindingItem,
  ): Promise<Set<string>>;
  /**
   * A delivery's item, and the execution in which `destination` last failed past its retries (the
   * workflow writes it): one read.
   */
  readDelivery(
    key: string,
    destination: 'backlog' | 'slack',
  ): Promise<{ entry?: FindingItem; down?: { execution: string; reason: string } }>;
}

/**
 * What the digest reads of an item that holds an issue: its severity label and, when the policy's
 * `sla` gives one, its due date (`YYYY-MM-DD`).
 */
export interface IssueDue {
  severity: string;
  dueDate?: string | undefined;
}

/** The FileBacklogIssue task's ledger. */
export interface IssueLedger extends DeliveryLedger, LifecycleLedger {
  recordIssue(key: string, issue: { key: string; url: string; id?: number }, due?: IssueDue): Promise<void>;
  /** A group's worst severity or earliest due date changed (an append brought a worse finding). */
  recordDue(key: string, due: IssueDue): Promise<void>;
}

/** What a close delivery records: the findings closed, the group's count, what was deleted meanwhile. */
export interface LifecycleLedger {
  /**
   * Count a storm's closing members for `deliveryId` (each member counted once, whatever the
   * retries and batches): the group's progress after it.
   */
  tallyClosed(groupKey: string, deliveryId: string, memberKeys: readonly string[]): Promise<CloseProgress>;
  /** The findings are closed (or suppressed): when, why, by whom; one lifecycle event each. */
  recordClosed(memberKeys: readonly string[], reason: CloseReason, deliveryKey: string): Promise<void>;
  /** The issue or the message of a delivery was deleted: recorded, so nothing tries it again and again. */
  recordGone(key: string, what: 'issue' | 'message'): Promise<void>;
}

/** The PostSlackMessage task's ledger. */
export interface MessageLedger extends DeliveryLedger, LifecycleLedger {
  /**
   * The message is out (ts '' when none was posted), for this finding version and showing this
   * issue key: MARK_PENDING when every destination was reached, else POSTED.
   */
  recordSlack(
    key: string,
    slack: { channel: string; ts: string; issueKey?: string | undefined },
    findingUpdatedAt: string,
    complete: boolean,
  ): Promise<void>;
  /**
   * A reopen reached every destination: the version it describes, one more reopen, the lifecycle
   * open again (and a storm member no longer counted as closed in `group`).
   */
  recordReopen(key: string, findingUpdatedAt: string, group?: string): Promise<void>;
  /** Ledger each member of a delivery to where it went. */
  recordMembers(members: ReadonlyArray<LedgeredMember>, where: MemberRecord): Promise<void>;
  /** A group's activity: `count` more findings, its window starts again. */
  touchGroup(groupKey: string, count: number): Promise<void>;
}

/** The MarkFindings task's ledger. */
export interface MarkLedger {
  /**
   * These findings (and the delivery's own item) are marked in Security Hub: NOTIFIED, each copy
   * (`copy`: which Security Hub's; `ocsfUid`: an OCSF copy's metadata uid, to update it later) recorded.
   */
  recordMarked(marked: ReadonlyArray<{ key: string; copy?: string; ocsfUid?: string }>): Promise<void>;
  /**
   * Every copy of a storm delivery was marked: recorded once on its group, for the members the
   * delivery announced (they were ledgered with the copies it marks). False when the group has no
   * room for it (or is gone): the members are then to be recorded one by one.
   */
  recordDeliveryMarked(groupKey: string, deliveryId: string, memberKeys: readonly string[]): Promise<boolean>;
  /** These findings could not be marked: why, so the next event of each marks it again. */
  recordMarkFailure(keys: readonly string[], error: string): Promise<void>;
}

/** How a Backlog activity's claim stands: this attempt holds it, it was handled, or another holds it. */
export type ActivityClaim = 'claimed' | 'done' | 'held';

/** A lifecycle event for the digest: what happened to a finding, by whom, why. */
export interface LifecycleEvent {
  kind: 'notified' | 'closed' | 'reopened' | 'suppressed';
  finding: string;
  detail: Record<string, string>;
}

/** What the Backlog activity worker does with the ledger (the loop from Backlog to Security Hub). */
export interface ActivityLedger {
  /** Claim an activity (`activity|<id>`) for `token`: each activity is handled once. */
  claimActivity(activityId: number, token: string): Promise<ActivityClaim>;
  /** The activity was handled: what it did, kept with its claim. */
  completeActivity(activityId: number, result: Record<string, string>): Promise<void>;
  /** Give the claim back after a failure, so the queue's next delivery handles it at once. */
  releaseActivity(activityId: number, token: string): Promise<void>;
  /** Every item that carries this issue key: the findings filed under it, storm members, the group. */
  findByIssueKey(issueKey: string): Promise<FindingItem[]>;
  /** The findings are closed (or suppressed): when, why, by whom; one lifecycle event each. */
  recordClosed(memberKeys: readonly string[], reason: CloseReason, deliveryKey: string): Promise<void>;
  /**
   * Closed findings are open again (a person reopened their issue): the keys that were closed; a
   * storm member counted as closed is uncounted in its group; one lifecycle event each.
   */
  recordReopenedBy(keys: readonly string[], why: Record<string, string>): Promise<string[]>;
  recordEvents(events: readonly LifecycleEvent[]): Promise<void>;
}

// --- destinations --------------------------------------------------------------------------------

export type TextFormattingRule = 'markdown' | 'backlog';

/** A Backlog project as the issue builders need it. */
export interface TrackerProject {
  projectKey: string;
  textFormattingRule: TextFormattingRule;
}

/** Where an issue is filed and with what: names, resolved to ids by the tracker. */
export interface IssueTarget {
  projectKey: string;
  issueTypeName: string;
  categoryName?: string;
  assigneeId?: number;
  /** The status a close sets (default `Closed`). */
  closedStatus?: string;
  customFields?: Record<string, string | number | string[]>;
}

export interface IssueHandle {
  id: number;
  key: string;
  url: string;
}

export interface IssueContent {
  summary: string;
  description: string;
  priorityId: number;
  /** `YYYY-MM-DD`: the policy's `sla` from the findings' first observation. */
  dueDate?: string;
}

/** The issue tracker (Backlog). */
export interface IssueTracker {
  project(projectKey: string): Promise<TrackerProject>;
  createIssue(target: IssueTarget, content: IssueContent): Promise<IssueHandle>;
  /** Move an issue's due date (`YYYY-MM-DD`): a group's worst member came later. */
  setDueDate(issueKey: string, dueDate: string): Promise<void>;
  /** The issue whose text holds `marker`, if an earlier attempt filed one without recording it. */
  findByMarker(projectKey: string, marker: string): Promise<IssueHandle | undefined>;
  /** Whether a comment ending with `marker`'s line is among the issue's latest comments. */
  hasComment(issueKey: string, marker: string): Promise<boolean>;
  /** Comment (ending with the marker's line), setting a resolved or closed issue back to Open. */
  comment(issueKey: string, comment: string, marker: string): Promise<{ reopened: boolean }>;
  /**
   * Close an issue with a comment (ending with the marker's line) in one write, unless a person
   * closed it already (then nothing is written).
   */
  close(issueKey: string, close: IssueClose): Promise<{ closed: boolean }>;
  /** The issue as Backlog has it now (never the webhook's word for it). */
  read(issueKey: string): Promise<TrackedIssue>;
  /** The tracker's own user (whose activities the notifier ignores). */
  self(): Promise<{ id: number; name: string }>;
}

export interface IssueClose {
  /** The status to set, by name (default `Closed`). */
  status: string;
  /** The resolution, by name (`Fixed`, `Won't Fix`); its id is looked up. */
  resolution: string;
  comment: string;
  marker: string;
}

/** An issue as re-read from the tracker. */
export interface TrackedIssue {
  key: string;
  projectKey: string;
  status: { id: number; name: string };
  resolution?: { id: number; name: string };
  /** The latest comment, its author and text, if any. */
  latestComment?: { author: string; text: string };
  updatedBy?: { id: number; name: string };
}

export interface ChatMessage {
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

export interface ChatPost extends ChatMessage {
  channel: string;
  threadTs?: string;
  replyBroadcast?: boolean;
  /** Carried as message metadata, so a post whose answer was lost can be found and adopted. */
  postId?: string;
}

/** The chat (Slack). */
export interface Chat {
  post(request: ChatPost): Promise<{ channel: string; ts: string }>;
  /** Replace a message's content (the link to an issue filed later, a resolution). */
  update(channel: string, ts: string, message: ChatMessage): Promise<void>;
  /** A message as it is now (to change its look when its finding closes or reopens). */
  read(channel: string, ts: string): Promise<ChatMessage | undefined>;
  /**
   * The message carrying `postId` posted since `since` (in `threadTs`'s thread when given), if an
   * earlier attempt posted it and lost the answer.
   */
  findPost(
    channel: string,
    postId: string,
    since: Date,
    threadTs?: string,
  ): Promise<{ channel: string; ts: string } | undefined>;
}

/** The workflow statuses the notifier sets, in CSPM's words (the new Security Hub's status ids alike). */
export type MarkStatus = 'NOTIFIED' | 'SUPPRESSED' | 'RESOLVED' | 'NEW';

/** A copy of a finding to update, and which Security Hub holds it. */
export interface FindingCopyRef {
  identifier: { Id: string; ProductArn: string };
  /** Present: the new Security Hub's OCSF finding (BatchUpdateFindingsV2 by metadata uid). */
  ocsf?: { metadataUid: string };
}

/** Security Hub, as the marking task updates it: CSPM (ASFF) and the new Security Hub (OCSF). */
export interface FindingsUpdater {
  /**
   * One update call for at most 100 copies of one Security Hub (all ASFF, or all OCSF): the copies
   * it could not update.
   */
  update(
    copies: readonly FindingCopyRef[],
    change: { status: MarkStatus; note: string },
  ): Promise<Array<{ copy: FindingCopyRef; code: string; message?: string }>>;
}

/** Security Hub, as the Backlog activity worker reads it before changing anything. */
export interface FindingsReader {
  /** The findings as Security Hub reports them now; one it does not have is left out. */
  read(identifiers: ReadonlyArray<{ Id: string; ProductArn: string }>): Promise<FindingState[]>;
  /** The new Security Hub's copies (OCSF) by `metadata.uid`; one it does not have is left out. */
  readOcsf(metadataUids: readonly string[]): Promise<Array<FindingState & { metadataUid: string }>>;
}

/** Timing the use cases decide with (configurable; short in tests). */
export interface Timing {
  /** How long after an attempt its create or post may still land (the client timeout is far less). */
  settleMs: number;
  /** The longest wait a task hands to the workflow at once. */
  maxWaitSeconds: number;
}

export const DEFAULT_TIMING: Timing = { settleMs: 60_000, maxWaitSeconds: 300 };

// --- dispatch's outlets --------------------------------------------------------------------------

/** Starts the notify-findings workflow; the same name twice starts it once. */
export interface WorkflowStarter {
  start(input: WorkflowInput, name: string): Promise<void>;
}

/** A finding (or event) dispatch could not use, kept for a person to look at and redrive. */
export interface Rejection {
  eventId: string;
  field: string;
  reason: string;
  /** The event as received, narrowed to the rejected findings when others of it went on. */
  event: unknown;
  messageId: string;
}

/** Keeps rejected input (production: the dead-letter queue). */
export interface DeadLetterSink {
  send(rejections: readonly Rejection[]): Promise<void>;
}

// --- the Backlog webhook's outlet ----------------------------------------------------------------

/** Where the webhook hands an activity to the worker (production: the activity queue). */
export interface ActivityQueue {
  send(activity: BacklogActivity): Promise<void>;
}

// --- acting from Slack: the endpoint's and the worker's ports -----------------------------------

/** Where the Slack endpoint hands an accepted action to the worker (production: the action queue). */
export interface SlackActionQueue {
  send(action: QueuedSlackAction): Promise<void>;
}

/** Slack's user groups, for who may act (`usergroups.users.list`, cached by the adapter). */
export interface SlackDirectory {
  userGroupMembers(groupId: string): Promise<readonly string[]>;
}

/** What the endpoint answers a person with besides its HTTP answer. */
export interface SlackResponder {
  /** views.open; `opened: false` when Slack refused the trigger (used already, expired). */
  openView(triggerId: string, view: Record<string, unknown>): Promise<{ opened: boolean; problem?: string }>;
  /** chat.postEphemeral: a message only `user` sees. */
  postEphemeral(channel: string, user: string, text: string): Promise<void>;
}

/** A Slack user as the worker names them (users.info): the mail address finds their Backlog user. */
export interface SlackPeople extends Pick<SlackResponder, 'postEphemeral'> {
  profile(userId: string): Promise<{ name: string; email?: string }>;
}

/** What the Slack action worker does with the ledger. */
export interface SlackActionLedger
  extends Pick<EffectLedger, 'claimEffect' | 'completeEffect' | 'releaseEffect'> {
  get(key: string): Promise<FindingItem | undefined>;
  findByIssueKey(issueKey: string): Promise<FindingItem[]>;
  recordClosed(memberKeys: readonly string[], reason: CloseReason, deliveryKey: string): Promise<void>;
  /** Who acknowledged the findings, and when. */
  recordAcknowledged(keys: readonly string[], by: string, at: string): Promise<void>;
  /** A suppression that expires on `until` (YYYY-MM-DD): the sweep sets the findings back to NEW then. */
  recordSuppressionExpiry(keys: readonly string[], until: string): Promise<void>;
}

/** What the expiry sweep does with the ledger. */
export interface SweepLedger {
  getMany(keys: readonly string[]): Promise<Map<string, FindingItem>>;
  /** The findings whose suppression expires on `day` (YYYY-MM-DD), not swept yet. */
  dueSuppressions(day: string): Promise<string[]>;
  /** These were swept (or are no longer suppressed until `day`). */
  clearSuppressionExpiry(day: string, keys: readonly string[]): Promise<void>;
}

/** A Backlog user as an acknowledgement assigns the issue to them. */
export interface TrackerUser {
  id: number;
  name: string;
  mailAddress?: string;
}

/** The issue tracker, as the Slack action worker changes it. */
export interface SlackActionTracker extends Pick<IssueTracker, 'project' | 'hasComment' | 'close'> {
  /** In Progress (unless closed), the assignee if given, and a comment ending with the marker's line. */
  startProgress(
    issueKey: string,
    change: { assigneeId?: number; comment: string; marker: string },
  ): Promise<void>;
  /** A comment (ending with the marker's line) that changes nothing else. */
  remark(issueKey: string, comment: string, marker: string): Promise<void>;
  /** The users of a project (cached by the adapter). */
  projectUsers(projectKey: string): Promise<TrackerUser[]>;
}

// --- the daily digest ----------------------------------------------------------------------------

/** Security Hub's own aggregation: active findings by account and severity, and the suppressed. */
export interface FindingCounter {
  read(): Promise<CountsSnapshot>;
}

/** What the digest reads from and records in the ledger; its posts are claimed like any effect. */
export interface DigestLedger extends EffectLedger {
  /** The last digest posted (what its changes are since), if any. */
  lastDigest(): Promise<StoredDigest | undefined>;
  /** This digest is posted: the next one compares with it (an older run never overwrites a newer). */
  recordDigest(digest: StoredDigest): Promise<void>;
  /** The lifecycle events after `since` and at or before `until`, by the `byDay` index. */
  eventsBetween(since: Date, until: Date): Promise<DigestEventRecord[]>;
  /** The open issues, by the `byDay` index (its pseudo-day of open issues). */
  openIssues(): Promise<OpenIssue[]>;
  /** The issue each ledger item went to (items without one are left out). */
  issueRefs(keys: readonly string[]): Promise<Map<string, IssueRef>>;
}
