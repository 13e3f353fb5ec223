/** Composition root of the PostSlackMessage task: the workflow's input → the post-message use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../adapters/secrets.js';
import { SlackPoster } from '../adapters/slack.js';
import { systemClock } from '../app/ports.js';
import { type PostMessagePorts, postMessage } from '../app/post-message.js';
import { loadSlackSettings } from '../config/settings.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';
import { parsePostMessageInput } from './task-input.js';

export interface PostMessageDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings validated first). */
  ports: () => PostMessagePorts;
}

export function makeHandler(deps: PostMessageDeps) {
  return lambda(
    deps.logger,
    async (event: unknown, context) =>
      postMessage(parsePostMessageInput(event, context.awsRequestId), deps.ports()),
    deps.ports,
  );
}

export function defaultDeps(env: Env = process.env): PostMessageDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once(() => {
      const settings = loadSlackSettings(env);
      return {
        ledger: new Ledger(dynamo, settings.ledgerTable, { claimStaleMs: settings.claimStaleMs }),
        chat: new SlackPoster({
          apiUrl: settings.apiUrl,
          timeoutMs: settings.timeoutMs,
          tokenSource: settings.token.parameter ?? 'SLACK_BOT_TOKEN',
          getToken: makeSecret(settings.token, secretClients),
        }),
        channel: settings.channel,
        timing: settings.timing,
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
