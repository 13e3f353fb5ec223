/**
 * Use case of `npm run doctor`: check a deployed stage from a workstation, one checklist line each
 * (what, ✓ or ✗, what was found, the fix): its secrets exist and decrypt; the Slack token is valid
 * and the bot is in every routed channel; every routed Backlog project and issue type exists and
 * the key may add issues; Security Hub is enabled in the home region and aggregates the expected
 * regions into it; the findings rule is enabled with the pattern the stack deploys; the last
 * heartbeat passed recently. A check that cannot run (an endpoint down) is a ✗ saying why.
 */
import type { RoutedDestinations } from '../domain/heartbeat/heartbeat.js';
import { checkChat, checkTracker } from './check-destinations.js';
import type {
  ChatInspector,
  CheckResult,
  HeartbeatLedger,
  RuleInspector,
  SecretInspector,
  SecurityHubInspector,
  TrackerInspector,
} from './health-ports.js';
import type { Clock } from './ports.js';

export interface StageConfig {
  stage: string;
  /** `securityhub-notifier-<stage>`. */
  stack: string;
  homeRegion: string;
  secrets: { slackToken: string; backlogApiKey: string; backlogWebhookToken: string };
  destinations: RoutedDestinations;
  /** The pattern this checkout deploys for the FindingsRule. */
  expectedPattern: unknown;
  /** Regions the aggregator must link (empty: any aggregation into the home region will do). */
  linkedRegions: readonly string[];
  heartbeatIntervalHours: number;
}

export interface DoctorPorts {
  secrets: SecretInspector;
  chat: ChatInspector;
  tracker: TrackerInspector;
  securityHub: SecurityHubInspector;
  rules: RuleInspector;
  heartbeats: HeartbeatLedger;
  clock: Clock;
}

export interface DoctorSection {
  title: string;
  results: CheckResult[];
}

/** A check that could not run at all: a ✗ saying why (never an exception out of the doctor). */
async function guarded(name: string, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await run();
  } catch (error) {
    const { name: kind, message } = error as Error;
    return [
      {
        name,
        ok: false,
        detail: `could not check: ${kind}: ${message}`,
        fix: 'retry; check the credentials and network to that endpoint',
      },
    ];
  }
}

export async function diagnoseStage(config: StageConfig, ports: DoctorPorts): Promise<DoctorSection[]> {
  const secrets = await checkSecrets(config, ports.secrets);
  const readable = (parameter: string) => secrets.find((r) => r.name.endsWith(parameter))?.ok === true;
  return [
    { title: 'Secrets (read as the functions read them)', results: secrets },
    {
      title: 'Slack',
      results: readable(config.secrets.slackToken)
        ? await guarded('Slack', () =>
            checkChat(config.destinations.slackChannels, ports.chat, config.secrets.slackToken),
          )
        : [unreadable('Slack bot token', config.secrets.slackToken)],
    },
    {
      title: 'Backlog',
      results: readable(config.secrets.backlogApiKey)
        ? await guarded('Backlog', () =>
            checkTracker(config.destinations.backlog, ports.tracker, config.secrets.backlogApiKey),
          )
        : [unreadable('Backlog API key', config.secrets.backlogApiKey)],
    },
    {
      title: `Security Hub (${config.homeRegion})`,
      results: await guarded('Security Hub', () => checkSecurityHub(config, ports.securityHub)),
    },
    { title: 'EventBridge', results: await guarded('FindingsRule', () => checkRule(config, ports.rules)) },
    { title: 'Heartbeat', results: await guarded('Last heartbeat', () => checkHeartbeat(config, ports)) },
  ];
}

const unreadable = (name: string, parameter: string): CheckResult => ({
  name,
  ok: false,
  detail: `not checked: ${parameter} cannot be read`,
  kind: 'unchecked',
});

async function checkSecrets(config: StageConfig, inspector: SecretInspector): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [label, parameter] of [
    ['Slack bot token', config.secrets.slackToken],
    ['Backlog API key', config.secrets.backlogApiKey],
    ['Backlog webhook token', config.secrets.backlogWebhookToken],
  ] as const) {
    const name = `${label} ${parameter}`;
    const found = await guarded(name, async () => {
      const checked = await inspector.check(parameter);
      if (checked.ok) return [{ name, ok: true, detail: 'exists and decrypts' }];
      return [
        {
          name,
          ok: false,
          detail: checked.error,
          fix: storeFix(parameter, checked.error, config.homeRegion),
        },
      ];
    });
    results.push(...found);
  }
  return results;
}

function storeFix(parameter: string, error: string, region: string): string {
  const secretsManager = parameter.startsWith('arn:aws:secretsmanager:');
  if (/ParameterNotFound|ResourceNotFoundException/.test(error)) {
    return secretsManager
      ? `create it: aws secretsmanager put-secret-value --secret-id ${parameter} --secret-string '…'`
      : `aws ssm put-parameter --region ${region} --type SecureString --name ${parameter} --value '…'`;
  }
  if (/kms|decrypt/i.test(error)) {
    return `allow kms:Decrypt of the secret's key (alias/aws/ssm, alias/aws/secretsmanager or its customer key) for the functions' roles and for you`;
  }
  if (/AccessDenied|not authorized/i.test(error)) {
    return `allow ${secretsManager ? 'secretsmanager:GetSecretValue' : 'ssm:GetParameter'} on ${parameter} for you`;
  }
  return `could not reach the secret store: check your credentials, the region (${region}) and the network`;
}

async function checkSecurityHub(
  config: StageConfig,
  inspector: SecurityHubInspector,
): Promise<CheckResult[]> {
  const home = config.homeRegion;
  const hub = await inspector.hub();
  if (!hub.enabled) {
    return [
      {
        name: `Security Hub in ${home}`,
        ok: false,
        detail: hub.reason,
        fix: `enable Security Hub CSPM in ${home} (aws securityhub enable-security-hub --region ${home}) in the delegated administrator account`,
      },
    ];
  }
  const results: CheckResult[] = [
    { name: `Security Hub in ${home}`, ok: true, detail: `enabled (${hub.hubArn})` },
  ];
  const aggregator = await inspector.aggregator();
  const name = 'Cross-region aggregation';
  if (!aggregator) {
    results.push({
      name,
      ok: false,
      detail: 'no finding aggregator: only this region’s findings reach the rule',
      fix: `aws securityhub create-finding-aggregator --region ${home} --region-linking-mode ALL_REGIONS`,
    });
    return results;
  }
  if (aggregator.region !== home) {
    results.push({
      name,
      ok: false,
      detail: `findings are aggregated into ${aggregator.region}, not ${home}`,
      fix: `deploy the stage into ${aggregator.region} (the homeRegion param), or move the aggregator to ${home}`,
    });
    return results;
  }
  results.push({ name, ok: true, detail: `into ${home}, ${describeLinking(aggregator)}` });
  if (config.linkedRegions.length > 0) results.push(linkedRegionsCheck(config, aggregator));
  return results;
}

const describeLinking = (a: { mode: string; regions: string[] }) =>
  a.regions.length > 0 ? `${a.mode} (${a.regions.join(', ')})` : a.mode;

/** The expected regions the aggregator does not link, by its linking mode. */
export function unlinkedRegions(
  aggregator: { mode: string; regions: readonly string[] },
  expected: readonly string[],
): string[] {
  const listed = new Set(aggregator.regions);
  const linked = (region: string) => {
    if (aggregator.mode === 'ALL_REGIONS') return true;
    if (aggregator.mode === 'ALL_REGIONS_EXCEPT_SPECIFIED') return !listed.has(region);
    if (aggregator.mode === 'SPECIFIED_REGIONS') return listed.has(region);
    return false;
  };
  return expected.filter((region) => !linked(region));
}

function linkedRegionsCheck(
  config: StageConfig,
  aggregator: { arn: string; mode: string; regions: string[] },
): CheckResult {
  const missing = unlinkedRegions(aggregator, config.linkedRegions);
  const name = 'Linked regions';
  if (missing.length === 0) return { name, ok: true, detail: `${config.linkedRegions.join(', ')} linked` };
  return {
    name,
    ok: false,
    detail: `${missing.join(', ')} not linked (${describeLinking(aggregator)})`,
    fix: `aws securityhub update-finding-aggregator --region ${config.homeRegion} --finding-aggregator-arn ${aggregator.arn} --region-linking-mode ALL_REGIONS (or list ${missing.join(', ')} with SPECIFIED_REGIONS)`,
  };
}

async function checkRule(config: StageConfig, rules: RuleInspector): Promise<CheckResult[]> {
  const rule = await rules.findingsRule(config.stack);
  const name = 'FindingsRule';
  const redeploy = `npx serverless deploy --stage ${config.stage} (with the params it was deployed with)`;
  if (!rule) {
    return [
      {
        name,
        ok: false,
        detail: `no rule named ${config.stack}-FindingsRule-… on the default bus`,
        fix: `deploy the stage: ${redeploy}`,
      },
    ];
  }
  if (rule.state !== 'ENABLED') {
    return [
      {
        name,
        ok: false,
        detail: `${rule.name} is ${rule.state}: no finding reaches the queue`,
        fix: `aws events enable-rule --region ${config.homeRegion} --name ${rule.name}`,
      },
    ];
  }
  if (JSON.stringify(rule.pattern) !== JSON.stringify(config.expectedPattern)) {
    return [
      {
        name,
        ok: false,
        detail: `${rule.name} is enabled, but its pattern differs from the one this checkout deploys (the heartbeat, or findings, may not match it)`,
        fix: redeploy,
      },
    ];
  }
  return [{ name, ok: true, detail: `${rule.name} enabled, with the expected pattern` }];
}

async function checkHeartbeat(config: StageConfig, ports: DoctorPorts): Promise<CheckResult[]> {
  const name = 'Last heartbeat';
  const record = await ports.heartbeats.lastHeartbeat(config.stack);
  const every = `${config.heartbeatIntervalHours} h`;
  const invoke = `aws lambda invoke --region ${config.homeRegion} --function-name ${config.stack}-heartbeat --payload '{"send":true}' --cli-binary-format raw-in-base64-out /dev/stdout`;
  if (!record?.succeededAt) {
    return [
      {
        name,
        ok: false,
        detail: record?.lastError
          ? `none passed yet; the last failed: ${firstLine(record.lastError)}`
          : 'none passed yet',
        fix: `the schedule sends one every ${every}; to send one now: ${invoke}`,
      },
    ];
  }
  const now = ports.clock.now().getTime();
  const ageHours = (now - Date.parse(record.succeededAt)) / 3_600_000;
  const age = `${ageHours.toFixed(1)} h ago`;
  const latency =
    record.latencyMs === undefined ? '' : `, ${(record.latencyMs / 1000).toFixed(1)} s end to end`;
  if (record.failedAt && record.lastError && Date.parse(record.failedAt) > Date.parse(record.succeededAt)) {
    return [
      {
        name,
        ok: false,
        detail: `the last heartbeat failed (${record.failedAt}): ${firstLine(record.lastError)}; the last pass was ${age}`,
        fix: `fix what it names (see the ✗ above, or the failed execution heartbeat-…), then send one: ${invoke}`,
      },
    ];
  }
  if (ageHours > 2 * config.heartbeatIntervalHours) {
    return [
      {
        name,
        ok: false,
        detail: `passed ${age}: more than two intervals (${every} each) without one`,
        fix: `check the heartbeat's schedule and function errors, the dead-letter queue and the HeartbeatMissingAlarm; to send one now: ${invoke}`,
      },
    ];
  }
  return [{ name, ok: true, detail: `passed ${age}${latency}` }];
}

/** `Error: Cause` as the workflow records it; on Lambda the cause is JSON with the errorMessage. */
function firstLine(recorded: string): string {
  const separator = recorded.indexOf(': ');
  const [error, cause] =
    separator < 0 ? ['', recorded] : [recorded.slice(0, separator), recorded.slice(separator + 2)];
  let message = cause;
  try {
    message = (JSON.parse(cause) as { errorMessage?: string }).errorMessage ?? cause;
  } catch {
    // not JSON: the message itself (the local workflow records it so)
  }
  return `${error ? `${error}: ` : ''}${message.split('\n')[0] ?? ''}`.slice(0, 500);
}
