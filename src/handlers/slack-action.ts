/** Composition root of the slackAction function: the Slack action queue's batch → the handle-slack-action use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { BacklogTracker } from '../adapters/backlog.js';
import { Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../adapters/secrets.js';
import { SecurityHubReader, SecurityHubUpdater } from '../adapters/security-hub.js';
import { SlackPoster } from '../adapters/slack.js';
import { SlackInteractions } from '../adapters/slack-interactions.js';
import {
  type HandleSlackActionPorts,
  handleSlackAction,
  type SlackActionOutcome,
} from '../app/handle-slack-action.js';
import { type Clock, systemClock } from '../app/ports.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadSlackActionWorkerSettings } from '../config/settings.js';
import { trackerProjects } from '../domain/delivery/tracker-lifecycle.js';
import { slackActionsOf } from '../domain/policy/slack-actions.js';
import { parseQueuedSlackAction } from '../domain/slack/interaction.js';
import { lazySecretClients, makeLogger, once, queueWorker } from './runtime.js';

export interface SlackActionDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings and the policy validated first). */
  ports: () => HandleSlackActionPorts;
  onOutcome?: (outcome: SlackActionOutcome) => void;
}

export function makeHandler(deps: SlackActionDeps) {
  const read = (body: unknown) => {
    const parsed = parseQueuedSlackAction(body);
    if (!parsed.ok) throw new Error(`not a queued Slack action: ${parsed.problem}`);
    return parsed.action;
  };
  return queueWorker(
    deps.logger,
    'Slack action',
    read,
    async (action, attempt) => {
      deps.onOutcome?.(await handleSlackAction(action, attempt, deps.ports()));
    },
    deps.ports,
  );
}

export function defaultDeps(env: Env = process.env, clock: Clock = systemClock): SlackActionDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once((): HandleSlackActionPorts => {
      const settings = loadSlackActionWorkerSettings(env);
      const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
      const { token, timeoutMs, apiUrl } = settings.slack;
      const getToken = makeSecret(token, secretClients);
      const slack = { getToken, tokenSource: token.parameter ?? 'SLACK_BOT_TOKEN', timeoutMs, apiUrl };
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
        chat: new SlackPoster(slack),
        people: new SlackInteractions(slack),
        backlogUsers: slackActionsOf(policy).backlogUsers,
        projects: trackerProjects(policy),
        clock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
