import type { IncomingMessage, ServerResponse } from 'node:http';
import { readText, sendJson, startHttpServer } from './http-server.js';

export interface SsmParameter {
  value: string;
  type?: 'String' | 'SecureString';
}

export interface SsmEmulator {
  /** The client's `endpoint` (or AWS_ENDPOINT_URL_SSM): `http://127.0.0.1:PORT`. */
  url: string;
  parameters: Map<string, SsmParameter>;
  /** Every request: the operation and the parameter name asked for (never a value). */
  calls: Array<{ operation: string; name: string }>;
  /** The caller may no longer decrypt this SecureString (its KMS key policy or grant changed). */
  denyDecrypt(name: string): void;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';

/**
 * SSM Parameter Store on 127.0.0.1 (AWS JSON 1.1): `GetParameter`, with decryption. A missing
 * parameter answers `ParameterNotFound`; a SecureString the caller may not decrypt answers
 * `AccessDeniedException` naming kms:Decrypt, as SSM does.
 */
export async function startSsmEmulator(
  options: { parameters?: Record<string, SsmParameter | string>; region?: string } = {},
): Promise<SsmEmulator> {
  const region = options.region ?? 'us-east-1';
  const parameters = new Map<string, SsmParameter>(
    Object.entries(options.parameters ?? {}).map(([name, value]) => [
      name,
      typeof value === 'string' ? { value, type: 'SecureString' } : value,
    ]),
  );
  const undecryptable = new Set<string>();
  const calls: Array<{ operation: string; name: string }> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSSM\./, '');
    const text = await readText(req);
    const body = (text ? JSON.parse(text) : {}) as { Name?: string; WithDecryption?: boolean };
    const name = String(body.Name ?? '');
    calls.push({ operation, name });
    const fail = (code: string, message: string, status = 400) =>
      sendJson(res, status, { __type: code, message }, { 'x-amzn-errortype': code });
    if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) {
      return fail('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
    }
    if (operation !== 'GetParameter') return fail('UnknownOperationException', `No operation ${operation}`);
    const parameter = parameters.get(name);
    if (!parameter) return fail('ParameterNotFound', `Parameter ${name} not found.`);
    const secure = (parameter.type ?? 'SecureString') === 'SecureString';
    if (secure && body.WithDecryption && undecryptable.has(name)) {
      return fail(
        'AccessDeniedException',
        `User: arn:aws:iam::${ACCOUNT}:user/local is not authorized to perform: kms:Decrypt on the key of ${name}`,
      );
    }
    const value =
      secure && !body.WithDecryption ? Buffer.from(parameter.value).toString('base64') : parameter.value;
    sendJson(
      res,
      200,
      {
        Parameter: {
          Name: name,
          Type: parameter.type ?? 'SecureString',
          Value: value,
          Version: 1,
          ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
          DataType: 'text',
        },
      },
      { 'content-type': 'application/x-amz-json-1.1' },
    );
  };

  const server = await startHttpServer(handle);
  return {
    url: server.origin,
    parameters,
    calls,
    denyDecrypt: (name) => {
      undecryptable.add(name);
    },
    close: server.close,
  };
}
