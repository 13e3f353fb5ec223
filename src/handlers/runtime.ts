import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import type { SecretClients } from '../adapters/secrets.js';

export const SERVICE_NAME = 'securityhub-notifier';

export function makeLogger(env: Env = process.env): Logger {
  const logLevel = env.POWERTOOLS_LOG_LEVEL;
  return new Logger({ serviceName: SERVICE_NAME, ...(logLevel ? { logLevel: logLevel as never } : {}) });
}

/**
 * Wrap a handler function in middy with the logger's Lambda context. `validate` runs first on every
 * invocation (cached after the first): the configuration is checked at cold start, before any work,
 * and a bad setting fails the invocation naming it.
 */
export function lambda<TEvent, TResult>(
  logger: Logger,
  fn: (event: TEvent, context: Context) => Promise<TResult>,
  validate: () => unknown = () => undefined,
) {
  return middy<TEvent, TResult>()
    .use(injectLambdaContext(logger))
    .before(() => {
      validate();
    })
    .handler(fn);
}

/**
 * A queue's worker: each record read (`read` throws on a body that is not one), handled as its own
 * attempt (`<messageId>/<requestId>`, the claim's token); a record that fails goes back to the queue
 * (partial batch failure) and is logged naming it, the rest of the batch goes on.
 */
export function queueWorker<T>(
  logger: Logger,
  what: string,
  read: (body: unknown) => T,
  handle: (item: T, attempt: string) => Promise<void>,
  validate: () => unknown,
) {
  return lambda<SQSEvent, SQSBatchResponse>(
    logger,
    async (event, context) => {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        try {
          await handle(read(JSON.parse(record.body)), `${record.messageId}/${context.awsRequestId}`);
        } catch (error) {
          logger.error(`${what} failed: returned to the queue`, {
            messageId: record.messageId,
            error: `${(error as Error).name}: ${(error as Error).message}`,
          });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    },
    validate,
  );
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
export function lazySecretClients(env: Env = process.env): SecretClients {
  return {
    ssm: once(() => new SSMClient(awsClientConfig(env, 'SSM'))),
    // Imported on first use (a stage keeping a secret in Secrets Manager): no cost at cold start otherwise.
    secretsManager: once(async () => {
      const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      return new SecretsManagerClient(awsClientConfig(env, 'SECRETS_MANAGER'));
    }),
  };
}
