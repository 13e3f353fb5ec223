import { Logger } from '@aws-lambda-powertools/logger';
import type { LambdaFunctionURLEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AcceptWebhookPorts } from '../../src/app/accept-backlog-webhook.js';
import type { HandleActivityPorts } from '../../src/app/handle-backlog-activity.js';
import type { BacklogActivity } from '../../src/domain/backlog/activity.js';
import * as backlogActivity from '../../src/handlers/backlog-activity.js';
import * as backlogWebhook from '../../src/handlers/backlog-webhook.js';
import { functionUrlEvent } from '../../src/local/server.js';

const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as never;
const logger = new Logger({ logLevel: 'SILENT' });
const TOKEN = 'a-webhook-token-of-enough-length-0123';
const LAMBDA = {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_REGION: 'ap-northeast-1',
  AWS_LAMBDA_FUNCTION_NAME: 'under-test',
  SLACK_CHANNEL: '#sec',
  BACKLOG_PROJECT_KEY: 'SEC',
  BACKLOG_ISSUE_TYPE: 'Task',
};
const activity = {
  id: 1,
  type: 2,
  project: { projectKey: 'SEC' },
  content: { key_id: 3 },
  createdUser: { id: 2, name: 'Alice' },
};

function urlEvent(path: string, body: string, base64 = false): LambdaFunctionURLEvent {
  const event = functionUrlEvent({
    method: 'POST',
    path,
    rawQuery: '',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body),
    sourceIp: '203.0.113.9',
  });
  return base64 ? { ...event, body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : event;
}

function webhookWith(queued: BacklogActivity[]) {
  const ports: AcceptWebhookPorts = {
    token: async () => TOKEN,
    queue: { send: async (a) => void queued.push(a) },
    projects: new Set(['SEC']),
    log: logger,
  };
  return backlogWebhook.makeHandler({ logger, ports: () => ports });
}

describe('the backlogWebhook handler', () => {
  it('answers a function URL request, a base64 body included, and queues the activity', async () => {
    const queued: BacklogActivity[] = [];
    const handler = webhookWith(queued);

    const result = await handler(
      urlEvent(`/backlog/webhook/${TOKEN}`, JSON.stringify(activity), true),
      context,
    );

    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'queued', activityId: 1 }),
    });
    expect(queued.map((a) => a.issueKeys)).toEqual([['SEC-3']]);
  });

  it('answers 404 to a wrong token and to another path, queuing nothing', async () => {
    const queued: BacklogActivity[] = [];
    const handler = webhookWith(queued);
    for (const path of ['/backlog/webhook/nope', `/backlog/webhook/${TOKEN}/x`, `/${TOKEN}`]) {
      expect(await handler(urlEvent(path, JSON.stringify(activity)), context)).toMatchObject({
        statusCode: 404,
      });
    }
    expect(queued).toEqual([]);
  });

  it('fails at cold start naming its token parameter, and refuses a plaintext token inside Lambda', async () => {
    const noQueue = () => ({ send: async () => undefined });
    const missing = backlogWebhook.makeHandler(backlogWebhook.defaultDeps(LAMBDA, noQueue));
    await expect(missing(urlEvent('/backlog/webhook/x', '{}'), context)).rejects.toThrow(
      /BACKLOG_WEBHOOK_TOKEN_PARAMETER: required/,
    );
    const plain = backlogWebhook.makeHandler(
      backlogWebhook.defaultDeps({ ...LAMBDA, BACKLOG_WEBHOOK_TOKEN: TOKEN }, noQueue),
    );
    await expect(plain(urlEvent('/backlog/webhook/x', '{}'), context)).rejects.toThrow(
      /BACKLOG_WEBHOOK_TOKEN: a plaintext secret is not allowed/,
    );
  });
});

describe('the backlogActivity handler', () => {
  const record = (body: string, messageId: string) => ({ body, messageId }) as SQSRecord;
  const queued = (id: number) =>
    JSON.stringify({
      id,
      type: 2,
      projectKey: 'SEC',
      issueKeys: [`SEC-${id}`],
      user: { id: 2, name: 'Alice' },
    });

  it('reports the messages it could not handle, and handles the others', async () => {
    const handled: number[] = [];
    const ports = {
      tracker: { self: async () => ({ id: 2, name: 'Alice' }) },
    } as unknown as HandleActivityPorts;
    const handler = backlogActivity.makeHandler({
      logger,
      ports: () => ports,
      onOutcome: (outcome) => handled.push(outcome.activityId),
    });

    const result = await handler(
      { Records: [record('not json', 'm1'), record(queued(5), 'm2'), record('{"id":1}', 'm3')] },
      context,
    );

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm3' }] });
    expect(handled).toEqual([5]);
  });

  it('fails at cold start naming a missing setting', async () => {
    const handler = backlogActivity.makeHandler(
      backlogActivity.defaultDeps({ ...LAMBDA, BACKLOG_HOST: 'x.backlog.com' }),
    );
    await expect(handler({ Records: [] }, context)).rejects.toThrow(/BACKLOG_API_KEY_PARAMETER: required/);
  });
});
