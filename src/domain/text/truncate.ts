/**
 * Shortening text without breaking it. Lengths are counted in UTF-16 code units (what
 * `String#length`, Slack's validators and Backlog's summary limit count), and text is only ever
 * cut between grapheme clusters, so a surrogate pair, an emoji sequence or a Japanese character
 * with its combining marks is never split.
 */

import { asText } from './sanitize.js';

export const ELLIPSIS = '…';

export interface TruncateOptions {
  /** Prefer to cut after a whole word (at a space or after punctuation) when one is near the end. */
  wholeWords?: boolean;
  /**
   * Measure and return the text encoded (an escaper, say): the budget counts the encoded length,
   * so the encoding cannot push the result past `max`, and a cut never falls inside what one
   * character encodes to. It must work character by character (`encode(a + b)` is
   * `encode(a) + encode(b)`) and never shorten its input.
   */
  encode?: (text: string) => string;
}

const segmenter: Intl.Segmenter | undefined =
  typeof Intl.Segmenter === 'function' ? new Intl.Segmenter('en', { granularity: 'grapheme' }) : undefined;

/** Grapheme clusters of `text`, or code points where the runtime has no segmenter. */
export function* graphemes(text: string): Generator<string> {
  if (segmenter) {
    for (const part of segmenter.segment(text)) yield part.segment;
  } else {
    yield* text;
  }
}

/** How far back (as a share of the budget) a word boundary may be to be preferred over a hard cut. */
const WORD_BOUNDARY_WINDOW = 0.4;
/** Punctuation a line may be cut after (Japanese and Latin). */
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

/** A limit as a whole number of code units; anything not a finite positive number is 0. */
function limitOf(max: number): number {
  return Number.isFinite(max) && max > 0 ? Math.floor(max) : 0;
}

const identity = (text: string): string => text;

/**
 * `text` (encoded with `options.encode`, if given) in at most `max` UTF-16 code units: as it is
 * when it fits, else cut between grapheme clusters, trailing whitespace dropped, with `…`
 * appended within `max`. `max` of 0 (or not a finite number) gives ''.
 */
export function truncate(text: string, max: number, options: TruncateOptions = {}): string {
  const value = asText(text);
  const limit = limitOf(max);
  if (limit === 0) return '';
  const encode = options.encode ?? identity;
  const full = encode(value);
  if (full.length <= limit) return full;
  const budget = limit - ELLIPSIS.length;
  const { kept, next } = takeGraphemes(value, budget, encode);
  const body = (options.wholeWords ? cutAtWord(kept, next, budget) : kept).join('').replace(/\s+$/u, '');
  return `${body}${ELLIPSIS}`;
}
