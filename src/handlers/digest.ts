/** Composition root of the digest function: the schedule's event → the post-digest use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { DigestLedgerStore } from '../adapters/digest-ledger.js';
import { makeSecret, type SecretClients } from '../adapters/secrets.js';
import { SecurityHubCounter } from '../adapters/security-hub-counts.js';
import { SlackPoster } from '../adapters/slack.js';
import { systemClock } from '../app/ports.js';
import { type DigestOptions, type DigestPorts, postDigest } from '../app/post-digest.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadDigestSettings } from '../config/settings.js';
import { digestAccountNames, digestTargets } from '../domain/digest/targets.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';

/** What EventBridge Scheduler sends (functions/digest.yml), or a manual invocation. */
export interface DigestEvent {
  /** `<aws.scheduler.scheduled-time>`: the run, the same for every retry of it. */
  scheduledTime?: string;
  /** Render and return the digest, post and record nothing. */
  dryRun?: boolean;
}

export interface DigestDeps {
  logger: Logger;
  /** The settings, the policy's channels and names, and the adapters: built once at cold start. */
  setup: () => { ports: DigestPorts; options: DigestOptions };
}

export function makeHandler(deps: DigestDeps) {
  return lambda(
    deps.logger,
    async (event: DigestEvent | undefined, context) => {
      const { ports, options } = deps.setup();
      const scheduled = typeof event?.scheduledTime === 'string' ? event.scheduledTime : undefined;
      const run = scheduled ?? `manual:${context.awsRequestId}`;
      const request = { run, attempt: context.awsRequestId, dryRun: event?.dryRun === true };
      const outcome = await postDigest(request, options, ports);
      return outcome.posts.map(({ channel, posted, ts, text }) =>
        posted === 'dry-run' ? { channel, posted, text } : { channel, posted, ts },
      );
    },
    deps.setup,
  );
}

/** The use case's ports and options from an environment (the function's, or `npm run digest`'s). */
export function digestSetup(env: Env, logger: Logger, secretClients: SecretClients = lazySecretClients(env)) {
  const settings = loadDigestSettings(env);
  const policy = loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env));
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  const ports: DigestPorts = {
    counter: new SecurityHubCounter(securityHub, {
      mode: settings.counts,
      ...(settings.insightArns ? { insightArns: settings.insightArns } : {}),
    }),
    ledger: new DigestLedgerStore(dynamo, settings.ledgerTable, { claimStaleMs: settings.claimStaleMs }),
    chat: new SlackPoster({
      apiUrl: settings.apiUrl,
      timeoutMs: settings.timeoutMs,
      tokenSource: settings.token.parameter ?? 'SLACK_BOT_TOKEN',
      getToken: makeSecret(settings.token, secretClients),
    }),
    clock: systemClock,
    log: logger,
    timing: settings.timing,
  };
  const options: DigestOptions = {
    targets: digestTargets(policy, settings.routeChannels),
    accountNames: digestAccountNames(policy, settings.accountNames),
    homeRegion: settings.homeRegion,
    timeZone: settings.timeZone,
    maxAccounts: settings.maxAccounts,
    listItems: settings.listItems,
  };
  return { ports, options };
}

export function defaultDeps(env: Env = process.env): DigestDeps {
  const logger = makeLogger(env);
  return { logger, setup: once(() => digestSetup(env, logger)) };
}

export const handler = makeHandler(defaultDeps());
