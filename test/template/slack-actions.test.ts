import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowedActions,
  type Json,
  type PolicyStatement,
  packageStack,
  ROOT,
  removeServiceCopies,
  resource,
  resourcesOfType,
  type Template,
} from '../helpers/template.js';

/**
 * Acting from Slack as deployed: the endpoint's function URL and output, the action queue with its
 * dead-letter queue and alarms, the worker fed by it, the hourly sweep, and what each role may do.
 */

const ENDPOINT = { id: 'SlackActionsLambdaFunction', role: 'SlackActionsRole' };
const WORKER = { id: 'SlackActionLambdaFunction', role: 'SlackActionRole' };
const SWEEP = { id: 'SweepSuppressionsLambdaFunction', role: 'SweepSuppressionsRole' };
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const parameterArn = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`,
});
const UPDATABLE_OTHER_FIELDS = [
  'Severity.Label',
  'Severity.Normalized',
  'Severity.Product',
  'VerificationState',
  'Confidence',
  'Criticality',
  'Types',
  'UserDefinedFields',
  'UserDefinedFields.key',
  'UserDefinedFields.value',
  'RelatedFindings',
];

let template: Template;
beforeAll(async () => {
  template = (await packageStack()).template;
});

function statements(of: Template, roleId: string): PolicyStatement[] {
  const policies = (resource(of, roleId).Properties.Policies ?? []) as Array<{
    PolicyDocument: { Statement: PolicyStatement[] };
  }>;
  return policies.flatMap(({ PolicyDocument }) => PolicyDocument.Statement);
}

function environment(id: string, of: Template = template): Record<string, Json> {
  return (resource(of, id).Properties.Environment as { Variables: Record<string, Json> }).Variables;
}

/** The Deny statements of a role refusing a BatchUpdateFindings request with these ASFF keys (as IAM evaluates them). */
function denied(roleId: string, request: Record<string, string>): string[] {
  const matches = (operator: string, key: string, expected: Json) => {
    const values = ([] as Json[]).concat(expected).map(String);
    const actual = request[key.replace('securityhub:ASFFSyntaxPath/', '')];
    if (operator === 'Null') return values.includes(String(actual === undefined));
    if (operator === 'StringNotEquals') return actual === undefined || !values.includes(actual);
    throw new Error(`operator ${operator} is not evaluated by this test`);
  };
  return statements(template, roleId)
    .filter(({ Effect }) => Effect === 'Deny')
    .filter(({ Condition }) =>
      Object.entries(Condition as Record<string, Record<string, Json>>).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => matches(operator, key, expected)),
      ),
    )
    .map(({ Sid }) => Sid ?? '(no Sid)');
}

const leadingKeys = (roleId: string, action: string) =>
  statements(template, roleId).find(
    ({ Effect, Action }) => Effect === 'Allow' && ([] as Json[]).concat(Action).includes(action),
  )?.Condition;

describe('the Slack actions endpoint', () => {
  it('is a function URL without an authorizer (the function checks the signature), its URL an output', () => {
    expect(resource(template, 'SlackActionsLambdaFunctionUrl')).toMatchObject({
      Type: 'AWS::Lambda::Url',
      Properties: { AuthType: 'NONE', TargetFunctionArn: getAtt(ENDPOINT.id) },
    });
    expect(template.Outputs?.SlackActionsUrl?.Value).toEqual({
      'Fn::Join': ['', [getAtt('SlackActionsLambdaFunctionUrl', 'FunctionUrl'), 'slack/actions']],
    });
    expect(resource(template, ENDPOINT.id).Properties.ReservedConcurrentExecutions).toBeGreaterThan(0);
  });

  it('reads the signing secret and the bot token from SSM parameters (never values) and queues to the action queue', () => {
    const variables = environment(ENDPOINT.id);
    expect(variables).toMatchObject({
      SLACK_SIGNING_SECRET_PARAMETER: '/securityhub-notifier/dev/slack-signing-secret',
      SLACK_BOT_TOKEN_PARAMETER: '/securityhub-notifier/dev/slack-bot-token',
      SLACK_ACTION_QUEUE_URL: { Ref: 'SlackActionQueue' },
      NOTIFICATION_POLICY_FILE: 'policy/notification-policy.yml',
      // Answered within Slack's 3 seconds, whatever Slack's API does meanwhile.
      SLACK_TIMEOUT_MS: '2000',
    });
    expect(Object.keys(variables).filter((name) => /SECRET$|TOKEN$|_URL$/.test(name))).toEqual([
      'SLACK_ACTION_QUEUE_URL',
    ]);
  });

  it('may write its own logs, send to the action queue and read its two secrets: nothing more', () => {
    const actions = allowedActions(template, ENDPOINT.role);
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'ssm:GetParameter',
        'kms:Decrypt',
      ].sort(),
    );
    expect(actions.get('sqs:SendMessage')).toEqual([getAtt('SlackActionQueue')]);
    expect(actions.get('ssm:GetParameter')).toEqual([
      parameterArn('/securityhub-notifier/dev/slack-signing-secret'),
      parameterArn('/securityhub-notifier/dev/slack-bot-token'),
    ]);
  });

  it('packages the policy with the endpoint and the worker (who may act, the projects)', () => {
    for (const fn of ['slackActions', 'slackAction']) {
      const entries = execFileSync('unzip', ['-Z1', join(ROOT, '.serverless', `${fn}.zip`)], {
        encoding: 'utf8',
      });
      expect(entries.split('\n'), fn).toContain('policy/notification-policy.yml');
    }
  });
});

describe('the action queue and its worker', () => {
  it('redrives to its own dead-letter queue, encrypted, and outlives the worker', () => {
    const queue = resource(template, 'SlackActionQueue').Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt('SlackActionDeadLetterQueue'), maxReceiveCount: 5 },
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * (resource(template, WORKER.id).Properties.Timeout as number),
    );
    expect(resource(template, 'SlackActionDeadLetterQueue').Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('feeds the worker, which reports item failures, never polled beyond its reserved concurrency', () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')
      .map(([, found]) => found.Properties as Record<string, Json>)
      .filter((properties) => JSON.stringify(properties.EventSourceArn).includes('SlackActionQueue'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({
      FunctionName: getAtt(WORKER.id),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const reserved = resource(template, WORKER.id).Properties.ReservedConcurrentExecutions as number;
    expect(
      (mappings[0]?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency,
    ).toBeLessThanOrEqual(reserved);
  });

  it('alarms on dead letters, an aging queue and errors of each function; outputs both queues', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      ([, alarm]) => alarm.Properties as Record<string, Json>,
    );
    const alarmOn = (metric: string, dimension: Json) =>
      alarms.find(
        (alarm) =>
          alarm.MetricName === metric && JSON.stringify(alarm.Dimensions).includes(JSON.stringify(dimension)),
      );
    expect(
      alarmOn('ApproximateNumberOfMessagesVisible', getAtt('SlackActionDeadLetterQueue', 'QueueName')),
    ).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarmOn('ApproximateAgeOfOldestMessage', getAtt('SlackActionQueue', 'QueueName'))).toBeDefined();
    for (const id of [ENDPOINT.id, WORKER.id, SWEEP.id])
      expect(alarmOn('Errors', { Ref: id }), id).toBeDefined();
    expect(template.Outputs).toMatchObject({
      SlackActionQueueUrl: { Value: { Ref: 'SlackActionQueue' } },
      SlackActionDeadLetterQueueUrl: { Value: { Ref: 'SlackActionDeadLetterQueue' } },
    });
  });

  it('may read the queue, its ledger items, findings, the Backlog key and the Slack token; update findings', () => {
    const actions = allowedActions(template, WORKER.role);
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
        'securityhub:GetFindings',
        'securityhub:BatchUpdateFindings',
        'ssm:GetParameter',
        'kms:Decrypt',
      ].sort(),
    );
    expect(actions.get('sqs:ReceiveMessage')).toEqual([getAtt('SlackActionQueue')]);
    expect(actions.get('ssm:GetParameter')).toEqual([
      parameterArn('/securityhub-notifier/dev/backlog-api-key'),
      parameterArn('/securityhub-notifier/dev/slack-bot-token'),
    ]);
    expect(leadingKeys(WORKER.role, 'dynamodb:UpdateItem')).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': ['effect|slack-action|*', 'arn:*', 'group|*', 'expiry|*'],
      },
    });
    expect(leadingKeys(WORKER.role, 'dynamodb:BatchGetItem')).toEqual(
      leadingKeys(WORKER.role, 'dynamodb:UpdateItem'),
    );
    expect(leadingKeys(WORKER.role, 'dynamodb:BatchWriteItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['event|*'] },
    });
  });

  it('may set NOTIFIED, SUPPRESSED or RESOLVED with a note (and update the new Security Hub), nothing else', () => {
    const update = (status?: string): Record<string, string> => ({
      ...(status ? { 'Workflow.Status': status } : {}),
      'Note.Text': 'Suppressed from Slack by Alice: accepted',
      'Note.UpdatedBy': 'securityhub-notifier',
    });
    for (const status of ['NOTIFIED', 'SUPPRESSED', 'RESOLVED'])
      expect(denied(WORKER.role, update(status)), status).toEqual([]);
    expect(denied(WORKER.role, update('NEW'))).toEqual(['OnlyTheActionStatuses']);
    // BatchUpdateFindingsV2 (the same IAM action) carries no ASFF keys.
    expect(denied(WORKER.role, {})).toEqual([]);
    for (const field of UPDATABLE_OTHER_FIELDS) {
      expect(denied(WORKER.role, { ...update('SUPPRESSED'), [field]: 'x' }), field).not.toEqual([]);
    }
  });
});

describe('the expiry sweep', () => {
  it('runs every hour, one at a time', () => {
    const [rule, ...others] = resourcesOfType(template, 'AWS::Events::Rule').filter(([id]) =>
      id.startsWith('SweepSuppressions'),
    );
    expect(others).toEqual([]);
    expect(rule?.[1].Properties).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    expect(resource(template, SWEEP.id).Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('may read the expiry items and the findings it sets back, and set NEW only', () => {
    const actions = allowedActions(template, SWEEP.role);
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        'securityhub:GetFindings',
        'securityhub:BatchUpdateFindings',
      ].sort(),
    );
    expect(leadingKeys(SWEEP.role, 'dynamodb:GetItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['expiry|*', 'arn:*'] },
    });
    expect(leadingKeys(SWEEP.role, 'dynamodb:UpdateItem')).toEqual(
      leadingKeys(SWEEP.role, 'dynamodb:GetItem'),
    );
    // A storm finding's group is read with it (which deliveries were marked), never written.
    expect(leadingKeys(SWEEP.role, 'dynamodb:BatchGetItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['expiry|*', 'arn:*', 'group|*'] },
    });
    const update = (status: string) => ({
      'Workflow.Status': status,
      'Note.Text': 'x',
      'Note.UpdatedBy': 'y',
    });
    expect(denied(SWEEP.role, update('NEW'))).toEqual([]);
    for (const status of ['NOTIFIED', 'SUPPRESSED', 'RESOLVED']) {
      expect(denied(SWEEP.role, update(status)), status).toEqual(['OnlyNew']);
    }
    for (const field of UPDATABLE_OTHER_FIELDS) {
      expect(denied(SWEEP.role, { ...update('NEW'), [field]: 'x' }), field).not.toEqual([]);
    }
  });
});

describe('stage parameters', () => {
  const secretArn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shn/slack-signing-AbCdEf';
  let configured: Template;
  beforeAll(async () => {
    configured = (await packageStack({ slackSigningSecretParameter: secretArn })).template;
  });
  afterAll(removeServiceCopies);

  it('slackSigningSecretParameter: a Secrets Manager secret is read by the endpoint only, exactly that one', () => {
    expect(environment(ENDPOINT.id, configured)).toMatchObject({ SLACK_SIGNING_SECRET_PARAMETER: secretArn });
    expect(allowedActions(configured, ENDPOINT.role).get('secretsmanager:GetSecretValue')).toEqual([
      secretArn,
    ]);
    for (const role of [WORKER.role, SWEEP.role]) {
      expect(allowedActions(configured, role).has('secretsmanager:GetSecretValue'), role).toBe(false);
    }
  });
});
