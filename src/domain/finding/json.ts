/** A JSON object (not null, not an array): what untrusted input is checked against before reading. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
