/**
 * One sanitiser for every destination (Slack and Backlog alike): text from a finding is made
 * well-formed and visible before it is escaped, measured or cut.
 */

/**
 * Direction marks and bidi controls ("Trojan Source"): they reorder or disguise what the reader
 * sees. U+061C ARABIC LETTER MARK, U+200E/U+200F LRM/RLM, U+202A–U+202E embeddings and
 * overrides, U+2066–U+2069 isolates.
 */
export const DIRECTION_MARKS: readonly string[] = [
  '\u061C',
  '\u200E',
  '\u200F',
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
];

const DIRECTION_MARK = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/** C0 and C1 controls except tab and line feed (CR is turned into LF before this applies). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LINE_BREAK = /\r\n?|[\u2028\u2029]/g;

/** Anything to a string, never throwing: strings as they are, numbers, booleans and bigints as text, anything else ''. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return '';
}

/**
 * Well-formed, visible text: lone surrogates become U+FFFD; CR, CRLF, U+2028 and U+2029 become
 * LF; C0 and C1 control characters other than tab and LF are removed; every direction mark and
 * bidi control is removed. Tabs and line breaks are kept (each destination decides what they
 * mean); non-strings other than numbers and booleans become ''.
 */
export function sanitizeText(value: unknown): string {
  return asText(value)
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(LINE_BREAK, '\n')
    .replace(CONTROL_CHARS, '')
    .replace(DIRECTION_MARK, '');
}

/** Sanitised and on one line: every run of whitespace (line breaks and tabs included) becomes one space, trimmed. */
export function singleLine(value: unknown): string {
  return sanitizeText(value).replace(/\s+/g, ' ').trim();
}
