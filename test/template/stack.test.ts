import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCH_BATCH_SIZE, DISPATCH_BATCHING_WINDOW_SECONDS } from '../../src/config/constants.js';
import {
  buildEventPattern,
  buildEventPatternV2,
  buildTransitionPattern,
  buildTransitionPatternV2,
} from '../../src/domain/finding/event-pattern.js';
import {
  allowedActions,
  type Json,
  type PackagedStack,
  type PolicyStatement,
  packageStack,
  policyStatements,
  ROOT,
  removeServiceCopies,
  resource,
  resourcesOfType,
  stateMachineDefinition,
  type Template,
} from '../helpers/template.js';

type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const validateAsl = createRequire(import.meta.url)('asl-validator') as AslValidator;
type RuleStateResolver = (context: {
  resolveVariable: (name: string) => Promise<unknown>;
}) => Promise<string>;
const securityHubs = createRequire(import.meta.url)('../../deploy/security-hubs.cjs') as Record<
  'asff' | 'ocsf',
  RuleStateResolver
>;
const RULES = ['FindingsRule', 'TransitionsRule', 'FindingsV2Rule', 'TransitionsV2Rule'] as const;

const FUNCTIONS = {
  dispatch: { id: 'DispatchLambdaFunction', role: 'DispatchRole', logGroup: 'DispatchLogGroup' },
  fileBacklogIssue: {
    id: 'FileBacklogIssueLambdaFunction',
    role: 'FileBacklogIssueRole',
    logGroup: 'FileBacklogIssueLogGroup',
  },
  postSlackMessage: {
    id: 'PostSlackMessageLambdaFunction',
    role: 'PostSlackMessageRole',
    logGroup: 'PostSlackMessageLogGroup',
  },
  markFindings: {
    id: 'MarkFindingsLambdaFunction',
    role: 'MarkFindingsRole',
    logGroup: 'MarkFindingsLogGroup',
  },
  // The loop from Backlog (test/template/backlog-webhook.test.ts holds the rest of them).
  backlogWebhook: {
    id: 'BacklogWebhookLambdaFunction',
    role: 'BacklogWebhookRole',
    logGroup: 'BacklogWebhookLogGroup',
  },
  backlogActivity: {
    id: 'BacklogActivityLambdaFunction',
    role: 'BacklogActivityRole',
    logGroup: 'BacklogActivityLogGroup',
  },
  // Acting from Slack (test/template/slack-actions.test.ts holds the rest of them).
  slackActions: {
    id: 'SlackActionsLambdaFunction',
    role: 'SlackActionsRole',
    logGroup: 'SlackActionsLogGroup',
  },
  slackAction: { id: 'SlackActionLambdaFunction', role: 'SlackActionRole', logGroup: 'SlackActionLogGroup' },
  sweepSuppressions: {
    id: 'SweepSuppressionsLambdaFunction',
    role: 'SweepSuppressionsRole',
    logGroup: 'SweepSuppressionsLogGroup',
  },
  // The daily digest (test/template/digest.test.ts holds the rest of it).
  digest: { id: 'DigestLambdaFunction', role: 'DigestRole', logGroup: 'DigestLogGroup' },
  // The heartbeat (test/template/heartbeat.test.ts holds the rest of it).
  heartbeat: { id: 'HeartbeatLambdaFunction', role: 'HeartbeatRole', logGroup: 'HeartbeatLogGroup' },
} as const;
type FunctionKey = keyof typeof FUNCTIONS;
/** The functions the workflow invokes, in the order it does. */
const TASK_FUNCTIONS = ['fileBacklogIssue', 'postSlackMessage', 'markFindings', 'heartbeat'] as const;
const STATE_MACHINE = 'NotifyFindingsStateMachine';
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const lambdaArn = (fn: FunctionKey) =>
  `arn:aws:lambda:ap-northeast-1:123456789012:function:securityhub-notifier-dev-${fn}`;

/** What a function's environment must never hold: endpoint overrides and plaintext secrets. */
const FORBIDDEN_ENVIRONMENT =
  /^(SLACK_API_URL|BACKLOG_API_URL|SLACK_BOT_TOKEN|BACKLOG_API_KEY|AWS_ENDPOINT_URL.*)$/;

/**
 * The fields BatchUpdateFindings may change (API reference), as securityhub:ASFFSyntaxPath keys; the
 * UserDefinedFields map also by its keys and values, as AWS's own managed policies name them.
 */
const UPDATABLE_FIELDS = [
  'Confidence',
  'Criticality',
  'Note.Text',
  'Note.UpdatedBy',
  'RelatedFindings',
  'Severity.Label',
  'Severity.Normalized',
  'Severity.Product',
  'Types',
  'UserDefinedFields',
  'UserDefinedFields.key',
  'UserDefinedFields.value',
  'VerificationState',
  'Workflow.Status',
];
/** What the notifier sets (src/adapters/security-hub.ts): everything else must be denied. */
const NOTIFIER_FIELDS = new Set(['Workflow.Status', 'Note.Text', 'Note.UpdatedBy']);

let stack: PackagedStack;
let template: Template;

beforeAll(async () => {
  stack = await packageStack();
  template = stack.template;
  console.info(
    `serverless package: ${stack.seconds.toFixed(1)} s; artifacts (bytes): ${JSON.stringify(stack.artifacts)}`,
  );
});

function environment(fn: FunctionKey, of: Template = template): Record<string, Json> {
  return (resource(of, FUNCTIONS[fn].id).Properties.Environment as { Variables: Record<string, Json> })
    .Variables;
}

/** A role's inline policy statements, each with the name of the policy that holds it. */
function roleStatements(of: Template, roleId: string): Array<PolicyStatement & { policy: string }> {
  const policies = (resource(of, roleId).Properties.Policies ?? []) as Array<{
    PolicyName: string;
    PolicyDocument: { Statement: PolicyStatement[] };
  }>;
  return policies.flatMap(({ PolicyName, PolicyDocument }) =>
    PolicyDocument.Statement.map((statement) => ({ ...statement, policy: PolicyName })),
  );
}

type RequestKeys = Record<string, string>;

/**
 * Whether a role's Deny statements on securityhub:BatchUpdateFindings refuse a request carrying
 * these securityhub:ASFFSyntaxPath/<field> values, as IAM evaluates the operators used here: `Null`
 * ('false': the key is present), `StringEquals`, `StringNotEquals` (true when the key is absent).
 * Every operator of a statement must match (AND); any value of a list may match (OR).
 */
function deniedBatchUpdate(of: Template, roleId: string, request: RequestKeys): string[] {
  const value = (key: string) => request[key.replace('securityhub:ASFFSyntaxPath/', '')];
  const matches = (operator: string, key: string, expected: Json): boolean => {
    const values = ([] as Json[]).concat(expected).map(String);
    const actual = value(key);
    if (operator === 'Null') return values.includes(String(actual === undefined));
    if (operator === 'StringEquals') return actual !== undefined && values.includes(actual);
    if (operator === 'StringNotEquals') return actual === undefined || !values.includes(actual);
    throw new Error(`operator ${operator} is not evaluated by this test`);
  };
  return roleStatements(of, roleId)
    .filter((statement) => statement.Effect === 'Deny')
    .filter((statement) => {
      const conditions = statement.Condition as Record<string, Record<string, Json>>;
      return Object.entries(conditions).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => matches(operator, key, expected)),
      );
    })
    .map((statement) => statement.Sid ?? '(no Sid)');
}

interface State {
  Type: string;
  Resource?: Json;
  TimeoutSeconds?: number;
  Retry?: unknown[];
  Parameters?: Record<string, Json>;
  ItemProcessor?: { States: Record<string, State> };
  Iterator?: { States: Record<string, State> };
  Branches?: Array<{ States: Record<string, State> }>;
}

/** Every state of a definition, nested Map and Parallel states included. */
function allStates(definition: { States: Record<string, State> }): Array<[string, State]> {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...[state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].flatMap((nested) =>
      nested ? allStates(nested) : [],
    ),
  ]);
}

describe('serverless package', () => {
  it('builds one artifact per function, each well under the Lambda limits', () => {
    expect(Object.keys(stack.artifacts).sort()).toEqual(
      Object.keys(FUNCTIONS)
        .map((fn) => `${fn}.zip`)
        .sort(),
    );
    for (const size of Object.values(stack.artifacts)) expect(size).toBeLessThan(5 * 1024 * 1024);
  });

  it('packages the notification policy with dispatch, where its environment points', () => {
    const entries = execFileSync('unzip', ['-Z1', join(ROOT, '.serverless', 'dispatch.zip')], {
      encoding: 'utf8',
    });

    expect(entries.split('\n')).toContain('policy/notification-policy.yml');
    expect(environment('dispatch')).toMatchObject({
      NOTIFICATION_POLICY_FILE: 'policy/notification-policy.yml',
      SLACK_CHANNEL: 'security-alerts',
      BACKLOG_PROJECT_KEY: 'SEC',
    });
  });
});

describe('intake: EventBridge rule, buffer queue, dead-letter queue', () => {
  it("forwards the new Security Hub's findings and transitions, exactly as the V2 patterns describe", () => {
    expect(resource(template, 'FindingsV2Rule').Properties.EventPattern).toEqual(buildEventPatternV2('HIGH'));
    expect(resource(template, 'TransitionsV2Rule').Properties.EventPattern).toEqual(
      buildTransitionPatternV2(),
    );
  });

  it('forwards the transitions that can close what was filed, exactly as buildTransitionPattern() describes', () => {
    const rule = resource(template, 'TransitionsRule');
    expect(rule.Properties.EventPattern).toEqual(buildTransitionPattern());
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Id: 'BufferQueue', Arn: getAtt('BufferQueue') }),
    ]);
  });

  it('matches exactly what buildEventPattern() describes', () => {
    const rule = resource(template, 'FindingsRule');
    expect(rule.Properties.EventPattern).toEqual(buildEventPattern('HIGH'));
    expect(rule.Properties.EventBusName).toBe('default');
    expect(rule.Properties.State).toBe('ENABLED');
  });

  it('targets the buffer queue, with a retry policy and its own dead-letter queue', () => {
    const [target, ...others] = resource(template, 'FindingsRule').Properties.Targets as Array<
      Record<string, Json>
    >;
    expect(others).toEqual([]);
    expect(target?.Arn).toEqual(getAtt('BufferQueue'));
    expect(target?.DeadLetterConfig).toEqual({ Arn: getAtt('DeadLetterQueue') });
    expect(target?.RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: expect.any(Number),
      MaximumRetryAttempts: expect.any(Number),
    });
  });

  it('lets only the four rules send to the queues', () => {
    for (const [policy, queue] of [
      ['BufferQueuePolicy', 'BufferQueue'],
      ['DeadLetterQueuePolicy', 'DeadLetterQueue'],
    ] as const) {
      const { Queues, PolicyDocument } = resource(template, policy).Properties as {
        Queues: Json[];
        PolicyDocument: { Statement: Array<Record<string, Json>> };
      };
      expect(Queues).toEqual([{ Ref: queue }]);
      expect(PolicyDocument.Statement).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: getAtt(queue),
          Condition: {
            ArnEquals: {
              'aws:SourceArn': ['FindingsRule', 'TransitionsRule', 'FindingsV2Rule', 'TransitionsV2Rule'].map(
                (id) => getAtt(id),
              ),
            },
          },
        }),
      ]);
    }
  });

  it('redrives the buffer queue to the dead-letter queue after three receives', () => {
    const buffer = resource(template, 'BufferQueue').Properties;
    expect(buffer.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt('DeadLetterQueue'),
      maxReceiveCount: 3,
    });
    const dispatchTimeout = resource(template, FUNCTIONS.dispatch.id).Properties.Timeout as number;
    expect(buffer.VisibilityTimeout).toBeGreaterThanOrEqual(6 * dispatchTimeout);
  });

  it('encrypts both queues and keeps dead letters 14 days', () => {
    for (const id of ['BufferQueue', 'DeadLetterQueue']) {
      const queue = resource(template, id).Properties;
      expect(queue.SqsManagedSseEnabled === true || typeof queue.KmsMasterKeyId !== 'undefined').toBe(true);
    }
    expect(resource(template, 'DeadLetterQueue').Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('feeds dispatch in batches of the configured size and window, reporting item failures', () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, { Properties }]) =>
        JSON.stringify(Properties?.EventSourceArn) === JSON.stringify(getAtt('BufferQueue')),
    );
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0] as [string, { Properties: Record<string, Json> }];
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: getAtt('BufferQueue'),
      FunctionName: getAtt(FUNCTIONS.dispatch.id),
      BatchSize: DISPATCH_BATCH_SIZE,
      MaximumBatchingWindowInSeconds: DISPATCH_BATCHING_WINDOW_SECONDS,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // SQS never polls more concurrent batches than dispatch may run: no throttling towards the DLQ.
    const reserved = resource(template, FUNCTIONS.dispatch.id).Properties
      .ReservedConcurrentExecutions as number;
    const maximum = (mapping.Properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency;
    expect(reserved).toBeGreaterThanOrEqual(maximum);
  });
});

describe('functions', () => {
  it('are the eleven handlers, on nodejs24.x arm64, each with its own role', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      Object.values(FUNCTIONS)
        .map((f) => f.id)
        .sort(),
    );
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 30 });
    }
    for (const [fn, handler] of [
      ['dispatch', 'dispatch'],
      ['fileBacklogIssue', 'file-backlog-issue'],
      ['postSlackMessage', 'post-slack-message'],
      ['markFindings', 'mark-findings'],
      ['backlogWebhook', 'backlog-webhook'],
      ['backlogActivity', 'backlog-activity'],
      ['slackActions', 'slack-actions'],
      ['slackAction', 'slack-action'],
      ['sweepSuppressions', 'sweep-suppressions'],
      ['digest', 'digest'],
      ['heartbeat', 'heartbeat'],
    ] as const) {
      expect(resource(template, FUNCTIONS[fn].id).Properties.Handler, fn).toBe(
        `src/handlers/${handler}.handler`,
      );
    }
    for (const { id, role } of Object.values(FUNCTIONS)) {
      expect(resource(template, id).Properties.Role).toEqual(getAtt(role));
    }
  });

  it('get names and settings only, never a secret value', () => {
    expect(Object.keys(environment('dispatch'))).toEqual(
      expect.arrayContaining([
        'LEDGER_TABLE',
        'NOTIFY_MIN_SEVERITY',
        'HOME_REGION',
        'ACCOUNT_NAMES',
        'STATE_MACHINE_ARN',
        'DEAD_LETTER_QUEUE_URL',
      ]),
    );
    expect(environment('dispatch')).toMatchObject({
      LEDGER_TABLE: { Ref: 'LedgerTable' },
      NOTIFY_MIN_SEVERITY: 'HIGH',
      STATE_MACHINE_ARN: { Ref: STATE_MACHINE },
      DEAD_LETTER_QUEUE_URL: { Ref: 'DeadLetterQueue' },
    });
    expect(environment('fileBacklogIssue')).toMatchObject({
      LEDGER_TABLE: { Ref: 'LedgerTable' },
      BACKLOG_HOST: expect.any(String),
      BACKLOG_PROJECT_KEY: expect.any(String),
      BACKLOG_ISSUE_TYPE: expect.any(String),
      BACKLOG_API_KEY_PARAMETER: '/securityhub-notifier/dev/backlog-api-key',
      POWERTOOLS_SERVICE_NAME: 'securityhub-notifier',
    });
    expect(environment('postSlackMessage')).toMatchObject({
      LEDGER_TABLE: { Ref: 'LedgerTable' },
      SLACK_CHANNEL: expect.any(String),
      SLACK_BOT_TOKEN_PARAMETER: '/securityhub-notifier/dev/slack-bot-token',
    });
    expect(environment('markFindings')).toMatchObject({ LEDGER_TABLE: { Ref: 'LedgerTable' } });
    for (const fn of Object.keys(FUNCTIONS) as FunctionKey[]) {
      for (const [name, value] of Object.entries(environment(fn))) {
        expect(name, `${fn} ${name}`).not.toMatch(/(TOKEN|API_KEY|SECRET|PASSWORD|CREDENTIALS?)$/);
        expect(JSON.stringify(value), `${fn} ${name}`).not.toMatch(
          /xox[abpors]-|AKIA[0-9A-Z]{16}|-----BEGIN/,
        );
      }
    }
  });

  it('get no endpoint override and no plaintext secret (the settings refuse them in Lambda)', () => {
    for (const fn of Object.keys(FUNCTIONS) as FunctionKey[]) {
      expect(
        Object.keys(environment(fn)).filter((name) => FORBIDDEN_ENVIRONMENT.test(name)),
        fn,
      ).toEqual([]);
    }
  });
});

describe('ledger table', () => {
  it('is keyed by findingKey, on demand, encrypted, recoverable, expiring, and kept on delete', () => {
    const table = resource(template, 'LedgerTable');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'findingKey', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'findingKey', AttributeType: 'S' },
        { AttributeName: 'issueKey', AttributeType: 'S' },
        { AttributeName: 'eventDay', AttributeType: 'S' },
        { AttributeName: 'eventAt', AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('notify-findings state machine', () => {
  it('is a Standard workflow logging errors to its own log group', () => {
    const machine = resource(template, STATE_MACHINE).Properties;
    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.RoleArn).toEqual(getAtt('NotifyFindingsRole'));
    expect(machine.LoggingConfiguration).toMatchObject({
      Level: 'ERROR',
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt('NotifyFindingsLogGroup') } }],
    });
  });

  const definition = () =>
    stateMachineDefinition(template, STATE_MACHINE) as {
      States: Record<string, State>;
      TimeoutSeconds?: number;
    };
  const tasks = () => allStates(definition()).filter(([, state]) => state.Type === 'Task');

  it('deploys a valid definition: the three task functions and the ledger, Retry on every Task', () => {
    const validation = validateAsl(definition());
    expect(validation.isValid, validation.errorsText('\n')).toBe(true);

    expect([...new Set(tasks().map(([, state]) => state.Resource))].sort()).toEqual(
      [...TASK_FUNCTIONS.map(lambdaArn), 'arn:aws:states:::dynamodb:updateItem'].sort(),
    );
    for (const [name, state] of tasks()) expect(state.Retry?.length, `${name} Retry`).toBeGreaterThan(0);

    const ledgerTasks = tasks().filter(
      ([, state]) => state.Resource === 'arn:aws:states:::dynamodb:updateItem',
    );
    expect(ledgerTasks.map(([name]) => name)).toContain('RecordDeliveryFailure');
    for (const [name, state] of ledgerTasks) {
      expect(state.Parameters?.TableName, name).toBe(resource(template, 'LedgerTable').Properties.TableName);
    }
  });

  it('gives each function task longer than the function runs, and the execution a time limit', () => {
    const timeouts = new Map(
      (Object.keys(FUNCTIONS) as FunctionKey[]).map((fn) => [
        lambdaArn(fn),
        resource(template, FUNCTIONS[fn].id).Properties.Timeout as number,
      ]),
    );
    const functionTasks = tasks().filter(([, state]) => timeouts.has(String(state.Resource)));
    expect(new Set(functionTasks.map(([, state]) => state.Resource)).size).toBe(TASK_FUNCTIONS.length);
    for (const [name, state] of functionTasks) {
      // A task that gave up before its function did could retry while the first attempt still runs.
      expect(state.TimeoutSeconds, `${name} TimeoutSeconds`).toBeGreaterThan(
        timeouts.get(String(state.Resource)) as number,
      );
    }
    const limit = definition().TimeoutSeconds;
    expect(limit, 'the definition TimeoutSeconds').toEqual(expect.any(Number));
    expect(limit).toBeGreaterThan(0);
  });

  it('may invoke the three task functions and record failures and destination health: nothing more', () => {
    const actions = allowedActions(template, 'NotifyFindingsRole');
    expect(actions.get('lambda:InvokeFunction')).toEqual([
      TASK_FUNCTIONS.map((fn) => getAtt(FUNCTIONS[fn].id)),
    ]);
    expect(actions.get('dynamodb:UpdateItem')).toEqual([getAtt('LedgerTable')]);
    const logDelivery = [...actions.keys()].filter((action) => action.startsWith('logs:'));
    expect([...actions.keys()].sort()).toEqual(
      ['lambda:InvokeFunction', 'dynamodb:UpdateItem', ...logDelivery].sort(),
    );
    // Security Hub is the markFindings function's, no longer the workflow's.
    expect([...actions.keys()].filter((action) => action.startsWith('securityhub:'))).toEqual([]);
    // What Step Functions needs to deliver its own logs (these actions take no resource scope).
    expect(
      logDelivery.every((action) => /^logs:(Create|Get|Update|Delete|List|Put|Describe)\w+$/.test(action)),
    ).toBe(true);
    expect(logDelivery.some((action) => /PutLogEvents|CreateLogGroup/.test(action))).toBe(false);
  });
});

describe('IAM', () => {
  it('allows no wildcard action anywhere', () => {
    const statements = policyStatements(template);
    expect(statements.length).toBeGreaterThan(10);
    for (const { where, statement } of statements) {
      expect(statement.NotAction, where).toBeUndefined();
      if (statement.Effect !== 'Allow') continue;
      for (const action of ([] as string[]).concat(statement.Action ?? [])) {
        expect(action, where).not.toContain('*');
      }
    }
    // Deny statements: the deployment bucket refuses plain-HTTP requests (every action), and the
    // markFindings role's BatchUpdateFindings is narrowed by conditional Denies (that action only).
    const denies = statements.filter(({ statement }) => statement.Effect === 'Deny');
    expect(denies.map(({ where }) => where)).toContain('MarkFindingsRole mark-findings');
    for (const { where, statement } of denies) {
      if (where === 'ServerlessDeploymentBucketPolicy') {
        expect(statement.Condition).toEqual({ Bool: { 'aws:SecureTransport': false } });
        continue;
      }
      expect([
        'MarkFindingsRole mark-findings',
        'BacklogActivityRole backlog-activity',
        'SlackActionRole slack-action',
        'SweepSuppressionsRole sweep-suppressions',
      ]).toContain(where);
      expect(statement.Action, statement.Sid).toBe('securityhub:BatchUpdateFindings');
      expect(Object.keys(statement.Condition ?? {}), statement.Sid).not.toEqual([]);
    }
  });

  it('gives each function exactly what it uses', () => {
    const dispatch = allowedActions(template, FUNCTIONS.dispatch.role);
    expect([...dispatch.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:SendMessage',
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'states:StartExecution',
        'states:DescribeExecution',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(dispatch.get('states:StartExecution')).toEqual([{ Ref: STATE_MACHINE }]);
    expect(JSON.stringify(dispatch.get('states:DescribeExecution'))).toContain(
      '"execution","securityhub-notifier-dev-notify-findings","*"',
    );
    expect(dispatch.get('sqs:SendMessage')).toEqual([getAtt('DeadLetterQueue')]);
    expect(dispatch.get('sqs:ReceiveMessage')).toEqual([getAtt('BufferQueue')]);
    expect(dispatch.get('dynamodb:BatchGetItem')).toEqual([getAtt('LedgerTable')]);

    // The ledger calls each task makes (src/adapters/ledger.ts): get and a claim's group → GetItem;
    // readDelivery (the item and its destination's circuit) and a storm member's group →
    // BatchGetItem; every claim, record and mark → UpdateItem; recordMembers and lifecycle events →
    // BatchWriteItem.
    for (const [fn, parameter, ledger] of [
      [
        'fileBacklogIssue',
        '/securityhub-notifier/dev/backlog-api-key',
        ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      ],
      [
        'postSlackMessage',
        '/securityhub-notifier/dev/slack-bot-token',
        ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
      ],
    ] as const) {
      const actions = allowedActions(template, FUNCTIONS[fn].role);
      expect([...actions.keys()].sort(), fn).toEqual(
        ['logs:CreateLogStream', 'logs:PutLogEvents', 'ssm:GetParameter', 'kms:Decrypt', ...ledger].sort(),
      );
      const parameterArn = `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${parameter}`;
      expect(actions.get('ssm:GetParameter'), fn).toEqual([{ 'Fn::Sub': parameterArn }]);
      for (const action of ledger)
        expect(actions.get(action), `${fn} ${action}`).toEqual([getAtt('LedgerTable')]);
    }

    const mark = allowedActions(template, FUNCTIONS.markFindings.role);
    // recordMarked and recordDeliveryMarked: UpdateItem; the digest's `notified` events:
    // BatchWriteItem (event items only); a storm delivery's members, when its map does not say:
    // BatchGetItem (findings and groups only).
    expect([...mark.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:UpdateItem',
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'securityhub:BatchUpdateFindings',
      ].sort(),
    );
    expect(mark.get('dynamodb:UpdateItem')).toEqual([getAtt('LedgerTable')]);
    const markCondition = (action: string) =>
      roleStatements(template, FUNCTIONS.markFindings.role).find(
        ({ Effect, Action }) => Effect === 'Allow' && ([] as string[]).concat(Action ?? []).includes(action),
      )?.Condition;
    expect(markCondition('dynamodb:BatchWriteItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['event|*'] },
    });
    expect(markCondition('dynamodb:BatchGetItem')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['arn:*', 'group|*'] },
    });
    expect(mark.get('securityhub:BatchUpdateFindings')).toEqual(['*']);
  });

  it('lets dispatch write storm-group items of the ledger only', () => {
    const updates = roleStatements(template, FUNCTIONS.dispatch.role).filter(
      ({ Effect, Action }) =>
        Effect === 'Allow' && ([] as string[]).concat(Action ?? []).includes('dynamodb:UpdateItem'),
    );
    expect(updates).toHaveLength(1);
    expect(updates[0]?.Action).toBe('dynamodb:UpdateItem');
    expect(updates[0]?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['group|*'] },
    });
  });

  it('lets markFindings change only the workflow status (NOTIFIED or SUPPRESSED) and the note', () => {
    const role = FUNCTIONS.markFindings.role;
    const denies = roleStatements(template, role).filter(({ Effect }) => Effect === 'Deny');
    for (const deny of denies) {
      expect(deny.Resource, deny.Sid).toBe('*');
      for (const keys of Object.values(deny.Condition as Record<string, Record<string, Json>>)) {
        for (const key of Object.keys(keys))
          expect(key, deny.Sid).toMatch(/^securityhub:ASFFSyntaxPath\/\w+/);
      }
    }
    expect(denies.find(({ Sid }) => Sid === 'OnlyTheNotifierStatuses')?.Condition).toEqual({
      StringNotEquals: { 'securityhub:ASFFSyntaxPath/Workflow.Status': ['NOTIFIED', 'SUPPRESSED'] },
      Null: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'false' },
    });

    // What SecurityHubUpdater sends is allowed, for both statuses the workflow sets.
    const mark = (status: string): RequestKeys => ({
      'Workflow.Status': status,
      'Note.Text': 'Notified: SEC-1, #security-alerts',
      'Note.UpdatedBy': 'securityhub-notifier',
    });
    expect(deniedBatchUpdate(template, role, mark('NOTIFIED'))).toEqual([]);
    expect(deniedBatchUpdate(template, role, mark('SUPPRESSED'))).toEqual([]);
    // Any other status, and every other field, are refused. A request without a status is not:
    // BatchUpdateFindingsV2 (the new Security Hub, the same action) carries no ASFF keys at all.
    for (const status of ['RESOLVED', 'NEW']) {
      expect(deniedBatchUpdate(template, role, mark(status)), status).toEqual(['OnlyTheNotifierStatuses']);
    }
    expect(deniedBatchUpdate(template, role, {})).toEqual([]);
    for (const field of UPDATABLE_FIELDS.filter((name) => !NOTIFIER_FIELDS.has(name))) {
      expect(deniedBatchUpdate(template, role, { ...mark('NOTIFIED'), [field]: 'x' }), field).not.toEqual([]);
    }
  });

  it('lets a function write only its own logs', () => {
    for (const { role, logGroup } of Object.values(FUNCTIONS)) {
      expect(allowedActions(template, role).get('logs:PutLogEvents')).toEqual([getAtt(logGroup)]);
    }
  });

  it('decrypts a secret only through SSM, and only the function own parameter', () => {
    for (const [fn, parameter] of [
      ['fileBacklogIssue', 'backlog-api-key'],
      ['postSlackMessage', 'slack-bot-token'],
    ] as const) {
      const statement = policyStatements(template).find(
        ({ where, statement }) => where.startsWith(FUNCTIONS[fn].role) && statement.Action === 'kms:Decrypt',
      )?.statement;
      const condition = (statement?.Condition as { StringEquals?: Record<string, { 'Fn::Sub': string }> })
        ?.StringEquals;
      expect(condition?.['kms:ViaService']).toEqual({ 'Fn::Sub': `ssm.\${AWS::Region}.amazonaws.com` });
      expect(condition?.['kms:EncryptionContext:PARAMETER_ARN']?.['Fn::Sub']).toMatch(
        new RegExp(`:parameter/securityhub-notifier/dev/${parameter}$`),
      );
    }
  });

  it('limits resource wildcards to what has no narrower scope', () => {
    const wildcards = policyStatements(template)
      .filter(
        ({ statement }) =>
          statement.Effect === 'Allow' && JSON.stringify(statement.Resource ?? '').includes('*'),
      )
      .map(
        ({ where, statement }) => `${where}: ${([] as string[]).concat(statement.Action ?? []).join(',')}`,
      );
    for (const entry of wildcards) {
      expect(entry).toMatch(
        /^NotifyFindingsRole notify-findings: logs:\w+(,logs:\w+)*$|^MarkFindingsRole mark-findings: securityhub:BatchUpdateFindings$|Role [\w-]+: kms:Decrypt$|^DispatchRole dispatch: states:DescribeExecution$|^(BacklogActivityRole backlog-activity|SlackActionRole slack-action|SweepSuppressionsRole sweep-suppressions): securityhub:(GetFindings|GetFindings,securityhub:GetFindingsV2|BatchUpdateFindings)$|^DigestRole digest: securityhub:GetInsightResults,securityhub:DescribeSecurityHubV2,securityhub:GetAdhocInsightResults$/,
      );
    }
  });
});

describe('alarms and outputs', () => {
  const alarms = () =>
    resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      ([, alarm]) => alarm.Properties as Record<string, Json>,
    );
  const alarmOn = (metric: string, dimension: Json) =>
    alarms().find(
      (alarm) =>
        alarm.MetricName === metric && JSON.stringify(alarm.Dimensions).includes(JSON.stringify(dimension)),
    );

  it('alarm on dead letters, failed or timed-out executions and function errors', () => {
    expect(
      alarmOn('ApproximateNumberOfMessagesVisible', getAtt('DeadLetterQueue', 'QueueName')),
    ).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(alarmOn(metric, { Ref: STATE_MACHINE }), metric).toMatchObject({
        Threshold: 0,
        Namespace: 'AWS/States',
      });
    }
    for (const { id } of Object.values(FUNCTIONS)) {
      expect(alarmOn('Errors', { Ref: id }), id).toMatchObject({ Threshold: 0, Namespace: 'AWS/Lambda' });
    }
  });

  it('notify the alarm topic only when one is configured', () => {
    expect(template.Conditions?.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual({ 'Fn::If': ['HasAlarmTopic', [''], { Ref: 'AWS::NoValue' }] });
    }
  });

  it('output the queues, the state machine and the ledger table', () => {
    expect(template.Outputs).toMatchObject({
      BufferQueueUrl: { Value: { Ref: 'BufferQueue' } },
      DeadLetterQueueUrl: { Value: { Ref: 'DeadLetterQueue' } },
      NotifyFindingsStateMachineArn: { Value: { Ref: STATE_MACHINE } },
      LedgerTableName: { Value: { Ref: 'LedgerTable' } },
    });
  });
});

describe('stage parameters', () => {
  // One more packaging, with every non-default param the tests need (~20 s each).
  const topic = 'arn:aws:sns:ap-northeast-1:123456789012:security-alarms';
  const secretArn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shn/slack-AbCdEf';
  let configured: Template;
  beforeAll(async () => {
    configured = (
      await packageStack({
        minSeverity: 'CRITICAL',
        alarmTopicArn: topic,
        slackTokenParameter: secretArn,
        securityHubs: 'cspm',
      })
    ).template;
  });
  afterAll(removeServiceCopies);

  it('narrow the rule and the policy to the minimum severity', () => {
    expect(resource(configured, 'FindingsRule').Properties.EventPattern).toEqual(
      buildEventPattern('CRITICAL'),
    );
    expect(environment('dispatch', configured)).toMatchObject({ NOTIFY_MIN_SEVERITY: 'CRITICAL' });
  });

  it('listen to one Security Hub only when securityHubs names it', () => {
    const states = (of: Template) =>
      RULES.map((name) => `${name} ${resource(of, name).Properties.State as string}`);

    expect(states(template)).toEqual(RULES.map((name) => `${name} ENABLED`));
    expect(states(configured)).toEqual([
      'FindingsRule ENABLED',
      'TransitionsRule ENABLED',
      'FindingsV2Rule DISABLED',
      'TransitionsV2Rule DISABLED',
    ]);
  });

  it.each([
    ['new', { asff: 'DISABLED', ocsf: 'ENABLED' }],
    ['both', { asff: 'ENABLED', ocsf: 'ENABLED' }],
  ])('securityHubs %s sets the rules %o, and anything else stops the package', async (value, expected) => {
    const resolveVariable = async () => value;
    const unknown = async () => 'v2';

    const states = {
      asff: await securityHubs.asff({ resolveVariable }),
      ocsf: await securityHubs.ocsf({ resolveVariable }),
    };

    expect(states).toEqual(expected);
    await expect(securityHubs.asff({ resolveVariable: unknown })).rejects.toThrow(
      'the stage param securityHubs must be one of both, cspm, new; got "v2"',
    );
  });

  it('send the alarms to the configured topic', () => {
    expect(configured.Conditions?.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [topic, ''] }] });
    expect(resource(configured, 'DeadLetterQueueAlarm').Properties.AlarmActions).toEqual({
      'Fn::If': ['HasAlarmTopic', [topic], { Ref: 'AWS::NoValue' }],
    });
  });

  it('read a Secrets Manager secret: exactly that secret, decrypted only through Secrets Manager', () => {
    expect(environment('postSlackMessage', configured)).toMatchObject({
      SLACK_BOT_TOKEN_PARAMETER: secretArn,
    });
    const role = FUNCTIONS.postSlackMessage.role;
    const actions = allowedActions(configured, role);
    expect([...actions.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
        'secretsmanager:GetSecretValue',
        'kms:Decrypt',
      ].sort(),
    );
    expect(actions.get('secretsmanager:GetSecretValue')).toEqual([secretArn]);
    const decrypt = roleStatements(configured, role).find(({ Action }) => Action === 'kms:Decrypt');
    expect(decrypt).toMatchObject({
      policy: 'read-slack-token',
      Resource: 'arn:aws:kms:ap-northeast-1:123456789012:key/*',
      Condition: {
        StringEquals: {
          'kms:ViaService': 'secretsmanager.ap-northeast-1.amazonaws.com',
          'kms:EncryptionContext:SecretARN': secretArn,
        },
      },
    });
    expect(Object.keys(decrypt?.Condition as object)).toEqual(['StringEquals']);
    // The other task keeps its SSM parameter; only the roles that talk to Slack may read the secret.
    expect(allowedActions(configured, FUNCTIONS.fileBacklogIssue.role).get('ssm:GetParameter')).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/securityhub-notifier/dev/backlog-api-key`,
      },
    ]);
    const readers = policyStatements(configured)
      .filter(({ statement }) => JSON.stringify(statement).includes('secretsmanager'))
      .map(({ where }) => where);
    expect([...new Set(readers)].sort()).toEqual([
      'BacklogActivityRole read-slack-token',
      'DigestRole read-slack-token',
      'PostSlackMessageRole read-slack-token',
      'SlackActionRole read-slack-token',
      'SlackActionsRole read-slack-token',
    ]);
    for (const fn of Object.keys(FUNCTIONS) as FunctionKey[]) {
      expect(
        Object.keys(environment(fn, configured)).filter((name) => FORBIDDEN_ENVIRONMENT.test(name)),
        fn,
      ).toEqual([]);
    }
  });
});
