import {
  BatchImportFindingsCommand,
  type BatchImportFindingsCommandOutput,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { SecurityHubAccessError } from '../app/errors.js';
import type { FindingsImporter } from '../app/health-ports.js';
import { securityHubError } from './security-hub.js';

/**
 * BatchImportFindings: the account's own findings, into its default product (the heartbeat's). A
 * finding Security Hub refuses (`FailedFindings`: Security Hub or the product not enabled, an
 * invalid field) is SecurityHubAccessError naming it; SDK errors become the catalogue's.
 */
export class SecurityHubImporter implements FindingsImporter {
  constructor(private readonly client: Pick<SecurityHubClient, 'send'>) {}

  async import(findings: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    let result: BatchImportFindingsCommandOutput;
    try {
      result = await this.client.send(new BatchImportFindingsCommand({ Findings: findings as never }));
    } catch (error) {
      throw securityHubError('BatchImportFindings', error);
    }
    const failed = result.FailedFindings ?? [];
    if (failed.length > 0) {
      const reasons = failed.map((f) =>
        `${f.Id ?? '?'}: ${f.ErrorCode ?? '?'} ${f.ErrorMessage ?? ''}`.trim(),
      );
      throw new SecurityHubAccessError(`BatchImportFindings refused ${reasons.join('; ')}`);
    }
  }
}
