import { describe, expect, it } from 'vitest';
import { EmfMetrics } from '../../src/adapters/emf-metrics.js';
import { type DispatchPorts, dispatchBatch } from '../../src/app/dispatch-batch.js';
import { ConfigError } from '../../src/app/errors.js';
import { completeHeartbeat, sendHeartbeat } from '../../src/app/heartbeat.js';
import { loadHeartbeatSettings, loadHeartbeatSource } from '../../src/config/heartbeat-settings.js';
import type { WorkflowInput } from '../../src/domain/delivery/delivery.js';
import { buildEventPattern, matchesEventPattern } from '../../src/domain/finding/event-pattern.js';
import {
  buildHeartbeatFinding,
  defaultProductArn,
  HEARTBEAT_ID_PREFIX,
  type HeartbeatCheck,
  heartbeatOf,
  isOwnHeartbeat,
  routedDestinations,
} from '../../src/domain/heartbeat/heartbeat.js';
import { defaultPolicy, type NotificationPolicy } from '../../src/domain/policy/policy.js';
import { parseHeartbeatInput } from '../../src/handlers/check-input.js';
import { makeLogger } from '../../src/handlers/runtime.js';

const ACCOUNT = '123456789012';
const PRODUCT = defaultProductArn('aws', 'ap-northeast-1', ACCOUNT);
const SOURCE = { stack: 'securityhub-notifier-prod', productArn: PRODUCT };
const SENT_AT = '2026-03-01T00:00:00.000Z';
const logger = makeLogger({ POWERTOOLS_LOG_LEVEL: 'SILENT' });

const policy: NotificationPolicy = {
  ...defaultPolicy({
    minSeverity: 'HIGH',
    slackChannel: '#security-alerts',
    backlogProjectKey: 'SEC',
    backlogIssueType: 'Task',
  }),
  routes: [
    {
      match: { account: ['111111111111'] },
      route: {
        name: 'prod',
        slackChannel: '#sec-prod',
        backlog: { projectKey: 'PROD', issueTypeName: 'Bug' },
      },
    },
    {
      match: { account: ['222222222222'] },
      route: {
        name: 'prod-too',
        slackChannel: '#sec-prod',
        backlog: { projectKey: 'PROD', issueTypeName: 'Bug' },
      },
    },
  ],
};

/** The Imported event Security Hub sends for a stored heartbeat finding. */
function heartbeatEvent(finding = buildHeartbeatFinding(SOURCE, SENT_AT), id = 'event-heartbeat') {
  return {
    version: '0',
    id,
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: SENT_AT,
    region: 'ap-northeast-1',
    resources: [],
    detail: { findings: [{ ...finding, Workflow: { Status: 'NEW' }, WorkflowState: 'NEW' }] },
  };
}

function dispatchPorts(heartbeat = SOURCE) {
  const started: Array<{ input: WorkflowInput; name: string }> = [];
  const ports: DispatchPorts = {
    settings: { homeRegion: 'ap-northeast-1', accountNames: {}, heartbeat },
    policy,
    ledger: {
      getMany: async () => new Map(),
      getGroups: async () => new Map(),
      openGroup: async () => true,
      retakeGroup: async () => true,
    },
    workflow: { start: async (input, name) => void started.push({ input, name }) },
    deadLetter: { send: async () => undefined },
    clock: { now: () => new Date(SENT_AT) },
    log: logger,
  };
  return { ports, started };
}

const records = (...events: unknown[]) =>
  events.map((event, index) => ({ messageId: `m${index}`, body: JSON.stringify(event) }));

describe('the heartbeat finding', () => {
  it("is an INFORMATIONAL finding of the account's default product, marked as the notifier's own", () => {
    const finding = buildHeartbeatFinding(SOURCE, SENT_AT);

    expect(finding).toMatchObject({
      Id: `${HEARTBEAT_ID_PREFIX}securityhub-notifier-prod/${SENT_AT}`,
      ProductArn: PRODUCT,
      GeneratorId: 'securityhub-notifier-heartbeat',
      AwsAccountId: ACCOUNT,
      Severity: { Label: 'INFORMATIONAL' },
      RecordState: 'ACTIVE',
      ProductFields: { 'securityhub-notifier/heartbeat': 'securityhub-notifier-prod' },
    });
    expect(heartbeatOf({ Id: String(finding.Id), ProductArn: PRODUCT })).toEqual({
      stack: 'securityhub-notifier-prod',
      sentAt: SENT_AT,
    });
  });

  it('is archived as the same finding, updated later', () => {
    const archived = buildHeartbeatFinding(SOURCE, SENT_AT, { updatedAt: '2026-03-01T00:00:05.000Z' });
    expect(archived).toMatchObject({
      Id: buildHeartbeatFinding(SOURCE, SENT_AT).Id,
      CreatedAt: SENT_AT,
      UpdatedAt: '2026-03-01T00:00:05.000Z',
      RecordState: 'ARCHIVED',
    });
  });

  it("is this stack's own only when sent by it into its account's default product", () => {
    const id = `${HEARTBEAT_ID_PREFIX}securityhub-notifier-prod/${SENT_AT}`;
    expect(isOwnHeartbeat({ Id: id, ProductArn: PRODUCT }, SOURCE)).toBe(true);
    expect(isOwnHeartbeat({ Id: id.replace('-prod/', '-dev/'), ProductArn: PRODUCT }, SOURCE)).toBe(false);
    const otherAccount = defaultProductArn('aws', 'ap-northeast-1', '999999999999');
    expect(isOwnHeartbeat({ Id: id, ProductArn: otherAccount }, SOURCE)).toBe(false);
    expect(isOwnHeartbeat({ Id: id, ProductArn: PRODUCT }, undefined)).toBe(false);
    expect(heartbeatOf({ Id: `${HEARTBEAT_ID_PREFIX}no-time`, ProductArn: PRODUCT })).toBeUndefined();
  });

  it("takes the FindingsRule's own branch: the pattern's prefix is the heartbeat's", () => {
    const pattern = buildEventPattern('CRITICAL');
    expect(pattern.detail.findings.$or).toContainEqual({ Id: [{ prefix: HEARTBEAT_ID_PREFIX }] });
    expect(matchesEventPattern(heartbeatEvent(), pattern)).toBe(true);
  });
});

describe('the destinations a heartbeat checks', () => {
  it('are the default route and every route, each once', () => {
    expect(routedDestinations(policy)).toEqual({
      slackChannels: ['#security-alerts', '#sec-prod'],
      backlog: [
        { projectKey: 'SEC', issueTypeName: 'Task' },
        { projectKey: 'PROD', issueTypeName: 'Bug' },
      ],
    });
  });
});

describe('dispatch and the heartbeat', () => {
  it('starts a check execution of its own for this stack’s heartbeat, never a delivery', async () => {
    const { ports, started } = dispatchPorts();

    const report = await dispatchBatch(records(heartbeatEvent()), ports);

    expect(started).toHaveLength(1);
    const [{ input, name } = { input: undefined, name: '' }] = started;
    expect(name).toMatch(/^heartbeat-[0-9a-f]{16}$/);
    expect(input?.deliveries).toEqual([
      expect.objectContaining({
        mode: 'check',
        deliveryKey: 'heartbeat|securityhub-notifier-prod',
        heartbeat: { stack: 'securityhub-notifier-prod', sentAt: SENT_AT },
        destinations: routedDestinations(policy),
      }),
    ]);
    expect(report.outcomes).toEqual([expect.objectContaining({ outcome: 'heartbeat', execution: name })]);
  });

  it('starts the same execution for the same event redelivered', async () => {
    const first = dispatchPorts();
    const second = dispatchPorts();
    await dispatchBatch(records(heartbeatEvent()), first.ports);
    await dispatchBatch(records(heartbeatEvent()), second.ports);
    expect(second.started[0]?.name).toBe(first.started[0]?.name);
  });

  it("filters another stack's heartbeat and an archived one: never filed", async () => {
    const { ports, started } = dispatchPorts();
    const dev = buildHeartbeatFinding({ ...SOURCE, stack: 'securityhub-notifier-dev' }, SENT_AT);
    const archived = buildHeartbeatFinding(SOURCE, SENT_AT, { updatedAt: '2026-03-01T00:01:00.000Z' });

    const report = await dispatchBatch(
      records(heartbeatEvent(dev, 'e1'), heartbeatEvent(archived, 'e2')),
      ports,
    );

    expect(started).toEqual([]);
    expect(report.outcomes.map((o) => [o.outcome, 'reason' in o ? o.reason : ''])).toEqual([
      ['filtered', 'a heartbeat of another stack or account: never filed'],
      ['filtered', 'a heartbeat already checked: nothing to do'],
    ]);
  });

  it('filters every heartbeat when the stack has none configured', async () => {
    const { ports, started } = dispatchPorts();
    ports.settings = { ...ports.settings, heartbeat: undefined };
    const report = await dispatchBatch(records(heartbeatEvent()), ports);
    expect(started).toEqual([]);
    expect(report.outcomes).toEqual([expect.objectContaining({ outcome: 'filtered' })]);
  });

  it('sends the record back to the queue when the check cannot start', async () => {
    const { ports } = dispatchPorts();
    ports.workflow = {
      start: async () => {
        throw new Error('ThrottlingException');
      },
    };
    const report = await dispatchBatch(records(heartbeatEvent()), ports);
    expect(report.failedMessageIds).toEqual(['m0']);
  });
});

describe('sending and completing the heartbeat', () => {
  const check = (stack = SOURCE.stack): HeartbeatCheck => ({
    deliveryId: 'abc',
    deliveryKey: `heartbeat|${stack}`,
    mode: 'check',
    members: [{ identifier: { Id: `${HEARTBEAT_ID_PREFIX}${stack}/${SENT_AT}`, ProductArn: PRODUCT } }],
    heartbeat: { stack, sentAt: SENT_AT },
    destinations: { slackChannels: [], backlog: [] },
  });
  function ports(now: string) {
    const imported: Array<Record<string, unknown>> = [];
    const lines: string[] = [];
    const ledgered: unknown[] = [];
    return {
      imported,
      lines,
      ledgered,
      ports: {
        source: SOURCE,
        importer: {
          import: async (findings: ReadonlyArray<Record<string, unknown>>) => void imported.push(...findings),
        },
        metrics: new EmfMetrics('securityhub-notifier', (line) => lines.push(line)),
        ledger: {
          recordHeartbeat: async (stack: string, success: unknown) => void ledgered.push({ stack, success }),
          lastHeartbeat: async () => undefined,
        },
        clock: { now: () => new Date(now) },
        log: logger,
      },
    };
  }

  it('sends one finding, now', async () => {
    const { ports: p, imported } = ports(SENT_AT);
    expect(await sendHeartbeat(p)).toEqual({ findingId: imported[0]?.Id, sentAt: SENT_AT });
    expect(imported).toEqual([buildHeartbeatFinding(SOURCE, SENT_AT)]);
  });

  it('archives it, ledgers the pass and emits the end-to-end latency as one EMF line', async () => {
    const { ports: p, imported, lines, ledgered } = ports('2026-03-01T00:00:04.250Z');

    expect(await completeHeartbeat(check(), p)).toEqual({ latencyMs: 4250 });

    expect(imported).toEqual([
      buildHeartbeatFinding(SOURCE, SENT_AT, { updatedAt: '2026-03-01T00:00:04.250Z' }),
    ]);
    expect(ledgered).toEqual([
      {
        stack: SOURCE.stack,
        success: {
          at: '2026-03-01T00:00:04.250Z',
          latencyMs: 4250,
          findingId: check().members[0]?.identifier.Id,
        },
      },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-03-01T00:00:04.250Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'securityhub-notifier',
            Dimensions: [['Stack']],
            Metrics: [
              { Name: 'HeartbeatLatency', Unit: 'Milliseconds' },
              { Name: 'Heartbeats', Unit: 'Count' },
            ],
          },
        ],
      },
      Stack: SOURCE.stack,
      HeartbeatLatency: 4250,
      Heartbeats: 1,
    });
  });

  it("refuses another stack's heartbeat, naming the setting", async () => {
    const { ports: p, imported, lines } = ports(SENT_AT);
    await expect(completeHeartbeat(check('securityhub-notifier-dev'), p)).rejects.toThrow(ConfigError);
    expect(imported).toEqual([]);
    expect(lines).toEqual([]);
  });
});

describe('the heartbeat settings and inputs', () => {
  it('fail naming the variable', () => {
    expect(() => loadHeartbeatSettings({ HEARTBEAT_STACK: 'securityhub-notifier-prod' })).toThrow(
      /HEARTBEAT_PRODUCT_ARN: Invalid input|HEARTBEAT_PRODUCT_ARN/,
    );
    expect(() =>
      loadHeartbeatSettings({
        HEARTBEAT_STACK: 'x',
        HEARTBEAT_PRODUCT_ARN: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      }),
    ).toThrow(/HEARTBEAT_PRODUCT_ARN: must be the account default product ARN/);
    expect(loadHeartbeatSource({})).toBeUndefined();
    expect(loadHeartbeatSource({ HEARTBEAT_STACK: SOURCE.stack, HEARTBEAT_PRODUCT_ARN: PRODUCT })).toEqual(
      SOURCE,
    );
  });

  it('take only the schedule and the workflow inputs', () => {
    expect(parseHeartbeatInput({ send: true })).toEqual({ send: true });
    expect(() => parseHeartbeatInput({ 'detail-type': 'Scheduled Event' })).toThrow(/heartbeat/);
    expect(() => parseHeartbeatInput({ complete: { mode: 'check' } })).toThrow(/complete\.deliveryId/);
  });
});
