import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeSecret, type SecretClients } from '../../src/adapters/secrets.js';
import { ConfigError, SecretError } from '../../src/app/errors.js';
import { loadBacklogSettings, loadSlackSettings } from '../../src/config/settings.js';

const PARAMETER = '/shn/test/slack-bot-token';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shn/backlog-api-key-AbCdEf';

/** An SSM / Secrets Manager stand-in: records every command it is sent, answers with `answer`. */
function fakeClient(answer: (command: unknown) => unknown) {
  const commands: unknown[] = [];
  const send = async (command: unknown) => {
    commands.push(command);
    return answer(command);
  };
  return { commands, client: { send } };
}

function clients(ssm: { send: unknown }, secretsManager: { send: unknown } = fakeClient(unexpected).client) {
  return {
    ssm: () => ssm as unknown as SSMClient,
    secretsManager: () => secretsManager as unknown as SecretsManagerClient,
  } satisfies SecretClients;
}

function unexpected(): never {
  throw new Error('this client should not be called');
}

const parameterValue = (value: string | undefined) => () => ({
  Parameter: { Name: PARAMETER, Value: value },
});

describe('makeSecret', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads an SSM parameter once, decrypted and trimmed, then serves it from the cache', async () => {
    const ssm = fakeClient(parameterValue(' xoxb-from-ssm\n'));
    const getSecret = makeSecret({ parameter: PARAMETER }, clients(ssm.client));

    const values = [await getSecret(), await getSecret(), await getSecret()];

    expect(values).toEqual(['xoxb-from-ssm', 'xoxb-from-ssm', 'xoxb-from-ssm']);
    expect(ssm.commands).toHaveLength(1);
    expect(ssm.commands[0]).toBeInstanceOf(GetParameterCommand);
    expect((ssm.commands[0] as GetParameterCommand).input).toEqual({ Name: PARAMETER, WithDecryption: true });
  });

  it('shares one read between concurrent callers', async () => {
    const ssm = fakeClient(parameterValue('xoxb-from-ssm'));
    const getSecret = makeSecret({ parameter: PARAMETER }, clients(ssm.client));

    const values = await Promise.all([getSecret(), getSecret(), getSecret()]);

    expect(values).toEqual(['xoxb-from-ssm', 'xoxb-from-ssm', 'xoxb-from-ssm']);
    expect(ssm.commands).toHaveLength(1);
  });

  it('reads a Secrets Manager ARN from Secrets Manager, not SSM', async () => {
    const ssm = fakeClient(unexpected);
    const secretsManager = fakeClient(() => ({ SecretString: 'backlog-key-from-sm\n' }));
    const getSecret = makeSecret({ parameter: SECRET_ARN }, clients(ssm.client, secretsManager.client));

    const value = await getSecret();

    expect(value).toBe('backlog-key-from-sm');
    expect(ssm.commands).toHaveLength(0);
    expect(secretsManager.commands).toHaveLength(1);
    expect(secretsManager.commands[0]).toBeInstanceOf(GetSecretValueCommand);
    expect((secretsManager.commands[0] as GetSecretValueCommand).input).toEqual({ SecretId: SECRET_ARN });
  });

  it('refetches after the TTL, picking up a rotated value', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2030-01-01T00:00:00Z') });
    let current = 'xoxb-before-rotation';
    const ssm = fakeClient(() => ({ Parameter: { Value: current } }));
    const getSecret = makeSecret({ parameter: PARAMETER }, clients(ssm.client), 60_000);

    const first = await getSecret();
    current = 'xoxb-after-rotation';
    vi.advanceTimersByTime(59_000);
    const withinTtl = await getSecret();
    vi.advanceTimersByTime(2_000);
    const afterTtl = await getSecret();

    expect([first, withinTtl, afterTtl]).toEqual([
      'xoxb-before-rotation',
      'xoxb-before-rotation',
      'xoxb-after-rotation',
    ]);
    expect(ssm.commands).toHaveLength(2);
  });

  it('names the parameter in its error, never the secret value, and does not cache the failure', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2030-01-01T00:00:00Z') });
    const responses: Array<() => unknown> = [
      parameterValue('xoxb-cached-secret'),
      () => {
        throw Object.assign(new Error('User is not authorized to perform: ssm:GetParameter'), {
          name: 'AccessDeniedException',
        });
      },
      parameterValue('xoxb-cached-secret'),
    ];
    const ssm = fakeClient(() => (responses.shift() ?? unexpected)());
    const getSecret = makeSecret({ parameter: PARAMETER }, clients(ssm.client), 1_000);

    await getSecret();
    vi.advanceTimersByTime(1_001);
    const error = await getSecret().then(unexpected, (e: unknown) => e as Error);
    const recovered = await getSecret();

    expect(error).toBeInstanceOf(SecretError);
    expect(error.message).toContain(PARAMETER);
    expect(error.message).toContain('AccessDeniedException');
    expect(error.message).not.toContain('xoxb-cached-secret');
    expect(String(error)).not.toContain('xoxb-cached-secret');
    expect(recovered).toBe('xoxb-cached-secret');
    expect(ssm.commands).toHaveLength(3);
  });

  it('fails naming the parameter when it has no value', async () => {
    const ssm = fakeClient(parameterValue(undefined));
    const getSecret = makeSecret({ parameter: PARAMETER }, clients(ssm.client));

    const error = await getSecret().then(unexpected, (e: unknown) => e as Error);

    expect(error).toBeInstanceOf(SecretError);
    expect(error.message).toBe(`SSM parameter ${PARAMETER} has no value`);
  });

  it('uses a plain value (local replay) without calling AWS', async () => {
    const ssm = fakeClient(unexpected);
    const getSecret = makeSecret({ value: 'xoxb-local' }, clients(ssm.client));

    const value = await getSecret();

    expect(value).toBe('xoxb-local');
    expect(ssm.commands).toHaveLength(0);
  });
});

describe('plaintext secrets and endpoint overrides in a Lambda environment', () => {
  const slackEnv = { SLACK_CHANNEL: '#security-alerts' };
  const backlogEnv = {
    BACKLOG_HOST: 'example.backlog.com',
    BACKLOG_PROJECT_KEY: 'SEC',
    BACKLOG_ISSUE_TYPE: 'Task',
  };
  const inLambda = { AWS_LAMBDA_FUNCTION_NAME: 'securityhub-notifier-dev-postSlackMessage' };

  function configErrorOf(load: () => unknown): Error {
    try {
      load();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a ConfigError');
  }

  it('refuses SLACK_BOT_TOKEN inside Lambda, naming the variable but not the token', () => {
    const env = { ...slackEnv, ...inLambda, SLACK_BOT_TOKEN: 'xoxb-plaintext-token' };

    const error = configErrorOf(() => loadSlackSettings(env));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('SLACK_BOT_TOKEN');
    expect(error.message).toContain('SLACK_BOT_TOKEN_PARAMETER');
    expect(error.message).not.toContain('xoxb-plaintext-token');
  });

  it('refuses BACKLOG_API_KEY inside Lambda, naming the variable but not the key', () => {
    const env = { ...backlogEnv, ...inLambda, BACKLOG_API_KEY: 'plaintext-backlog-key' };

    const error = configErrorOf(() => loadBacklogSettings(env));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('BACKLOG_API_KEY');
    expect(error.message).toContain('BACKLOG_API_KEY_PARAMETER');
    expect(error.message).not.toContain('plaintext-backlog-key');
  });

  it('refuses the plaintext variable in Lambda even when the parameter is also set', () => {
    const env = {
      ...slackEnv,
      ...inLambda,
      SLACK_BOT_TOKEN_PARAMETER: PARAMETER,
      SLACK_BOT_TOKEN: 'xoxb-plaintext-token',
    };

    const error = configErrorOf(() => loadSlackSettings(env));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('SLACK_BOT_TOKEN');
  });

  it('refuses SLACK_API_URL inside Lambda, naming the setting (the token would go elsewhere)', () => {
    const env = {
      ...slackEnv,
      ...inLambda,
      SLACK_BOT_TOKEN_PARAMETER: PARAMETER,
      SLACK_API_URL: 'https://slack.attacker.example/api/',
    };

    const error = configErrorOf(() => loadSlackSettings(env));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('SLACK_API_URL');
    expect(error.message).toMatch(/not allowed in a Lambda environment/);
  });

  it('refuses BACKLOG_API_URL inside Lambda, naming the setting (the key would go elsewhere)', () => {
    const env = {
      ...backlogEnv,
      ...inLambda,
      BACKLOG_API_KEY_PARAMETER: SECRET_ARN,
      BACKLOG_API_URL: 'https://backlog.attacker.example/api/v2',
    };

    const error = configErrorOf(() => loadBacklogSettings(env));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('BACKLOG_API_URL');
    expect(error.message).toMatch(/not allowed in a Lambda environment/);
  });

  it('accepts the endpoint overrides outside Lambda (the local sandbox and its emulators)', () => {
    const slack = loadSlackSettings({
      ...slackEnv,
      SLACK_BOT_TOKEN: 'xoxb-local',
      SLACK_API_URL: 'http://127.0.0.1:4100/api/',
    });
    const backlog = loadBacklogSettings({
      ...backlogEnv,
      BACKLOG_API_KEY: 'local-key',
      BACKLOG_API_URL: 'http://127.0.0.1:4200/api/v2',
    });

    expect(slack.apiUrl).toBe('http://127.0.0.1:4100/api/');
    expect(backlog.apiUrl).toBe('http://127.0.0.1:4200/api/v2');
  });

  it('reads the parameter names inside Lambda, and accepts plaintext values outside it (local replay)', () => {
    const lambdaSlack = loadSlackSettings({ ...slackEnv, ...inLambda, SLACK_BOT_TOKEN_PARAMETER: PARAMETER });
    const lambdaBacklog = loadBacklogSettings({
      ...backlogEnv,
      ...inLambda,
      BACKLOG_API_KEY_PARAMETER: SECRET_ARN,
    });
    const localSlack = loadSlackSettings({ ...slackEnv, SLACK_BOT_TOKEN: 'xoxb-local' });
    const localBacklog = loadBacklogSettings({ ...backlogEnv, BACKLOG_API_KEY: 'local-key' });

    expect(lambdaSlack.token).toEqual({ parameter: PARAMETER });
    expect(lambdaBacklog.apiKey).toEqual({ parameter: SECRET_ARN });
    expect(localSlack.token).toEqual({ value: 'xoxb-local' });
    expect(localBacklog.apiKey).toEqual({ value: 'local-key' });
  });
});
