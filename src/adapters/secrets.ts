import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SecretError } from '../app/errors.js';

export interface SecretClients {
  ssm: () => SSMClient;
  /** Loaded on first use: most stages keep their secrets in SSM, and the client is large. */
  secretsManager: () => SecretsManagerClient | Promise<SecretsManagerClient>;
}

/** Where a secret comes from: an SSM parameter name, a Secrets Manager ARN, or (local only) a value. */
export interface SecretSource {
  parameter?: string;
  value?: string;
}

const DEFAULT_TTL_MS = 5 * 60_000;

/**
 * Reads a secret at run time and caches it for `ttlMs` (a rotated token is picked up within
 * minutes). The secret itself is never logged: errors name the parameter only.
 */
export function makeSecret(source: SecretSource, clients: SecretClients, ttlMs = DEFAULT_TTL_MS) {
  let cached: { value: string; expires: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchSecret(): Promise<string> {
    if (source.value) return source.value;
    const name = source.parameter;
    if (!name) throw new SecretError('no secret parameter configured');
    try {
      if (name.startsWith('arn:aws:secretsmanager:')) {
        const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
        const client = await clients.secretsManager();
        const result = await client.send(new GetSecretValueCommand({ SecretId: name }));
        if (!result.SecretString) throw new SecretError(`secret ${name} has no string value`);
        return result.SecretString.trim();
      }
      const result = await clients.ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      const value = result.Parameter?.Value;
      if (!value) throw new SecretError(`SSM parameter ${name} has no value`);
      return value.trim();
    } catch (error) {
      if (error instanceof SecretError) throw error;
      throw new SecretError(`cannot read secret ${name}: ${(error as Error).name}`, { cause: error });
    }
  }

  return async function getSecret(): Promise<string> {
    if (cached && cached.expires > Date.now()) return cached.value;
    pending ??= fetchSecret().finally(() => {
      pending = undefined;
    });
    const value = await pending;
    cached = { value, expires: Date.now() + ttlMs };
    return value;
  };
}
