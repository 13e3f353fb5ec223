import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_ISSUE_INDEX } from '../../src/domain/delivery/ledger-items.js';
import { LEDGER_ISSUE_INDEX_DEFINITION } from '../../src/local/emulators/dynamo.js';
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
 * The loop from Backlog as deployed: the webhook's function URL and output, the activity queue with
 * its dead-letter queue and alarms, the worker fed by it, and what each of the two roles may do.
 */

const WEBHOOK = { id: 'BacklogWebhookLambdaFunction', role: 'BacklogWebhookRole' };
const WORKER = { id: 'BacklogActivityLambdaFunction', role: 'BacklogActivityRole' };
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const parameterArn = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`,
});

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

/**
 * The Deny statements of a role that refuse a BatchUpdateFindings request carrying these
 * securityhub:ASFFSyntaxPath/<field> values (`Null`, `StringNotEquals`, as IAM evaluates them).
 */
function denied(request: Record<string, string>): string[] {
  const matches = (operator: string, key: string, expected: Json) => {
    const values = ([] as Json[]).concat(expected).map(String);
    const actual = request[key.replace('securityhub:ASFFSyntaxPath/', '')];
    if (operator === 'Null') return values.includes(String(actual === undefined));
    if (operator === 'StringNotEquals') return actual === undefined || !values.includes(actual);
    throw new Error(`operator ${operator} is not evaluated by this test`);
  };
  return statements(template, WORKER.role)
    .filter(({ Effect }) => Effect === 'Deny')
    .filter(({ Condition }) =>
      Object.entries(Condition as Record<string, Record<string, Json>>).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => matches(operator, key, expected)),
      ),
    )
    .map(({ Sid }) => Sid ?? '(no Sid)');
}

describe('the Backlog webhook', () => {
  it('is a function URL without an authorizer (the function checks the token), its URL an output', () => {
    expect(resource(template, 'BacklogWebhookLambdaFunctionUrl')).toMatchObject({
      Type: 'AWS::Lambda::Url',
      Properties: { AuthType: 'NONE', TargetFunctionArn: getAtt(WEBHOOK.id) },
    });
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission')
      .map(([, permission]) => permission.Properties as Record<string, Json>)
      .filter((properties) => JSON.stringify(properties.FunctionName) === JSON.stringify(getAtt(WEBHOOK.id)));
    expect(permissions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE' }),
      ]),
    );
    expect(template.Outputs?.BacklogWebhookUrl?.Value).toEqual({
      'Fn::Join': ['', [getAtt('BacklogWebhookLambdaFunctionUrl', 'FunctionUrl'), 'backlog/webhook/']],
    });
  });

  it('reads the token from its SSM parameter (never a value), queues to the activity queue, and caps its concurrency', () => {
    const variables = environment(WEBHOOK.id);
    expect(variables).toMatchObject({
      BACKLOG_WEBHOOK_TOKEN_PARAMETER: '/securityhub-notifier/dev/backlog-webhook-token',
      BACKLOG_ACTIVITY_QUEUE_URL: { Ref: 'BacklogActivityQueue' },
      NOTIFICATION_POLICY_FILE: 'policy/notification-policy.yml',
    });
    expect(Object.keys(variables).filter((name) => /TOKEN$|API_KEY$|_URL$/.test(name))).toEqual([
      'BACKLOG_ACTIVITY_QUEUE_URL',
    ]);
    expect(resource(template, WEBHOOK.id).Properties.ReservedConcurrentExecutions).toBeGreaterThan(0);
  });

  it('packages the policy with both functions (its projects are the ones accepted)', () => {
    for (const fn of ['backlogWebhook', 'backlogActivity']) {
      const entries = execFileSync('unzip', ['-Z1', join(ROOT, '.serverless', `${fn}.zip`)], {
        encoding: 'utf8',
      });
      expect(entries.split('\n'), fn).toContain('policy/notification-policy.yml');
    }
  });

  it('may write its own logs, send to the activity queue and read its token: nothing more', () => {
    const actions = allowedActions(template, WEBHOOK.role);
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'ssm:GetParameter',
        'kms:Decrypt',
      ].sort(),
    );
    expect(actions.get('logs:PutLogEvents')).toEqual([getAtt('BacklogWebhookLogGroup')]);
    expect(actions.get('sqs:SendMessage')).toEqual([getAtt('BacklogActivityQueue')]);
    expect(actions.get('ssm:GetParameter')).toEqual([
      parameterArn('/securityhub-notifier/dev/backlog-webhook-token'),
    ]);
    const decrypt = statements(template, WEBHOOK.role).find(({ Action }) => Action === 'kms:Decrypt');
    expect(decrypt?.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Sub': `ssm.\${AWS::Region}.amazonaws.com` },
        'kms:EncryptionContext:PARAMETER_ARN': parameterArn(
          '/securityhub-notifier/dev/backlog-webhook-token',
        ),
      },
    });
  });
});

describe('the activity queue', () => {
  it('redrives to its own dead-letter queue, encrypted, and outlives the worker', () => {
    const queue = resource(template, 'BacklogActivityQueue').Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt('BacklogActivityDeadLetterQueue'), maxReceiveCount: 5 },
    });
    const timeout = resource(template, WORKER.id).Properties.Timeout as number;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    expect(resource(template, 'BacklogActivityDeadLetterQueue').Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('feeds the worker, which reports item failures, never polled beyond its reserved concurrency', () => {
    const [mapping, ...others] = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')
      .map(([, found]) => found.Properties as Record<string, Json>)
      .filter((properties) => JSON.stringify(properties.EventSourceArn).includes('BacklogActivityQueue'));
    expect(others).toEqual([]);
    expect(mapping).toMatchObject({
      FunctionName: getAtt(WORKER.id),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const reserved = resource(template, WORKER.id).Properties.ReservedConcurrentExecutions as number;
    expect(
      (mapping?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency,
    ).toBeLessThanOrEqual(reserved);
  });

  it('alarms on dead letters, an aging queue and errors of either function; outputs both queues', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      ([, alarm]) => alarm.Properties as Record<string, Json>,
    );
    const alarmOn = (metric: string, dimension: Json) =>
      alarms.find(
        (alarm) =>
          alarm.MetricName === metric && JSON.stringify(alarm.Dimensions).includes(JSON.stringify(dimension)),
      );
    expect(
      alarmOn('ApproximateNumberOfMessagesVisible', getAtt('BacklogActivityDeadLetterQueue', 'QueueName')),
    ).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(
      alarmOn('ApproximateAgeOfOldestMessage', getAtt('BacklogActivityQueue', 'QueueName')),
    ).toBeDefined();
    for (const id of [WEBHOOK.id, WORKER.id]) expect(alarmOn('Errors', { Ref: id }), id).toBeDefined();
    expect(template.Outputs).toMatchObject({
      BacklogActivityQueueUrl: { Value: { Ref: 'BacklogActivityQueue' } },
      BacklogActivityDeadLetterQueueUrl: { Value: { Ref: 'BacklogActivityDeadLetterQueue' } },
    });
  });
});

describe('the ledger index', () => {
  it('is the sparse byIssueKey index, the same as the local table gets', () => {
    const table = resource(template, 'LedgerTable').Properties;
    expect((table.GlobalSecondaryIndexes as unknown[])[0]).toEqual(LEDGER_ISSUE_INDEX_DEFINITION);
    expect(LEDGER_ISSUE_INDEX_DEFINITION.IndexName).toBe(LEDGER_ISSUE_INDEX);
  });
});

describe('the worker', () => {
  it('may read the queue, the ledger by issue key, findings, the Backlog API key and the Slack token; update findings', () => {
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
        'securityhub:GetFindingsV2',
        'securityhub:BatchUpdateFindings',
        'ssm:GetParameter',
        'kms:Decrypt',
      ].sort(),
    );
    expect(actions.get('logs:PutLogEvents')).toEqual([getAtt('BacklogActivityLogGroup')]);
    expect(actions.get('sqs:ReceiveMessage')).toEqual([getAtt('BacklogActivityQueue')]);
    expect(actions.get('dynamodb:Query')).toEqual([
      { 'Fn::Join': ['', [getAtt('LedgerTable'), '/index/byIssueKey']] },
    ]);
    expect(actions.get('ssm:GetParameter')).toEqual([
      parameterArn('/securityhub-notifier/dev/backlog-api-key'),
      parameterArn('/securityhub-notifier/dev/slack-bot-token'),
    ]);
    const leading = (action: string) =>
      statements(template, WORKER.role).find(
        ({ Effect, Action }) => Effect === 'Allow' && ([] as Json[]).concat(Action).includes(action),
      )?.Condition;
    expect(leading('dynamodb:UpdateItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['activity|*', 'arn:*', 'group|*'] },
    });
    // A storm member's group is read with it (which deliveries were marked).
    expect(leading('dynamodb:BatchGetItem')).toEqual(leading('dynamodb:UpdateItem'));
    expect(leading('dynamodb:BatchWriteItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['event|*'] },
    });
  });

  it('may set RESOLVED, SUPPRESSED or NOTIFIED with a note in Security Hub, and nothing else', () => {
    const update = (status?: string): Record<string, string> => ({
      ...(status ? { 'Workflow.Status': status } : {}),
      'Note.Text': 'Resolved by securityhub-notifier: Backlog SEC-1 closed as Fixed by Alice',
      'Note.UpdatedBy': 'securityhub-notifier',
    });
    for (const status of ['RESOLVED', 'SUPPRESSED', 'NOTIFIED'])
      expect(denied(update(status)), status).toEqual([]);
    expect(denied(update('NEW'))).toEqual(['OnlyTheTrackerStatuses']);
    // BatchUpdateFindingsV2 (the new Security Hub's copies, the same action) carries no ASFF keys.
    expect(denied({})).toEqual([]);
    for (const field of [
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
    ]) {
      expect(denied({ ...update('RESOLVED'), [field]: 'x' }), field).not.toEqual([]);
    }
  });
});

describe('stage parameters', () => {
  const secretArn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shn/backlog-webhook-AbCdEf';
  let configured: Template;
  beforeAll(async () => {
    configured = (await packageStack({ backlogWebhookTokenParameter: secretArn })).template;
  });
  afterAll(removeServiceCopies);

  it('backlogWebhookTokenParameter: a Secrets Manager secret is read by the webhook only, exactly that one', () => {
    expect(environment(WEBHOOK.id, configured)).toMatchObject({ BACKLOG_WEBHOOK_TOKEN_PARAMETER: secretArn });
    const actions = allowedActions(configured, WEBHOOK.role);
    expect(actions.get('secretsmanager:GetSecretValue')).toEqual([secretArn]);
    expect(actions.has('ssm:GetParameter')).toBe(false);
    expect(allowedActions(configured, WORKER.role).has('secretsmanager:GetSecretValue')).toBe(false);
  });
});
