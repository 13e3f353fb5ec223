import * as z from 'zod';

/** A finding or event that cannot be processed as it is: reported and dead-lettered, never retried. */
export class FindingValidationError extends Error {
  override readonly name = 'FindingValidationError';
  constructor(
    readonly eventId: string,
    readonly field: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`event ${eventId}: ${field}: ${reason}`, options);
  }
}

/** A zod issue's path as a field path (`.Resources[0].Id`). */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
}

/** A short, safe account of an unexpected value for an error reason (never the whole value). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a value of type ${typeof value}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** An identifier a finding must carry (an Id, a product ARN or uid): 1–512 characters of valid Unicode. */
export const identifierText = z
  .string()
  .min(1)
  .max(512)
  .refine((value) => !LONE_SURROGATE.test(value), 'holds an unpaired surrogate (not valid Unicode text)');
