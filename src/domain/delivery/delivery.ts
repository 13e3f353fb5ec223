import { createHash } from 'node:crypto';
import {
  asffProductArn,
  type Finding,
  type FindingIdentifier,
  type FindingResource,
  findingKey,
} from '../finding/finding.js';
import type { SeverityLabel } from '../finding/severity.js';
import type { HeartbeatCheck } from '../heartbeat/heartbeat.js';
import type { Due } from '../policy/sla.js';
import type { CloseReason } from './lifecycle.js';

/**
 * `new`: a first issue and top-level message. `reopen`: a comment on the recorded issue and a
 * broadcast thread reply. `append`: more findings for an open group: a comment listing them and a
 * thread reply. `close`: the finding is fixed, gone, resolved or suppressed in Security Hub: the
 * issue closed with a comment saying why, a thread reply, the message's look changed.
 */
export type DeliveryMode = 'new' | 'reopen' | 'append' | 'close';

/** `single`: one finding (or one control on one resource seen by several standards). `group`: a storm. */
export type DeliveryKind = 'single' | 'group';

/** Where a delivery goes: chosen by the notification policy's routes (first match wins). */
export interface Route {
  name: string;
  slackChannel: string;
  /** Slack users (`U…`) and user groups (`S…`) mentioned on the route's CRITICAL findings (on call). */
  slackMentions?: string[];
  backlog: {
    projectKey: string;
    issueTypeName: string;
    categoryName?: string;
    assigneeId?: number;
    /** The status a close sets (default `Closed`). */
    closedStatus?: string;
    /** The statuses that mean closed in this project (default `Closed` and `Resolved`). */
    closedStatuses?: string[];
  };
}

/** Which destinations a delivery goes to: the policy's per-destination thresholds. */
export interface Destinations {
  slack: boolean;
  backlog: boolean;
}

/**
 * One finding a delivery covers, compact (a storm carries hundreds): enough to list it in a group
 * message or comment, ledger it, and mark it.
 */
export interface DeliveryMember {
  identifier: FindingIdentifier;
  /** A finding of the new Security Hub (OCSF): marked with BatchUpdateFindingsV2 by this uid. */
  ocsf?: { metadataUid: string };
  /** The same finding as the other Security Hub reports it: marked too, filed once. */
  twins?: FindingCopy[];
  /** Absent when it is the representative finding's title (the usual case in a group). */
  title?: string;
  severity: SeverityLabel;
  region: string;
  /** The first resource, without tags, and how many there are in all. */
  resources: FindingResource[];
  resourceCount: number;
  updatedAt: string;
  /** A vulnerability finding's CVE, compact: a row of the vulnerability table. */
  vulnerability?: MemberVulnerability;
}

/** The first CVE of a vulnerability finding and its first package; untrusted text, cut short. */
export interface MemberVulnerability {
  id: string;
  package?: string;
  installed?: string;
  fixed?: string;
  /** The product says an exploit is known. */
  exploit?: boolean;
  /** More CVEs the finding names, not shown in the row. */
  moreCves?: number;
  /** More packages the CVE is found in, not shown in the row. */
  morePackages?: number;
}

export interface GroupInfo {
  /** `group|<account>|<control id or GuardDuty type>`: the ledger item of the group. */
  key: string;
  /** What the group's findings share: `CloudTrail.2` or `UnauthorizedAccess:EC2-SSHBruteForce`. */
  label: string;
  accountId: string;
  accountName?: string;
  /** Findings in the group before this delivery (0 when it opens the group). */
  previousCount: number;
  /** Absent: a storm (a control or GuardDuty type). `vulnerability`: the CVEs of one resource. */
  kind?: 'vulnerability';
  /** A vulnerability group's resource. */
  resource?: { type: string; id: string };
}

/** One copy of a finding, as one Security Hub reports it: what marking it needs. */
export interface FindingCopy {
  identifier: FindingIdentifier;
  ocsf?: { metadataUid: string };
}

/** One Backlog issue + one Slack message (or a comment + a reply): one iteration of the workflow's Map. */
export interface Delivery {
  deliveryId: string;
  /** The ledger item the delivery is recorded under: the finding key, or the group key. */
  deliveryKey: string;
  mode: DeliveryMode;
  kind: DeliveryKind;
  /** The finding the message and issue describe; for a group, its first (most severe) member. */
  finding: Finding;
  /** Every finding this delivery covers, each ledgered to its issue; the representative included. */
  members: DeliveryMember[];
  group?: GroupInfo;
  /** Absent: the configured defaults (SLACK_CHANNEL, BACKLOG_PROJECT_KEY, BACKLOG_ISSUE_TYPE). */
  route?: Route;
  destinations: Destinations;
  /** A close: why. */
  close?: CloseReason;
  /** The earliest due date of its findings (the policy's `sla`); absent when none applies. */
  due?: Due;
}

/** Findings a suppression rule matched: the workflow marks them SUPPRESSED with a note naming the rule. */
export interface Suppression {
  deliveryId: string;
  /** The rule's name. */
  deliveryKey: string;
  mode: 'suppress';
  note: string;
  /** The findings to mark SUPPRESSED, as members so the workflow marks them like a delivery's. */
  members: Array<Pick<DeliveryMember, 'identifier' | 'ocsf' | 'twins'>>;
}

/**
 * Findings delivered everywhere but not marked in Security Hub yet (the mark failed, or its answer
 * was lost): the workflow only marks them, with the note of where they were delivered.
 */
export interface Remark {
  deliveryId: string;
  /** `mark|<note hash>`: the remarks of one batch that share a note. */
  deliveryKey: string;
  mode: 'mark';
  note: string;
  members: Array<Pick<DeliveryMember, 'identifier' | 'updatedAt' | 'ocsf' | 'twins'>>;
}

/** One iteration of the workflow's Map. */
export type WorkflowItem = Delivery | Suppression | Remark;

export interface WorkflowInput {
  batchId: string;
  /**
   * Iterated in order by the workflow's Map: deliveries, then remarks and suppressions; a heartbeat's
   * execution carries its check alone.
   */
  deliveries: Array<WorkflowItem | HeartbeatCheck>;
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

/**
 * The key the ledger knows a member by: its underlying finding's, the same for the ASFF and the OCSF
 * copy (for AWS products: `productv2/aws/x` is `product/aws/x`).
 */
export function memberKey(member: Pick<DeliveryMember, 'identifier'>): string {
  return findingKey({ Id: member.identifier.Id, ProductArn: asffProductArn(member.identifier.ProductArn) });
}

/** The key of one copy of a finding (which Security Hub reported it): marks are recorded per copy. */
export function copyKey(copy: Pick<FindingCopy, 'identifier'>): string {
  return findingKey(copy.identifier);
}

/** Every copy marking a member touches: its own, and its twins from the other Security Hub. */
export function memberCopies(member: Pick<DeliveryMember, 'identifier' | 'ocsf' | 'twins'>): FindingCopy[] {
  const own: FindingCopy = member.ocsf
    ? { identifier: member.identifier, ocsf: member.ocsf }
    : { identifier: member.identifier };
  return [own, ...(member.twins ?? [])];
}

/** A finding's copy: its identifier, and its OCSF uid when the new Security Hub reported it. */
export function copyOf(finding: Finding): FindingCopy {
  return finding.ocsf
    ? { identifier: finding.identifier, ocsf: { metadataUid: finding.ocsf.metadataUid } }
    : { identifier: finding.identifier };
}

export function toMember(finding: Finding, representativeTitle?: string): DeliveryMember {
  const [resource] = finding.resources;
  const member: DeliveryMember = {
    ...copyOf(finding),
    ...(finding.twins && finding.twins.length > 0 ? { twins: finding.twins } : {}),
    severity: finding.severity,
    region: finding.region,
    resources: resource ? [{ type: resource.type, id: resource.id, tags: {} }] : [],
    resourceCount: finding.resourceCount,
    updatedAt: finding.updatedAt,
  };
  if (finding.title !== representativeTitle) member.title = finding.title.slice(0, 300);
  const vulnerability = memberVulnerability(finding);
  if (vulnerability) member.vulnerability = vulnerability;
  return member;
}

/** The row a vulnerability finding adds to a table: its first CVE and that CVE's first package. */
export function memberVulnerability(finding: Finding): MemberVulnerability | undefined {
  const [first, ...rest] = finding.vulnerabilities ?? [];
  if (!first) return undefined;
  const [pkg, ...otherPackages] = first.packages;
  const row: MemberVulnerability = { id: first.id.slice(0, 100) };
  if (pkg) {
    row.package = pkg.name.slice(0, 200);
    if (pkg.version) row.installed = pkg.version.slice(0, 100);
    if (pkg.fixedVersion) row.fixed = pkg.fixedVersion.slice(0, 100);
  }
  if (first.exploitAvailable !== undefined) row.exploit = first.exploitAvailable;
  if (rest.length > 0) row.moreCves = rest.length;
  if (otherPackages.length > 0) row.morePackages = otherPackages.length;
  return row;
}

export interface DeliveryOptions {
  route?: Route;
  destinations?: Destinations;
  group?: GroupInfo;
  kind?: DeliveryKind;
  close?: CloseReason;
  due?: Due;
}

/**
 * A delivery of one finding, or of several that are one thing to act on (a control on a resource
 * seen by several standards, a storm group). The first finding is the one the message describes.
 */
export function buildDelivery(
  findings: Finding | readonly Finding[],
  mode: DeliveryMode,
  options: DeliveryOptions = {},
): Delivery {
  const list = Array.isArray(findings) ? findings : [findings as Finding];
  const [first] = list;
  if (!first) throw new Error('a delivery needs at least one finding');
  const deliveryKey = options.group?.key ?? first.key;
  const version = list.map((finding) => `${finding.key}@${finding.updatedAt}`).sort();
  const delivery: Delivery = {
    deliveryId: shortHash(`${deliveryKey}|${mode}|${version.join(',')}`),
    deliveryKey,
    mode,
    kind: options.kind ?? (options.group ? 'group' : 'single'),
    finding: compactFinding(first),
    members: list.map((finding) => toMember(finding, first.title)),
    destinations: options.destinations ?? { slack: true, backlog: true },
  };
  if (options.group) delivery.group = options.group;
  if (options.route) delivery.route = options.route;
  if (options.close) delivery.close = options.close;
  if (options.due) delivery.due = options.due;
  return delivery;
}
