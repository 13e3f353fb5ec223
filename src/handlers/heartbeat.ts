/**
 * Composition root of the heartbeat function. The schedule (`{ send: true }`) imports the heartbeat
 * finding; the workflow calls it again to archive it, with the metric and the ledger (`{ complete }`
 * after every check passed) or without (`{ archive }` after a check failed).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { EmfMetrics } from '../adapters/emf-metrics.js';
import { HeartbeatLedgerTable } from '../adapters/heartbeat-ledger.js';
import { SecurityHubImporter } from '../adapters/security-hub-importer.js';
import {
  archiveHeartbeat,
  type CompleteHeartbeatPorts,
  completeHeartbeat,
  sendHeartbeat,
} from '../app/heartbeat.js';
import { systemClock } from '../app/ports.js';
import { loadHeartbeatSettings } from '../config/heartbeat-settings.js';
import { parseHeartbeatInput } from './check-input.js';
import { lambda, makeLogger, once } from './runtime.js';

export interface HeartbeatDeps {
  logger: Logger;
  /** The use cases' ports, built once at cold start (the settings validated first). */
  ports: () => CompleteHeartbeatPorts;
}

export function makeHandler(deps: HeartbeatDeps) {
  return lambda(
    deps.logger,
    async (event: unknown) => {
      const input = parseHeartbeatInput(event);
      if ('send' in input) return sendHeartbeat(deps.ports());
      if ('complete' in input) return completeHeartbeat(input.complete, deps.ports());
      await archiveHeartbeat(input.archive, deps.ports());
      return { archived: true };
    },
    deps.ports,
  );
}

/** `write`: where the metric lines go (stdout on Lambda, which CloudWatch Logs reads). */
export function defaultDeps(env: Env = process.env, write?: (line: string) => void): HeartbeatDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  return {
    logger,
    ports: once(() => {
      const settings = loadHeartbeatSettings(env);
      return {
        source: settings.source,
        importer: new SecurityHubImporter(securityHub),
        metrics: new EmfMetrics(settings.namespace, write),
        ledger: new HeartbeatLedgerTable(dynamo, settings.ledgerTable),
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
