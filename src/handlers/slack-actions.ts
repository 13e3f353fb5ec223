/** Composition root of the slackActions function: a function URL request → the accept-slack-action use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { makeSecret } from '../adapters/secrets.js';
import { SqsSlackActionQueue } from '../adapters/slack-action-queue.js';
import { SlackInteractions } from '../adapters/slack-interactions.js';
import { type AcceptSlackActionPorts, acceptSlackAction } from '../app/accept-slack-action.js';
import { type SlackActionQueue, systemClock } from '../app/ports.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadSlackActionQueueUrl, loadSlackActionsSettings } from '../config/settings.js';
import { slackActionsOf } from '../domain/policy/slack-actions.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';

export interface SlackActionsDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings and the policy validated first). */
  ports: () => AcceptSlackActionPorts;
}

/** Where accepted actions go: the deployed stack's queue, or the local server's in-process one. */
export type SlackActionOutlet = () => SlackActionQueue;

export function makeHandler(deps: SlackActionsDeps) {
  return lambda<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
    deps.logger,
    async (event) => {
      // The signature covers the body as Slack sent it: a base64 body is decoded back to those bytes.
      const raw = event.body ?? '';
      const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      const headers = Object.fromEntries(
        Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const request = { method: event.requestContext.http.method, path: event.rawPath, headers, body };
      const answer = await acceptSlackAction(request, deps.ports());
      return answer.body === undefined
        ? { statusCode: answer.status, body: '' }
        : {
            statusCode: answer.status,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(answer.body),
          };
    },
    deps.ports,
  );
}

/** The deployed stack's Slack action queue, named by the environment. */
export function awsSlackActionQueue(env: Env): SlackActionOutlet {
  const sqs = new SQSClient(awsClientConfig(env, 'SQS'));
  return () => new SqsSlackActionQueue(sqs, loadSlackActionQueueUrl(env));
}

export function defaultDeps(env: Env = process.env, queue: SlackActionOutlet = awsSlackActionQueue(env)) {
  const logger = makeLogger(env);
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once((): AcceptSlackActionPorts => {
      const settings = loadSlackActionsSettings(env);
      const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
      const slack = new SlackInteractions({
        getToken: makeSecret(settings.token, secretClients),
        tokenSource: settings.token.parameter ?? 'SLACK_BOT_TOKEN',
        timeoutMs: settings.timeoutMs,
        ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      });
      return {
        signingSecret: makeSecret(settings.signingSecret, secretClients),
        policy: slackActionsOf(policy),
        directory: slack,
        slack,
        queue: queue(),
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
