import { BatchUpdateFindingsCommand, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SecurityHubAccessError, SecurityHubRateLimitError, SecurityHubRequestError } from '../app/errors.js';
import type { FindingsUpdater } from '../app/ports.js';

const ACCESS_ERRORS = new Set([
  'AccessDeniedException',
  'InvalidAccessException',
  'InvalidInputException',
  'ValidationException',
]);
const THROTTLING = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException']);

/** The note's author in Security Hub. */
export { NOTE_AUTHOR } from '../domain/finding/event-pattern.js';

import { NOTE_AUTHOR } from '../domain/finding/event-pattern.js';

/**
 * BatchUpdateFindings (Security Hub CSPM, ASFF): the workflow status and a note, nothing else (the
 * function's role may change only those two fields). Errors become the catalogue's: access and
 * input errors fail at once, throttling past the SDK's own retries is rate-limited, the rest
 * transient.
 */
export class SecurityHubUpdater implements FindingsUpdater {
  constructor(private readonly client: Pick<SecurityHubClient, 'send'>) {}

  async update(
    identifiers: ReadonlyArray<{ Id: string; ProductArn: string }>,
    change: { status: 'NOTIFIED' | 'SUPPRESSED' | 'RESOLVED' | 'NEW'; note: string },
  ) {
    try {
      const result = await this.client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: identifiers.map(({ Id, ProductArn }) => ({ Id, ProductArn })),
          Workflow: { Status: change.status },
          Note: { Text: change.note, UpdatedBy: NOTE_AUTHOR },
        }),
      );
      return (result.UnprocessedFindings ?? []).map((entry) => ({
        identifier: {
          Id: entry.FindingIdentifier?.Id ?? '',
          ProductArn: entry.FindingIdentifier?.ProductArn ?? '',
        },
        code: entry.ErrorCode ?? 'Unknown',
        ...(entry.ErrorMessage ? { message: entry.ErrorMessage } : {}),
      }));
    } catch (error) {
      const name = (error as Error).name;
      const detail = `BatchUpdateFindings failed: ${name}: ${(error as Error).message}`;
      if (ACCESS_ERRORS.has(name)) throw new SecurityHubAccessError(detail, { cause: error });
      if (THROTTLING.has(name)) throw new SecurityHubRateLimitError(detail, { cause: error });
      throw new SecurityHubRequestError(detail, { cause: error });
    }
  }
}
