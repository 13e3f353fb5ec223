/**
 * `npm run doctor -- --stage <stage> [--param name=value]...`: checks a deployed stage from a
 * workstation (README "Doctor") and prints a checklist, ✓ or ✗ with the fix for each. Exits 1 when
 * any check fails. AWS credentials are the SDK's default chain; the region is the stage's
 * homeRegion. Endpoints may be pointed elsewhere (the emulators, in the tests) with the variables
 * `npm run replay` takes (AWS_ENDPOINT_URL_<SERVICE>, SLACK_API_URL, BACKLOG_API_URL).
 */

import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { BacklogTracker } from '../adapters/backlog.js';
import { EventBridgeRules } from '../adapters/eventbridge-rules.js';
import { HeartbeatLedgerTable } from '../adapters/heartbeat-ledger.js';
import { SecretStoreInspector } from '../adapters/secret-inspector.js';
import { makeSecret, type SecretClients } from '../adapters/secrets.js';
import { SecurityHubConfigInspector } from '../adapters/security-hub-inspector.js';
import { SlackPoster } from '../adapters/slack.js';
import { type DoctorSection, diagnoseStage, type StageConfig } from '../app/diagnose-stage.js';
import { systemClock } from '../app/ports.js';
import { loadPolicyFile } from '../config/policy-file.js';
import { loadStageSettings, type StageSettings } from '../config/stage-settings.js';
import { buildEventPattern } from '../domain/finding/event-pattern.js';
import { routedDestinations } from '../domain/heartbeat/heartbeat.js';
import { minimumThreshold } from '../domain/policy/policy.js';

const USAGE = 'usage: npm run doctor -- --stage <stage> [--param name=value]...';

export interface DoctorOptions {
  /** serverless.yml (the stage's params); default: the one in the working directory. */
  serviceFile?: string;
  print?: (line: string) => void;
  now?: () => Date;
}

function parseArgs(argv: readonly string[]): { stage: string; params: Record<string, string> } | string {
  let stage: string | undefined;
  const params: Record<string, string> = {};
  const rest = [...argv];
  while (rest.length > 0) {
    const arg = rest.shift() ?? '';
    // `--flag value` or `--flag=value`.
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = equals < 0 ? arg : arg.slice(0, equals);
    const value = equals < 0 ? rest.shift() : arg.slice(equals + 1);
    if (flag === '--stage' && value) stage = value;
    else if (flag === '--param' && value?.includes('=')) {
      params[value.slice(0, value.indexOf('='))] = value.slice(value.indexOf('=') + 1);
    } else return `${USAGE}\n(unexpected ${arg})`;
  }
  return stage ? { stage, params } : USAGE;
}

/** What the stage's functions would see: its params as the variables the policy's defaults come from. */
function stageConfig(settings: StageSettings): StageConfig {
  const policy = loadPolicyFile(settings.policyFile, {
    minSeverity: settings.minSeverity,
    slackChannel: settings.slackChannel,
    backlogProjectKey: settings.backlogProjectKey,
    backlogIssueType: settings.backlogIssueType,
  });
  return {
    stage: settings.stage,
    stack: settings.stack,
    homeRegion: settings.homeRegion,
    secrets: {
      slackToken: settings.slackTokenParameter,
      backlogApiKey: settings.backlogApiKeyParameter,
      backlogWebhookToken: settings.backlogWebhookTokenParameter,
    },
    destinations: routedDestinations(policy),
    expectedPattern: buildEventPattern(minimumThreshold(policy)),
    linkedRegions: settings.linkedRegions,
    heartbeatIntervalHours: settings.heartbeatIntervalHours,
  };
}

function doctorPorts(settings: StageSettings, env: Env, now: () => Date) {
  const regional: Env = { ...env, AWS_REGION: settings.homeRegion };
  const clients: SecretClients = {
    ssm: () => new SSMClient(awsClientConfig(regional, 'SSM')),
    secretsManager: () => new SecretsManagerClient(awsClientConfig(regional, 'SECRETS_MANAGER')),
  };
  const secret = (parameter: string) => makeSecret({ parameter }, clients);
  return {
    secrets: new SecretStoreInspector(clients),
    chat: new SlackPoster({
      getToken: secret(settings.slackTokenParameter),
      tokenSource: settings.slackTokenParameter,
      ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
    }),
    tracker: new BacklogTracker({
      host: settings.backlogHost,
      getApiKey: secret(settings.backlogApiKeyParameter),
      apiKeySource: settings.backlogApiKeyParameter,
      ...(env.BACKLOG_API_URL ? { apiUrl: env.BACKLOG_API_URL } : {}),
    }),
    securityHub: new SecurityHubConfigInspector(
      new SecurityHubClient(awsClientConfig(regional, 'SECURITYHUB')),
    ),
    rules: new EventBridgeRules(new EventBridgeClient(awsClientConfig(regional, 'EVENTBRIDGE'))),
    heartbeats: new HeartbeatLedgerTable(
      new DynamoDBClient(awsClientConfig(regional, 'DYNAMODB')),
      settings.ledgerTable,
    ),
    clock: { now },
  };
}

/** The checklist: a section a heading, a line a check, the fix under each ✗. */
export function formatChecklist(sections: readonly DoctorSection[]): string[] {
  const lines: string[] = [];
  for (const { title, results } of sections) {
    lines.push(title);
    for (const result of results) {
      lines.push(`  ${result.ok ? '✓' : '✗'} ${result.name}: ${result.detail}`);
      if (!result.ok && result.fix) lines.push(`      fix: ${result.fix}`);
    }
  }
  const all = sections.flatMap((section) => section.results);
  const failed = all.filter((result) => !result.ok).length;
  lines.push(`${all.length} checks: ${all.length - failed} ✓, ${failed} ✗`);
  return lines;
}

export async function runDoctor(
  argv: readonly string[],
  env: Env,
  options: DoctorOptions = {},
): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    print(args);
    return 2;
  }
  const settings = loadStageSettings(options.serviceFile ?? 'serverless.yml', args.stage, args.params);
  print(`securityhub-notifier doctor: stage ${settings.stage} (${settings.stack}) in ${settings.homeRegion}`);
  const sections = await diagnoseStage(
    stageConfig(settings),
    doctorPorts(settings, env, options.now ?? systemClock.now),
  );
  for (const line of formatChecklist(sections)) print(line);
  return sections.some((section) => section.results.some((result) => !result.ok)) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runDoctor(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`doctor failed: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
