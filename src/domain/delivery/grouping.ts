import type { Finding } from '../finding/finding.js';
import { severityRank } from '../finding/severity.js';
import { earliestDue, type SlaPolicy } from '../policy/sla.js';
import {
  buildDelivery,
  type Delivery,
  type Destinations,
  type Route,
  type WorkflowItem,
} from './delivery.js';
import {
  defaultVulnerabilityGrouping,
  isVulnerabilityGroupKey,
  type VulnerabilityGrouping,
  vulnerabilityGroupInfo,
  vulnerabilityGroupKey,
} from './vulnerability-group.js';

export interface GroupingSettings {
  enabled: boolean;
  /** Findings of one group key in one batch that open a group. */
  minFindings: number;
  /** An open group absorbs later findings of its key for this long after its last delivery. */
  windowMinutes: number;
  /**
   * Vulnerability grouping per route name (`default` for the default route); a route not listed
   * groups as the storms do (`enabled`, `minFindings`), by resource and account.
   */
  vulnerabilities?: Readonly<Record<string, VulnerabilityGrouping>>;
}

export const DEFAULT_GROUPING: GroupingSettings = { enabled: true, minFindings: 3, windowMinutes: 60 };

/** A finding the policy says to notify, with where it goes. */
export interface Candidate {
  finding: Finding;
  mode: 'new' | 'reopen';
  route?: Route;
  destinations: Destinations;
}

/** A group's ledger item, as dispatch reads it. */
export interface OpenGroup {
  key: string;
  memberCount: number;
  lastActivityAt: string;
  openedAt: string;
  /** Its first message was posted. */
  delivered: boolean;
  /** Its opening delivery failed (recorded by the workflow) and nothing delivered it since. */
  failed?: boolean;
}

/** A group opened this long ago and still not delivered is taken to be abandoned by its execution. */
export const GROUP_OPENING_STALE_MS = 10 * 60_000;

/** What the findings of a storm share: a control id, else a GuardDuty finding type. */
export function groupLabel(finding: Finding): string | undefined {
  return finding.control?.id ?? finding.guardDuty?.type;
}

export function groupKey(finding: Finding, route: Route | undefined): string | undefined {
  const label = groupLabel(finding);
  return label ? `group|${finding.accountId}|${label}|${route?.name ?? 'default'}` : undefined;
}

/** A route's vulnerability grouping (the default route's when there is none). */
export function vulnerabilityGroupingFor(
  settings: GroupingSettings,
  route: Route | undefined,
): VulnerabilityGrouping {
  return settings.vulnerabilities?.[route?.name ?? 'default'] ?? defaultVulnerabilityGrouping(settings);
}

/**
 * The group a new finding joins, if any: its resource's vulnerability group when it is a
 * vulnerability finding and its route groups them; else its storm's, when storms are on.
 */
export function groupKeyFor(
  finding: Finding,
  route: Route | undefined,
  settings: GroupingSettings,
): string | undefined {
  const grouping = vulnerabilityGroupingFor(settings, route);
  const vulnerability = vulnerabilityGroupKey(finding, route?.name ?? 'default', grouping);
  if (vulnerability) return vulnerability;
  return settings.enabled ? groupKey(finding, route) : undefined;
}

/**
 * The same control on the same resource in the same account and region: several standards
 * reporting one misconfiguration. Findings without a control or resource are never merged.
 */
export function consolidationKey(finding: Finding): string | undefined {
  const resource = finding.resources[0];
  if (!finding.control || !resource) return undefined;
  return `${finding.accountId}|${finding.region}|${finding.control.id}|${resource.id}`;
}

/** Open: active within the window, and delivered or still being opened by a live execution. */
export function isOpen(group: OpenGroup | undefined, settings: GroupingSettings, now: Date): boolean {
  if (!group || group.failed) return false;
  const last = Date.parse(group.lastActivityAt);
  if (!Number.isFinite(last) || now.getTime() - last > settings.windowMinutes * 60_000) return false;
  return group.delivered || now.getTime() - Date.parse(group.openedAt) <= GROUP_OPENING_STALE_MS;
}

/** Most severe first, then the earliest: the finding a merged delivery is described by. */
function bySeverity(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || a.createdAt.localeCompare(b.createdAt);
}

function union(destinations: Destinations[]): Destinations {
  return {
    slack: destinations.some((d) => d.slack),
    backlog: destinations.some((d) => d.backlog),
  };
}

interface Unit {
  findings: Finding[];
  route?: Route;
  destinations: Destinations;
  /** Its place in the batch. */
  order: number;
}

export interface DeliveryPlan {
  deliveries: Delivery[];
  /** Group keys this plan opens (dispatch claims each before starting the workflow). */
  opens: string[];
  /** Groups whose opening failed, taken up again by this plan (their issue is kept). */
  retakes: string[];
}

/** A group whose opening delivery failed and that nothing delivered since: its next batch opens it again. */
export function isFailedOpening(
  group: OpenGroup | undefined,
  settings: GroupingSettings,
  now: Date,
): boolean {
  if (!group?.failed || group.delivered) return false;
  const last = Date.parse(group.lastActivityAt);
  return Number.isFinite(last) && now.getTime() - last <= settings.windowMinutes * 60_000;
}

/**
 * Turn a batch's candidates into deliveries. Reopens stay single. New findings: the same control on
 * the same resource becomes one delivery (consolidation); then the units of one group key become
 * one grouped delivery when the group is open in the ledger (an append) or the batch holds at least
 * `minFindings` of them (a new group); otherwise one delivery per unit.
 */
export function planDeliveries(
  candidates: readonly Candidate[],
  openGroups: ReadonlyMap<string, OpenGroup>,
  settings: GroupingSettings,
  now: Date,
  options: { sla?: SlaPolicy } = {},
): DeliveryPlan {
  const due = (findings: readonly Finding[]) => {
    const found = options.sla === undefined ? undefined : earliestDue(findings, options.sla);
    return found ? { due: found } : {};
  };
  const plan: DeliveryPlan = { deliveries: [], opens: [], retakes: [] };
  const units = new Map<string, Unit>();
  for (const candidate of candidates) {
    if (candidate.mode === 'reopen') {
      plan.deliveries.push(
        buildDelivery(candidate.finding, 'reopen', {
          destinations: candidate.destinations,
          ...(candidate.route ? { route: candidate.route } : {}),
        }),
      );
      continue;
    }
    const key = `${consolidationKey(candidate.finding) ?? candidate.finding.key}|${candidate.route?.name ?? ''}`;
    const unit = units.get(key);
    if (unit) {
      unit.findings.push(candidate.finding);
      unit.destinations = union([unit.destinations, candidate.destinations]);
    } else {
      units.set(key, {
        findings: [candidate.finding],
        destinations: candidate.destinations,
        ...(candidate.route ? { route: candidate.route } : {}),
        order: units.size,
      });
    }
  }

  const byGroup = new Map<string, Unit[]>();
  // Singles: the units no group could take, in batch order (vulnerability findings too few to group
  // among them, as before there was vulnerability grouping), then the storm units too few to group.
  const singles: Unit[] = [];
  const late: Unit[] = [];
  for (const unit of units.values()) {
    unit.findings.sort(bySeverity);
    const [first] = unit.findings;
    const key = first ? groupKeyFor(first, unit.route, settings) : undefined;
    if (!key) {
      singles.push(unit);
      continue;
    }
    byGroup.set(key, [...(byGroup.get(key) ?? []), unit]);
  }

  for (const [key, groupUnits] of byGroup) {
    const open = openGroups.get(key);
    const appending = isOpen(open, settings, now);
    const retaking = isFailedOpening(open, settings, now);
    const [firstUnit] = groupUnits;
    const vulnerability = isVulnerabilityGroupKey(key);
    const minFindings = vulnerability
      ? vulnerabilityGroupingFor(settings, firstUnit?.route).minFindings
      : settings.minFindings;
    if (!appending && !retaking && groupUnits.length < minFindings) {
      (vulnerability ? singles : late).push(...groupUnits);
      continue;
    }
    const findings = groupUnits.flatMap((unit) => unit.findings).sort(bySeverity);
    const [first] = findings;
    if (!first) continue;
    const previousCount = appending ? (open?.memberCount ?? 0) : 0;
    plan.deliveries.push(
      buildDelivery(findings, appending ? 'append' : 'new', {
        kind: 'group',
        destinations: union(groupUnits.map((unit) => unit.destinations)),
        ...(firstUnit?.route ? { route: firstUnit.route } : {}),
        ...due(findings),
        group: vulnerability
          ? vulnerabilityGroupInfo(first, key, previousCount)
          : {
              key,
              label: groupLabel(first) as string,
              accountId: first.accountId,
              ...(first.accountName ? { accountName: first.accountName } : {}),
              previousCount,
            },
      }),
    );
    if (retaking) plan.retakes.push(key);
    else if (!appending) plan.opens.push(key);
  }

  singles.sort((a, b) => a.order - b.order);
  for (const unit of [...singles, ...late]) {
    plan.deliveries.push(
      buildDelivery(unit.findings, 'new', {
        destinations: unit.destinations,
        ...(unit.route ? { route: unit.route } : {}),
        ...due(unit.findings),
      }),
    );
  }
  return plan;
}

/** Items an execution carries at most: its failure summary stays far below Step Functions' cause limit. */
export const MAX_ITEMS_PER_EXECUTION = 100;

/**
 * Split deliveries into workflow executions that stay under the Step Functions input limit (and
 * `maxItems` items). A group too large for one execution is cut into parts: the first keeps its
 * mode, the rest append.
 */
export function packExecutions<T extends WorkflowItem>(
  items: readonly T[],
  maxBytes: number,
  maxItems = MAX_ITEMS_PER_EXECUTION,
): T[][] {
  const executions: T[][] = [];
  let current: T[] = [];
  let size = 0;
  const flush = () => {
    if (current.length > 0) executions.push(current);
    current = [];
    size = 0;
  };
  for (const delivery of items.flatMap((item) =>
    'finding' in item ? (splitDelivery(item, maxBytes) as T[]) : [item],
  )) {
    const bytes = Buffer.byteLength(JSON.stringify(delivery));
    if (size + bytes > maxBytes || current.length >= maxItems) flush();
    current.push(delivery);
    size += bytes;
  }
  flush();
  return executions;
}

function splitDelivery(delivery: Delivery, maxBytes: number): Delivery[] {
  const bytes = Buffer.byteLength(JSON.stringify(delivery));
  if (bytes <= maxBytes || delivery.members.length < 2 || !delivery.group) return [delivery];
  const perPart = Math.max(1, Math.floor((delivery.members.length * maxBytes) / bytes / 1.1));
  const parts: Delivery[] = [];
  for (let start = 0; start < delivery.members.length; start += perPart) {
    const members = delivery.members.slice(start, start + perPart);
    const first = start === 0;
    parts.push({
      ...delivery,
      deliveryId: first ? delivery.deliveryId : `${delivery.deliveryId}-${start / perPart}`,
      mode: first ? delivery.mode : 'append',
      members,
      group: { ...delivery.group, previousCount: delivery.group.previousCount + start },
    });
  }
  return parts;
}
