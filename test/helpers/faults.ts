import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BacklogEmulator, startBacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import { type DynamoEmulator, startDynamo } from '../../src/local/emulators/dynamo.js';
import {
  type SecurityHubEmulator,
  startSecurityHubEmulator,
} from '../../src/local/emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';
import { createReplayer, type Replayer } from '../../src/local/replayer.js';
import type { Env } from '../../src/local/sandbox.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

/**
 * The emulators, each behind a fault-injecting proxy, and one DynamoDB ledger: replayers made here
 * take the production path (the real handlers, clients and workflow) through the proxies, with the
 * timeouts and waits short, as a test needs them.
 */
export interface FaultBench {
  slack: SlackEmulator;
  backlog: BacklogEmulator;
  securityHub: SecurityHubEmulator;
  dynamo: DynamoEmulator;
  slackProxy: FaultProxy;
  backlogProxy: FaultProxy;
  securityHubProxy: FaultProxy;
  env: Env;
  /** A replayer on this bench (several may share it, as concurrent executions share production). */
  replayer(extra?: Env): Promise<Replayer & { lines: string[] }>;
  close(): Promise<void>;
}

/** Short timeouts and waits: a hung request costs 400 ms, an unsettled attempt 1 s. */
export const FAULT_ENV: Env = {
  SLACK_TIMEOUT_MS: '400',
  BACKLOG_TIMEOUT_MS: '400',
  AWS_REQUEST_TIMEOUT_MS: '1000',
  OUTCOME_SETTLE_SECONDS: '1',
  MAX_WAIT_SECONDS: '5',
  CLAIM_STALE_SECONDS: '4',
  MARK_RETRY_DELAYS_MS: '10,20',
};

export async function startFaultBench(): Promise<FaultBench> {
  const [slack, backlog, securityHub, dynamo] = await Promise.all([
    startSlackEmulator(),
    startBacklogEmulator({
      projects: [{ key: 'SEC', textFormattingRule: 'markdown', issueTypes: ['Bug', 'Task', 'Security'] }],
    }),
    startSecurityHubEmulator(),
    startDynamo(),
  ]);
  const [slackProxy, backlogProxy, securityHubProxy] = await Promise.all([
    startFaultProxy(slack.url),
    startFaultProxy(backlog.url),
    startFaultProxy(securityHub.url),
  ]);
  const env: Env = {
    PATH: process.env.PATH,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    NOTIFY_MIN_SEVERITY: 'MEDIUM',
    SLACK_API_URL: `${slackProxy.url}/api/`,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_CHANNEL: '#security-alerts',
    BACKLOG_API_URL: backlogProxy.url,
    BACKLOG_HOST: 'example.backlog.com',
    BACKLOG_API_KEY: backlog.apiKey,
    BACKLOG_PROJECT_KEY: 'SEC',
    BACKLOG_ISSUE_TYPE: 'Security',
    AWS_ENDPOINT_URL_SECURITYHUB: securityHubProxy.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_REGION: 'us-east-1',
    ...FAULT_ENV,
  };
  const replayers: Replayer[] = [];
  return {
    slack,
    backlog,
    securityHub,
    dynamo,
    slackProxy,
    backlogProxy,
    securityHubProxy,
    env,
    replayer: async (extra = {}) => {
      const lines: string[] = [];
      const replayer = await createReplayer({
        env: { ...env, ...extra },
        fastRetries: true,
        functionTimeoutMs: 3_000,
        deadLetterDir: mkdtempSync(join(tmpdir(), 'shn-faults-')),
        print: (line) => lines.push(line),
      });
      replayers.push(replayer);
      return Object.assign(replayer, { lines });
    },
    close: async () => {
      for (const replayer of replayers) await replayer.close();
      await Promise.all([slackProxy.close(), backlogProxy.close(), securityHubProxy.close()]);
      await Promise.all([slack.close(), backlog.close(), securityHub.close(), dynamo.close()]);
    },
  };
}
