import type { Destinations, Route } from '../delivery/delivery.js';
import { DEFAULT_GROUPING, type GroupingSettings } from '../delivery/grouping.js';
import type { Finding } from '../finding/finding.js';
import { toAsffResourceType } from '../finding/resource-type.js';
import { isAtOrAbove, type SeverityLabel, severityRank } from '../finding/severity.js';
import { DEFAULT_SLA_DAYS, type SlaPolicy } from './sla.js';
import type { SlackActionsPolicy } from './slack-actions.js';

/**
 * The notification policy (issue "Noise control"): which findings are notified, to which
 * destinations and where, which are dropped and which are suppressed. Read from one YAML file by
 * `parsePolicy` (src/config/policy-file.ts), validated, defaults applied: this module only holds
 * the validated shape and evaluates it, so it stays pure.
 */

/** The environment settings a policy falls back to (NOTIFY_MIN_SEVERITY, SLACK_CHANNEL, ...). */
export interface PolicyDefaults {
  minSeverity: SeverityLabel;
  slackChannel: string;
  backlogProjectKey: string;
  backlogIssueType: string;
}

/**
 * A `match:` block: every field listed must match; a field's list is an OR. Strings are patterns:
 * `*` any run of characters, `?` exactly one, everything else literal, case-sensitive, whole value.
 */
export interface PolicyMatch {
  /** `GuardDuty`, `SecurityHub`, `Inspector`, `Macie`, `Other`, or the product's name (`Prowler`). */
  product?: string[];
  /** The account id or its resolved name (see `resolveAccountName`). */
  account?: string[];
  region?: string[];
  severity?: SeverityLabel[];
  /** The Security Hub control id, e.g. `S3.8`; a finding without a control never matches. */
  control?: string[];
  /** Any of the finding's resources has a matching type, e.g. `AwsS3Bucket`. */
  resourceType?: string[];
  /** One resource carries every tag listed (exact key, value pattern). */
  resourceTag?: Record<string, string>;
  /** The GuardDuty finding type, e.g. `Recon:*`; a non-GuardDuty finding never matches. */
  guardDutyType?: string[];
  title?: string[];
}

export interface ExcludeRule {
  name: string;
  match: PolicyMatch;
}

export interface SuppressionRule {
  name: string;
  reason: string;
  match: PolicyMatch;
}

export interface RouteRule {
  match: PolicyMatch;
  /** Complete: what the file left out was filled from the default route and the environment. */
  route: Route;
}

/** The lowest severity each destination is sent; a finding below both is not notified. */
export interface Thresholds {
  slack: SeverityLabel;
  backlog: SeverityLabel;
}

/** A validated policy with every default applied. */
export interface NotificationPolicy {
  version: 1;
  thresholds: Thresholds;
  /** Account id → name, used when a finding carries no `AwsAccountName`. */
  accounts: Readonly<Record<string, string>>;
  /** Absent: every finding is included. Present: a finding must match at least one. */
  include?: readonly PolicyMatch[];
  exclude: readonly ExcludeRule[];
  suppressions: readonly SuppressionRule[];
  /** First match wins. */
  routes: readonly RouteRule[];
  /** The route of a finding no route matches; named `default`. */
  defaultRoute: Route;
  grouping: GroupingSettings;
  /** Who may act on findings from Slack (absent: `DEFAULT_SLACK_ACTIONS`, see `slackActionsOf`). */
  slackActions?: SlackActionsPolicy;
  /** Remediation due dates: days per severity, or `off`. */
  sla: SlaPolicy;
}

export type PolicyOutcome =
  | { action: 'notify'; route: Route; destinations: Destinations }
  | { action: 'filter'; reason: string; rule?: string }
  | { action: 'suppress'; rule: string; note: string };

export const DEFAULT_ROUTE_NAME = 'default';
/** Security Hub's limit on `Note.Text`. */
export const MAX_NOTE_LENGTH = 512;

/** Today's behaviour, as a policy: the environment's threshold and destinations, nothing else. */
export function defaultPolicy(defaults: PolicyDefaults): NotificationPolicy {
  return {
    version: 1,
    thresholds: { slack: defaults.minSeverity, backlog: defaults.minSeverity },
    accounts: {},
    exclude: [],
    suppressions: [],
    routes: [],
    defaultRoute: {
      name: DEFAULT_ROUTE_NAME,
      slackChannel: defaults.slackChannel,
      backlog: { projectKey: defaults.backlogProjectKey, issueTypeName: defaults.backlogIssueType },
    },
    grouping: { ...DEFAULT_GROUPING },
    sla: DEFAULT_SLA_DAYS,
  };
}

/** `AwsAccountName` when the finding carries one, else the policy's account map. */
export function resolveAccountName(finding: Finding, policy: NotificationPolicy): string | undefined {
  return finding.accountName ?? policy.accounts[finding.accountId];
}

const compiled = new Map<string, RegExp>();

/** A `*`/`?` wildcard pattern as an anchored, case-sensitive regular expression. */
export function wildcardToRegExp(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (!regex) {
    const source = Array.from(pattern, (char) => {
      if (char === '*') return '.*';
      if (char === '?') return '.';
      return char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
    }).join('');
    regex = new RegExp(`^${source}$`, 'su');
    compiled.set(pattern, regex);
  }
  return regex;
}

export function matchesWildcard(pattern: string, value: string): boolean {
  return wildcardToRegExp(pattern).test(value);
}

function anyMatches(patterns: readonly string[], values: ReadonlyArray<string | undefined>): boolean {
  return patterns.some((pattern) =>
    values.some((value) => value !== undefined && matchesWildcard(pattern, value)),
  );
}

/** Whether a finding satisfies every field of a `match:` block. */
export function findingMatches(match: PolicyMatch, finding: Finding, policy: NotificationPolicy): boolean {
  if (match.product && !anyMatches(match.product, [finding.product, finding.productName])) return false;
  if (match.account && !anyMatches(match.account, [finding.accountId, resolveAccountName(finding, policy)]))
    return false;
  if (match.region && !anyMatches(match.region, [finding.region])) return false;
  if (match.severity && !match.severity.includes(finding.severity)) return false;
  if (match.control && !anyMatches(match.control, [finding.control?.id])) return false;
  if (
    match.resourceType &&
    // One vocabulary for both Security Hubs: `AwsS3Bucket` and `AWS::S3::Bucket` match alike.
    !anyMatches(
      match.resourceType.flatMap((pattern) => [pattern, toAsffResourceType(pattern)]),
      finding.resources.map((r) => r.type),
    )
  )
    return false;
  if (match.guardDutyType && !anyMatches(match.guardDutyType, [finding.guardDuty?.type])) return false;
  if (match.title && !anyMatches(match.title, [finding.title])) return false;
  const tags = match.resourceTag ? Object.entries(match.resourceTag) : [];
  if (
    tags.length > 0 &&
    !finding.resources.some((resource) =>
      tags.every(([key, pattern]) => {
        const value = resource.tags[key];
        return value !== undefined && matchesWildcard(pattern, value);
      }),
    )
  ) {
    return false;
  }
  return true;
}

/** The note a suppressed finding gets in Security Hub, cut to its 512-character limit. */
export function suppressionNote(rule: Pick<SuppressionRule, 'name' | 'reason'>): string {
  const note = Array.from(`Suppressed by securityhub-notifier rule ${rule.name}: ${rule.reason}`);
  return note.length <= MAX_NOTE_LENGTH ? note.join('') : `${note.slice(0, MAX_NOTE_LENGTH - 1).join('')}…`;
}

/** The lower of the two thresholds: the EventBridge rule must forward at least this. */
export function minimumThreshold(policy: NotificationPolicy): SeverityLabel {
  const { slack, backlog } = policy.thresholds;
  return severityRank(slack) <= severityRank(backlog) ? slack : backlog;
}

export function groupingSettings(policy: NotificationPolicy): GroupingSettings {
  return { ...policy.grouping };
}

/** The route a finding goes by (first match, else the default), whatever the filters say. */
export function routeFor(finding: Finding, policy: NotificationPolicy): Route {
  return (
    policy.routes.find((rule) => findingMatches(rule.match, finding, policy))?.route ?? policy.defaultRoute
  );
}

/**
 * What to do with one finding, in this order:
 * 1. the EventBridge rule's conditions, again per finding (workflow NEW, record ACTIVE, compliance
 *    not PASSED): an event can carry several findings and the rule matches the event;
 * 2. `include` (when present, a finding must match one), then `exclude` (first match filters);
 * 3. `suppressions` (first match): marked SUPPRESSED whatever its severity, as an accepted risk is
 *    accepted at every severity (only findings the EventBridge rule forwards reach this step, so
 *    findings below `minimumThreshold` are never seen at all);
 * 4. the per-destination thresholds: a finding below both is filtered;
 * 5. `routes`, first match wins, else the default route.
 */
export function evaluatePolicy(finding: Finding, policy: NotificationPolicy): PolicyOutcome {
  if (finding.workflowStatus !== 'NEW')
    return { action: 'filter', reason: `workflow status ${finding.workflowStatus}` };
  if (finding.recordState !== 'ACTIVE')
    return { action: 'filter', reason: `record state ${finding.recordState}` };
  if (finding.complianceStatus === 'PASSED') return { action: 'filter', reason: 'compliance PASSED' };

  if (policy.include && !policy.include.some((match) => findingMatches(match, finding, policy))) {
    return { action: 'filter', reason: 'matches no include rule' };
  }
  const excluded = policy.exclude.find((rule) => findingMatches(rule.match, finding, policy));
  if (excluded) {
    return { action: 'filter', reason: `excluded by rule ${excluded.name}`, rule: excluded.name };
  }

  const suppression = policy.suppressions.find((rule) => findingMatches(rule.match, finding, policy));
  if (suppression) {
    return { action: 'suppress', rule: suppression.name, note: suppressionNote(suppression) };
  }

  const { slack, backlog } = policy.thresholds;
  const destinations: Destinations = {
    slack: isAtOrAbove(finding.severity, slack),
    backlog: isAtOrAbove(finding.severity, backlog),
  };
  if (!destinations.slack && !destinations.backlog) {
    return {
      action: 'filter',
      reason: `severity ${finding.severity} below the Slack threshold ${slack} and the Backlog threshold ${backlog}`,
    };
  }

  const routed = policy.routes.find((rule) => findingMatches(rule.match, finding, policy));
  return { action: 'notify', route: routed?.route ?? policy.defaultRoute, destinations };
}
