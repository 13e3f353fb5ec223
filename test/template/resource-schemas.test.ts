import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTemplate, formatProblem, loadSpec, type Problem } from '../helpers/cfn-schema.js';
import {
  type PackagedStack,
  packageStack,
  type Resource,
  removeServiceCopies,
  type Template,
} from '../helpers/template.js';

const lines = (problems: Problem[]) => problems.map(formatProblem);
const check = (resources: Template['Resources']) => checkTemplate({ Resources: resources });

describe('the packaged template against the CloudFormation resource schemas', () => {
  let stack: PackagedStack;
  beforeAll(async () => {
    // The default stage, its params stated so that it is packaged in a copy of the service: a
    // concurrent `packageStack()` in another test file empties the repository's `.serverless/`.
    stack = await packageStack({ minSeverity: 'HIGH' });
  });
  afterAll(removeServiceCopies);

  it('has only resource types the spec knows', () => {
    const types = new Set(Object.values(stack.template.Resources).map((resource) => resource.Type));
    expect(types.size).toBeGreaterThan(5);
    expect(lines(checkTemplate(stack.template).filter((problem) => problem.path === 'Type'))).toEqual([]);
  });

  it('has every property known, of its type, and every required one', () => {
    expect(lines(checkTemplate(stack.template))).toEqual([]);
  });
});

describe('checkTemplate', () => {
  const roleArn = 'arn:aws:iam::123456789012:role/example';

  it('loads the spec once, in a few seconds at most', () => {
    const spec = loadSpec();
    expect(loadSpec()).toBe(spec);
    expect(spec.resourceTypes).toContain('AWS::SQS::Queue');
    expect(spec.loadMs).toBeLessThan(5000);
  });

  it('finds no problem in a template that is right', () => {
    expect(
      check({
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            VisibilityTimeout: 190,
            MessageRetentionPeriod: '345600',
            SqsManagedSseEnabled: true,
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 3 },
            Tags: [{ Key: 'team', Value: 'security' }],
          },
        },
        Dlq: { Type: 'AWS::SQS::Queue', DeletionPolicy: 'Retain' },
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
            Policies: [{ PolicyName: 'inline', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }],
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an Fn::Sub template
            ManagedPolicyArns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess' }],
          },
        },
        Function: {
          Type: 'AWS::Lambda::Function',
          DependsOn: ['Role'],
          Properties: {
            Code: { S3Bucket: { Ref: 'Bucket' }, S3Key: 'code.zip' },
            Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
            Handler: 'index.handler',
            Runtime: 'nodejs24.x',
            MemorySize: { Ref: 'Memory' },
            Environment: { Variables: { STAGE: 'dev', TABLE: { Ref: 'Table' }, SIZE: 10 } },
          },
        },
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            RoleArn: roleArn,
            DefinitionString: { 'Fn::Join': ['', ['{"StartAt":"A",', '"States":{}}']] },
          },
        },
        Rule: {
          Type: 'AWS::Events::Rule',
          Properties: {
            EventPattern: { source: ['aws.securityhub'] },
            State: 'ENABLED',
            Targets: [{ Id: 'queue', Arn: { 'Fn::GetAtt': ['Queue', 'Arn'] } }],
          },
        },
        StringPatternRule: {
          Type: 'AWS::Events::Rule',
          Properties: { EventPattern: '{"source":["aws.s3"]}' },
        },
        Alarm: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            ComparisonOperator: 'GreaterThanThreshold',
            EvaluationPeriods: 1,
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Statistic: 'Maximum',
            Period: 300,
            Threshold: 0,
            AlarmActions: {
              'Fn::If': ['HasTopic', ['arn:aws:sns:ap-northeast-1:123456789012:t'], { Ref: 'AWS::NoValue' }],
            },
          },
        },
        Custom: { Type: 'Custom::Anything', Properties: { ServiceToken: 'arn', Whatever: { a: 1 } } },
      }),
    ).toEqual([]);
  });

  it('reports a misspelt property, nested ones too, with the path and the name meant', () => {
    expect(
      check({
        Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibiltyTimeout: 30 } },
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {},
            Policies: [{ PolicyName: 'inline', PolicyDocment: {} }],
          },
        },
        Dlq: { Type: 'AWS::SQS::Queue', DeletionPolcy: 'Retain' } as Resource,
      }),
    ).toEqual([
      {
        resource: 'Queue',
        path: 'Properties.VisibiltyTimeout',
        problem: 'unknown property of AWS::SQS::Queue (did you mean VisibilityTimeout?)',
      },
      {
        resource: 'Role',
        path: 'Properties.Policies[0].PolicyDocment',
        problem: 'unknown property of Policy (did you mean PolicyDocument?)',
      },
      {
        resource: 'Role',
        path: 'Properties.Policies[0].PolicyDocument',
        problem: 'required property of Policy missing',
      },
      {
        resource: 'Dlq',
        path: 'DeletionPolcy',
        problem: 'unknown resource attribute (did you mean DeletionPolicy?)',
      },
    ]);
  });

  it('reports a value of the wrong type, in lists, maps and Fn::If branches too', () => {
    expect(
      lines(
        check({
          Queue: {
            Type: 'AWS::SQS::Queue',
            Properties: {
              VisibilityTimeout: 'thirty',
              FifoQueue: 'yes',
              DelaySeconds: 1.5,
              Tags: { team: 'x' },
            },
          },
          Tagged: { Type: 'AWS::SQS::Queue', Properties: { Tags: [{ Key: 'team' }] } },
          Function: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Code: { ZipFile: 'exports.handler = async () => {}' },
              Role: roleArn,
              Environment: { Variables: { CONFIG: { nested: true } } },
              Layers: [['arn']],
              Timeout: { 'Fn::If': ['Long', 900, 'long'] },
            },
          },
          Rule: { Type: 'AWS::Events::Rule', Properties: { State: 'ON', EventPattern: ['aws.s3'] } },
          Machine: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: { RoleArn: roleArn, DefinitionString: { StartAt: 'A', States: {} } },
          },
        }),
      ),
    ).toEqual([
      'Queue Properties.VisibilityTimeout: expected an integer, got string "thirty"',
      'Queue Properties.FifoQueue: expected a boolean, got string "yes"',
      'Queue Properties.DelaySeconds: expected an integer, got number 1.5',
      'Queue Properties.Tags: expected a list, got an object',
      'Tagged Properties.Tags[0].Value: required property of Tag missing',
      'Function Properties.Environment.Variables.CONFIG: expected a string, got an object',
      'Function Properties.Layers[0]: expected a string, got a list',
      'Function Properties.Timeout.Fn::If[2]: expected an integer, got string "long"',
      'Rule Properties.State: "ON" is not one of DISABLED, ENABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      'Rule Properties.EventPattern: expected a string or a JSON object, got a list',
      'Machine Properties.DefinitionString: expected a string, got an object',
    ]);
  });

  it('reports a missing required property, AWS::NoValue as missing', () => {
    expect(
      check({
        Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: '{}' } },
        Function: {
          Type: 'AWS::Lambda::Function',
          Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, Code: { Ref: 'AWS::NoValue' } },
        },
        Custom: { Type: 'Custom::Thing' },
      }),
    ).toEqual([
      {
        resource: 'Machine',
        path: 'Properties.RoleArn',
        problem: 'required property of AWS::StepFunctions::StateMachine missing',
      },
      {
        resource: 'Function',
        path: 'Properties.Code',
        problem: 'required property of AWS::Lambda::Function missing',
      },
      { resource: 'Custom', path: 'Properties.ServiceToken', problem: 'required property missing' },
    ]);
  });

  it('reports an unknown resource type', () => {
    expect(
      check({
        Queue: { Type: 'AWS::SQS::Queu', Properties: { VisibilityTimeout: 30 } },
        Thing: { Type: 'AWS::Nothing::Here' },
      }),
    ).toEqual([
      {
        resource: 'Queue',
        path: 'Type',
        problem: 'unknown resource type AWS::SQS::Queu (did you mean AWS::SQS::Queue?)',
      },
      {
        resource: 'Thing',
        path: 'Type',
        problem: `unknown resource type AWS::Nothing::Here (not in @aws-cdk/aws-service-spec ${loadSpec().version})`,
      },
    ]);
  });
});
