/**
 * The inbound endpoints, locally (`npm run serve`): an HTTP server on 127.0.0.1 whose routes are the
 * deployed functions' real handlers, each request turned into the Lambda function URL event the
 * function would get and its result back into an HTTP answer. Queues are emulated in process: what
 * a handler queues is handed to its worker's real handler as an SQS event once the answer is sent,
 * retried as the queue would, dead-lettered (kept and printed) after the last receive.
 *
 * Routes are a list (`LocalRoute`): another inbound endpoint (Slack's actions, say) is one more
 * entry built with `functionUrlRoute`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Context,
  LambdaFunctionURLEvent,
  LambdaFunctionURLResult,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import type { ActivityOutcome } from '../app/handle-backlog-activity.js';
import type { SlackActionOutcome } from '../app/handle-slack-action.js';
import type { BacklogActivity } from '../domain/backlog/activity.js';
import type { QueuedSlackAction } from '../domain/slack/interaction.js';
import * as backlogActivity from '../handlers/backlog-activity.js';
import * as backlogWebhook from '../handlers/backlog-webhook.js';
import * as slackAction from '../handlers/slack-action.js';
import * as slackActions from '../handlers/slack-actions.js';
import { invokedFunction } from './local-workflow.js';
import { type Env, type Sandbox, startSandbox } from './sandbox.js';

export const DEFAULT_PORT = 8787;

/** An HTTP request as the router sees it. */
export interface LocalRequest {
  method: string;
  path: string;
  rawQuery: string;
  headers: Record<string, string>;
  body: Buffer;
  sourceIp: string;
}

export interface LocalResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One inbound endpoint: the requests it takes, and what answers them. */
export interface LocalRoute {
  name: string;
  /** Whether this route takes the request (a function URL takes every method and path under it). */
  matches(request: Pick<LocalRequest, 'method' | 'path'>): boolean;
  handle(request: LocalRequest): Promise<LocalResponse>;
}

type FunctionUrlHandler = (
  event: LambdaFunctionURLEvent,
  context: Context,
) => Promise<LambdaFunctionURLResult>;

/** A Lambda handler as a Lambda context locally: what middy and the logger read. */
export function localContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName,
    functionVersion: '$LATEST',
    awsRequestId: `${functionName}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The event a Lambda function URL hands its function for this request (payload format 2.0). */
export function functionUrlEvent(request: LocalRequest): LambdaFunctionURLEvent {
  const text = request.body.toString('utf8');
  const binary = !Buffer.from(text, 'utf8').equals(request.body);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: request.rawQuery,
    headers: request.headers,
    queryStringParameters: request.rawQuery
      ? Object.fromEntries(new URLSearchParams(request.rawQuery))
      : undefined,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomBytes(8).toString('hex'),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: binary ? request.body.toString('base64') : text,
    isBase64Encoded: binary,
  } as LambdaFunctionURLEvent;
}

/** A function URL's answer as HTTP: a string is the body (200), an object its status, headers and body. */
export function functionUrlResponse(result: LambdaFunctionURLResult): LocalResponse {
  if (typeof result === 'string')
    return { status: 200, headers: { 'content-type': 'application/json' }, body: result };
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  const raw = result.body ?? '';
  const body = result.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  return { status: result.statusCode ?? 200, headers, body };
}

/** A route served by a function URL's handler: every request under `prefix` (as the URL would). */
export function functionUrlRoute(name: string, prefix: string, handler: FunctionUrlHandler): LocalRoute {
  return {
    name,
    matches: ({ path }) => path === prefix || path.startsWith(`${prefix}/`),
    handle: async (request) =>
      functionUrlResponse(await handler(functionUrlEvent(request), localContext(name))),
  };
}

/** A message as SQS hands it to a function (the activity as its body). */
function sqsRecord(body: string, messageId: string, receiveCount: number): SQSRecord {
  const sent = String(Date.now());
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: sent,
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:securityhub-notifier-backlog-activities',
    awsRegion: 'local',
  };
}

/**
 * A queue in process: `send` keeps the message; `flush` hands what is waiting to the consumer (the
 * worker's handler) as an SQS event, again for each item it reports failed, up to `maxReceives`
 * receives (5, the activity queue's redrive policy), then keeps it as a dead letter.
 */
export class InProcessQueue<T = BacklogActivity> {
  readonly deadLetters: Array<{ body: string; messageId: string }> = [];
  private readonly waiting: Array<{ body: string; messageId: string; receives: number }> = [];
  private running: Promise<void> = Promise.resolve();
  private sent = 0;

  constructor(
    private readonly consume: (event: SQSEvent) => Promise<SQSBatchResponse>,
    private readonly options: {
      maxReceives?: number;
      retryDelayMs?: number;
      print?: (line: string) => void;
      /** Named in what it prints (default `activity queue`). */
      name?: string;
    } = {},
  ) {}

  async send(message: T): Promise<void> {
    this.sent += 1;
    this.waiting.push({ body: JSON.stringify(message), messageId: `local-${this.sent}`, receives: 0 });
  }

  /** Deliver what is waiting (after the answer that queued it was sent); resolves when the queue is empty. */
  flush(): Promise<void> {
    this.running = this.running.then(() => this.drain());
    return this.running;
  }

  /** Resolves once everything queued so far was handled or dead-lettered. */
  idle(): Promise<void> {
    return this.flush();
  }

  private async drain(): Promise<void> {
    const maxReceives = this.options.maxReceives ?? 5;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, 10);
      for (const message of batch) message.receives += 1;
      let failed = new Set(batch.map((message) => message.messageId));
      try {
        const records = batch.map((m) => sqsRecord(m.body, m.messageId, m.receives));
        const response = await this.consume({ Records: records });
        failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      } catch (error) {
        this.options.print?.(
          `${this.options.name ?? 'activity queue'}: the worker failed: ${(error as Error).message}`,
        );
      }
      for (const message of batch.filter((m) => failed.has(m.messageId))) {
        if (message.receives < maxReceives) {
          await new Promise((resolve) =>
            setTimeout(resolve, (this.options.retryDelayMs ?? 200) * message.receives),
          );
          this.waiting.push(message);
        } else {
          this.deadLetters.push({ body: message.body, messageId: message.messageId });
          this.options.print?.(
            `${this.options.name ?? 'activity queue'}: ${message.messageId} dead-lettered after ${message.receives} receives`,
          );
        }
      }
    }
  }
}

export interface ServeOptions {
  env?: Env;
  /** Default: PORT from the environment, else 8787; 0 takes any free port. */
  port?: number;
  print?: (line: string) => void;
  /** Tests: the queue retries at once. */
  retryDelayMs?: number;
}

export interface ServeHandle {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The Backlog webhook's URL, the token included. */
  backlogWebhookUrl: string;
  sandbox: Sandbox;
  activityQueue: InProcessQueue;
  /** Every activity the worker handled, in order. */
  outcomes: ActivityOutcome[];
  /** Slack's interactivity request URL: `<url>/slack/actions`. */
  slackActionsUrl: string;
  slackActionQueue: InProcessQueue<QueuedSlackAction>;
  /** Every Slack action the worker handled, in order. */
  slackOutcomes: SlackActionOutcome[];
  /** Resolves once every queued activity and Slack action was handled (or dead-lettered). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

async function readRequest(req: IncomingMessage): Promise<LocalRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    rawQuery: url.search.slice(1),
    headers,
    body: Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  };
}

function send(res: ServerResponse, response: LocalResponse): Promise<void> {
  return new Promise((resolve) => {
    res.writeHead(response.status, {
      'content-length': Buffer.byteLength(response.body),
      ...response.headers,
    });
    res.end(response.body, () => resolve());
  });
}

/** Route each request to the first route that takes it; 404 when none does, 500 when a handler throws. */
export function routeRequests(
  routes: readonly LocalRoute[],
  after: () => void,
  print: (line: string) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const request = await readRequest(req);
      const route = routes.find((candidate) => candidate.matches(request));
      let response: LocalResponse;
      try {
        response = route
          ? await route.handle(request)
          : { status: 404, headers: { 'content-type': 'application/json' }, body: '{"message":"Not Found"}' };
      } catch (error) {
        print(`${route?.name ?? 'server'}: ${(error as Error).name}: ${(error as Error).message}`);
        response = {
          status: 500,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message: 'Internal Server Error' }),
        };
      }
      await send(res, response);
      after();
    })().catch((error) => {
      print(`server: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
}

/** One line per handled activity: who, and what became of each issue. */
export function formatOutcome(outcome: ActivityOutcome): string {
  if (outcome.outcome !== 'handled') {
    const why =
      outcome.outcome === 'own' ? "the notifier's own activity: ignored" : 'handled before: ignored';
    return `backlog activity ${outcome.activityId}: ${why}`;
  }
  const issues = outcome.issues.map(
    (issue) =>
      `${issue.issueKey} ${issue.outcome}${issue.findings ? ` (${issue.findings.length} finding(s))` : ''}${issue.detail ? ` (${issue.detail})` : ''}`,
  );
  return `backlog activity ${outcome.activityId}: ${issues.join('; ') || 'no issue'}`;
}

/** One line per handled Slack action: what, by whom, and what came of it. */
export function formatSlackOutcome(outcome: SlackActionOutcome): string {
  const detail =
    outcome.outcome === 'done'
      ? `done (${outcome.findings?.length ?? 0} finding(s)${outcome.issueKey ? `, ${outcome.issueKey}` : ''})`
      : outcome.outcome === 'refused'
        ? `refused: ${outcome.why}`
        : 'handled before: ignored';
  return `slack ${outcome.action} ${outcome.id}: ${detail}`;
}

/** `POST /slack/actions`: the slackActions function, its queue emulated, the slackAction worker behind it. */
function slackRoute(env: Env, print: (line: string) => void, retryDelayMs?: number) {
  const outcomes: SlackActionOutcome[] = [];
  const worker = slackAction.makeHandler({
    ...slackAction.defaultDeps(env),
    onOutcome: (outcome) => {
      outcomes.push(outcome);
      print(formatSlackOutcome(outcome));
    },
  });
  const queue = new InProcessQueue<QueuedSlackAction>(
    async (event) =>
      (await invokedFunction.run('slackAction', () =>
        worker(event, localContext('slackAction')),
      )) as SQSBatchResponse,
    { print, name: 'slack action queue', ...(retryDelayMs !== undefined ? { retryDelayMs } : {}) },
  );
  const endpoint = slackActions.makeHandler(slackActions.defaultDeps(env, () => queue));
  const route = functionUrlRoute('slackActions', '/slack', endpoint as unknown as FunctionUrlHandler);
  return { route, queue, outcomes };
}

/**
 * Start the inbound endpoints on 127.0.0.1 with the environment of `npm run replay` (embedded
 * emulators for each endpoint not set, the ledger table created if absent) plus
 * BACKLOG_WEBHOOK_TOKEN (one is made up and printed when unset).
 */
export async function startServe(options: ServeOptions = {}): Promise<ServeHandle> {
  const print = options.print ?? ((line: string) => console.log(line));
  const input = options.env ?? process.env;
  const sandbox = await startSandbox({ POWERTOOLS_LOG_LEVEL: 'WARN', ...input });
  let server: Server | undefined;
  try {
    const env = sandbox.env;
    env.BACKLOG_WEBHOOK_TOKEN ??= randomBytes(24).toString('hex');
    env.SLACK_SIGNING_SECRET ??= randomBytes(16).toString('hex');
    const outcomes: ActivityOutcome[] = [];
    const worker = backlogActivity.makeHandler({
      ...backlogActivity.defaultDeps(env),
      onOutcome: (outcome) => {
        outcomes.push(outcome);
        print(formatOutcome(outcome));
      },
    });
    const queue = new InProcessQueue(
      async (event) =>
        (await invokedFunction.run('backlogActivity', () =>
          worker(event, localContext('backlogActivity')),
        )) as SQSBatchResponse,
      { print, ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}) },
    );
    const webhook = backlogWebhook.makeHandler(backlogWebhook.defaultDeps(env, () => queue));
    const slack = slackRoute(env, print, options.retryDelayMs);
    const routes: LocalRoute[] = [
      functionUrlRoute('backlogWebhook', '/backlog', webhook as unknown as FunctionUrlHandler),
      slack.route,
    ];
    const flush = () => {
      void queue.flush();
      void slack.queue.flush();
    };
    const running = createServer(routeRequests(routes, flush, print));
    server = running;
    const port = options.port ?? Number(input.PORT ?? DEFAULT_PORT);
    await new Promise<void>((resolve, reject) => {
      running.once('error', reject);
      running.listen(port, '127.0.0.1', () => resolve());
    });
    const actual = (running.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${actual}`;
    return {
      url,
      port: actual,
      backlogWebhookUrl: `${url}/backlog/webhook/${encodeURIComponent(env.BACKLOG_WEBHOOK_TOKEN)}`,
      sandbox,
      activityQueue: queue,
      outcomes,
      slackActionsUrl: `${url}/slack/actions`,
      slackActionQueue: slack.queue,
      slackOutcomes: slack.outcomes,
      idle: async () => {
        await queue.idle();
        await slack.queue.idle();
      },
      close: async () => {
        await new Promise<void>((resolve) => {
          running.close(() => resolve());
          running.closeAllConnections();
        });
        await queue.idle();
        await slack.queue.idle();
        await sandbox.close();
      },
    };
  } catch (error) {
    server?.close();
    await sandbox.close();
    throw error;
  }
}
