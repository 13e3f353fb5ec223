/**
 * Use case: dispatch a batch of queued Security Hub events. Validate and normalise each finding,
 * apply the notification policy, check the ledger, plan the deliveries (consolidation, storm
 * groups) and start the workflow for them, in as few executions as the input limit allows.
 */
import {
  copyOf,
  type Delivery,
  type Destinations,
  memberKey,
  type Remark,
  type Route,
  type Suppression,
  shortHash,
  type WorkflowItem,
} from '../domain/delivery/delivery.js';
import {
  type Candidate,
  type DeliveryPlan,
  groupKeyFor,
  packExecutions,
  planDeliveries,
} from '../domain/delivery/grouping.js';
import { decideAgainstLedger, type FindingItem } from '../domain/delivery/ledger-items.js';
import { type CloseReason, transitionOf } from '../domain/delivery/lifecycle.js';
import { deliveryNote } from '../domain/delivery/note.js';
import type { Finding } from '../domain/finding/finding.js';
import { parseImportedEvent } from '../domain/finding/imported-event.js';
import { FindingValidationError } from '../domain/finding/validation-error.js';
import type { HeartbeatSource } from '../domain/heartbeat/heartbeat.js';
import {
  evaluatePolicy,
  groupingSettings,
  type NotificationPolicy,
  resolveAccountName,
} from '../domain/policy/policy.js';
import { type HeartbeatOutcome, splitHeartbeats, startHeartbeatChecks } from './dispatch-heartbeats.js';
import { type CloseOutcome, closeDeliveries } from './plan-closes.js';
import type { Clock, DeadLetterSink, DispatchLedger, Log, Rejection, WorkflowStarter } from './ports.js';

/** One queued message, as the queue delivers it. */
export interface QueuedRecord {
  messageId: string;
  body: string;
}

export type FindingOutcome =
  | {
      key: string;
      outcome: 'queued';
      mode: Delivery['mode'] | 'mark';
      deliveryId: string;
      deliveryKey: string;
    }
  | { key: string; outcome: 'filtered'; reason: string }
  | CloseOutcome
  | { key: string; outcome: 'suppressed'; rule: string }
  | { key: string; outcome: 'already-filed'; issueKey?: string; slackTs?: string }
  | HeartbeatOutcome;

export interface DispatchReport {
  outcomes: FindingOutcome[];
  rejected: Rejection[];
  executions: Array<{ name: string; deliveries: number }>;
  /** Message ids to hand back to the queue (their workflow or dead letter could not be started). */
  failedMessageIds: string[];
}

export interface DispatchSettings {
  homeRegion?: string | undefined;
  accountNames: Readonly<Record<string, string>>;
  /** This stack's heartbeat (absent: every heartbeat is filtered, none is checked). */
  heartbeat?: HeartbeatSource | undefined;
}

export interface DispatchPorts {
  settings: DispatchSettings;
  policy: NotificationPolicy;
  ledger: DispatchLedger;
  workflow: WorkflowStarter;
  deadLetter: DeadLetterSink;
  clock: Clock;
  log: Log;
}

/** Step Functions takes at most 256 KB of input: each execution is packed below this. */
export const MAX_EXECUTION_INPUT_BYTES = 200_000;

interface Parsed {
  finding: Finding;
  messageId: string;
}
interface Notified extends Parsed {
  route: Route;
  destinations: Destinations;
}
interface Suppressed extends Parsed {
  rule: string;
  note: string;
}

export async function dispatchBatch(
  records: readonly QueuedRecord[],
  ports: DispatchPorts,
): Promise<DispatchReport> {
  const report: DispatchReport = { outcomes: [], rejected: [], executions: [], failedMessageIds: [] };
  const { findings: parsed, heartbeats } = splitHeartbeats(
    mergeTwins(latestByKey(records.flatMap((record) => parseRecord(record, ports.settings, report)))),
    ports.settings.heartbeat,
    report,
  );
  const { opening, closing } = sortByTransition(parsed, report);
  const { notified, suppressed } = applyPolicy(opening, ports.policy, report);
  const { candidates, remarks } = await checkLedger(notified, ports.ledger, report);
  const plan = await planWithGroups(candidates, records, ports);
  const closes = await closeDeliveries(closing, ports.ledger, ports.policy);
  report.outcomes.push(...closes.outcomes);
  const items: WorkflowItem[] = [
    ...plan.deliveries,
    ...closes.deliveries,
    ...remarks,
    ...buildSuppressions(suppressed),
  ];
  const executions = packExecutions(items, MAX_EXECUTION_INPUT_BYTES);
  reportQueued(executions, suppressed, report);
  const messageIdOf = new Map(parsed.map((p) => [p.finding.key, p.messageId]));
  await startExecutions(executions, messageIdOf, ports, report);
  await startHeartbeatChecks(heartbeats, ports, report);
  await deadLetterRejected(ports, report);
  return report;
}

/** Step 1: an SQS body to findings; a bad event or finding becomes a rejection naming the field. */
export function parseRecord(
  record: QueuedRecord,
  settings: DispatchSettings,
  report: DispatchReport,
): Parsed[] {
  const reject = (eventId: string, field: string, reason: string, event: unknown) =>
    report.rejected.push({ eventId, field, reason, event, messageId: record.messageId });
  let event: unknown;
  try {
    event = JSON.parse(record.body);
  } catch (error) {
    reject('(unparsed)', 'body', `SQS message body is not JSON: ${(error as Error).message}`, record.body);
    return [];
  }
  try {
    const parsed = parseImportedEvent(event, {
      homeRegion: settings.homeRegion,
      accountNames: settings.accountNames,
    });
    for (const { error, index } of parsed.rejected) {
      const detail = (event as { detail: { findings: unknown[] } }).detail;
      const narrowed = { ...(event as object), detail: { ...detail, findings: [detail.findings[index]] } };
      reject(error.eventId, error.field, error.reason, narrowed);
    }
    return parsed.findings.map((finding) => ({ finding, messageId: record.messageId }));
  } catch (error) {
    if (!(error instanceof FindingValidationError)) throw error;
    reject(error.eventId, error.field, error.reason, record.body);
    return [];
  }
}

/**
 * Step 2: what each event says happened: an open finding (new or reopened) goes through the policy;
 * one fixed, gone, resolved or suppressed may close what was filed; anything else (the notifier's
 * own NOTIFIED) is nothing to do.
 */
function sortByTransition(parsed: Parsed[], report: DispatchReport) {
  const opening: Parsed[] = [];
  const closing: Array<Parsed & { reason: CloseReason }> = [];
  for (const item of parsed) {
    const transition = transitionOf(item.finding);
    if (transition.kind === 'open') opening.push(item);
    else if (transition.kind === 'close') closing.push({ ...item, reason: transition.reason });
    else {
      const { workflowStatus } = item.finding;
      report.outcomes.push({
        key: item.finding.key,
        outcome: 'filtered',
        reason: `workflow status ${workflowStatus}: nothing to do`,
      });
    }
  }
  return { opening, closing };
}

/** Step 3: the notification policy: notify (with a route), suppress, or filter. */
function applyPolicy(parsed: Parsed[], policy: NotificationPolicy, report: DispatchReport) {
  const notified: Notified[] = [];
  const suppressed: Suppressed[] = [];
  for (const item of parsed) {
    const accountName = resolveAccountName(item.finding, policy);
    if (accountName) item.finding.accountName = accountName;
    const outcome = evaluatePolicy(item.finding, policy);
    if (outcome.action === 'notify')
      notified.push({ ...item, route: outcome.route, destinations: outcome.destinations });
    else if (outcome.action === 'suppress')
      suppressed.push({ ...item, rule: outcome.rule, note: outcome.note });
    else report.outcomes.push({ key: item.finding.key, outcome: 'filtered', reason: outcome.reason });
  }
  return { notified, suppressed };
}

/** Keep the latest version of each copy (each finding, as each Security Hub reports it) the batch carries more than once. */
export function latestByKey<T extends { finding: Finding }>(candidates: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const candidate of candidates) {
    const copy = `${candidate.finding.key}|${candidate.finding.format ?? 'asff'}`;
    const seen = latest.get(copy);
    if (!seen || Date.parse(candidate.finding.updatedAt) >= Date.parse(seen.finding.updatedAt)) {
      latest.set(copy, candidate);
    }
  }
  return [...latest.values()];
}

/**
 * One underlying finding reported by both Security Hubs in one batch (CSPM's ASFF copy and the new
 * Security Hub's OCSF copy): one candidate, the latest copy describing it, the other its twin, so
 * it is filed once and both copies are marked.
 */
export function mergeTwins<T extends { finding: Finding }>(candidates: readonly T[]): T[] {
  const byKey = new Map<string, T[]>();
  for (const candidate of candidates)
    byKey.set(candidate.finding.key, [...(byKey.get(candidate.finding.key) ?? []), candidate]);
  return [...byKey.values()].map((copies) => {
    const [first, ...others] = [...copies].sort(
      (a, b) =>
        Date.parse(b.finding.updatedAt) - Date.parse(a.finding.updatedAt) ||
        Number(a.finding.format === 'ocsf') - Number(b.finding.format === 'ocsf'),
    );
    if (!first || others.length === 0) return first as T;
    return { ...first, finding: { ...first.finding, twins: others.map(({ finding }) => copyOf(finding)) } };
  });
}

/**
 * Step 3: from each finding's ledger item: new, reopened, already filed, or delivered but not
 * marked (marked again, with the note of where it was delivered).
 */
async function checkLedger(notified: Notified[], ledger: DispatchLedger, report: DispatchReport) {
  const entries = notified.length > 0 ? await ledger.getMany(notified.map((c) => c.finding.key)) : new Map();
  const candidates: Candidate[] = [];
  const unmarked: Array<{ finding: Finding; entry: FindingItem }> = [];
  for (const { finding, route, destinations } of notified) {
    const decision = decideAgainstLedger(finding, entries.get(finding.key));
    if (decision.kind === 'already-filed') {
      const { issueKey, slackTs } = decision.entry;
      report.outcomes.push({ key: finding.key, outcome: 'already-filed', issueKey, slackTs });
    } else if (decision.kind === 'mark') {
      unmarked.push({ finding, entry: decision.entry });
    } else {
      candidates.push({ finding, mode: decision.kind, route, destinations });
    }
  }
  return { candidates, remarks: buildRemarks(unmarked) };
}

/** A finding's copies to mark: its own, and its twin's from the other Security Hub. */
function toCopyMember(finding: Finding) {
  return {
    ...copyOf(finding),
    ...(finding.twins && finding.twins.length > 0 ? { twins: finding.twins } : {}),
  };
}

/** Findings delivered but not marked, one workflow item per note (the workflow marks 100 a call). */
export function buildRemarks(unmarked: ReadonlyArray<{ finding: Finding; entry: FindingItem }>): Remark[] {
  const byNote = new Map<string, Remark['members']>();
  for (const { finding, entry } of unmarked) {
    const note = deliveryNote(
      { key: entry.issueKey, url: entry.issueUrl },
      { channel: entry.slackChannel, ts: entry.slackTs },
    );
    byNote.set(note, [
      ...(byNote.get(note) ?? []),
      { ...toCopyMember(finding), updatedAt: finding.updatedAt },
    ]);
  }
  return [...byNote].map(([note, members]) => ({
    deliveryId: shortHash(`mark|${note}|${members.map((m) => `${memberKey(m)}@${m.updatedAt}`).join(',')}`),
    deliveryKey: `mark|${shortHash(note)}`,
    mode: 'mark' as const,
    note,
    members,
  }));
}

/**
 * Step 4: plan the deliveries against the open groups, opening each new group with a conditional
 * write; a group another batch opened meanwhile is appended to instead.
 */
async function planWithGroups(
  candidates: Candidate[],
  records: readonly QueuedRecord[],
  ports: DispatchPorts,
): Promise<DeliveryPlan> {
  const grouping = groupingSettings(ports.policy);
  const now = ports.clock.now();
  const groupKeys = [...new Set(candidates.flatMap((c) => groupKeyFor(c.finding, c.route, grouping) ?? []))];
  const readGroups = () =>
    groupKeys.length > 0 ? ports.ledger.getGroups(groupKeys) : Promise.resolve(new Map());
  const options = { sla: ports.policy.sla };
  let plan = planDeliveries(candidates, await readGroups(), grouping, now, options);
  const batchToken = shortHash(records.map((r) => r.messageId).join(','), 32);
  let lost = false;
  for (const key of plan.opens) {
    if (!(await ports.ledger.openGroup(key, batchToken, grouping.windowMinutes))) lost = true;
  }
  for (const key of plan.retakes) {
    if (!(await ports.ledger.retakeGroup(key, batchToken))) lost = true;
  }
  if (lost) plan = planDeliveries(candidates, await readGroups(), grouping, now, options);
  return plan;
}

/** Suppressed findings, one workflow item a rule (the workflow marks 100 a call). */
export function buildSuppressions(
  suppressed: ReadonlyArray<{ finding: Finding; rule: string; note: string }>,
): Suppression[] {
  const byRule = new Map<string, { note: string; findings: Finding[] }>();
  for (const { finding, rule, note } of suppressed) {
    const entry = byRule.get(rule) ?? { note, findings: [] };
    entry.findings.push(finding);
    byRule.set(rule, entry);
  }
  return [...byRule].map(([rule, { note, findings }]) => ({
    deliveryId: shortHash(`suppress|${rule}|${findings.map((f) => `${f.key}@${f.updatedAt}`).join(',')}`),
    deliveryKey: `suppression|${rule}`,
    mode: 'suppress' as const,
    note,
    members: findings.map(toCopyMember),
  }));
}

/** Step 5: each queued finding under the execution part that carries it. */
function reportQueued(executions: WorkflowItem[][], suppressed: Suppressed[], report: DispatchReport) {
  for (const item of executions.flat()) {
    if (item.mode === 'suppress') continue;
    for (const member of item.members) {
      report.outcomes.push({
        key: memberKey(member),
        outcome: 'queued',
        mode: item.mode,
        deliveryId: item.deliveryId,
        deliveryKey: item.deliveryKey,
      });
    }
  }
  for (const { finding, rule } of suppressed)
    report.outcomes.push({ key: finding.key, outcome: 'suppressed', rule });
}

/** The name an execution gets: the same batch redelivered by SQS gets the same name. */
export function executionName(execution: readonly WorkflowItem[]): {
  name: string;
  batchId: string;
} {
  const batchId = shortHash(execution.map((d) => d.deliveryId).join(','), 32);
  return { name: `batch-${batchId}`, batchId };
}

/** Step 6: start the workflow for each execution; one that cannot start sends its records back. */
async function startExecutions(
  executions: WorkflowItem[][],
  messageIdOf: ReadonlyMap<string, string>,
  ports: DispatchPorts,
  report: DispatchReport,
): Promise<void> {
  for (const execution of executions) {
    const { name, batchId } = executionName(execution);
    try {
      await ports.workflow.start({ batchId, deliveries: execution }, name);
      report.executions.push({ name, deliveries: execution.length });
    } catch (error) {
      ports.log.error('could not start the workflow; the batch goes back to the queue', { error, name });
      const ids = execution.flatMap((item) =>
        item.members.map((member) => messageIdOf.get(memberKey(member)) ?? []),
      );
      addFailures(report, ids.flat());
    }
  }
}

/** Step 7, after the deliveries are on their way: a failure here only sends the rejected records back. */
async function deadLetterRejected(ports: DispatchPorts, report: DispatchReport): Promise<void> {
  if (report.rejected.length === 0) return;
  try {
    await ports.deadLetter.send(report.rejected);
  } catch (error) {
    ports.log.error('could not dead-letter rejected findings; their records go back to the queue', { error });
    addFailures(
      report,
      report.rejected.map((rejection) => rejection.messageId),
    );
  }
}

function addFailures(report: DispatchReport, messageIds: readonly string[]): void {
  const failed = new Set(report.failedMessageIds);
  for (const id of messageIds) {
    if (!failed.has(id)) report.failedMessageIds.push(id);
    failed.add(id);
  }
}
