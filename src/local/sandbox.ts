import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_LEDGER_TABLE } from '../config/constants.js';
import { type BacklogEmulator, startBacklogEmulator } from './emulators/backlog-emulator.js';
import { ensureLedgerTable, startDynamo } from './emulators/dynamo.js';
import { type SecurityHubEmulator, startSecurityHubEmulator } from './emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from './emulators/slack-emulator.js';

export type Env = Record<string, string | undefined>;

/** What the embedded emulators use when they stand in for a service. */
export const SANDBOX_DEFAULTS = {
  slackToken: 'xoxb-local-sandbox',
  slackChannel: '#security-alerts',
  backlogHost: 'example.backlog.com',
  backlogApiKey: 'local-backlog-key',
  backlogProjectKey: 'SEC',
  backlogIssueType: 'Security',
} as const;

export interface Sandbox {
  /** The environment the pipeline runs with: the caller's, plus an endpoint per embedded emulator. */
  env: Env;
  slack?: SlackEmulator;
  backlog?: BacklogEmulator;
  securityHub?: SecurityHubEmulator;
  close(): Promise<void>;
}

/**
 * Start an embedded emulator for every endpoint the environment leaves unset (Slack, Backlog,
 * Security Hub, DynamoDB), all on 127.0.0.1, and create the ledger table if it is absent.
 */
export async function startSandbox(input: Env): Promise<Sandbox> {
  const env: Env = { ...input };
  const closers: Array<() => Promise<void>> = [];
  const sandbox: Sandbox = {
    env,
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
  try {
    if (!env.SLACK_API_URL) {
      env.SLACK_BOT_TOKEN ??= SANDBOX_DEFAULTS.slackToken;
      env.SLACK_CHANNEL ??= SANDBOX_DEFAULTS.slackChannel;
      const slack = await startSlackEmulator({ token: env.SLACK_BOT_TOKEN, channels: [env.SLACK_CHANNEL] });
      closers.push(() => slack.close());
      env.SLACK_API_URL = slack.url;
      sandbox.slack = slack;
    }
    if (!env.BACKLOG_API_URL) {
      env.BACKLOG_HOST ??= SANDBOX_DEFAULTS.backlogHost;
      env.BACKLOG_API_KEY ??= SANDBOX_DEFAULTS.backlogApiKey;
      env.BACKLOG_PROJECT_KEY ??= SANDBOX_DEFAULTS.backlogProjectKey;
      env.BACKLOG_ISSUE_TYPE ??= SANDBOX_DEFAULTS.backlogIssueType;
      const backlog = await startBacklogEmulator({
        apiKey: env.BACKLOG_API_KEY,
        projects: [{ key: env.BACKLOG_PROJECT_KEY, issueTypes: ['Bug', 'Task', env.BACKLOG_ISSUE_TYPE] }],
      });
      closers.push(() => backlog.close());
      env.BACKLOG_API_URL = backlog.url;
      sandbox.backlog = backlog;
    }
    if (!env.AWS_ENDPOINT_URL_SECURITYHUB) {
      const securityHub = await startSecurityHubEmulator();
      closers.push(() => securityHub.close());
      env.AWS_ENDPOINT_URL_SECURITYHUB = securityHub.url;
      sandbox.securityHub = securityHub;
    }
    if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
      const dynamo = await startDynamo();
      closers.push(() => dynamo.close());
      env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.url;
    }
    const everyAwsEndpointLocal = [env.AWS_ENDPOINT_URL_SECURITYHUB, env.AWS_ENDPOINT_URL_DYNAMODB].every(
      (url) => /^https?:\/\/(127\.|localhost|\[::1\])/.test(url ?? ''),
    );
    if (everyAwsEndpointLocal && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
      env.AWS_ACCESS_KEY_ID = 'local';
      env.AWS_SECRET_ACCESS_KEY = 'local';
    }
    env.AWS_REGION ??= env.AWS_DEFAULT_REGION ?? 'us-east-1';
    env.LEDGER_TABLE ??= DEFAULT_LEDGER_TABLE;
    await ensureLedgerTable(
      new DynamoDBClient({
        endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
        region: env.AWS_REGION,
        ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? {
              credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
            }
          : {}),
      }),
      env.LEDGER_TABLE,
    );
    return sandbox;
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}
