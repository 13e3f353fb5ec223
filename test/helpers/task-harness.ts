import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BacklogTracker, type BacklogTrackerOptions } from '../../src/adapters/backlog.js';
import { Ledger } from '../../src/adapters/ledger.js';
import { SlackPoster, type SlackPosterOptions } from '../../src/adapters/slack.js';
import { LedgerError } from '../../src/app/errors.js';
import { type FileIssueInput, type FileIssuePorts, fileIssue } from '../../src/app/file-issue.js';
import { type IssueTarget, systemClock, type Timing } from '../../src/app/ports.js';
import {
  type PostedMessage,
  type PostMessageInput,
  type PostMessagePorts,
  postMessage,
} from '../../src/app/post-message.js';
import { isWait, type WaitResult } from '../../src/app/task-results.js';
import { findingMarker, markerLine } from '../../src/domain/backlog/marker.js';
import { buildDelivery, type DeliveryMode, type IssueRef } from '../../src/domain/delivery/delivery.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { makeLogger } from '../../src/handlers/runtime.js';
import {
  type BacklogEmulator,
  type BacklogIssueRecord,
  type BacklogProjectOptions,
  startBacklogEmulator,
} from '../../src/local/emulators/backlog-emulator.js';
import { type DynamoEmulator, ensureLedgerTable, startDynamo } from '../../src/local/emulators/dynamo.js';
import {
  type SlackCall,
  type SlackEmulator,
  type SlackMessage,
  startSlackEmulator,
} from '../../src/local/emulators/slack-emulator.js';
import { type ImportedEvent, loadEvent, withFinding } from './events.js';

export const BACKLOG_KEY_PARAMETER = '/shn/test/backlog-api-key';
export const SLACK_TOKEN_PARAMETER = '/shn/test/slack-bot-token';
export const SLACK_CHANNEL = '#security-alerts';
export const HOME_REGION = 'us-east-1';

/** A markdown project (the default target) and a project using Backlog notation. */
export const MARKDOWN_PROJECT = 'SEC';
export const BACKLOG_NOTATION_PROJECT = 'OPS';
const DEFAULT_PROJECTS: BacklogProjectOptions[] = [
  { key: MARKDOWN_PROJECT, textFormattingRule: 'markdown', issueTypes: ['Bug', 'Task', 'Security'] },
  { key: BACKLOG_NOTATION_PROJECT, textFormattingRule: 'backlog', issueTypes: ['Task'] },
];
const DEFAULT_TARGET: IssueTarget = { projectKey: MARKDOWN_PROJECT, issueTypeName: 'Task' };

/** A Backlog answer as the tracker's fetch saw it: what a 429's `X-RateLimit-Reset` said, and when. */
export interface BacklogResponse {
  method: string;
  url: string;
  status: number;
  /** `X-RateLimit-Reset`, epoch seconds. */
  rateLimitReset: number;
  receivedAt: number;
}

export interface TaskHarness {
  slack: SlackEmulator;
  backlog: BacklogEmulator;
  dynamo: DynamoEmulator;
  dynamoClient: DynamoDBClient;
  table: string;
  ledger: Ledger;
  /** Every wait a task handed to the workflow, in ms (waited out in ~1 ms). */
  backlogWaits: number[];
  slackWaits: number[];
  backlogResponses: BacklogResponse[];
  tracker: BacklogTracker;
  poster: SlackPoster;
  fileIssueDeps: FileIssuePorts;
  postMessageDeps: PostMessagePorts;
  /** A real tracker on the emulator, the harness's options overridden. */
  makeTracker(overrides?: Partial<BacklogTrackerOptions>): BacklogTracker;
  makePoster(overrides?: Partial<SlackPosterOptions>): SlackPoster;
  makeFileIssueDeps(overrides?: {
    tracker?: BacklogTracker;
    target?: Partial<IssueTarget>;
    timing?: Partial<Timing>;
  }): FileIssuePorts;
  makePostMessageDeps(overrides?: {
    poster?: SlackPoster;
    channel?: string;
    timing?: Partial<Timing>;
  }): PostMessagePorts;
  /** One FileBacklogIssue task as the workflow runs it: a fresh attempt, its waits waited out (recorded in backlogWaits). */
  fileIssue(input: TaskInput<FileIssueInput>, ports?: FileIssuePorts): Promise<IssueRef>;
  /** One PostSlackMessage task as the workflow runs it (its waits recorded in slackWaits). */
  postMessage(input: TaskInput<PostMessageInput>, ports?: PostMessagePorts): Promise<PostedMessage>;
  /** The issues whose description carries this finding's marker line. */
  issuesOf(findingKey: string): BacklogIssueRecord[];
  /** Slack messages / chat.postMessage calls carrying this text (e.g. a finding's unique Id part). */
  messagesWith(text: string): SlackMessage[];
  postCallsWith(text: string): SlackCall[];
  close(): Promise<void>;
}

export interface TaskHarnessOptions {
  projects?: BacklogProjectOptions[];
  target?: IssueTarget;
  channel?: string;
}

/** The harness's timing: an earlier attempt's outcome settles at once. */
export const HARNESS_TIMING: Timing = { settleMs: 0, maxWaitSeconds: 30 };

/** A task input, its attempt optional (each run gets a fresh one, as each Lambda invocation does). */
export type TaskInput<T extends { attempt: string }> = Omit<T, 'attempt'> & { attempt?: string };

/**
 * Run a task as the workflow does: a fresh attempt id each call; a wait result is recorded in
 * `waits` (ms), waited out in ~1 ms and the task called again, at most 6 times.
 */
export async function runTask<I extends { attempt: string }, R>(
  task: (input: I) => Promise<R | WaitResult>,
  input: TaskInput<I>,
  waits: number[] = [],
): Promise<R> {
  for (let wait = 0; ; wait++) {
    const result = await task({ ...input, attempt: input.attempt ?? randomUUID() } as I);
    if (!isWait(result)) return result;
    if (wait >= 6) throw new Error(`still asked to wait after 6 waits: ${result.reason}`);
    waits.push(result.waitSeconds * 1000);
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * The Slack and Backlog emulators and dynalite on 127.0.0.1, a fresh ledger table, and the REAL
 * adapters (Ledger, BacklogTracker, SlackPoster) and handler deps wired to them over HTTP.
 */
export async function startTaskHarness(options: TaskHarnessOptions = {}): Promise<TaskHarness> {
  const [slack, backlog, dynamo] = await Promise.all([
    startSlackEmulator(),
    startBacklogEmulator({ projects: options.projects ?? DEFAULT_PROJECTS }),
    startDynamo(),
  ]);
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamo.url,
    region: HOME_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const table = `shn-ledger-${randomUUID().slice(0, 8)}`;
  await ensureLedgerTable(dynamoClient, table);
  const ledger = new Ledger(dynamoClient, table);

  const backlogWaits: number[] = [];
  const slackWaits: number[] = [];
  const backlogResponses: BacklogResponse[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    backlogResponses.push({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      url: input instanceof Request ? input.url : String(input),
      status: response.status,
      rateLimitReset: Number(response.headers.get('x-ratelimit-reset')),
      receivedAt: Date.now(),
    });
    return response;
  };

  const makeTracker = (overrides: Partial<BacklogTrackerOptions> = {}) =>
    new BacklogTracker({
      host: 'example.backlog.com',
      apiUrl: backlog.url,
      getApiKey: async () => backlog.apiKey,
      apiKeySource: BACKLOG_KEY_PARAMETER,
      fetch: recordingFetch,
      timeoutMs: 2_000,
      ...overrides,
    });
  const makePoster = (overrides: Partial<SlackPosterOptions> = {}) =>
    new SlackPoster({
      apiUrl: slack.url,
      getToken: async () => slack.token,
      tokenSource: SLACK_TOKEN_PARAMETER,
      timeoutMs: 2_000,
      ...overrides,
    });
  const tracker = makeTracker();
  const poster = makePoster();
  const logger = makeLogger();
  const baseTarget = options.target ?? DEFAULT_TARGET;

  const makeFileIssueDeps = (
    overrides: { tracker?: BacklogTracker; target?: Partial<IssueTarget>; timing?: Partial<Timing> } = {},
  ): FileIssuePorts => {
    const target = { ...baseTarget, ...overrides.target };
    const chosen = overrides.tracker ?? tracker;
    const timing = { ...HARNESS_TIMING, ...overrides.timing };
    return {
      ledger,
      tracker: chosen,
      target,
      priorityOverrides: {},
      timing,
      clock: systemClock,
      log: logger,
    };
  };
  const makePostMessageDeps = (
    overrides: { poster?: SlackPoster; channel?: string; timing?: Partial<Timing> } = {},
  ): PostMessagePorts => {
    const channel = overrides.channel ?? options.channel ?? SLACK_CHANNEL;
    const chosen = overrides.poster ?? poster;
    const timing = { ...HARNESS_TIMING, ...overrides.timing };
    return { ledger, chat: chosen, channel, timing, clock: systemClock, log: logger };
  };

  const fileIssueDeps = makeFileIssueDeps();
  const postMessageDeps = makePostMessageDeps();
  const carries = (value: unknown, text: string) => JSON.stringify(value).includes(text);
  return {
    slack,
    backlog,
    dynamo,
    dynamoClient,
    table,
    ledger,
    backlogWaits,
    slackWaits,
    backlogResponses,
    tracker,
    poster,
    fileIssueDeps,
    postMessageDeps,
    makeTracker,
    makePoster,
    makeFileIssueDeps,
    makePostMessageDeps,
    fileIssue: (input, ports = fileIssueDeps) =>
      runTask((attempt) => fileIssue(attempt, ports), input, backlogWaits),
    postMessage: (input, ports = postMessageDeps) =>
      runTask((attempt) => postMessage(attempt, ports), input, slackWaits),
    issuesOf: (findingKey) => {
      const line = markerLine(findingMarker(findingKey));
      return backlog.issues.filter((issue) => issue.description.includes(line));
    },
    messagesWith: (text) => slack.messages.filter((message) => carries(message.raw, text)),
    postCallsWith: (text) =>
      slack.calls.filter((call) => call.method === 'chat.postMessage' && carries(call.params, text)),
    close: async () => {
      dynamoClient.destroy();
      await Promise.all([slack.close(), backlog.close(), dynamo.close()]);
    },
  };
}

let counter = 0;

/** A label no other test uses, safe in a finding Id and a URL (`case` + digits + hex). */
export function uniqueLabel(): string {
  counter += 1;
  return `case${counter}x${randomUUID().slice(0, 8)}`;
}

/**
 * A fixture event whose first finding has its own Id (`<fixture Id>-<label>`), so each test files
 * its own finding in shared emulators and a shared ledger.
 */
export function uniqueEvent(
  fixture: string,
  label: string,
  change?: (finding: Record<string, unknown>) => void,
): ImportedEvent {
  return withFinding(
    loadEvent(fixture),
    (finding) => {
      finding.Id = `${String(finding.Id)}-${label}`;
      change?.(finding);
    },
    `${label}-event`,
  );
}

/** The same finding as Security Hub re-imports it after resetting it to NEW (a reopen). */
export function reopenedEvent(event: ImportedEvent, updatedAt: string): ImportedEvent {
  return withFinding(
    event,
    (finding) => {
      finding.UpdatedAt = updatedAt;
      finding.Workflow = { Status: 'NEW' };
    },
    `${event.id}-reopened-${updatedAt}`,
  );
}

/** The event's first finding, normalised as dispatch does. */
export function findingOf(event: ImportedEvent): Finding {
  return normalizeFinding(event.detail.findings[0], {
    eventId: event.id,
    path: 'detail.findings[0]',
    eventRegion: event.region,
    homeRegion: HOME_REGION,
  });
}

/** The FileBacklogIssue task input for an event's first finding: `{ delivery, execution }`. */
export function fileIssueInput(
  event: ImportedEvent,
  execution: string,
  mode: DeliveryMode = 'new',
): TaskInput<FileIssueInput> {
  return { delivery: buildDelivery(findingOf(event), mode), execution };
}

/** The PostSlackMessage task input: the same delivery plus what FileBacklogIssue returned. */
export function postMessageInput(
  input: TaskInput<FileIssueInput>,
  issue: IssueRef,
  execution = input.execution,
): TaskInput<PostMessageInput> {
  return { delivery: input.delivery, issue, execution };
}

/** The rejection of a promise, or a failure when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * `ledger` with these writes refused (a LedgerError) while `refusing()` says so: DynamoDB failing
 * after the effect was done. The rest of the ledger is the real one.
 */
export function ledgerRefusing(
  ledger: Ledger,
  writes: ReadonlyArray<'recordIssue' | 'recordSlack' | 'completeEffect'>,
  refusing: () => boolean,
): Ledger {
  const refused = Object.create(ledger) as Ledger;
  for (const name of writes) {
    const write = ledger[name] as (...args: unknown[]) => Promise<void>;
    Object.assign(refused, {
      [name]: (...args: unknown[]) =>
        refusing()
          ? Promise.reject(new LedgerError(`the ledger refused ${name}`))
          : write.apply(ledger, args),
    });
  }
  return refused;
}

/** True for the first `count` calls, then false. */
export function firstCalls(count: number): () => boolean {
  let left = count;
  return () => left-- > 0;
}
