import { existsSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_LEDGER_TABLE, DEFAULT_POLICY_FILE } from '../config/constants.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import type { Route } from '../domain/delivery/delivery.js';
import { defaultProductArn } from '../domain/heartbeat/heartbeat.js';
import { type BacklogEmulator, startBacklogEmulator } from './emulators/backlog-emulator.js';
import { ensureLedgerTable, startDynamo } from './emulators/dynamo.js';
import { type SecurityHubEmulator, startSecurityHubEmulator } from './emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from './emulators/slack-emulator.js';

export type Env = Record<string, string | undefined>;

/** The emulated account and the local stack's name (its heartbeat's source). */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_HEARTBEAT_STACK = 'securityhub-notifier-local';

/** What the embedded emulators use when they stand in for a service. */
export const SANDBOX_DEFAULTS = {
  slackToken: 'xoxb-local-sandbox',
  slackChannel: '#security-alerts',
  backlogHost: 'example.backlog.com',
  backlogApiKey: 'local-backlog-key',
  backlogProjectKey: 'SEC',
  backlogIssueType: 'Security',
} as const;

/**
 * The people of the embedded Slack workspace and Backlog space: Alice is in both (the same mail
 * address: an acknowledgement assigns her issues to her) and in the `S0SECOPS` user group; Bob is in
 * Slack only; the analyst is the Slack emulator's default user.
 */
export const SANDBOX_PEOPLE = {
  slackUsers: [
    {
      id: 'U0ALICE',
      name: 'alice',
      real_name: 'Alice Example',
      profile: { email: 'alice@example.com', display_name: 'Alice Example' },
    },
    {
      id: 'U0BOB',
      name: 'bob',
      real_name: 'Bob Builder',
      profile: { email: 'bob@example.com', display_name: 'Bob Builder' },
    },
    {
      id: 'U0ANALYST',
      name: 'analyst',
      real_name: 'Security Analyst',
      profile: { email: 'analyst@example.com', display_name: 'analyst' },
    },
  ],
  slackUserGroups: { S0SECOPS: ['U0ALICE'] },
  backlogUsers: [{ id: 2, userId: 'alice', name: 'Alice Example', mailAddress: 'alice@example.com' }],
};

export interface Sandbox {
  /** The environment the pipeline runs with: the caller's, plus an endpoint per embedded emulator. */
  env: Env;
  slack?: SlackEmulator;
  backlog?: BacklogEmulator;
  securityHub?: SecurityHubEmulator;
  close(): Promise<void>;
}

/** The routes of the policy the replay will use (none when there is no policy file). */
function policyRoutes(env: Env): Route[] {
  const file = env.NOTIFICATION_POLICY_FILE ?? DEFAULT_POLICY_FILE;
  if (!existsSync(file)) return [];
  const policy = loadPolicyFile(file, policyDefaultsFromEnv(env));
  return [policy.defaultRoute, ...policy.routes.map((rule) => rule.route)];
}

function backlogProjects(defaultKey: string, defaultType: string, routes: Route[]) {
  const projects = new Map<string, { issueTypes: Set<string>; categories: Set<string> }>();
  const add = (key: string, issueType: string, category?: string) => {
    const project = projects.get(key) ?? {
      issueTypes: new Set(['Bug', 'Task']),
      categories: new Set<string>(),
    };
    project.issueTypes.add(issueType);
    if (category) project.categories.add(category);
    projects.set(key, project);
  };
  add(defaultKey, defaultType);
  for (const { backlog } of routes) add(backlog.projectKey, backlog.issueTypeName, backlog.categoryName);
  return [...projects].map(([key, { issueTypes, categories }]) => ({
    key,
    issueTypes: [...issueTypes],
    categories: [...categories],
  }));
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
    const embedSlack = !env.SLACK_API_URL;
    const embedBacklog = !env.BACKLOG_API_URL;
    if (embedSlack) {
      env.SLACK_BOT_TOKEN ??= SANDBOX_DEFAULTS.slackToken;
      env.SLACK_CHANNEL ??= SANDBOX_DEFAULTS.slackChannel;
    }
    if (embedBacklog) {
      env.BACKLOG_HOST ??= SANDBOX_DEFAULTS.backlogHost;
      env.BACKLOG_API_KEY ??= SANDBOX_DEFAULTS.backlogApiKey;
      env.BACKLOG_PROJECT_KEY ??= SANDBOX_DEFAULTS.backlogProjectKey;
      env.BACKLOG_ISSUE_TYPE ??= SANDBOX_DEFAULTS.backlogIssueType;
    }
    // The emulated workspace holds what the policy routes to: its channels, projects, types.
    const routes = policyRoutes(env);
    if (embedSlack) {
      const channels = [
        ...new Set([env.SLACK_CHANNEL as string, ...routes.map((route) => route.slackChannel)]),
      ];
      const slack = await startSlackEmulator({
        token: env.SLACK_BOT_TOKEN,
        channels,
        users: SANDBOX_PEOPLE.slackUsers.map((user) => structuredClone(user)),
        usergroups: structuredClone(SANDBOX_PEOPLE.slackUserGroups),
      });
      closers.push(() => slack.close());
      env.SLACK_API_URL = slack.url;
      sandbox.slack = slack;
    }
    if (embedBacklog) {
      const backlog = await startBacklogEmulator({
        apiKey: env.BACKLOG_API_KEY,
        users: SANDBOX_PEOPLE.backlogUsers.map((user) => ({ ...user })),
        projects: backlogProjects(
          env.BACKLOG_PROJECT_KEY as string,
          env.BACKLOG_ISSUE_TYPE as string,
          routes,
        ),
      });
      closers.push(() => backlog.close());
      env.BACKLOG_API_URL = backlog.url;
      sandbox.backlog = backlog;
    }
    if (!env.AWS_ENDPOINT_URL_SECURITYHUB) {
      const securityHub = await startSecurityHubEmulator({
        region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      });
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
    if (sandbox.securityHub && !env.HEARTBEAT_STACK && !env.HEARTBEAT_PRODUCT_ARN) {
      // The heartbeat of a local stack, into the emulated account's default product.
      env.HEARTBEAT_STACK = LOCAL_HEARTBEAT_STACK;
      env.HEARTBEAT_PRODUCT_ARN = defaultProductArn('aws', env.AWS_REGION, LOCAL_ACCOUNT);
    }
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
