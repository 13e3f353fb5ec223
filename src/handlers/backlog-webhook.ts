/** Composition root of the backlogWebhook function: a function URL request → the accept-backlog-webhook use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { SqsActivityQueue } from '../adapters/activity-queue.js';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { makeSecret } from '../adapters/secrets.js';
import { type AcceptWebhookPorts, acceptBacklogWebhook } from '../app/accept-backlog-webhook.js';
import type { ActivityQueue } from '../app/ports.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadActivityQueueUrl, loadBacklogWebhookSettings } from '../config/settings.js';
import { trackerProjects } from '../domain/delivery/tracker-lifecycle.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';

export interface BacklogWebhookDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings and the policy validated first). */
  ports: () => AcceptWebhookPorts;
}

/** Where accepted activities go: the deployed stack's queue, or the local server's in-process one. */
export type ActivityOutlet = () => ActivityQueue;

export function makeHandler(deps: BacklogWebhookDeps) {
  return lambda<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
    deps.logger,
    async (event) => {
      const raw = event.body ?? '';
      const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      const request = { method: event.requestContext.http.method, path: event.rawPath, body };
      const answer = await acceptBacklogWebhook(request, deps.ports());
      return {
        statusCode: answer.status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(answer.body),
      };
    },
    deps.ports,
  );
}

/** The deployed stack's activity queue, named by the environment. */
export function awsActivityQueue(env: Env): ActivityOutlet {
  const sqs = new SQSClient(awsClientConfig(env, 'SQS'));
  return () => new SqsActivityQueue(sqs, loadActivityQueueUrl(env));
}

export function defaultDeps(env: Env = process.env, queue: ActivityOutlet = awsActivityQueue(env)) {
  const logger = makeLogger(env);
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once((): AcceptWebhookPorts => {
      const settings = loadBacklogWebhookSettings(env);
      const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
      return {
        token: makeSecret(settings.token, secretClients),
        queue: queue(),
        projects: new Set(trackerProjects(policy).keys()),
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
