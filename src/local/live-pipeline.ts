/**
 * The whole path, live, on 127.0.0.1: what BatchImportFindings stores in the Security Hub emulator
 * becomes an Imported event on the local EventBridge, whose rules (the stack's four patterns, each
 * enabled) hand what they match to the replayer (queue batches, the real dispatch handler, the real
 * workflow and task handlers). The heartbeat takes it as deployed: the real heartbeat handler
 * imports its finding, and nothing else moves it along.
 */
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadDispatchSettings } from '../config/settings.js';
import {
  buildEventPattern,
  buildEventPatternV2,
  buildTransitionPattern,
  buildTransitionPatternV2,
} from '../domain/finding/event-pattern.js';
import { minimumThreshold } from '../domain/policy/policy.js';
import * as heartbeat from '../handlers/heartbeat.js';
import { type EventBridgeEmulator, startEventBridgeEmulator } from './emulators/eventbridge-emulator.js';
import type { WorkflowRun } from './local-workflow.js';
import { createReplayer, type FindingResult, type Replayer, type ReplayOptions } from './replayer.js';
import { LOCAL_HEARTBEAT_STACK } from './sandbox.js';

export interface LivePipeline {
  replayer: Replayer;
  eventBridge: EventBridgeEmulator;
  /** The rule names, as CloudFormation names them (`<stack>-<LogicalId>-<suffix>`). */
  ruleNames: { findings: string; transitions: string; findingsV2: string; transitionsV2: string };
  /** Every finding result of every replay the rules triggered, in order. */
  results: FindingResult[];
  /** Every workflow execution those replays ran, in order. */
  runs: WorkflowRun[];
  /** Run the real heartbeat handler's scheduled send, then wait until the pipeline is idle. */
  sendHeartbeat(): Promise<void>;
  /** Resolves once every event the rules forwarded has been through the pipeline. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startLivePipeline(options: ReplayOptions = {}): Promise<LivePipeline> {
  const replayer = await createReplayer(options);
  const { env, securityHub } = replayer.sandbox;
  if (!securityHub) {
    await replayer.close();
    throw new Error(
      'the live pipeline needs the embedded Security Hub emulator (AWS_ENDPOINT_URL_SECURITYHUB unset)',
    );
  }
  const results: FindingResult[] = [];
  const runs: WorkflowRun[] = [];
  let chain: Promise<void> = Promise.resolve();
  const queue = (event: unknown) => {
    chain = chain.then(async () => {
      const replayed = await replayer.replay([event]);
      results.push(...replayed.results);
      runs.push(...replayed.runs);
    });
  };
  const settings = loadDispatchSettings(env);
  const threshold = minimumThreshold(loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env)));
  const stack = env.HEARTBEAT_STACK ?? LOCAL_HEARTBEAT_STACK;
  const ruleNames = {
    findings: `${stack}-FindingsRule-LOCAL0000001`,
    transitions: `${stack}-TransitionsRule-LOCAL0000002`,
    findingsV2: `${stack}-FindingsV2Rule-LOCAL0000003`,
    transitionsV2: `${stack}-TransitionsV2Rule-LOCAL0000004`,
  };
  const rule = (name: string, pattern: object) => ({
    name,
    pattern: pattern as Record<string, unknown>,
    state: 'ENABLED' as const,
    target: queue,
  });
  const eventBridge = await startEventBridgeEmulator({
    region: env.AWS_REGION,
    rules: [
      rule(ruleNames.findings, buildEventPattern(threshold)),
      rule(ruleNames.transitions, buildTransitionPattern()),
      rule(ruleNames.findingsV2, buildEventPatternV2(threshold)),
      rule(ruleNames.transitionsV2, buildTransitionPatternV2()),
    ],
  });
  securityHub.onImported((event) => eventBridge.publish(event));
  const sender = heartbeat.makeHandler(heartbeat.defaultDeps(env));
  const idle = async () => {
    for (let seen: Promise<void> | undefined; seen !== chain; ) {
      seen = chain;
      await seen;
    }
  };
  return {
    replayer,
    eventBridge,
    ruleNames,
    results,
    runs,
    sendHeartbeat: async () => {
      await sender({ send: true }, {
        functionName: 'heartbeat',
        awsRequestId: `heartbeat-${Date.now()}`,
      } as never);
      await idle();
    },
    idle,
    close: async () => {
      await idle().catch(() => undefined);
      await eventBridge.close();
      await replayer.close();
    },
  };
}
