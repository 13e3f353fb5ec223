import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../helpers/template.js';

/** deploy/secret-access.cjs: the resolver serverless.yml calls for each task's secret statements. */
type Resolver = (context: { resolveVariable: (address: string) => Promise<unknown> }) => Promise<unknown>;
const secretAccess = createRequire(import.meta.url)('../../deploy/secret-access.cjs') as {
  slackToken: Resolver;
  backlogApiKey: Resolver;
  secretAccessStatements: (name: 'slackToken' | 'backlogApiKey', value: unknown) => PolicyStatement[];
};
const statementsFor = secretAccess.secretAccessStatements;

const FULL_ARN = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shn/slack-AbCdEf';
const PARTIAL_ARN = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shn/backlog';

function failureOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the resolver to fail');
}

describe('secret access statements (deploy/secret-access.cjs)', () => {
  it('reads an SSM parameter by name and decrypts it only through SSM, only for that parameter', () => {
    const parameterArn = {
      'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/shn/prod/slack-bot-token`,
    };
    expect(statementsFor('slackToken', '/shn/prod/slack-bot-token')).toEqual([
      { Sid: 'ReadSlackToken', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameterArn },
      {
        Sid: 'DecryptSlackToken',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/*` },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Sub': `ssm.\${AWS::Region}.amazonaws.com` },
            'kms:EncryptionContext:PARAMETER_ARN': parameterArn,
          },
        },
      },
    ]);
  });

  it('gives a parameter name without a leading slash the ARN SSM gives it', () => {
    const [read] = statementsFor('backlogApiKey', 'shn-backlog-api-key');
    expect(read).toMatchObject({
      Sid: 'ReadBacklogApiKey',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/shn-backlog-api-key`,
      },
    });
  });

  it('reads an SSM parameter given by ARN (a shared parameter) in its own region and account', () => {
    const arn = 'arn:aws:ssm:us-east-1:210987654321:parameter/shared/backlog-api-key';
    expect(statementsFor('backlogApiKey', arn)).toEqual([
      { Sid: 'ReadBacklogApiKey', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn },
      {
        Sid: 'DecryptBacklogApiKey',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:us-east-1:210987654321:key/*',
        Condition: {
          StringEquals: {
            'kms:ViaService': 'ssm.us-east-1.amazonaws.com',
            'kms:EncryptionContext:PARAMETER_ARN': arn,
          },
        },
      },
    ]);
  });

  it('reads exactly the Secrets Manager secret of a full ARN, decrypting only through Secrets Manager', () => {
    expect(statementsFor('slackToken', FULL_ARN)).toEqual([
      { Sid: 'ReadSlackToken', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: FULL_ARN },
      {
        Sid: 'DecryptSlackToken',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:ap-northeast-1:123456789012:key/*',
        Condition: {
          StringEquals: {
            'kms:ViaService': 'secretsmanager.ap-northeast-1.amazonaws.com',
            'kms:EncryptionContext:SecretARN': FULL_ARN,
          },
        },
      },
    ]);
  });

  it('completes a partial ARN with exactly the six characters Secrets Manager appends, never `*`', () => {
    const [read, decrypt] = statementsFor('backlogApiKey', PARTIAL_ARN);
    expect(read).toMatchObject({
      Action: 'secretsmanager:GetSecretValue',
      Resource: `${PARTIAL_ARN}-??????`,
    });
    expect(decrypt?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.ap-northeast-1.amazonaws.com' },
      StringLike: { 'kms:EncryptionContext:SecretARN': `${PARTIAL_ARN}-??????` },
    });
  });

  it.each([
    ['', /slackTokenParameter: required/],
    [undefined, /slackTokenParameter: required/],
    // src/adapters/secrets.ts reads only arn:aws:secretsmanager: from Secrets Manager.
    ['arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:shn/slack-AbCdEf', /neither an SSM parameter/],
    ['arn:aws:s3:::bucket/token', /neither an SSM parameter/],
    ['arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:', /not a Secrets Manager secret ARN/],
    [`/shn/\${AWS::Region}/token`, /not an SSM parameter name/],
    ['/shn/slack token', /not an SSM parameter name/],
  ])('fails on %j, naming the param', (value, message) => {
    const error = failureOf(() => statementsFor('slackToken', value));
    expect(error.message).toMatch(message);
  });

  it('resolves each entry point from its own stage param', async () => {
    const asked: string[] = [];
    const resolveVariable = async (address: string) => {
      asked.push(address);
      return address === 'param:slackTokenParameter' ? FULL_ARN : '/shn/dev/backlog-api-key';
    };

    const slack = (await secretAccess.slackToken({ resolveVariable })) as PolicyStatement[];
    const backlog = (await secretAccess.backlogApiKey({ resolveVariable })) as PolicyStatement[];

    expect(asked).toEqual(['param:slackTokenParameter', 'param:backlogApiKeyParameter']);
    expect(slack.map((statement) => statement.Sid)).toEqual(['ReadSlackToken', 'DecryptSlackToken']);
    expect(slack[0]?.Action).toBe('secretsmanager:GetSecretValue');
    expect(backlog.map((statement) => statement.Sid)).toEqual(['ReadBacklogApiKey', 'DecryptBacklogApiKey']);
    expect(backlog[0]?.Action).toBe('ssm:GetParameter');
  });
});
