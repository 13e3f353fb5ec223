/**
 * The ports the use cases talk to the world through. The application owns these interfaces; the
 * adapters in src/adapters implement them, and tests pass fakes of them.
 */
import type { Delivery, Suppression, WorkflowInput } from '../domain/delivery/delivery.js';
import type { OpenGroup } from '../domain/delivery/grouping.js';
import type { FindingItem } from '../domain/delivery/ledger-items.js';

export type { Delivery, Suppression, WorkflowInput };

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

export type ClaimResult =
  | { claimed: true; previous?: FindingItem }
  | { claimed: false; current?: FindingItem };

export type ReopenClaim = 'claimed' | 'done' | 'held';

/** Where a delivery went, written onto every finding it covers. */
export interface MemberRecord {
  issueKey?: string | undefined;
  issueUrl?: string | undefined;
  slackChannel?: string | undefined;
  slackTs?: string | undefined;
  deliveryKey: string;
}

/** What dispatch reads and writes: finding items, and the opening of storm groups. */
export interface DispatchLedger {
  getMany(findingKeys: readonly string[]): Promise<Map<string, FindingItem>>;
  getGroups(groupKeys: readonly string[]): Promise<Map<string, OpenGroup>>;
  /** Open a group for `token`: false when it is open already (another batch opened it meanwhile). */
  openGroup(groupKey: string, token: string, windowMinutes: number): Promise<boolean>;
}

/** What both delivery tasks do with the ledger item a delivery is recorded under. */
export interface DeliveryLedger {
  get(key: string): Promise<FindingItem | undefined>;
  /** Claim `key` for `token` before filing (`issue`) or posting (`slack`). */
  claim(key: string, token: string, side: 'issue' | 'slack'): Promise<ClaimResult>;
  /** Claim the handling of a reopen (the finding's `updatedAt`) on one side. */
  claimReopen(
    key: string,
    side: 'issue' | 'slack',
    findingUpdatedAt: string,
    token: string,
  ): Promise<ReopenClaim>;
  recordReopen(key: string, side: 'issue' | 'slack', findingUpdatedAt: string): Promise<void>;
  recordAppend(groupKey: string, side: 'posted' | 'commented', deliveryId: string): Promise<void>;
}

/** The FileBacklogIssue task's ledger. */
export interface IssueLedger extends DeliveryLedger {
  recordIssue(key: string, issue: { key: string; url: string; id?: number }): Promise<void>;
}

/** The PostSlackMessage task's ledger. */
export interface MessageLedger extends DeliveryLedger {
  /** The delivery is complete: its message (ts '' when none was posted) and the finding version. */
  recordSlack(key: string, slack: { channel: string; ts: string }, findingUpdatedAt: string): Promise<void>;
  /** Ledger each member of a delivery to where it went. */
  recordMembers(
    members: ReadonlyArray<{ key: string; updatedAt: string }>,
    where: MemberRecord,
  ): Promise<void>;
  /** A group's activity: `count` more findings, its window starts again. */
  touchGroup(groupKey: string, count: number): Promise<void>;
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
}

/** The issue tracker (Backlog). */
export interface IssueTracker {
  project(projectKey: string): Promise<TrackerProject>;
  createIssue(target: IssueTarget, content: IssueContent): Promise<IssueHandle>;
  /** The issue whose text holds `marker`, if an earlier attempt filed one without recording it. */
  findByMarker(projectKey: string, marker: string): Promise<IssueHandle | undefined>;
  /** Comment once (the comment ends with the marker's line), setting a done issue back to Open. */
  reopenWithComment(
    issueKey: string,
    comment: string,
    marker: string,
  ): Promise<{ reopened: boolean; commented: boolean }>;
}

export interface ChatPost {
  channel: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  threadTs?: string;
  replyBroadcast?: boolean;
}

/** The chat (Slack). */
export interface Chat {
  post(request: ChatPost): Promise<{ channel: string; ts: string }>;
}

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
