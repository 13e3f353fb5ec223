/** Composition root of the FileBacklogIssue task: the workflow's input → the file-issue use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { BacklogTracker } from '../adapters/backlog.js';
import { Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../adapters/secrets.js';
import { ConfigError } from '../app/errors.js';
import { type FileIssuePorts, fileIssue } from '../app/file-issue.js';
import type { TrackerInspector } from '../app/health-ports.js';
import { checkTrackerTask } from '../app/heartbeat.js';
import { systemClock } from '../app/ports.js';
import { loadBacklogSettings } from '../config/settings.js';
import { isCheckInput, parseCheckInput } from './check-input.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';
import { parseFileIssueInput } from './task-input.js';

export interface FileIssueDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings validated first). */
  ports: () => FileIssuePorts & { inspector?: TrackerInspector; keySource?: string };
}

export function makeHandler(deps: FileIssueDeps) {
  return lambda(
    deps.logger,
    async (event: unknown, context) => {
      // The heartbeat's check mode: the key, the routed projects and issue types, nothing filed.
      if (isCheckInput(event))
        return checkTrackerTask(parseCheckInput(event, 'FileBacklogIssue'), checkPorts(deps));
      return fileIssue(parseFileIssueInput(event, context.awsRequestId), deps.ports());
    },
    deps.ports,
  );
}

function checkPorts(deps: FileIssueDeps) {
  const { inspector, keySource = 'BACKLOG_API_KEY', log } = deps.ports();
  if (!inspector) throw new ConfigError('FileBacklogIssue: no Backlog inspector for the check mode');
  return { inspector, keySource, log };
}

export function defaultDeps(env: Env = process.env): FileIssueDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  const secretClients = lazySecretClients(env);
  return {
    logger,
    ports: once(() => {
      const settings = loadBacklogSettings(env);
      const keySource = settings.apiKey.parameter ?? 'BACKLOG_API_KEY';
      const tracker = new BacklogTracker({
        host: settings.host,
        apiUrl: settings.apiUrl,
        timeoutMs: settings.timeoutMs,
        apiKeySource: keySource,
        getApiKey: makeSecret(settings.apiKey, secretClients),
      });
      return {
        ledger: new Ledger(dynamo, settings.ledgerTable, { claimStaleMs: settings.claimStaleMs }),
        tracker,
        inspector: tracker,
        keySource,
        target: settings.target,
        priorityOverrides: settings.priorityOverrides,
        timing: settings.timing,
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
