/** Composition root of the MarkFindings task: the workflow's input → the mark-findings use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import { SecurityHubUpdater } from '../adapters/security-hub.js';
import { type MarkFindingsPorts, markFindings } from '../app/mark-findings.js';
import { systemClock } from '../app/ports.js';
import { loadMarkSettings } from '../config/settings.js';
import { lambda, makeLogger, once } from './runtime.js';
import { parseMarkFindingsInput } from './task-input.js';

export interface MarkFindingsDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings validated first). */
  ports: () => MarkFindingsPorts;
}

export function makeHandler(deps: MarkFindingsDeps) {
  return lambda(
    deps.logger,
    async (event: unknown) => markFindings(parseMarkFindingsInput(event), deps.ports()),
    deps.ports,
  );
}

export function defaultDeps(env: Env = process.env): MarkFindingsDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const securityHub = new SecurityHubClient(awsClientConfig(env, 'SECURITYHUB'));
  return {
    logger,
    ports: once(() => {
      const settings = loadMarkSettings(env);
      return {
        securityHub: new SecurityHubUpdater(securityHub),
        ledger: new Ledger(dynamo, settings.ledgerTable),
        clock: systemClock,
        log: logger,
        retryDelaysMs: settings.retryDelaysMs,
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
