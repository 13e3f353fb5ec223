import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  GetFindingsV2Command,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { SecurityHubAccessError, SecurityHubRateLimitError, SecurityHubRequestError } from '../app/errors.js';
import type { FindingCopyRef, FindingsReader, FindingsUpdater, MarkStatus } from '../app/ports.js';
import { chunk } from '../domain/delivery/delivery.js';
import {
  type FindingState,
  findingStateOf,
  ocsfFindingStateOf,
} from '../domain/delivery/tracker-lifecycle.js';
import { findingKey } from '../domain/finding/finding.js';

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

/** The new Security Hub's status ids for the statuses the notifier sets (there is no NOTIFIED: In Progress). */
export const OCSF_STATUS_IDS: Readonly<Record<MarkStatus, number>> = {
  NEW: 1,
  NOTIFIED: 2,
  SUPPRESSED: 3,
  RESOLVED: 4,
};

/**
 * Updates both Security Hubs: CSPM's ASFF findings with BatchUpdateFindings (the workflow status
 * and a note, nothing else: the function's role may change only those), the new Security Hub's OCSF
 * findings with BatchUpdateFindingsV2 (a status id and a comment, by metadata uid). Errors become
 * the catalogue's: access and input errors fail at once, throttling past the SDK's own retries is
 * rate-limited, the rest transient.
 */
export class SecurityHubUpdater implements FindingsUpdater {
  constructor(private readonly client: Pick<SecurityHubClient, 'send'>) {}

  async update(copies: readonly FindingCopyRef[], change: { status: MarkStatus; note: string }) {
    const ocsf = copies.filter((copy) => copy.ocsf);
    const asff = copies.filter((copy) => !copy.ocsf);
    return [...(await this.updateAsff(asff, change)), ...(await this.updateOcsf(ocsf, change))];
  }

  private async updateAsff(copies: readonly FindingCopyRef[], change: { status: MarkStatus; note: string }) {
    if (copies.length === 0) return [];
    const result = await callSecurityHub('BatchUpdateFindings', () =>
      this.client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: copies.map(({ identifier: { Id, ProductArn } }) => ({ Id, ProductArn })),
          Workflow: { Status: change.status },
          Note: { Text: change.note, UpdatedBy: NOTE_AUTHOR },
        }),
      ),
    );
    const byKey = new Map(
      copies.map((copy) => [`${copy.identifier.ProductArn}|${copy.identifier.Id}`, copy]),
    );
    return (result.UnprocessedFindings ?? []).map((entry) => {
      const identifier = {
        Id: entry.FindingIdentifier?.Id ?? '',
        ProductArn: entry.FindingIdentifier?.ProductArn ?? '',
      };
      return {
        copy: byKey.get(`${identifier.ProductArn}|${identifier.Id}`) ?? { identifier },
        code: entry.ErrorCode ?? 'Unknown',
        ...(entry.ErrorMessage ? { message: entry.ErrorMessage } : {}),
      };
    });
  }

  private async updateOcsf(copies: readonly FindingCopyRef[], change: { status: MarkStatus; note: string }) {
    if (copies.length === 0) return [];
    const result = await callSecurityHub('BatchUpdateFindingsV2', () =>
      this.client.send(
        new BatchUpdateFindingsV2Command({
          MetadataUids: copies.map((copy) => copy.ocsf?.metadataUid ?? ''),
          StatusId: OCSF_STATUS_IDS[change.status],
          Comment: change.note.slice(0, 512),
        }),
      ),
    );
    const byUid = new Map(copies.map((copy) => [copy.ocsf?.metadataUid, copy]));
    return (result.UnprocessedFindings ?? []).map((entry) => {
      const copy = byUid.get(entry.MetadataUid) ?? {
        identifier: {
          Id: entry.FindingIdentifier?.FindingInfoUid ?? '',
          ProductArn: entry.FindingIdentifier?.MetadataProductUid ?? '',
        },
        ocsf: { metadataUid: entry.MetadataUid ?? '' },
      };
      return {
        copy,
        code: entry.ErrorCode ?? 'Unknown',
        ...(entry.ErrorMessage ? { message: entry.ErrorMessage } : {}),
      };
    });
  }
}

/** One Security Hub call, its errors made the catalogue's (`securityHubError`). */
async function callSecurityHub<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw securityHubError(operation, error);
  }
}

/** An SDK error as the catalogue's: access and input errors fatal, throttling rate-limited, the rest transient. */
export function securityHubError(operation: string, error: unknown): Error {
  const name = (error as Error).name;
  const detail = `${operation} failed: ${name}: ${(error as Error).message}`;
  if (ACCESS_ERRORS.has(name)) return new SecurityHubAccessError(detail, { cause: error });
  if (THROTTLING.has(name)) return new SecurityHubRateLimitError(detail, { cause: error });
  return new SecurityHubRequestError(detail, { cause: error });
}

/** GetFindings takes at most 20 values per filter attribute (API reference, `Filters`). */
export const MAX_FILTER_VALUES = 20;

/**
 * GetFindings by identifier (Security Hub CSPM, ASFF): each finding as Security Hub reports it now.
 * At most 20 identifiers a call (the filter's limit), every page read; a finding Security Hub does
 * not have is left out. Errors become the catalogue's, as for the updater.
 */
export class SecurityHubReader implements FindingsReader {
  constructor(private readonly client: Pick<SecurityHubClient, 'send'>) {}

  async read(identifiers: ReadonlyArray<{ Id: string; ProductArn: string }>): Promise<FindingState[]> {
    const unique = [
      ...new Map(identifiers.map((identifier) => [findingKey(identifier), identifier])).values(),
    ];
    const wanted = new Set(unique.map(findingKey));
    const states = new Map<string, FindingState>();
    for (const part of chunk(unique, MAX_FILTER_VALUES)) {
      const Filters = {
        Id: part.map(({ Id }) => ({ Value: Id, Comparison: 'EQUALS' as const })),
        ProductArn: [...new Set(part.map(({ ProductArn }) => ProductArn))].map((Value) => ({
          Value,
          Comparison: 'EQUALS' as const,
        })),
      };
      let token: string | undefined;
      do {
        const page = await callSecurityHub('GetFindings', () =>
          this.client.send(
            new GetFindingsCommand({ Filters, MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
          ),
        );
        for (const raw of page.Findings ?? []) {
          const state = findingStateOf(raw);
          const key = state && findingKey(state.identifier);
          if (state && key && wanted.has(key)) states.set(key, state);
        }
        token = page.NextToken || undefined;
      } while (token);
    }
    return [...states.values()];
  }

  /**
   * GetFindingsV2 by `metadata.uid` (the new Security Hub, OCSF): at most 20 values a composite
   * filter, every page read; a finding the new Security Hub does not have is left out.
   */
  async readOcsf(metadataUids: readonly string[]): Promise<Array<FindingState & { metadataUid: string }>> {
    const wanted = new Set(metadataUids);
    const states = new Map<string, FindingState & { metadataUid: string }>();
    for (const part of chunk([...wanted], MAX_FILTER_VALUES)) {
      const Filters = {
        CompositeFilters: [
          {
            Operator: 'OR' as const,
            StringFilters: part.map((Value) => ({
              FieldName: 'metadata.uid' as const,
              Filter: { Value, Comparison: 'EQUALS' as const },
            })),
          },
        ],
      };
      let token: string | undefined;
      do {
        const page = await callSecurityHub('GetFindingsV2', () =>
          this.client.send(
            new GetFindingsV2Command({ Filters, MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
          ),
        );
        for (const raw of page.Findings ?? []) {
          const state = ocsfFindingStateOf(raw);
          if (state && wanted.has(state.metadataUid)) states.set(state.metadataUid, state);
        }
        token = page.NextToken || undefined;
      } while (token);
    }
    return [...states.values()];
  }
}
