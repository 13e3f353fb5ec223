/**
 * Making untrusted text safe and short for Slack.
 *
 * Slack's mrkdwn treats `&`, `<` and `>` as control characters: `<!channel>`, `<@U123>`,
 * `<#C1>`, `<!subteam^X>` and `<https://x|y>` are live only when written with a raw `<`, so
 * escaping those three characters (and nothing else, Slack decodes no other entity) makes every
 * value from a finding inert. Lengths are counted in UTF-16 code units (what `String#length`
 * and Slack's validators count), and text is only ever cut between grapheme clusters, so a
 * surrogate pair, an emoji sequence or a Japanese character is never split.
 */

export const ELLIPSIS = '…';

/** Bidi overrides and isolates ("Trojan Source"): they reorder what the reader sees. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/** C0 and C1 controls except tab and line feed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** A bare `@here` is not a live mention in blocks, but it may be in `text`: break it with a word joiner. */
const BROADCAST_MENTION = /@(?=(?:channel|here|everyone)\b)/gi;
const WORD_JOINER = '\u2060';
const ENTITY_CHARS: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** What the end of an escaped string looks like when an entity was cut in half. */
const PARTIAL_ENTITY_AT_END = /&(?:a|am|amp|l|lt|g|gt)?$/;

const segmenter: Intl.Segmenter | undefined =
  typeof Intl.Segmenter === 'function' ? new Intl.Segmenter('en', { granularity: 'grapheme' }) : undefined;

/** Grapheme clusters of `text`, or code points where the runtime has no segmenter. */
function* graphemes(text: string): Generator<string> {
  if (segmenter) {
    for (const part of segmenter.segment(text)) yield part.segment;
  } else {
    yield* text;
  }
}

/** Anything to a string, never throwing: non-strings other than numbers and booleans become ''. */
function asString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return '';
}

/**
 * Well-formed, visible text: lone surrogates become U+FFFD, control characters (except tab and
 * line feed) and bidi overrides are removed, CR, CRLF and U+2028/2029 become LF, tabs spaces.
 */
export function sanitizeText(value: unknown): string {
  return asString(value)
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(/\t/g, ' ')
    .replace(CONTROL_CHARS, '')
    .replace(BIDI_CONTROLS, '');
}

/** Sanitised and on one line: every run of whitespace becomes one space. */
export function singleLine(value: unknown): string {
  return sanitizeText(value).replace(/\s+/g, ' ').trim();
}

function escapeEntities(text: string): string {
  return text.replace(/[&<>]/g, (char) => ENTITY_CHARS[char] ?? char);
}

function neutralizeMentions(text: string): string {
  return text.replace(BROADCAST_MENTION, `@${WORD_JOINER}`);
}

/**
 * Escape untrusted text for Slack mrkdwn (and the top-level `text`/`fallback`): `&`→`&amp;`,
 * `<`→`&lt;`, `>`→`&gt;`, after `sanitizeText`; a bare `@channel`/`@here`/`@everyone` gets an
 * invisible word joiner. Escape a value exactly once, where it is put into the message: the
 * input is taken literally, so `&amp;` in a finding is shown as `&amp;`, not as `&`.
 */
export function escapeSlackText(value: string): string {
  return escapeEntities(neutralizeMentions(sanitizeText(value)));
}

export interface TruncateOptions {
  /** Prefer to cut after a whole word (at a space or Japanese punctuation) when one is near the end. */
  wholeWords?: boolean;
}

/** How far back (as a share of the budget) a word boundary may be to be preferred over a hard cut. */
const WORD_BOUNDARY_WINDOW = 0.4;
const BREAK_AFTER = new Set([
  '。',
  '、',
  '，',
  '．',
  '！',
  '？',
  '；',
  '：',
  '.',
  ',',
  ';',
  ':',
  '!',
  '?',
  ')',
]);

/**
 * The longest run of leading graphemes of `text` whose encoded length fits `budget`: the kept
 * graphemes (encoded) and the first grapheme left out, if any.
 */
function takeGraphemes(
  text: string,
  budget: number,
  encode: (grapheme: string) => string,
): { kept: string[]; next: string | undefined } {
  const kept: string[] = [];
  let length = 0;
  // Each grapheme encodes to at least one code unit: past budget + a margin nothing more can fit,
  // and grapheme boundaries before the end of this window are the same as in the whole text.
  const window = text.slice(0, Math.max(0, budget) + 64);
  for (const grapheme of graphemes(window)) {
    const encoded = encode(grapheme);
    if (length + encoded.length > budget) return { kept, next: grapheme };
    kept.push(encoded);
    length += encoded.length;
  }
  return { kept, next: undefined };
}

function isSpace(grapheme: string | undefined): boolean {
  return grapheme !== undefined && /^\s+$/.test(grapheme);
}

/** Cut `kept` back to the last word boundary if there is one in the last part of the budget. */
function cutAtWord(kept: string[], next: string | undefined, budget: number): string[] {
  if (next === undefined || isSpace(next)) return kept;
  let length = kept.reduce((sum, part) => sum + part.length, 0);
  const floor = budget * (1 - WORD_BOUNDARY_WINDOW);
  for (let i = kept.length - 1; i >= 0 && length >= floor; i--) {
    const part = kept[i] ?? '';
    if (isSpace(part)) return kept.slice(0, i);
    if (BREAK_AFTER.has(part)) return kept.slice(0, i + 1);
    length -= part.length;
  }
  return kept;
}

function finish(kept: string[], max: number): string {
  const body = kept.join('').replace(/\s+$/u, '');
  const result = `${body}${ELLIPSIS}`;
  return result.length <= max ? result : ELLIPSIS.slice(0, Math.max(0, max));
}

/**
 * `text` cut to at most `max` UTF-16 code units, between grapheme clusters, with `…` appended
 * (within `max`) when anything was cut. Never splits a surrogate pair or an emoji sequence.
 */
export function truncate(text: string, max: number, options: TruncateOptions = {}): string {
  const value = asString(text);
  const limit = Number.isFinite(max) ? Math.floor(max) : 0;
  if (limit <= 0) return '';
  if (value.length <= limit) return value;
  const budget = limit - ELLIPSIS.length;
  const { kept, next } = takeGraphemes(value, budget, (grapheme) => grapheme);
  return finish(options.wholeWords ? cutAtWord(kept, next, budget) : kept, limit);
}

/**
 * Escape `value` (as `escapeSlackText`) and fit the result into `max` code units. The text is
 * cut before escaping, grapheme by grapheme, counting each grapheme's escaped length, so the
 * escaping cannot push it past the limit and the cut never falls inside `&amp;`/`&lt;`/`&gt;`.
 */
export function escapeAndTruncate(value: string, max: number, options: TruncateOptions = {}): string {
  const limit = Number.isFinite(max) ? Math.floor(max) : 0;
  if (limit <= 0) return '';
  const clean = neutralizeMentions(sanitizeText(value));
  const escaped = escapeEntities(clean);
  if (escaped.length <= limit) return escaped;
  const budget = limit - ELLIPSIS.length;
  const { kept, next } = takeGraphemes(clean, budget, escapeEntities);
  return finish(options.wholeWords ? cutAtWord(kept, next, budget) : kept, limit);
}

/**
 * Fit text that is already escaped (or is trusted mrkdwn around escaped values) into `max`,
 * never leaving half an entity at the cut. A last guard for composed strings.
 */
export function truncateEscaped(escaped: string, max: number): string {
  const value = asString(escaped);
  const limit = Number.isFinite(max) ? Math.floor(max) : 0;
  if (limit <= 0) return '';
  if (value.length <= limit) return value;
  const { kept } = takeGraphemes(value, limit - ELLIPSIS.length, (grapheme) => grapheme);
  const body = kept.join('').replace(PARTIAL_ENTITY_AT_END, '');
  return finish([body], limit);
}

/**
 * An untrusted identifier as inline code: on one line, backticks replaced by a look-alike so it
 * cannot close the span, escaped and fitted into `max` (the backticks included).
 */
export function escapeSlackCode(value: string, max: number): string {
  const text = singleLine(value).replace(/`/g, 'ˋ');
  if (text.length === 0 || max < 3) return escapeAndTruncate(text, max);
  return `\`${escapeAndTruncate(text, max - 2)}\``;
}
