import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { SecretClients } from '../config/secrets.js';

export const SERVICE_NAME = 'securityhub-notifier';

export function makeLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME });
}

/** Wrap a handler function in middy with the logger's Lambda context. */
export function lambda<TEvent, TResult>(
  logger: Logger,
  fn: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy<TEvent, TResult>().use(injectLambdaContext(logger)).handler(fn);
}

/** Evaluate once, on first use: configuration is parsed at cold start, not at import. */
export function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/** The secret stores' clients, each created on first use (a function reads one of the two). */
export function lazySecretClients(): SecretClients {
  return { ssm: once(() => new SSMClient({})), secretsManager: once(() => new SecretsManagerClient({})) };
}
