import type { Finding } from './finding.js';
import { isRecord } from './json.js';
import { type NormalizeContext, normalizeFinding } from './normalize-asff.js';
import { normalizeOcsfFinding } from './normalize-ocsf.js';
import { FindingValidationError } from './validation-error.js';

/** Security Hub CSPM: ASFF findings. */
export const IMPORTED_DETAIL_TYPE = 'Security Hub Findings - Imported';
/** The new Security Hub: OCSF findings, one an event. */
export const IMPORTED_V2_DETAIL_TYPE = 'Findings Imported V2';
export const SECURITY_HUB_SOURCE = 'aws.securityhub';
const DETAIL_TYPES = [IMPORTED_DETAIL_TYPE, IMPORTED_V2_DETAIL_TYPE];

export interface ParsedEvent {
  eventId: string;
  findings: Finding[];
  /** Findings of this event that could not be normalised; the others go on. */
  rejected: Array<{ index: number; error: FindingValidationError; raw: unknown }>;
}

export type EventContext = Pick<NormalizeContext, 'homeRegion' | 'accountNames'>;

/** Security Hub puts at most 100 findings in one Imported event. */
export const MAX_FINDINGS_PER_EVENT = 100;
/** Real events nest about 10 levels (the corpus's deepest is 10); 64 leaves room and stops abuse. */
export const MAX_EVENT_DEPTH = 64;

/**
 * The top-level field under which `event` nests deeper than `MAX_EVENT_DEPTH` levels (the event
 * itself is level 1), or undefined. Iterative, so a pathological event cannot exhaust the stack,
 * and it stops at the first container past the limit.
 */
function tooDeep(event: Record<string, unknown>): string | undefined {
  const stack: Array<{ value: object; depth: number; field: string }> = [];
  for (const [field, value] of Object.entries(event)) {
    if (typeof value === 'object' && value !== null) stack.push({ value, depth: 2, field });
  }
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.depth > MAX_EVENT_DEPTH) return item.field;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, depth: item.depth + 1, field: item.field });
    }
  }
  return undefined;
}

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
  if (!DETAIL_TYPES.includes(raw['detail-type'] as string)) {
    throw new FindingValidationError(
      eventId,
      'detail-type',
      `is ${JSON.stringify(raw['detail-type'])}, not "${IMPORTED_DETAIL_TYPE}" or "${IMPORTED_V2_DETAIL_TYPE}"`,
    );
  }
  const findings = isRecord(raw.detail) ? raw.detail.findings : undefined;
  if (!Array.isArray(findings))
    throw new FindingValidationError(eventId, 'detail.findings', 'is not an array');
  if (findings.length === 0) throw new FindingValidationError(eventId, 'detail.findings', 'is empty');
  if (findings.length > MAX_FINDINGS_PER_EVENT) {
    throw new FindingValidationError(
      eventId,
      'detail.findings',
      `holds ${findings.length} findings; Security Hub sends at most ${MAX_FINDINGS_PER_EVENT} in one event`,
    );
  }
  const deepField = tooDeep(raw);
  if (deepField !== undefined) {
    throw new FindingValidationError(eventId, deepField, `nested deeper than ${MAX_EVENT_DEPTH} levels`);
  }
  return { event: raw, eventId, findings };
}

/**
 * Parse a Security Hub EventBridge event: CSPM's "Security Hub Findings - Imported" (ASFF) or the
 * new Security Hub's "Findings Imported V2" (OCSF), into the one `Finding` model. A malformed
 * envelope throws `FindingValidationError`; a malformed finding inside a good envelope is listed
 * in `rejected`.
 */
export function parseImportedEvent(input: unknown, context: EventContext = {}): ParsedEvent {
  const { event: raw, eventId, findings } = checkEnvelope(input);
  const parsed: ParsedEvent = { eventId, findings: [], rejected: [] };
  const eventRegion = typeof raw.region === 'string' ? raw.region : undefined;
  const normalize = raw['detail-type'] === IMPORTED_V2_DETAIL_TYPE ? normalizeOcsfFinding : normalizeFinding;
  findings.forEach((finding, index) => {
    try {
      parsed.findings.push(
        normalize(finding, { ...context, eventId, eventRegion, path: `detail.findings[${index}]` }),
      );
    } catch (error) {
      if (!(error instanceof FindingValidationError)) throw error;
      parsed.rejected.push({ index, error, raw: finding });
    }
  });
  return parsed;
}
