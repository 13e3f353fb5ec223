/**
 * Use cases of the heartbeat. A schedule sends it (`sendHeartbeat`: one synthetic finding imported
 * into the account's default product); it takes the real path to the workflow, whose tasks check
 * the destinations in check mode (`checkChatTask`, `checkTrackerTask`: nothing posted or filed; a
 * failure fails the execution naming it); `completeHeartbeat` archives it, emits the end-to-end
 * latency as a metric (the alarm fires when none arrives) and ledgers the success.
 */
import {
  buildHeartbeatFinding,
  type HeartbeatCheck,
  type HeartbeatSource,
  heartbeatLatencyMs,
} from '../domain/heartbeat/heartbeat.js';
import { checkChat, checkFailure, checkTracker } from './check-destinations.js';
import { ConfigError } from './errors.js';
import type {
  ChatInspector,
  CheckResult,
  FindingsImporter,
  HeartbeatLedger,
  MetricsSink,
  TrackerInspector,
} from './health-ports.js';
import type { Clock, Log } from './ports.js';

/** The metric each passed heartbeat emits (the alarm counts `Heartbeats`; template-tested). */
export const HEARTBEAT_METRICS = { latency: 'HeartbeatLatency', count: 'Heartbeats' } as const;
/** The metric's one dimension: the stack. */
export const HEARTBEAT_DIMENSION = 'Stack';

export interface SendHeartbeatPorts {
  source: HeartbeatSource;
  importer: FindingsImporter;
  clock: Clock;
  log: Log;
}

/** The scheduled run: import one heartbeat finding, now. */
export async function sendHeartbeat(
  ports: SendHeartbeatPorts,
): Promise<{ findingId: string; sentAt: string }> {
  const sentAt = ports.clock.now().toISOString();
  const finding = buildHeartbeatFinding(ports.source, sentAt);
  await ports.importer.import([finding]);
  const findingId = String(finding.Id);
  ports.log.info('heartbeat sent', { findingId, sentAt });
  return { findingId, sentAt };
}

/** What a check task answers when every destination passed. */
export interface CheckPassed {
  checked: number;
  results: string[];
}

function passedOrThrow(results: CheckResult[], log: Log, what: string): CheckPassed {
  const failure = checkFailure(results);
  if (failure) {
    log.error(`heartbeat: ${what} check failed`, { results });
    throw failure;
  }
  return { checked: results.length, results: results.map((result) => `${result.name}: ${result.detail}`) };
}

/** The PostSlackMessage task in check mode: the token, and the bot in every routed channel. */
export async function checkChatTask(
  check: HeartbeatCheck,
  ports: { inspector: ChatInspector; tokenSource: string; log: Log },
): Promise<CheckPassed> {
  const results = await checkChat(check.destinations.slackChannels, ports.inspector, ports.tokenSource);
  return passedOrThrow(results, ports.log, 'Slack');
}

/** The FileBacklogIssue task in check mode: the key, every routed project and issue type. */
export async function checkTrackerTask(
  check: HeartbeatCheck,
  ports: { inspector: TrackerInspector; keySource: string; log: Log },
): Promise<CheckPassed> {
  const results = await checkTracker(check.destinations.backlog, ports.inspector, ports.keySource);
  return passedOrThrow(results, ports.log, 'Backlog');
}

export interface CompleteHeartbeatPorts extends SendHeartbeatPorts {
  metrics: MetricsSink;
  ledger: HeartbeatLedger;
}

function ownCheck(check: HeartbeatCheck, source: HeartbeatSource): void {
  if (check.heartbeat.stack !== source.stack) {
    throw new ConfigError(
      `HEARTBEAT_STACK: the heartbeat of ${check.heartbeat.stack} reached the stack ${source.stack}`,
    );
  }
}

/** Archive the heartbeat finding (the provider's own update: RecordState ARCHIVED). */
export async function archiveHeartbeat(check: HeartbeatCheck, ports: SendHeartbeatPorts): Promise<void> {
  ownCheck(check, ports.source);
  const updatedAt = ports.clock.now().toISOString();
  await ports.importer.import([buildHeartbeatFinding(ports.source, check.heartbeat.sentAt, { updatedAt })]);
}

/** Every check passed: archive the finding, ledger the success, then emit the latency (import → now). */
export async function completeHeartbeat(
  check: HeartbeatCheck,
  ports: CompleteHeartbeatPorts,
): Promise<{ latencyMs: number }> {
  await archiveHeartbeat(check, ports);
  const now = ports.clock.now();
  const latencyMs = heartbeatLatencyMs(check.heartbeat, now);
  const findingId = check.members[0]?.identifier.Id ?? '';
  // Ledgered before the metric: a retry after a failed write does not count the heartbeat twice.
  await ports.ledger.recordHeartbeat(ports.source.stack, { at: now.toISOString(), latencyMs, findingId });
  ports.metrics.emit(
    [
      { name: HEARTBEAT_METRICS.latency, unit: 'Milliseconds', value: latencyMs },
      { name: HEARTBEAT_METRICS.count, unit: 'Count', value: 1 },
    ],
    { [HEARTBEAT_DIMENSION]: ports.source.stack },
    now,
  );
  ports.log.info('heartbeat passed', { latencyMs, findingId });
  return { latencyMs };
}
