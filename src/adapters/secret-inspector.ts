import { SecretError } from '../app/errors.js';
import type { SecretInspector } from '../app/health-ports.js';
import { makeSecret, type SecretClients } from './secrets.js';

/**
 * Whether a secret exists and decrypts, read exactly as the functions read it (an SSM SecureString,
 * or a Secrets Manager ARN). Its value is read and dropped: never returned, never logged.
 */
export class SecretStoreInspector implements SecretInspector {
  constructor(private readonly clients: SecretClients) {}

  async check(parameter: string): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      await makeSecret({ parameter }, this.clients, 0)();
      return { ok: true };
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      const cause = (error as Error & { cause?: Error }).cause;
      return { ok: false, error: cause ? `${cause.name}: ${cause.message}` : error.message };
    }
  }
}
