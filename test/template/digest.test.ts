import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_DAY_INDEX } from '../../src/domain/delivery/ledger-items.js';
import { INSIGHT_SUBJECTS, type InsightSubject, insightSpecs } from '../../src/domain/digest/counts.js';
import { LEDGER_DAY_INDEX_DEFINITION } from '../../src/local/emulators/dynamo.js';
import {
  allowedActions,
  type Json,
  type PackagedStack,
  type PolicyStatement,
  packageStack,
  removeServiceCopies,
  resource,
  resourcesOfType,
  type Template,
} from '../helpers/template.js';

/**
 * The daily digest as deployed (functions/digest.yml): its schedule and the schedule's role, the
 * insights it reads, its function, role and alarm, and the ledger index it queries.
 */

const DIGEST = { id: 'DigestLambdaFunction', role: 'DigestRole', logGroup: 'DigestLogGroup' };
const INSIGHT_IDS: Record<InsightSubject, string> = {
  CRITICAL: 'DigestInsightCritical',
  HIGH: 'DigestInsightHigh',
  MEDIUM: 'DigestInsightMedium',
  LOW: 'DigestInsightLow',
  INFORMATIONAL: 'DigestInsightInformational',
  SUPPRESSED: 'DigestInsightSuppressed',
};
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const CONFIGURED = {
  digestSchedule: 'cron(30 8 ? * MON *)',
  digestTimezone: 'Europe/Berlin',
  digestScheduleState: 'DISABLED',
  digestCounts: 'statistics-v2',
  digestRouteChannels: 'true',
};

let stack: PackagedStack;
let template: Template;
let configured: Template;
beforeAll(async () => {
  // Both in copies of the service: another test file may be packaging in the repository meanwhile.
  [stack, configured] = await Promise.all([
    packageStack({ minSeverity: 'HIGH' }),
    packageStack(CONFIGURED).then((packaged) => packaged.template),
  ]);
  template = stack.template;
});
afterAll(removeServiceCopies);

function statements(of: Template, roleId: string): PolicyStatement[] {
  const policies = (resource(of, roleId).Properties.Policies ?? []) as Array<{
    PolicyDocument: { Statement: PolicyStatement[] };
  }>;
  return policies.flatMap(({ PolicyDocument }) => PolicyDocument.Statement);
}

function environment(of: Template = template): Record<string, Json> {
  return (resource(of, DIGEST.id).Properties.Environment as { Variables: Record<string, Json> }).Variables;
}

/** A `Fn::Join` of literal strings and `Ref`s, with each Ref written as `<Ref:LogicalId>`. */
function joined(value: Json): string {
  const [separator, parts] = (value as { 'Fn::Join': [string, Json[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<Ref:${(part as { Ref: string }).Ref}>`))
    .join(separator);
}

describe('the schedule', () => {
  it('invokes the digest on weekdays at 09:00 Asia/Tokyo by default, naming the run by its scheduled time', () => {
    const schedule = resource(template, 'DigestSchedule').Properties;
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(0 9 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Asia/Tokyo',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: getAtt(DIGEST.id),
        RoleArn: getAtt('DigestScheduleRole'),
        RetryPolicy: {
          MaximumRetryAttempts: expect.any(Number),
          MaximumEventAgeInSeconds: expect.any(Number),
        },
      },
    });
    const input = JSON.parse(String((schedule.Target as { Input: string }).Input));
    expect(input).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  it('takes its cron expression, time zone and state from the stage parameters', () => {
    expect(resource(configured, 'DigestSchedule').Properties).toMatchObject({
      ScheduleExpression: CONFIGURED.digestSchedule,
      ScheduleExpressionTimezone: CONFIGURED.digestTimezone,
      State: 'DISABLED',
    });
    expect(environment(configured)).toMatchObject({
      DIGEST_TIME_ZONE: CONFIGURED.digestTimezone,
      DIGEST_COUNTS: 'statistics-v2',
      DIGEST_ROUTE_CHANNELS: 'true',
    });
  });

  it('has its own role, which EventBridge Scheduler of this account assumes to invoke the digest and nothing else', () => {
    const role = resource(template, 'DigestScheduleRole').Properties;
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const actions = allowedActions(template, 'DigestScheduleRole');
    expect([...actions.keys()]).toEqual(['lambda:InvokeFunction']);
    expect(actions.get('lambda:InvokeFunction')).toEqual([getAtt(DIGEST.id)]);
  });
});

describe('the insights', () => {
  it('are the six insightSpecs() describes, named for the stage, grouped by account', () => {
    for (const spec of insightSpecs('securityhub-notifier-dev')) {
      expect(resource(template, INSIGHT_IDS[spec.subject]), spec.subject).toMatchObject({
        Type: 'AWS::SecurityHub::Insight',
        Properties: { Name: spec.Name, Filters: spec.Filters, GroupByAttribute: 'AwsAccountId' },
      });
    }
    expect(resourcesOfType(template, 'AWS::SecurityHub::Insight')).toHaveLength(INSIGHT_SUBJECTS.length);
  });

  it('reach the function by their ARNs (Ref), each under what it counts; the same JSON is an output', () => {
    const expected = `{${INSIGHT_SUBJECTS.map((subject) => `"${subject}":"<Ref:${INSIGHT_IDS[subject]}>"`).join(',')}}`;
    expect(joined(environment().DIGEST_INSIGHT_ARNS as Json)).toBe(expected);
    expect(joined(template.Outputs?.DigestInsightArns?.Value as Json)).toBe(expected);
  });
});

describe('the function', () => {
  it('gets names and settings only: the token parameter, never a value; the policy packaged with it', () => {
    expect(environment()).toMatchObject({
      LEDGER_TABLE: { Ref: 'LedgerTable' },
      SLACK_CHANNEL: 'security-alerts',
      SLACK_BOT_TOKEN_PARAMETER: '/securityhub-notifier/dev/slack-bot-token',
      NOTIFICATION_POLICY_FILE: 'policy/notification-policy.yml',
      HOME_REGION: 'ap-northeast-1',
      DIGEST_TIME_ZONE: 'Asia/Tokyo',
      DIGEST_COUNTS: 'auto',
      DIGEST_ROUTE_CHANNELS: 'false',
    });
    const entries = execFileSync('unzip', ['-Z1', join(stack.dir, 'digest.zip')], { encoding: 'utf8' });
    expect(entries.split('\n')).toContain('policy/notification-policy.yml');
  });

  it('runs one at a time, and alarms on its errors', () => {
    expect(resource(template, DIGEST.id).Properties.ReservedConcurrentExecutions).toBe(1);
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, found]) => found.Properties as Record<string, Json>)
      .find((props) => props.MetricName === 'Errors' && JSON.stringify(props.Dimensions).includes(DIGEST.id));
    expect(alarm).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Statistic: 'Sum',
    });
  });

  it('may read the counts, query the ledger indexes, read issues, record the digest and read the token: nothing more', () => {
    const actions = allowedActions(template, DIGEST.role);
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'securityhub:GetInsightResults',
        'securityhub:DescribeSecurityHubV2',
        'securityhub:GetAdhocInsightResults',
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'ssm:GetParameter',
        'kms:Decrypt',
      ].sort(),
    );
    expect(actions.get('logs:PutLogEvents')).toEqual([getAtt(DIGEST.logGroup)]);
    expect(actions.get('dynamodb:Query')).toEqual([
      [
        { 'Fn::Join': ['', [getAtt('LedgerTable'), '/index/byDay']] },
        { 'Fn::Join': ['', [getAtt('LedgerTable'), '/index/byIssueKey']] },
      ],
    ]);
    // It neither creates nor changes insights (the stack does), nor writes findings' ledger items.
    expect(
      [...actions.keys()].filter((action) =>
        /CreateInsight|UpdateInsight|BatchUpdate|PutItem|BatchWrite/.test(action),
      ),
    ).toEqual([]);
  });

  it('writes only the last digest and its post claims, and reads only findings and groups', () => {
    const byAction = (action: string) =>
      statements(template, DIGEST.role).find(
        (statement) =>
          statement.Effect === 'Allow' && ([] as string[]).concat(statement.Action ?? []).includes(action),
      );
    expect(byAction('dynamodb:UpdateItem')?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['digest|*', 'effect|*'] },
    });
    expect(byAction('dynamodb:BatchGetItem')?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['arn:*', 'group|*'] },
    });
  });
});

describe('the ledger', () => {
  it('has the sparse byDay index (events by day, open issues under their pseudo-day), as the local table does', () => {
    const table = resource(template, 'LedgerTable').Properties;
    const indexes = table.GlobalSecondaryIndexes as Array<{ IndexName: string }>;
    expect(indexes.find((index) => index.IndexName === LEDGER_DAY_INDEX)).toEqual(
      LEDGER_DAY_INDEX_DEFINITION,
    );
    expect(table.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'eventDay', AttributeType: 'S' },
        { AttributeName: 'eventAt', AttributeType: 'S' },
      ]),
    );
  });
});
