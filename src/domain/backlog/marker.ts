import { createHash } from 'node:crypto';

/**
 * A marker names the finding inside the Backlog issue it was filed as, so that a retried
 * FileBacklogIssue task (or a lost ledger write) finds the issue with
 * `GET /api/v2/issues?keyword=<marker>` instead of filing it twice.
 *
 * It is one alphanumeric word: no `-`, `_`, `:` or `.` that a full-text tokenizer would split on
 * (a `SHN-…` form would be found as `SHN` plus a hex word, or, worse, look like a Backlog issue
 * key `SHN-123` and be auto-linked). Lowercase letters + hex digits only; 24 hex characters of
 * sha256 (96 bits) make a collision between two finding keys practically impossible.
 */
export const MARKER_PREFIX = 'shnf';
const MARKER_HEX_LENGTH = 24;

/** Matches a marker standing alone as a word (not inside a longer alphanumeric run). */
export const MARKER_PATTERN = new RegExp(
  `(?<![A-Za-z0-9])${MARKER_PREFIX}[0-9a-f]{${MARKER_HEX_LENGTH}}(?![A-Za-z0-9])`,
);

export function findingMarker(findingKey: string): string {
  const hex = createHash('sha256').update(findingKey, 'utf8').digest('hex').slice(0, MARKER_HEX_LENGTH);
  return `${MARKER_PREFIX}${hex}`;
}

export function isFindingMarker(value: string): boolean {
  return new RegExp(`^${MARKER_PATTERN.source}$`).test(value);
}

/** The line the issue description ends with. */
export function markerLine(marker: string): string {
  return `securityhub-notifier marker: ${marker}`;
}

/**
 * Whether a text (an issue description found by keyword search) carries exactly this marker as a
 * word. Backlog's keyword search is fuzzy (it may match parts of words or other issues), so the
 * caller checks every hit with this before treating it as the issue already filed.
 */
export function hasMarker(text: string, marker: string): boolean {
  if (!isFindingMarker(marker)) return false;
  const pattern = new RegExp(`(?<![A-Za-z0-9])${marker}(?![A-Za-z0-9])`);
  return pattern.test(text);
}

const ZERO_WIDTH_SPACE = '\u200B';
const DEFANG_PATTERN = new RegExp(`(${MARKER_PREFIX})(?=[0-9a-f]{${MARKER_HEX_LENGTH}})`, 'gi');

/**
 * Break every marker-like word in untrusted text (a zero-width space after the prefix), so a
 * finding's title or description cannot carry another finding's marker and make the keyword
 * search find the wrong issue. Applied to every value the issue builders render.
 */
export function defangMarkers(text: string): string {
  return text.replace(DEFANG_PATTERN, `$1${ZERO_WIDTH_SPACE}`);
}
/**
 * The same for a URL (the console link carries the finding Id): the first letter of a
 * marker-like word is percent-encoded, which a URL treats as the same character.
 */
export function defangMarkersInUrl(url: string): string {
  return url.replace(DEFANG_URL_PATTERN, (letter) => (letter === 's' ? '%73' : '%53'));
}

const DEFANG_URL_PATTERN = new RegExp(
  `${MARKER_PREFIX.charAt(0)}(?=${MARKER_PREFIX.slice(1)}[0-9a-f]{${MARKER_HEX_LENGTH}})`,
  'gi',
);

/** The first marker in a text, if any. */
export function extractMarker(text: string): string | undefined {
  return MARKER_PATTERN.exec(text)?.[0];
}
