/**
 * The configuration of an AWS SDK client, from an environment passed in rather than read from the
 * global `process.env`: the local replay and tests run the real clients against emulators this
 * way without changing the process's environment. Inside Lambda the SDK's default chain is used
 * for credentials (they are the function role's), the region and endpoints as the runtime sets them.
 */
import { ConfigError } from '../app/errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The `AWS_ENDPOINT_URL_<SERVICE>` suffix of each client this service uses. */
export type AwsService =
  | 'DYNAMODB'
  | 'SECURITYHUB'
  | 'SFN'
  | 'SQS'
  | 'SSM'
  | 'SECRETS_MANAGER'
  | 'EVENTBRIDGE';

export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Every request has a timeout: a hung endpoint costs seconds, not the function's whole budget. */
  requestHandler: { requestTimeout: number; connectionTimeout: number };
}

/** Default request timeout of the AWS SDK clients (ms); `AWS_REQUEST_TIMEOUT_MS` overrides it. */
export const DEFAULT_AWS_REQUEST_TIMEOUT_MS = 5_000;

export function awsClientConfig(env: Env, service: AwsService): AwsClientConfig {
  const timeout = Number(env.AWS_REQUEST_TIMEOUT_MS ?? DEFAULT_AWS_REQUEST_TIMEOUT_MS);
  const requestTimeout = Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_AWS_REQUEST_TIMEOUT_MS;
  const config: AwsClientConfig = {
    requestHandler: { requestTimeout, connectionTimeout: Math.min(requestTimeout, 2_000) },
  };
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) config.region = region;
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  if (endpoint && env.AWS_LAMBDA_FUNCTION_NAME) {
    // A changed environment must not send signed requests elsewhere.
    throw new ConfigError(
      `AWS_ENDPOINT_URL_${service}: an endpoint override is not allowed in a Lambda environment`,
    );
  }
  if (endpoint) config.endpoint = endpoint;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!env.AWS_LAMBDA_FUNCTION_NAME && accessKeyId && secretAccessKey) {
    config.credentials = {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return config;
}
