import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Ledger } from '../adapters/ledger.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { ConfigError, type DispatchSettings, loadDispatchSettings } from '../config/settings.js';
import {
  type Delivery,
  type Destinations,
  memberKey,
  type Route,
  type Suppression,
  shortHash,
  type WorkflowInput,
} from '../domain/delivery.js';
import { FindingValidationError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import { type Candidate, groupKey, packExecutions, planDeliveries } from '../domain/grouping.js';
import { parseImportedEvent } from '../domain/imported-event.js';
import { decideAgainstLedger, type LedgerEntry } from '../domain/ledger-entry.js';
import {
  evaluatePolicy,
  groupingSettings,
  type NotificationPolicy,
  resolveAccountName,
} from '../domain/policy.js';
import { lambda, makeLogger, once } from './runtime.js';

export type FindingOutcome =
  | { key: string; outcome: 'queued'; mode: Delivery['mode']; deliveryId: string }
  | { key: string; outcome: 'filtered'; reason: string }
  | { key: string; outcome: 'suppressed'; rule: string }
  | { key: string; outcome: 'already-filed'; issueKey?: string; slackTs?: string };

export interface Rejection {
  eventId: string;
  field: string;
  reason: string;
  /** The event as received, narrowed to the rejected findings when others of it went on. */
  event: unknown;
  messageId: string;
}

export interface DispatchReport {
  outcomes: FindingOutcome[];
  rejected: Rejection[];
  executions: Array<{ name: string; deliveries: number }>;
  batchItemFailures: SQSBatchResponse['batchItemFailures'];
}

export interface DispatchDeps {
  settings: () => DispatchSettings;
  policy: () => NotificationPolicy;
  ledger: () => Pick<Ledger, 'getMany' | 'getGroups' | 'openGroup'>;
  now?: () => Date;
  startWorkflow: (input: WorkflowInput, name: string) => Promise<void>;
  /** Keeps rejected input (production: the dead-letter queue). */
  deadLetter: (rejections: Rejection[]) => Promise<void>;
  logger: Logger;
  onReport?: (report: DispatchReport) => void;
}

interface Parsed {
  finding: Finding;
  messageId: string;
}

function parseRecord(record: SQSRecord, settings: DispatchSettings, report: DispatchReport): Parsed[] {
  let event: unknown;
  try {
    event = JSON.parse(record.body);
  } catch (error) {
    const reason = `SQS message body is not JSON: ${(error as Error).message}`;
    report.rejected.push({
      eventId: '(unparsed)',
      field: 'body',
      reason,
      event: record.body,
      messageId: record.messageId,
    });
    return [];
  }
  try {
    const parsed = parseImportedEvent(event, {
      homeRegion: settings.homeRegion,
      accountNames: settings.accountNames,
    });
    for (const { error, index } of parsed.rejected) {
      const detail = (event as { detail: { findings: unknown[] } }).detail;
      report.rejected.push({
        eventId: error.eventId,
        field: error.field,
        reason: error.reason,
        event: { ...(event as object), detail: { ...detail, findings: [detail.findings[index]] } },
        messageId: record.messageId,
      });
    }
    return parsed.findings.map((finding) => ({ finding, messageId: record.messageId }));
  } catch (error) {
    if (!(error instanceof FindingValidationError)) throw error;
    report.rejected.push({
      eventId: error.eventId,
      field: error.field,
      reason: error.reason,
      event,
      messageId: record.messageId,
    });
    return [];
  }
}

/** Keep the latest version of each finding the batch carries more than once. */
function latestByKey<T extends { finding: Finding }>(candidates: T[]): T[] {
  const latest = new Map<string, T>();
  for (const candidate of candidates) {
    const seen = latest.get(candidate.finding.key);
    if (!seen || Date.parse(candidate.finding.updatedAt) >= Date.parse(seen.finding.updatedAt)) {
      latest.set(candidate.finding.key, candidate);
    }
  }
  return [...latest.values()];
}

/** Step Functions takes at most 256 KB of input: each execution is packed below this. */
export const MAX_EXECUTION_INPUT_BYTES = 200_000;

interface Notified extends Parsed {
  route: Route;
  destinations: Destinations;
}

/** Suppressed findings, one workflow item a rule (the workflow marks 100 a call). */
function buildSuppressions(
  suppressed: Array<{ finding: Finding; rule: string; note: string }>,
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
    members: findings.map((finding) => ({ identifier: finding.identifier })),
  }));
}

/**
 * Validate and normalise each queued event, apply the notification policy, check the ledger, plan
 * the deliveries (consolidation, storm groups) and start the workflow for them, in as few executions
 * as the input limit allows.
 */
export async function dispatchBatch(records: SQSRecord[], deps: DispatchDeps): Promise<DispatchReport> {
  const settings = deps.settings();
  const policy = deps.policy();
  const report: DispatchReport = { outcomes: [], rejected: [], executions: [], batchItemFailures: [] };

  const notified: Notified[] = [];
  const suppressed: Array<Parsed & { rule: string; note: string }> = [];
  for (const record of records) {
    for (const parsed of parseRecord(record, settings, report)) {
      const accountName = resolveAccountName(parsed.finding, policy);
      if (accountName) parsed.finding.accountName = accountName;
      const outcome = evaluatePolicy(parsed.finding, policy);
      if (outcome.action === 'notify')
        notified.push({ ...parsed, route: outcome.route, destinations: outcome.destinations });
      else if (outcome.action === 'suppress')
        suppressed.push({ ...parsed, rule: outcome.rule, note: outcome.note });
      else report.outcomes.push({ key: parsed.finding.key, outcome: 'filtered', reason: outcome.reason });
    }
  }

  const unique = latestByKey(notified);
  const ledger = deps.ledger();
  const entries: Map<string, LedgerEntry> =
    unique.length > 0 ? await ledger.getMany(unique.map((c) => c.finding.key)) : new Map();

  const candidates: Candidate[] = [];
  const messageIdOf = new Map<string, string>();
  for (const { finding, messageId, route, destinations } of unique) {
    const decision = decideAgainstLedger(finding, entries.get(finding.key));
    if (decision.kind === 'already-filed') {
      const { issueKey, slackTs } = decision.entry;
      report.outcomes.push({ key: finding.key, outcome: 'already-filed', issueKey, slackTs });
      continue;
    }
    candidates.push({ finding, mode: decision.kind, route, destinations });
    messageIdOf.set(finding.key, messageId);
  }

  const grouping = groupingSettings(policy);
  const now = deps.now?.() ?? new Date();
  const groupKeys = [...new Set(candidates.flatMap((c) => groupKey(c.finding, c.route) ?? []))];
  let groups = groupKeys.length > 0 && grouping.enabled ? await ledger.getGroups(groupKeys) : new Map();
  let plan = planDeliveries(candidates, groups, grouping, now);
  // Open each new group with a conditional write; one another batch opened meanwhile is appended to.
  const batchToken = shortHash(records.map((r) => r.messageId).join(','), 32);
  const lost: string[] = [];
  for (const key of plan.opens) {
    if (!(await ledger.openGroup(key, batchToken, grouping.windowMinutes))) lost.push(key);
  }
  if (lost.length > 0) {
    groups = await ledger.getGroups(groupKeys);
    plan = planDeliveries(candidates, groups, grouping, now);
  }

  const items: Array<Delivery | Suppression> = [...plan.deliveries, ...buildSuppressions(suppressed)];
  // Packed first: a group too large for one execution is split, and each part reports its own id.
  const executions = packExecutions(items, MAX_EXECUTION_INPUT_BYTES);
  for (const item of executions.flat()) {
    if (item.mode === 'suppress') continue;
    for (const member of item.members) {
      report.outcomes.push({
        key: memberKey(member),
        outcome: 'queued',
        mode: item.mode,
        deliveryId: item.deliveryId,
      });
    }
  }
  for (const { finding, rule } of suppressed) {
    report.outcomes.push({ key: finding.key, outcome: 'suppressed', rule });
  }

  for (const execution of executions) {
    // The same batch redelivered by SQS gets the same name: StartExecution is then a no-op.
    const batchId = shortHash(execution.map((d) => d.deliveryId).join(','), 32);
    const name = `batch-${batchId}`;
    try {
      await deps.startWorkflow({ batchId, deliveries: execution }, name);
      report.executions.push({ name, deliveries: execution.length });
    } catch (error) {
      deps.logger.error('could not start the workflow; the batch goes back to the queue', { error, name });
      const failed = new Set(report.batchItemFailures.map((f) => f.itemIdentifier));
      for (const item of execution) {
        for (const member of item.members) {
          const messageId = messageIdOf.get(memberKey(member)) ?? suppressedMessageId(suppressed, member);
          if (messageId && !failed.has(messageId)) {
            report.batchItemFailures.push({ itemIdentifier: messageId });
            failed.add(messageId);
          }
        }
      }
    }
  }

  // After the deliveries are on their way: a failure here only sends the rejected records back.
  if (report.rejected.length > 0) {
    try {
      await deps.deadLetter(report.rejected);
    } catch (error) {
      deps.logger.error('could not dead-letter rejected findings; their records go back to the queue', {
        error,
      });
      const failed = new Set(report.batchItemFailures.map((failure) => failure.itemIdentifier));
      for (const { messageId } of report.rejected) {
        if (!failed.has(messageId)) report.batchItemFailures.push({ itemIdentifier: messageId });
        failed.add(messageId);
      }
    }
  }
  return report;
}

function suppressedMessageId(
  suppressed: Array<Parsed & { rule: string }>,
  member: { identifier: { Id: string; ProductArn: string } },
): string | undefined {
  return suppressed.find((s) => s.finding.key === memberKey(member))?.messageId;
}

export function makeHandler(deps: DispatchDeps) {
  return lambda<SQSEvent, SQSBatchResponse>(deps.logger, async (event) => {
    const report = await dispatchBatch(event.Records, deps);
    for (const rejection of report.rejected) {
      deps.logger.warn('finding rejected and dead-lettered', {
        eventId: rejection.eventId,
        field: rejection.field,
        reason: rejection.reason,
      });
    }
    deps.logger.info('batch dispatched', {
      records: event.Records.length,
      outcomes: report.outcomes.length,
      rejected: report.rejected.length,
      executions: report.executions,
    });
    deps.onReport?.(report);
    return { batchItemFailures: report.batchItemFailures };
  });
}

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): DispatchDeps {
  const settings = once(() => loadDispatchSettings(env));
  const sfn = new SFNClient({});
  const sqs = new SQSClient({});
  const ledger = once(() => new Ledger(new DynamoDBClient({}), settings().ledgerTable));
  return {
    settings,
    policy: once(() => loadPolicyFile(settings().policyFile, policyDefaultsFromEnv(env))),
    ledger,
    logger: makeLogger(),
    startWorkflow: async (input, name) => {
      const stateMachineArn = settings().stateMachineArn;
      if (!stateMachineArn) throw new ConfigError('STATE_MACHINE_ARN: required');
      const start = (executionName: string) =>
        sfn.send(
          new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }),
        );
      try {
        await start(name);
      } catch (error) {
        if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
        // Running or succeeded under this name: this batch is handled. Failed, timed out or
        // aborted (a redrive after a fix): deliver it again under a new name.
        const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
        const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (status === 'RUNNING' || status === 'SUCCEEDED' || status === 'PENDING_REDRIVE') return;
        await start(`${name.slice(0, 60)}-${Date.now()}`);
      }
    },
    deadLetter: async (rejections) => {
      const queueUrl = env.DEAD_LETTER_QUEUE_URL;
      if (!queueUrl) throw new ConfigError('DEAD_LETTER_QUEUE_URL: required to keep rejected findings');
      for (const rejection of rejections) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(rejection.event),
            MessageAttributes: {
              rejectedField: { DataType: 'String', StringValue: rejection.field },
              rejectedReason: { DataType: 'String', StringValue: rejection.reason.slice(0, 1000) },
              eventId: { DataType: 'String', StringValue: rejection.eventId },
            },
          }),
        );
      }
    },
  };
}

export const handler = makeHandler(defaultDeps());
