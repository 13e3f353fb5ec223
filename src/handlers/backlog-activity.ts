/** Composition root of the backlogActivity function: the activity queue's batch → the handle-backlog-activity use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
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
import { lazySecretClients, makeLogger, once, queueWorker } from './runtime.js';

export interface BacklogActivityDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings and the policy validated first). */
  ports: () => HandleActivityPorts;
  onOutcome?: (outcome: ActivityOutcome) => void;
}

export function makeHandler(deps: BacklogActivityDeps) {
  const read = (body: unknown) => {
    const parsed = parseQueuedActivity(body);
    if (!parsed.ok) throw new Error(`not a queued Backlog activity: ${parsed.problem}`);
    return parsed.activity;
  };
  return queueWorker(
    deps.logger,
    'Backlog activity',
    read,
    async (activity, attempt) => {
      deps.onOutcome?.(await handleBacklogActivity(activity, attempt, deps.ports()));
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
