/** Composition root of the backlogActivity function: the activity queue's batch → the handle-backlog-activity use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { BacklogTracker } from '../adapters/backlog.js';
import { Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../adapters/secrets.js';
import { SecurityHubReader, SecurityHubUpdater } from '../adapters/security-hub.js';
import { SlackPoster } from '../adapters/slack.js';
import {
  type ActivityOutcome,
  type HandleActivityPorts,
  handleBacklogActivity,
} from '../app/handle-backlog-activity.js';
import { systemClock } from '../app/ports.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadBacklogWorkerSettings } from '../config/settings.js';
import { parseQueuedActivity } from '../domain/backlog/activity.js';
import { trackerProjects } from '../domain/delivery/tracker-lifecycle.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';

export interface BacklogActivityDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings and the policy validated first). */
  ports: () => HandleActivityPorts;
  onOutcome?: (outcome: ActivityOutcome) => void;
}

export function makeHandler(deps: BacklogActivityDeps) {
  return lambda<SQSEvent, SQSBatchResponse>(
    deps.logger,
    async (event, context) => {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        try {
          const parsed = parseQueuedActivity(JSON.parse(record.body));
          if (!parsed.ok) throw new Error(`not a queued Backlog activity: ${parsed.problem}`);
          const attempt = `${record.messageId}/${context.awsRequestId}`;
          deps.onOutcome?.(await handleBacklogActivity(parsed.activity, attempt, deps.ports()));
        } catch (error) {
          deps.logger.error('Backlog activity failed: returned to the queue', {
            messageId: record.messageId,
            error: `${(error as Error).name}: ${(error as Error).message}`,
          });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    },
    deps.ports,
  );
}

export function defaultDeps(env: Env = process.env): BacklogActivityDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once(() => {
      const settings = loadBacklogWorkerSettings(env);
      const { token, timeoutMs, apiUrl } = settings.slack;
      const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
      return {
        ledger: new Ledger(dynamo, settings.ledgerTable, { claimStaleMs: settings.claimStaleMs }),
        tracker: new BacklogTracker({
          host: settings.host,
          apiUrl: settings.apiUrl,
          timeoutMs: settings.timeoutMs,
          apiKeySource: settings.apiKey.parameter ?? 'BACKLOG_API_KEY',
          getApiKey: makeSecret(settings.apiKey, secretClients),
        }),
        reader: new SecurityHubReader(securityHub),
        updater: new SecurityHubUpdater(securityHub),
        chat: new SlackPoster({
          getToken: makeSecret(token, secretClients),
          tokenSource: token.parameter ?? 'SLACK_BOT_TOKEN',
          timeoutMs,
          apiUrl,
        }),
        projects: trackerProjects(policy),
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
