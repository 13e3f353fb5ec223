import type { Finding } from './finding.js';
import { isRecord } from './json.js';
import { type NormalizeContext, normalizeFinding } from './normalize-asff.js';
import { FindingValidationError } from './validation-error.js';

export const IMPORTED_DETAIL_TYPE = 'Security Hub Findings - Imported';
export const SECURITY_HUB_SOURCE = 'aws.securityhub';

export interface ParsedEvent {
  eventId: string;
  findings: Finding[];
  /** Findings of this event that could not be normalised; the others go on. */
  rejected: Array<{ index: number; error: FindingValidationError; raw: unknown }>;
}

export type EventContext = Pick<NormalizeContext, 'homeRegion' | 'accountNames'>;

/**
 * Check the envelope of a "Security Hub Findings - Imported" EventBridge event, without reading its
 * findings. Throws `FindingValidationError` naming the event and the field.
 */
export function checkEnvelope(raw: unknown): {
  event: Record<string, unknown>;
  eventId: string;
  findings: unknown[];
} {
  if (!isRecord(raw)) throw new FindingValidationError('(unknown)', 'event', 'is not a JSON object');
  const eventId = typeof raw.id === 'string' && raw.id.length > 0 ? raw.id : '(no id)';
  if (eventId === '(no id)') throw new FindingValidationError(eventId, 'id', 'is missing');
  if (raw.source !== SECURITY_HUB_SOURCE) {
    throw new FindingValidationError(
      eventId,
      'source',
      `is ${JSON.stringify(raw.source)}, not ${SECURITY_HUB_SOURCE}`,
    );
  }
  if (raw['detail-type'] !== IMPORTED_DETAIL_TYPE) {
    throw new FindingValidationError(
      eventId,
      'detail-type',
      `is ${JSON.stringify(raw['detail-type'])}, not "${IMPORTED_DETAIL_TYPE}"`,
    );
  }
  const findings = isRecord(raw.detail) ? raw.detail.findings : undefined;
  if (!Array.isArray(findings))
    throw new FindingValidationError(eventId, 'detail.findings', 'is not an array');
  if (findings.length === 0) throw new FindingValidationError(eventId, 'detail.findings', 'is empty');
  return { event: raw, eventId, findings };
}

/**
 * Parse a "Security Hub Findings - Imported" EventBridge event. A malformed envelope throws
 * `FindingValidationError`; a malformed finding inside a good envelope is listed in `rejected`.
 */
export function parseImportedEvent(input: unknown, context: EventContext = {}): ParsedEvent {
  const { event: raw, eventId, findings } = checkEnvelope(input);
  const parsed: ParsedEvent = { eventId, findings: [], rejected: [] };
  const eventRegion = typeof raw.region === 'string' ? raw.region : undefined;
  findings.forEach((finding, index) => {
    try {
      parsed.findings.push(
        normalizeFinding(finding, { ...context, eventId, eventRegion, path: `detail.findings[${index}]` }),
      );
    } catch (error) {
      if (!(error instanceof FindingValidationError)) throw error;
      parsed.rejected.push({ index, error, raw: finding });
    }
  });
  return parsed;
}
