/** Composition root of the PostSlackMessage task: the workflow's input → the post-message use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../adapters/secrets.js';
import { SlackPoster } from '../adapters/slack.js';
import { ConfigError } from '../app/errors.js';
import type { ChatInspector } from '../app/health-ports.js';
import { checkChatTask } from '../app/heartbeat.js';
import { systemClock } from '../app/ports.js';
import { type PostMessagePorts, postMessage } from '../app/post-message.js';
import { loadSlackSettings } from '../config/settings.js';
import { isCheckInput, parseCheckInput } from './check-input.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';
import { parsePostMessageInput } from './task-input.js';

export interface PostMessageDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings validated first). */
  ports: () => PostMessagePorts & { inspector?: ChatInspector; tokenSource?: string };
}

export function makeHandler(deps: PostMessageDeps) {
  return lambda(
    deps.logger,
    async (event: unknown, context) => {
      // The heartbeat's check mode: the token and the routed channels, nothing posted.
      if (isCheckInput(event))
        return checkChatTask(parseCheckInput(event, 'PostSlackMessage'), checkPorts(deps));
      return postMessage(parsePostMessageInput(event, context.awsRequestId), deps.ports());
    },
    deps.ports,
  );
}

function checkPorts(deps: PostMessageDeps) {
  const { inspector, tokenSource = 'SLACK_BOT_TOKEN', log } = deps.ports();
  if (!inspector) throw new ConfigError('PostSlackMessage: no Slack inspector for the check mode');
  return { inspector, tokenSource, log };
}

export function defaultDeps(env: Env = process.env): PostMessageDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once(() => {
      const settings = loadSlackSettings(env);
      const tokenSource = settings.token.parameter ?? 'SLACK_BOT_TOKEN';
      const chat = new SlackPoster({
        apiUrl: settings.apiUrl,
        timeoutMs: settings.timeoutMs,
        tokenSource,
        getToken: makeSecret(settings.token, secretClients),
      });
      return {
        ledger: new Ledger(dynamo, settings.ledgerTable, { claimStaleMs: settings.claimStaleMs }),
        chat,
        inspector: chat,
        tokenSource,
        channel: settings.channel,
        timing: settings.timing,
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
