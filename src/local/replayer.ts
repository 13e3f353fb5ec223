import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import {
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandInput,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClientConfig } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import type { DispatchReport } from '../app/dispatch-batch.js';
import { DISPATCH_BATCH_SIZE } from '../config/constants.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadDispatchSettings } from '../config/settings.js';
import { chunk } from '../domain/delivery/delivery.js';
import { buildEventPattern, matchesEventPattern } from '../domain/finding/event-pattern.js';
import { checkEnvelope, parseImportedEvent } from '../domain/finding/imported-event.js';
import { FindingValidationError } from '../domain/finding/validation-error.js';
import { evaluatePolicy, minimumThreshold, type NotificationPolicy } from '../domain/policy/policy.js';
import * as dispatch from '../handlers/dispatch.js';
import * as fileBacklogIssue from '../handlers/file-backlog-issue.js';
import * as postSlackMessage from '../handlers/post-slack-message.js';
import {
  lambdaTask,
  loadWorkflowDefinition,
  runWorkflow,
  sdkTask,
  type TaskHandler,
  type WorkflowRun,
} from './local-workflow.js';
import { type Env, type Sandbox, startSandbox } from './sandbox.js';

export type Outcome =
  | 'notified'
  | 'reopened'
  | 'already filed'
  | 'filtered'
  | 'suppressed'
  | 'rejected'
  | 'failed';

export interface FindingResult {
  key: string;
  outcome: Outcome;
  issueKey?: string;
  slackTs?: string;
  detail?: string;
}

export interface ReplayResult {
  results: FindingResult[];
  runs: WorkflowRun[];
  rejectedFile?: string;
  exitCode: number;
}

export interface ReplayOptions {
  env?: Env;
  /** Where rejected events are written (JSON Lines, replayable). */
  deadLetterDir?: string;
  /** Tests: the definition's retries and waits take milliseconds. */
  fastRetries?: boolean;
  print?: (line: string) => void;
}

/** One iteration of the workflow's Map: the `Delivered` or `DeliveryFailed` state's output. */
type DeliveryResult =
  | {
      status: 'delivered';
      deliveryId: string;
      mode: string;
      issue: { key: string; url: string; created: boolean };
      slack: { channel: string; ts: string; posted: boolean };
      marked: Array<{ identifiers: number; retried: Array<{ status: string; errorCode?: string }> }>;
    }
  | { status: 'failed'; deliveryId: string; deliveryKey: string; error: string };

/** Read events from files: one event, a JSON array of events, or JSON Lines. */
export async function readEventFiles(paths: string[]): Promise<unknown[]> {
  const events: unknown[] = [];
  for (const path of paths) {
    const text = (await readFile(path, 'utf8')).trim();
    if (text.length === 0) continue;
    try {
      const parsed = JSON.parse(text);
      events.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    } catch {
      text.split('\n').forEach((line, index) => {
        if (line.trim().length === 0) return;
        try {
          events.push(JSON.parse(line));
        } catch (error) {
          throw new Error(`${path}:${index + 1}: not JSON: ${(error as Error).message}`);
        }
      });
    }
  }
  return events;
}

function rawKeys(event: unknown): string[] {
  const findings = (event as { detail?: { findings?: unknown } })?.detail?.findings;
  if (!Array.isArray(findings)) return [];
  return findings.map(
    (f: { ProductArn?: unknown; Id?: unknown }) => `${String(f?.ProductArn)}|${String(f?.Id)}`,
  );
}

const PATTERN_MISMATCH =
  'a field the pattern requires (Workflow.Status, RecordState, Severity.Label) is missing or differs';

/** Why the rule passed over an event's findings, in the policy's words where it can tell. */
function whyNotMatched(event: unknown, policy: NotificationPolicy): Array<{ key: string; reason: string }> {
  try {
    const parsed = parseImportedEvent(event);
    const reasons = parsed.findings.map((finding) => {
      const outcome = evaluatePolicy(finding, policy);
      return { key: finding.key, reason: outcome.action === 'filter' ? outcome.reason : PATTERN_MISMATCH };
    });
    return [
      ...reasons,
      ...parsed.rejected.map(({ raw }) => ({
        key: rawKeys({ detail: { findings: [raw] } })[0] ?? '?',
        reason: PATTERN_MISMATCH,
      })),
    ];
  } catch {
    return rawKeys(event).map((key) => ({ key, reason: PATTERN_MISMATCH }));
  }
}

/** The envelope's problem, in the words dispatch would reject it with; undefined when it is sound. */
function envelopeProblem(event: unknown): FindingValidationError | undefined {
  try {
    checkEnvelope(event);
    return undefined;
  } catch (error) {
    if (error instanceof FindingValidationError) return error;
    throw error;
  }
}

function resultsOf(run: WorkflowRun): DeliveryResult[] {
  if (run.status === 'SUCCEEDED') return (run.output as { results: DeliveryResult[] }).results;
  if (run.error === 'DeliveryFailed' && run.cause) return JSON.parse(run.cause) as DeliveryResult[];
  return [];
}

const fakeContext = (functionName: string) =>
  ({
    functionName,
    awsRequestId: `${functionName}-local`,
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    getRemainingTimeInMillis: () => 30_000,
  }) as never;

export interface Replayer {
  sandbox: Sandbox;
  replay(events: unknown[]): Promise<ReplayResult>;
  close(): Promise<void>;
}

/**
 * The production path, locally: the rule's pattern, queue batches of the production size, the real
 * dispatch handler, the real workflow definition with its tasks bound to the real handlers and
 * clients, against the emulators (or whatever endpoints the environment names).
 */
export async function createReplayer(options: ReplayOptions = {}): Promise<Replayer> {
  // Handler logs (Powertools JSON) would bury the replay's own report: warnings and errors only.
  const sandbox = await startSandbox({ POWERTOOLS_LOG_LEVEL: 'WARN', ...(options.env ?? process.env) });
  const env = sandbox.env;
  const print = options.print ?? ((line: string) => console.log(line));
  try {
    const settings = loadDispatchSettings(env);
    const definition = await loadWorkflowDefinition({
      region: env.AWS_REGION ?? 'us-east-1',
      accountId: '000000000000',
      refs: { LedgerTable: settings.ledgerTable },
    });
    const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
    const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
    const resources: Record<string, TaskHandler> = {
      fileBacklogIssue: lambdaTask(
        fileBacklogIssue.makeHandler(fileBacklogIssue.defaultDeps(env)),
        'fileBacklogIssue',
      ),
      postSlackMessage: lambdaTask(
        postSlackMessage.makeHandler(postSlackMessage.defaultDeps(env)),
        'postSlackMessage',
      ),
      'arn:aws:states:::aws-sdk:securityhub:batchUpdateFindings': sdkTask('SecurityHub', (p) =>
        securityHub.send(new BatchUpdateFindingsCommand(p as unknown as BatchUpdateFindingsCommandInput)),
      ),
      'arn:aws:states:::dynamodb:updateItem': sdkTask('DynamoDB', (p) =>
        dynamo.send(new UpdateItemCommand(p as unknown as UpdateItemCommandInput)),
      ),
    };
    const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
    const pattern = buildEventPattern(minimumThreshold(policy));
    const ledger = new Ledger(dynamo, settings.ledgerTable);
    let replayCount = 0;

    // What the current replay's dispatch started and rejected: the local outlets of the handler.
    let current: { runs: WorkflowRun[]; results: FindingResult[]; rejectedEvents: unknown[] } | undefined;
    const outlets: dispatch.Outlets = () => ({
      workflow: {
        start: async (input, name) => {
          current?.runs.push(
            await runWorkflow(definition, input, { name, resources, fastRetries: options.fastRetries }),
          );
        },
      },
      deadLetter: {
        send: async (rejections) => {
          for (const rejection of rejections) {
            const key = rawKeys(rejection.event)[0] ?? `event ${rejection.eventId}`;
            current?.results.push({
              key,
              outcome: 'rejected',
              detail: `event ${rejection.eventId}: ${rejection.field}: ${rejection.reason}`,
            });
            current?.rejectedEvents.push(rejection.event);
          }
        },
      },
    });
    // Created once, as in a warm Lambda: its clients, settings and policy serve every replay.
    const reports: DispatchReport[] = [];
    const base = dispatch.defaultDeps(env, outlets);
    const handler = dispatch.makeHandler({ ...base, onReport: (report) => reports.push(report) });

    const replay = async (events: unknown[]): Promise<ReplayResult> => {
      replayCount += 1;
      const state = {
        runs: [] as WorkflowRun[],
        results: [] as FindingResult[],
        rejectedEvents: [] as unknown[],
      };
      current = state;
      const { results, runs, rejectedEvents } = state;
      const queued: unknown[] = [];
      for (const event of events) {
        const problem = envelopeProblem(event);
        if (problem) {
          results.push({
            key: `event ${problem.eventId}`,
            outcome: 'rejected',
            detail: `${problem.field}: ${problem.reason}`,
          });
          rejectedEvents.push(event);
        } else if (matchesEventPattern(event, pattern)) {
          queued.push(event);
        } else {
          for (const { key, reason } of whyNotMatched(event, policy)) {
            results.push({
              key,
              outcome: 'filtered',
              detail: `not matched by the EventBridge rule: ${reason}`,
            });
          }
        }
      }

      for (const [batchIndex, batch] of chunk(queued, DISPATCH_BATCH_SIZE).entries()) {
        const records = batch.map((event, index) =>
          sqsRecord(event, `replay-${replayCount}-${batchIndex}-${index}`),
        );
        const response = (await handler(
          { Records: records } as SQSEvent,
          fakeContext('dispatch'),
        )) as SQSBatchResponse;
        for (const report of reports.splice(0)) {
          reportOutcomes(report, results);
          const reportRuns = runs.filter((candidate) =>
            report.executions.some((e) => e.name === candidate.name),
          );
          await collectDeliveries(report, reportRuns, results, ledger);
        }
        if (response.batchItemFailures.length > 0) {
          print(
            `batch ${batchIndex}: ${response.batchItemFailures.length} record(s) would return to the queue`,
          );
        }
      }
      current = undefined;

      let rejectedFile: string | undefined;
      if (rejectedEvents.length > 0) {
        const dir = options.deadLetterDir ?? '.dead-letter';
        await mkdir(dir, { recursive: true });
        rejectedFile = resolve(
          join(dir, `replay-${new Date().toISOString().replace(/[:.]/g, '-')}-${replayCount}.jsonl`),
        );
        await writeFile(rejectedFile, `${rejectedEvents.map((e) => JSON.stringify(e)).join('\n')}\n`);
      }
      const exitCode = results.some((r) => r.outcome === 'rejected' || r.outcome === 'failed') ? 1 : 0;
      for (const result of results) print(formatResult(result));
      print(formatSummary(results, rejectedFile));
      const replayResult: ReplayResult = { results, runs, exitCode };
      if (rejectedFile) replayResult.rejectedFile = rejectedFile;
      return replayResult;
    };

    return {
      sandbox,
      replay,
      close: async () => {
        securityHub.destroy();
        dynamo.destroy();
        await sandbox.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** What dispatch decided without the workflow: filtered, suppressed, already filed, not started. */
function reportOutcomes(report: DispatchReport, results: FindingResult[]): void {
  for (const outcome of report.outcomes) {
    if (outcome.outcome === 'filtered')
      results.push({ key: outcome.key, outcome: 'filtered', detail: outcome.reason });
    if (outcome.outcome === 'suppressed') {
      results.push({ key: outcome.key, outcome: 'suppressed', detail: `rule ${outcome.rule}` });
    }
    if (outcome.outcome === 'already-filed') {
      const { key, issueKey, slackTs } = outcome;
      results.push({ key, outcome: 'already filed', issueKey, slackTs });
    }
  }
  if (report.failedMessageIds.length > 0) {
    results.push({ key: 'batch', outcome: 'failed', detail: 'the workflow could not be started' });
  }
}

function sqsRecord(event: unknown, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body: JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:securityhub-notifier-buffer',
    awsRegion: 'local',
  };
}

/** Each queued finding's outcome, from its execution's results; a failure's cause from the ledger. */
async function collectDeliveries(
  report: DispatchReport,
  runs: WorkflowRun[],
  results: FindingResult[],
  ledger: Pick<Ledger, 'get'>,
): Promise<void> {
  const deliveries = runs.flatMap(resultsOf);
  const failedRun = runs.find((run) => run.status === 'FAILED' && run.error !== 'DeliveryFailed');
  for (const outcome of report.outcomes) {
    if (outcome.outcome !== 'queued') continue;
    const delivery = deliveries.find((d) => d.deliveryId === outcome.deliveryId);
    if (delivery?.status === 'delivered') {
      const unprocessed = delivery.marked
        .flatMap((chunk) => chunk.retried)
        .filter((r) => r.status !== 'marked');
      const base = { key: outcome.key, issueKey: delivery.issue.key, slackTs: delivery.slack.ts };
      if (unprocessed.length > 0) {
        const codes = [...new Set(unprocessed.map((u) => u.errorCode))].join(', ');
        results.push({ ...base, outcome: 'failed', detail: `delivered, not marked NOTIFIED: ${codes}` });
      } else {
        results.push({ ...base, outcome: outcome.mode === 'reopen' ? 'reopened' : 'notified' });
      }
    } else if (delivery?.status === 'failed') {
      const recorded = (await ledger.get(delivery.deliveryKey))?.lastError;
      results.push({
        key: outcome.key,
        outcome: 'failed',
        detail: recorded ? firstLine(recorded) : delivery.error,
      });
    } else {
      const detail = failedRun
        ? `execution ${failedRun.name}: ${failedRun.error}: ${failedRun.cause ?? ''}`
        : 'no result from the workflow';
      results.push({ key: outcome.key, outcome: 'failed', detail });
    }
  }
}

/** `Error: Cause` as recorded; a Lambda cause is JSON with errorType and errorMessage. */
function firstLine(recorded: string): string {
  const separator = recorded.indexOf(': ');
  const [error, cause] =
    separator < 0 ? ['', recorded] : [recorded.slice(0, separator), recorded.slice(separator + 2)];
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) return `${error}: ${parsed.errorMessage}`;
  } catch {
    // not JSON: a plain message
  }
  return `${error}: ${cause.split('\n')[0] ?? cause}`;
}

export function formatResult(result: FindingResult): string {
  const parts = [
    result.outcome.padEnd(13),
    result.key,
    `issue=${result.issueKey ?? '-'}`,
    `ts=${result.slackTs ?? '-'}`,
  ];
  if (result.detail) parts.push(`(${result.detail})`);
  return parts.join('  ');
}

export function formatSummary(results: FindingResult[], rejectedFile?: string): string {
  const counts = new Map<string, number>();
  for (const result of results) counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
  const parts = [...counts].map(([outcome, count]) => `${count} ${outcome}`);
  const line = `summary: ${results.length} finding(s): ${parts.join(', ') || 'nothing to do'}`;
  return rejectedFile ? `${line}\nrejected events written to ${rejectedFile}` : line;
}
