/** Composition root of the sweepSuppressions function: the schedule → the sweep-suppressions use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { ScheduledEvent } from 'aws-lambda';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import { SecurityHubReader, SecurityHubUpdater } from '../adapters/security-hub.js';
import { type Clock, systemClock } from '../app/ports.js';
import { type SweepPorts, type SweepResult, sweepSuppressions } from '../app/sweep-suppressions.js';
import { loadSweepSettings } from '../config/settings.js';
import { lambda, makeLogger, once } from './runtime.js';

export interface SweepDeps {
  logger: Logger;
  ports: () => SweepPorts;
}

export function makeHandler(deps: SweepDeps) {
  return lambda<ScheduledEvent, SweepResult>(deps.logger, () => sweepSuppressions(deps.ports()), deps.ports);
}

export function defaultDeps(env: Env = process.env, clock: Clock = systemClock): SweepDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  return {
    logger,
    ports: once((): SweepPorts => {
      const settings = loadSweepSettings(env);
      return {
        ledger: new Ledger(dynamo, settings.ledgerTable),
        reader: new SecurityHubReader(securityHub),
        updater: new SecurityHubUpdater(securityHub),
        clock,
        log: logger,
        lookBackDays: settings.lookBackDays,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
