/**
 * Making untrusted text safe and short for Slack.
 *
 * Slack's mrkdwn treats `&`, `<` and `>` as control characters: `<!channel>`, `<@U123>`,
 * `<#C1>`, `<!subteam^X>` and `<https://x|y>` are live only when written with a raw `<`, so
 * escaping those three characters (and nothing else, Slack decodes no other entity) makes every
 * value from a finding inert. Sanitising and grapheme-safe truncation are the shared ones of
 * `../text/`; what is Slack's own here is the escaping and keeping it within a limit.
 */

import { sanitizeText, singleLine } from '../text/sanitize.js';
import { ELLIPSIS, type TruncateOptions, truncate } from '../text/truncate.js';

/** A bare `@here` is not a live mention in blocks, but it may be in `text`: break it with a word joiner. */
const BROADCAST_MENTION = /@(?=(?:channel|here|everyone)\b)/gi;
const WORD_JOINER = '\u2060';
const ENTITY_CHARS: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** What the end of an escaped string looks like when an entity was cut in half. */
const PARTIAL_ENTITY_AT_END = /&(?:a|am|amp|l|lt|g|gt)?$/;

function escapeEntities(text: string): string {
  return text.replace(/[&<>]/g, (char) => ENTITY_CHARS[char] ?? char);
}

/** Sanitised (`sanitizeText`), tabs as spaces, broadcast mentions broken: ready to be escaped. */
function clean(value: unknown): string {
  return sanitizeText(value).replace(/\t/g, ' ').replace(BROADCAST_MENTION, `@${WORD_JOINER}`);
}

/**
 * Escape untrusted text for Slack mrkdwn (and the top-level `text`/`fallback`): `&`→`&amp;`,
 * `<`→`&lt;`, `>`→`&gt;`, after `sanitizeText`; a bare `@channel`/`@here`/`@everyone` gets an
 * invisible word joiner. Escape a value exactly once, where it is put into the message: the
 * input is taken literally, so `&amp;` in a finding is shown as `&amp;`, not as `&`.
 */
export function escapeSlackText(value: unknown): string {
  return escapeEntities(clean(value));
}

/**
 * Escape `value` (as `escapeSlackText`) and fit the result into `max` code units. The text is
 * cut before escaping, grapheme by grapheme, counting each grapheme's escaped length, so the
 * escaping cannot push it past the limit and the cut never falls inside `&amp;`/`&lt;`/`&gt;`.
 */
export function escapeAndTruncate(
  value: unknown,
  max: number,
  options: Omit<TruncateOptions, 'encode'> = {},
): string {
  return truncate(clean(value), max, { ...options, encode: escapeEntities });
}

/**
 * Fit text that is already escaped (or is trusted mrkdwn around escaped values) into `max`,
 * never leaving half an entity at the cut. A last guard for composed strings.
 */
export function truncateEscaped(escaped: string, max: number): string {
  const cut = truncate(escaped, max);
  if (cut === escaped || !cut.endsWith(ELLIPSIS)) return cut;
  const body = cut.slice(0, -ELLIPSIS.length).replace(PARTIAL_ENTITY_AT_END, '').replace(/\s+$/u, '');
  return `${body}${ELLIPSIS}`;
}

/**
 * An untrusted identifier as inline code: on one line, backticks replaced by a look-alike so it
 * cannot close the span, escaped and fitted into `max` (the backticks included).
 */
export function escapeSlackCode(value: unknown, max: number): string {
  const text = singleLine(value).replace(/`/g, 'ˋ');
  if (text.length === 0 || max < 3) return escapeAndTruncate(text, max);
  return `\`${escapeAndTruncate(text, max - 2)}\``;
}
