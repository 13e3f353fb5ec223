import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClientConfig } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import type { DispatchReport, FindingOutcome } from '../app/dispatch-batch.js';
import type { WorkflowInput } from '../app/ports.js';
import { DISPATCH_BATCH_SIZE } from '../config/constants.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadDispatchSettings } from '../config/settings.js';
import { chunk } from '../domain/delivery/delivery.js';
import { type FindingItem, isNotified, isOpenLifecycle } from '../domain/delivery/ledger-items.js';
import {
  buildEventPattern,
  buildEventPatternV2,
  buildTransitionPattern,
  buildTransitionPatternV2,
  matchesEventPattern,
} from '../domain/finding/event-pattern.js';
import { checkEnvelope, parseImportedEvent } from '../domain/finding/imported-event.js';
import { stringifyJson } from '../domain/finding/json.js';
import { FindingValidationError } from '../domain/finding/validation-error.js';
import { evaluatePolicy, minimumThreshold, type NotificationPolicy } from '../domain/policy/policy.js';
import * as dispatch from '../handlers/dispatch.js';
import * as fileBacklogIssue from '../handlers/file-backlog-issue.js';
import * as heartbeat from '../handlers/heartbeat.js';
import * as markFindings from '../handlers/mark-findings.js';
import * as postSlackMessage from '../handlers/post-slack-message.js';
import {
  invokedFunction,
  lambdaTask,
  loadWorkflowDefinition,
  runWorkflow,
  sdkTask,
  type TaskHandler,
  type WorkflowRun,
  withTaskTimeouts,
} from './local-workflow.js';
import { type Env, type Sandbox, startSandbox } from './sandbox.js';

export type Outcome =
  | 'notified'
  | 'reopened'
  | 'already filed'
  | 'closed'
  | 'already closed'
  | 'not filed'
  | 'filtered'
  | 'suppressed'
  | 'rejected'
  | 'failed'
  | 'heartbeat';

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
  /** Each task function's timeout, as deployed (30 s); tests make it short. */
  functionTimeoutMs?: number;
  /** Where the heartbeat's metric lines (embedded metric format) go; default: nowhere. */
  metrics?: (line: string) => void;
  print?: (line: string) => void;
}

/** An event file's line that is not an event (not JSON): rejected, kept, its neighbours go on. */
export interface UnreadableInput {
  location: string;
  reason: string;
  raw: string;
}

/** The task functions' timeout in the stack (functions/*.yml; template-tested). */
export const FUNCTION_TIMEOUT_MS = 30_000;

/**
 * Read events from files: one event, a JSON array of events, or JSON Lines. A line that is not
 * JSON is reported with `file:line` and kept; the other lines are read.
 */
export async function readEventFiles(
  paths: string[],
): Promise<{ events: unknown[]; unreadable: UnreadableInput[] }> {
  const events: unknown[] = [];
  const unreadable: UnreadableInput[] = [];
  for (const path of paths) {
    const text = (await readFile(path, 'utf8')).trim();
    if (text.length === 0) continue;
    try {
      const parsed = JSON.parse(text);
      events.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      continue;
    } catch {
      // not one JSON document: JSON Lines
    }
    text.split('\n').forEach((line, index) => {
      if (line.trim().length === 0) return;
      try {
        events.push(JSON.parse(line));
      } catch (error) {
        unreadable.push({
          location: `${path}:${index + 1}`,
          reason: `not JSON: ${(error as Error).message}`,
          raw: line,
        });
      }
    });
  }
  return { events, unreadable };
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

/**
 * Why the rule passed over an event's findings: a malformed finding is rejected naming its field
 * (as dispatch would); a sound one is filtered, in the policy's words where it can tell.
 */
function whyNotMatched(event: unknown, policy: NotificationPolicy): FindingResult[] {
  const parsed = parseImportedEvent(event);
  return [
    ...parsed.findings.map((finding): FindingResult => {
      const outcome = evaluatePolicy(finding, policy);
      const reason = outcome.action === 'filter' ? outcome.reason : PATTERN_MISMATCH;
      return {
        key: finding.key,
        outcome: 'filtered',
        detail: `not matched by the EventBridge rule: ${reason}`,
      };
    }),
    ...parsed.rejected.map(
      ({ raw, error }): FindingResult => ({
        key: rawKeys({ detail: { findings: [raw] } })[0] ?? `event ${error.eventId}`,
        outcome: 'rejected',
        detail: `event ${error.eventId}: ${error.field}: ${error.reason}`,
      }),
    ),
  ];
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

const dispatchContext = () =>
  ({
    functionName: 'dispatch',
    awsRequestId: `dispatch-local-${Date.now().toString(36)}`,
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:dispatch',
    getRemainingTimeInMillis: () => FUNCTION_TIMEOUT_MS,
  }) as never;

export interface Replayer {
  sandbox: Sandbox;
  replay(events: unknown[], unreadable?: UnreadableInput[]): Promise<ReplayResult>;
  close(): Promise<void>;
}

interface ReplayState {
  results: FindingResult[];
  rejectedEvents: unknown[];
  /** Executions dispatch started, run after it returns (StartExecution does not wait for them). */
  started: Array<{ input: WorkflowInput; name: string }>;
}

/**
 * The production path, locally: the rule's pattern, queue batches of the production size, the real
 * dispatch handler, the real workflow definition with its tasks bound to the real handlers and
 * clients (each with its own function timeout), against the emulators (or whatever endpoints the
 * environment names). Nothing aborts a replay: every finding gets its line.
 */
export async function createReplayer(options: ReplayOptions = {}): Promise<Replayer> {
  // Handler logs (Powertools JSON) would bury the replay's own report: warnings and errors only.
  const sandbox = await startSandbox({ POWERTOOLS_LOG_LEVEL: 'WARN', ...(options.env ?? process.env) });
  const env = sandbox.env;
  const print = options.print ?? ((line: string) => console.log(line));
  try {
    const settings = loadDispatchSettings(env);
    const functionTimeoutMs = options.functionTimeoutMs ?? FUNCTION_TIMEOUT_MS;
    const loaded = await loadWorkflowDefinition({
      region: env.AWS_REGION ?? 'us-east-1',
      accountId: '000000000000',
      refs: { LedgerTable: settings.ledgerTable },
    });
    // The states' timeouts stay longer than the functions' (as deployed: 40 s over 30 s).
    const definition =
      functionTimeoutMs === FUNCTION_TIMEOUT_MS
        ? loaded
        : withTaskTimeouts(loaded, Math.ceil((functionTimeoutMs * 4) / 3000));
    const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
    const task = (handler: Parameters<typeof lambdaTask>[0], name: string) =>
      lambdaTask(handler, name, functionTimeoutMs);
    const resources: Record<string, TaskHandler> = {
      fileBacklogIssue: task(
        fileBacklogIssue.makeHandler(fileBacklogIssue.defaultDeps(env)),
        'fileBacklogIssue',
      ),
      postSlackMessage: task(
        postSlackMessage.makeHandler(postSlackMessage.defaultDeps(env)),
        'postSlackMessage',
      ),
      markFindings: task(markFindings.makeHandler(markFindings.defaultDeps(env)), 'markFindings'),
      heartbeat: task(
        heartbeat.makeHandler(heartbeat.defaultDeps(env, options.metrics ?? (() => {}))),
        'heartbeat',
      ),
      'arn:aws:states:::dynamodb:updateItem': sdkTask('DynamoDB', (p) =>
        dynamo.send(new UpdateItemCommand(p as unknown as UpdateItemCommandInput)),
      ),
    };
    const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
    const threshold = minimumThreshold(policy);
    const patterns = [
      buildEventPattern(threshold),
      buildTransitionPattern(),
      buildEventPatternV2(threshold),
      buildTransitionPatternV2(),
    ];
    const ledger = new Ledger(dynamo, settings.ledgerTable);
    let replayCount = 0;
    let state: ReplayState | undefined;

    // Created once, as in a warm Lambda: its clients, settings and policy serve every replay.
    const reports: DispatchReport[] = [];
    // As Step Functions does: a name that ran already is not run again, unless that run failed
    // (then it starts under a new name, as StepFunctionsStarter does).
    const ranBefore = new Map<string, WorkflowRun['status']>();
    const outlets: dispatch.Outlets = () => ({
      workflow: {
        start: async (input, name) => {
          const before = ranBefore.get(name);
          if (before === 'SUCCEEDED') return;
          state?.started.push({
            input,
            name: before === 'FAILED' ? `${name.slice(0, 60)}-${Date.now()}` : name,
          });
        },
      },
      deadLetter: {
        send: async (rejections) => {
          for (const rejection of rejections) {
            const key = rawKeys(rejection.event)[0] ?? `event ${rejection.eventId}`;
            const detail = `event ${rejection.eventId}: ${rejection.field}: ${rejection.reason}`;
            state?.results.push({ key, outcome: 'rejected', detail });
            state?.rejectedEvents.push(rejection.event);
          }
        },
      },
    });
    const handler = dispatch.makeHandler({
      ...dispatch.defaultDeps(env, outlets),
      onReport: (report) => reports.push(report),
    });

    /** One queue batch: dispatch, then the executions it started, each to its end. */
    const runBatch = async (
      batch: unknown[],
      batchIndex: number,
      current: ReplayState,
    ): Promise<WorkflowRun[]> => {
      const records = batch.map((event, index) =>
        sqsRecord(event, `replay-${replayCount}-${batchIndex}-${index}`),
      );
      const response = (await invokedFunction.run('dispatch', () =>
        handler({ Records: records } as SQSEvent, dispatchContext()),
      )) as SQSBatchResponse;
      const runs: WorkflowRun[] = [];
      for (const { input, name } of current.started.splice(0)) {
        const run = await runWorkflow(definition, input, {
          name,
          resources,
          fastRetries: options.fastRetries,
        });
        ranBefore.set(name.replace(/-\d{13}$/, ''), run.status);
        runs.push(run);
      }
      for (const report of reports.splice(0)) {
        reportOutcomes(report, current.results);
        await collectDeliveries(report, runs, current.results, ledger);
      }
      if (response.batchItemFailures.length > 0) {
        print(
          `batch ${batchIndex}: ${response.batchItemFailures.length} record(s) would return to the queue`,
        );
      }
      return runs;
    };

    const replay = async (events: unknown[], unreadable: UnreadableInput[] = []): Promise<ReplayResult> => {
      replayCount += 1;
      const current: ReplayState = { results: [], rejectedEvents: [], started: [] };
      state = current;
      const { results, rejectedEvents } = current;
      for (const line of unreadable) {
        results.push({ key: line.location, outcome: 'rejected', detail: line.reason });
        rejectedEvents.push(line.raw);
      }
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
        } else if (patterns.some((pattern) => matchesEventPattern(event, pattern))) {
          queued.push(event);
        } else {
          const reasons = whyNotMatched(event, policy);
          results.push(...reasons);
          if (reasons.some((reason) => reason.outcome === 'rejected')) rejectedEvents.push(event);
        }
      }

      const runs: WorkflowRun[] = [];
      for (const [batchIndex, batch] of chunk(queued, DISPATCH_BATCH_SIZE).entries()) {
        try {
          runs.push(...(await runBatch(batch, batchIndex, current)));
        } catch (error) {
          // The replay goes on: this batch's findings are reported failed, the next batches run.
          for (const key of batch.flatMap(rawKeys)) {
            results.push({
              key,
              outcome: 'failed',
              detail: `batch ${batchIndex}: ${(error as Error).name}: ${(error as Error).message}`,
            });
          }
        }
      }
      state = undefined;

      const rejectedFile = await writeRejected(
        rejectedEvents,
        options.deadLetterDir ?? '.dead-letter',
        replayCount,
      );
      const exitCode = results.some((r) => r.outcome === 'rejected' || r.outcome === 'failed') ? 1 : 0;
      for (const result of results) print(formatResult(result));
      print(formatSummary(results, rejectedFile));
      return { results, runs, exitCode, ...(rejectedFile ? { rejectedFile } : {}) };
    };

    return {
      sandbox,
      replay,
      close: async () => {
        dynamo.destroy();
        await sandbox.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** Rejected input as JSON Lines (an event per line, or the unreadable line as it was), replayable. */
async function writeRejected(
  rejected: unknown[],
  dir: string,
  replayCount: number,
): Promise<string | undefined> {
  if (rejected.length === 0) return undefined;
  await mkdir(dir, { recursive: true });
  const file = resolve(
    join(dir, `replay-${new Date().toISOString().replace(/[:.]/g, '-')}-${replayCount}.jsonl`),
  );
  const lines = rejected.map((entry) => (typeof entry === 'string' ? entry : stringifyJson(entry)));
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** What dispatch decided without the workflow: filtered, suppressed, already filed, not started. */
function reportOutcomes(report: DispatchReport, results: FindingResult[]): void {
  for (const outcome of report.outcomes) {
    if (outcome.outcome === 'filtered')
      results.push({ key: outcome.key, outcome: 'filtered', detail: outcome.reason });
    if (outcome.outcome === 'suppressed')
      results.push({ key: outcome.key, outcome: 'suppressed', detail: `rule ${outcome.rule}` });
    if (outcome.outcome === 'already-filed') {
      const { key, issueKey, slackTs } = outcome;
      results.push({ key, outcome: 'already filed', issueKey, slackTs });
    }
    if (outcome.outcome === 'already-closed') results.push({ key: outcome.key, outcome: 'already closed' });
    if (outcome.outcome === 'not-filed') {
      results.push({
        key: outcome.key,
        outcome: 'not filed',
        detail: 'the notifier never filed it: nothing to close',
      });
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

/** The delivery ids an execution reports failed: its results, or its failure's cause. */
function failedDeliveries(run: WorkflowRun): Set<string> | 'all' {
  if (run.status === 'SUCCEEDED') {
    const results = (run.output as { results?: Array<{ status: string; deliveryId: string }> }).results ?? [];
    return new Set(results.filter((r) => r.status === 'failed').map((r) => r.deliveryId));
  }
  const listed = run.error === 'DeliveryFailed' ? /(\[.*\])\s*$/.exec(run.cause ?? '')?.[1] : undefined;
  if (!listed) return 'all';
  return new Set(JSON.parse(listed) as string[]);
}

/** Each queued finding's outcome: its execution's verdict, and the ledger's record of what happened. */
async function collectDeliveries(
  report: DispatchReport,
  runs: WorkflowRun[],
  results: FindingResult[],
  ledger: Pick<Ledger, 'getMany'>,
): Promise<void> {
  // A run under the execution's name, or under the new name a failed one was started again with.
  const runOf = (name: string) =>
    runs.find((run) => run.name === name || run.name.startsWith(`${name.slice(0, 60)}-`));
  const verdicts = report.executions.map((execution) => {
    const run = runOf(execution.name);
    // No run: the name ran before and succeeded; the ledger tells.
    return { run, failed: run ? failedDeliveries(run) : new Set<string>() };
  });
  // What the ledger recorded, read in batches (a storm's thousand findings: ten reads, not a thousand).
  const queued = report.outcomes.filter((outcome) => outcome.outcome === 'queued');
  const items = await ledger.getMany(queued.flatMap((outcome) => [outcome.key, outcome.deliveryKey]));
  for (const outcome of report.outcomes) {
    if (outcome.outcome === 'heartbeat') results.push(heartbeatResult(outcome.key, runOf(outcome.execution)));
    if (outcome.outcome !== 'queued') continue;
    const verdict = verdicts.find((v) => v.failed === 'all' || v.failed.has(outcome.deliveryId));
    results.push(queuedResult(outcome, verdict?.run, verdict !== undefined, items));
  }
}

/** A heartbeat's check: passed (archived, its metric emitted), or failed naming what. */
function heartbeatResult(key: string, run: WorkflowRun | undefined): FindingResult {
  if (!run) return { key, outcome: 'heartbeat', detail: 'checked before' };
  if (run.status === 'SUCCEEDED')
    return { key, outcome: 'heartbeat', detail: 'every destination checked, archived' };
  return { key, outcome: 'failed', detail: `heartbeat check: ${run.error ?? ''}: ${run.cause ?? ''}` };
}

function queuedResult(
  outcome: Extract<FindingOutcome, { outcome: 'queued' }>,
  run: WorkflowRun | undefined,
  failed: boolean,
  items: ReadonlyMap<string, FindingItem>,
): FindingResult {
  const item = items.get(outcome.key);
  const base = { key: outcome.key, issueKey: item?.issueKey, slackTs: item?.slackTs };
  if (!failed && outcome.mode === 'close' && !isOpenLifecycle(item)) {
    return { ...base, outcome: 'closed', detail: item?.closedBecause ?? '' };
  }
  if (!failed && outcome.mode !== 'close' && isNotified(item?.status)) {
    return { ...base, outcome: outcome.mode === 'reopen' ? 'reopened' : 'notified' };
  }
  const delivery = items.get(outcome.deliveryKey);
  const why = item?.markError
    ? `delivered, not marked: ${firstLine(item.markError)}`
    : item?.status === 'POSTED'
      ? `message posted, issue not filed yet: ${firstLine(delivery?.lastError ?? item.lastError ?? '')}`
      : delivery?.lastError
        ? firstLine(delivery.lastError)
        : run && run.status === 'FAILED' && run.error !== 'DeliveryFailed'
          ? `execution ${run.name}: ${run.error}: ${run.cause ?? ''}`
          : item?.status === 'MARK_PENDING'
            ? 'delivered, not marked'
            : 'no result from the workflow';
  return { ...base, outcome: 'failed', detail: why };
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
