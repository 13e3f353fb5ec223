import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Ledger } from '../adapters/ledger.js';
import { ConfigError, type DispatchSettings, loadDispatchSettings } from '../config/settings.js';
import { buildDelivery, type Delivery, shortHash, type WorkflowInput } from '../domain/delivery.js';
import { FindingValidationError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import { parseImportedEvent } from '../domain/imported-event.js';
import { decideAgainstLedger, type LedgerEntry } from '../domain/ledger-entry.js';
import { decideNotification } from '../domain/notification-policy.js';
import { lambda, makeLogger, once } from './runtime.js';

export type FindingOutcome =
  | { key: string; outcome: 'queued'; mode: Delivery['mode']; deliveryId: string }
  | { key: string; outcome: 'filtered'; reason: string }
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
  ledger: () => Pick<Ledger, 'getMany'>;
  startWorkflow: (input: WorkflowInput, name: string) => Promise<void>;
  /** Keeps rejected input (production: the dead-letter queue). */
  deadLetter: (rejections: Rejection[]) => Promise<void>;
  logger: Logger;
  onReport?: (report: DispatchReport) => void;
}

interface Candidate {
  finding: Finding;
  messageId: string;
}

function parseRecord(record: SQSRecord, settings: DispatchSettings, report: DispatchReport): Candidate[] {
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
function latestByKey(candidates: Candidate[]): Candidate[] {
  const latest = new Map<string, Candidate>();
  for (const candidate of candidates) {
    const seen = latest.get(candidate.finding.key);
    if (!seen || Date.parse(candidate.finding.updatedAt) >= Date.parse(seen.finding.updatedAt)) {
      latest.set(candidate.finding.key, candidate);
    }
  }
  return [...latest.values()];
}

/**
 * Validate and normalise each queued event, apply the rule's conditions, check the ledger, and
 * start one workflow execution for the batch's deliveries.
 */
export async function dispatchBatch(records: SQSRecord[], deps: DispatchDeps): Promise<DispatchReport> {
  const settings = deps.settings();
  const report: DispatchReport = { outcomes: [], rejected: [], executions: [], batchItemFailures: [] };

  const candidates: Candidate[] = [];
  for (const record of records) {
    for (const candidate of parseRecord(record, settings, report)) {
      const decision = decideNotification(candidate.finding, settings);
      if (decision.notify) candidates.push(candidate);
      else report.outcomes.push({ key: candidate.finding.key, outcome: 'filtered', reason: decision.reason });
    }
  }

  const unique = latestByKey(candidates);
  const entries: Map<string, LedgerEntry> =
    unique.length > 0 ? await deps.ledger().getMany(unique.map((c) => c.finding.key)) : new Map();

  const deliveries: Delivery[] = [];
  const contributors = new Set<string>();
  for (const { finding, messageId } of unique) {
    const decision = decideAgainstLedger(finding, entries.get(finding.key));
    if (decision.kind === 'already-filed') {
      const { issueKey, slackTs } = decision.entry;
      report.outcomes.push({ key: finding.key, outcome: 'already-filed', issueKey, slackTs });
      continue;
    }
    const delivery = buildDelivery(finding, decision.kind);
    deliveries.push(delivery);
    contributors.add(messageId);
    report.outcomes.push({
      key: finding.key,
      outcome: 'queued',
      mode: delivery.mode,
      deliveryId: delivery.deliveryId,
    });
  }

  if (deliveries.length > 0) {
    // The same batch redelivered by SQS gets the same name: StartExecution is then a no-op.
    const batchId = shortHash(deliveries.map((d) => d.deliveryId).join(','), 32);
    const name = `batch-${batchId}`;
    try {
      await deps.startWorkflow({ batchId, deliveries }, name);
      report.executions.push({ name, deliveries: deliveries.length });
    } catch (error) {
      deps.logger.error('could not start the workflow; the batch goes back to the queue', { error, name });
      for (const messageId of contributors) report.batchItemFailures.push({ itemIdentifier: messageId });
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
