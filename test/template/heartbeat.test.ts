import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_DIMENSION, HEARTBEAT_METRICS } from '../../src/app/heartbeat.js';
import { HEARTBEAT_METRIC_NAMESPACE } from '../../src/config/heartbeat-settings.js';
import { matchesEventPattern } from '../../src/domain/finding/event-pattern.js';
import { buildHeartbeatFinding, defaultProductArn } from '../../src/domain/heartbeat/heartbeat.js';
import { loadEvent, withFinding } from '../helpers/events.js';
import { allStates, loadDefinition } from '../helpers/state-machine.js';
import {
  allowedActions,
  type Json,
  type PackagedStack,
  packageStack,
  removeServiceCopies,
  resource,
  resourcesOfType,
  type Template,
} from '../helpers/template.js';

const STACK = 'securityhub-notifier-dev';
/** The default product's ARN as the template builds it (pseudo parameters joined). */
const PRODUCT_ARN = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':securityhub:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':product/',
      { Ref: 'AWS::AccountId' },
      '/default',
    ],
  ],
};

let template: Template;
beforeAll(async () => {
  template = (await packageStack()).template;
});

const variables = (of: Template, id: string) =>
  (resource(of, id).Properties.Environment as { Variables: Record<string, Json> }).Variables;

function schedule(of: Template) {
  const rules = resourcesOfType(of, 'AWS::Events::Rule').filter(([, rule]) =>
    JSON.stringify(rule.Properties?.Targets).includes('HeartbeatLambdaFunction'),
  );
  expect(rules).toHaveLength(1);
  return (rules[0] as [string, { Properties: Record<string, Json> }])[1].Properties;
}

describe('the heartbeat function', () => {
  it('runs on its schedule (every 6 hours by default), asked to send', () => {
    const rule = schedule(template);
    expect(rule.ScheduleExpression).toBe('rate(6 hours)');
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets).toEqual([expect.objectContaining({ Input: JSON.stringify({ send: true }) })]);
  });

  it('knows its stack and the default product, as dispatch does (which checks only its own heartbeat)', () => {
    expect(variables(template, 'HeartbeatLambdaFunction')).toMatchObject({
      HEARTBEAT_STACK: STACK,
      HEARTBEAT_PRODUCT_ARN: PRODUCT_ARN,
      LEDGER_TABLE: { Ref: 'LedgerTable' },
    });
    expect(variables(template, 'DispatchLambdaFunction')).toMatchObject({
      HEARTBEAT_STACK: STACK,
      HEARTBEAT_PRODUCT_ARN: PRODUCT_ARN,
    });
  });

  it('may import into its own default product and write its own ledger item: nothing more', () => {
    const actions = allowedActions(template, 'HeartbeatRole');
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'securityhub:BatchImportFindings',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(actions.get('securityhub:BatchImportFindings')).toEqual([PRODUCT_ARN]);
    const policies = resource(template, 'HeartbeatRole').Properties.Policies as Array<{
      PolicyDocument: { Statement: Array<{ Action: string; Condition?: Json }> };
    }>;
    const update = policies
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .find((statement) => statement.Action === 'dynamodb:UpdateItem');
    expect(update?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['heartbeat|*'] },
    });
  });

  it('is invoked by the workflow, whose check states use the task functions in check mode', () => {
    const invoke = allowedActions(template, 'NotifyFindingsRole').get('lambda:InvokeFunction');
    expect(JSON.stringify(invoke)).toContain('HeartbeatLambdaFunction');
    const states = Object.fromEntries(allStates(loadDefinition()).map(({ name, state }) => [name, state]));
    expect(states.CheckSlack).toMatchObject({
      Resource: { 'Fn::GetAtt': ['postSlackMessage', 'Arn'] },
      Parameters: { 'check.$': '$.delivery' },
    });
    expect(states.CheckBacklog).toMatchObject({
      Resource: { 'Fn::GetAtt': ['fileBacklogIssue', 'Arn'] },
      Parameters: { 'check.$': '$.delivery' },
    });
    expect(states.CompleteHeartbeat).toMatchObject({ Parameters: { 'complete.$': '$.delivery' } });
    expect(states.ArchiveFailedHeartbeat).toMatchObject({ Parameters: { 'archive.$': '$.delivery' } });
    // A failed check fails the execution with the check's own error and message.
    expect(states.HeartbeatFailed).toEqual({
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
  });
});

describe('the heartbeat alarm', () => {
  const alarm = () => resource(template, 'HeartbeatMissingAlarm').Properties;

  it('fires when no heartbeat passed in two periods: missing data breaches', () => {
    expect(alarm()).toMatchObject({
      Namespace: HEARTBEAT_METRIC_NAMESPACE,
      MetricName: HEARTBEAT_METRICS.count,
      Dimensions: [{ Name: HEARTBEAT_DIMENSION, Value: STACK }],
      Statistic: 'Sum',
      Period: 6 * 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [''], { Ref: 'AWS::NoValue' }] },
    });
  });

  it('says what to check', () => {
    const description = String(alarm().AlarmDescription);
    expect(description).toContain('npm run doctor -- --stage dev');
    expect(description).toMatch(/heartbeat-\*/);
    expect(description).toMatch(/FindingsRule/);
    expect(description.length).toBeLessThanOrEqual(1024);
  });
});

describe('the FindingsRule and the heartbeat', () => {
  const pattern = () => resource(template, 'FindingsRule').Properties.EventPattern as Record<string, unknown>;
  const heartbeatEvent = () => {
    const finding = buildHeartbeatFinding(
      { stack: STACK, productArn: defaultProductArn('aws', 'ap-northeast-1', '123456789012') },
      '2026-01-01T00:00:00.000Z',
    );
    return withFinding(loadEvent('guardduty-ssh-bruteforce.json'), (f) => {
      for (const key of Object.keys(f)) delete f[key];
      Object.assign(f, finding, { Workflow: { Status: 'NEW' } });
    });
  };

  it('forwards the heartbeat (INFORMATIONAL) whatever the threshold', () => {
    expect(matchesEventPattern(heartbeatEvent(), pattern())).toBe(true);
  });

  it('still passes over other INFORMATIONAL findings and the archived heartbeat', () => {
    const other = withFinding(heartbeatEvent(), (f) => {
      f.Id = 'custom-finding-1';
    });
    const archived = withFinding(heartbeatEvent(), (f) => {
      f.RecordState = 'ARCHIVED';
    });
    expect(matchesEventPattern(other, pattern())).toBe(false);
    expect(matchesEventPattern(archived, pattern())).toBe(false);
  });
});

describe('heartbeatIntervalHours', () => {
  let hourly: PackagedStack;
  beforeAll(async () => {
    hourly = await packageStack({ heartbeatIntervalHours: '1' });
  });
  afterAll(removeServiceCopies);

  it('sets the schedule and the alarm period together', () => {
    expect(schedule(hourly.template).ScheduleExpression).toBe('rate(1 hour)');
    expect(resource(hourly.template, 'HeartbeatMissingAlarm').Properties.Period).toBe(3600);
  });

  it.each(['0', '85', '2.5', 'six'])('refuses %s, naming the param', async (hours) => {
    await expect(packageStack({ heartbeatIntervalHours: hours })).rejects.toThrow(
      /heartbeatIntervalHours: must be a whole number of hours from 1 to 84/,
    );
  });
});
