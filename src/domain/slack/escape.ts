/**
 * Making untrusted text safe and short for Slack.
 *
 * Slack's mrkdwn treats `&`, `<` and `>` as control characters: `<!channel>`, `<@U123>`,
 * `<#C1>`, `<!subteam^X>` and `<https://x|y>` are live only when written with a raw `<`, so
 * escaping those three characters (and nothing else, Slack decodes no other entity) makes every
 * value from a finding inert.
 *
 * Slack has no escape for its emphasis delimiters (`*bold*`, `_italic_`, `~strike~`, `` `code` ``),
 * so in mrkdwn a delimiter from a finding is replaced by a look-alike that Slack does not parse
 * (`∗` U+2217, `ˍ` U+02CD, `∼` U+223C, `ˋ` U+02CB; one code unit each, so no limit moves): the
 * text reads the same and no emphasis, strike-through or code span can start or end inside a
 * value. An invisible separator would keep the characters, but whether Slack then still pairs
 * them is up to its parser; a look-alike cannot pair by construction. Slack only opens and closes
 * emphasis at a word boundary, so `*`, `_` and `~` between two ASCII letters or digits
 * (`NETWORK_CONNECTION`, `2*3`) are kept as they are; a backtick never is. Inside inline code
 * (`escapeSlackCode`) nothing is parsed, so there only the backtick is replaced.
 *
 * Sanitising and grapheme-safe truncation are the shared ones of `../text/`; what is Slack's own
 * here is the escaping and keeping it within a limit.
 */

import { sanitizeText, singleLine } from '../text/sanitize.js';
import { ELLIPSIS, type TruncateOptions, truncate } from '../text/truncate.js';

/** A bare `@here` is not a live mention in blocks, but it may be in `text`: break it with a word joiner. */
const BROADCAST_MENTION = /@(?=(?:channel|here|everyone)\b)/gi;
const WORD_JOINER = '\u2060';
const ENTITY_CHARS: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** What the end of an escaped string looks like when an entity was cut in half. */
const PARTIAL_ENTITY_AT_END = /&(?:a|am|amp|l|lt|g|gt)?$/;

/** Slack's emphasis delimiters and the look-alikes shown instead, one code unit each so no limit moves. */
export const EMPHASIS_LOOKALIKES: Readonly<Record<string, string>> = {
  '*': '\u2217',
  _: '\u02CD',
  '~': '\u223C',
  '`': '\u02CB',
};

function escapeEntities(text: string): string {
  return text.replace(/[&<>]/g, (char) => ENTITY_CHARS[char] ?? char);
}

const ASCII_ALNUM = /^[A-Za-z0-9]$/;

/**
 * Emphasis delimiters in (escaped) text from a finding replaced by their look-alikes, except
 * `*` `_` `~` between two ASCII letters or digits, where Slack does not read them as emphasis.
 * Either end of `text` counts as a word boundary. Keeps the length.
 */
function neutralizeEmphasis(text: string): string {
  return text.replace(/[*_~`]/g, (char, offset: number) => {
    const inWord =
      char !== '`' && ASCII_ALNUM.test(text.charAt(offset - 1)) && ASCII_ALNUM.test(text.charAt(offset + 1));
    return inWord ? char : (EMPHASIS_LOOKALIKES[char] ?? char);
  });
}

/** Sanitised (`sanitizeText`), tabs as spaces, broadcast mentions broken: ready to be escaped. */
function clean(value: unknown): string {
  return sanitizeText(value).replace(/\t/g, ' ').replace(BROADCAST_MENTION, `@${WORD_JOINER}`);
}

/**
 * Escape untrusted text for Slack mrkdwn (and the top-level `text`/`fallback`): `&`→`&amp;`,
 * `<`→`&lt;`, `>`→`&gt;`, after `sanitizeText`; `*` `_` `~` `` ` `` as look-alikes
 * (`EMPHASIS_LOOKALIKES`); a bare `@channel`/`@here`/`@everyone` gets an invisible word joiner.
 * Escape a value exactly once, where it is put into the message: the input is taken literally,
 * so `&amp;` in a finding is shown as `&amp;`, not as `&`.
 */
export function escapeSlackText(value: unknown): string {
  return neutralizeEmphasis(escapeEntities(clean(value)));
}

/**
 * Escape `value` (as `escapeSlackText`) and fit the result into `max` code units. The text is
 * cut before escaping, grapheme by grapheme, counting each grapheme's escaped length, so the
 * escaping cannot push it past the limit and the cut never falls inside `&amp;`/`&lt;`/`&gt;`;
 * emphasis is neutralised after the cut (a delimiter the cut left at the end is replaced too).
 */
export function escapeAndTruncate(
  value: unknown,
  max: number,
  options: Omit<TruncateOptions, 'encode'> = {},
): string {
  return neutralizeEmphasis(truncate(clean(value), max, { ...options, encode: escapeEntities }));
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
 * cannot close the span, entities escaped, and fitted into `max` (the backticks included). The
 * other emphasis delimiters are kept (`arn:…:*`): Slack parses nothing inside code. With no room
 * for the backticks the value is escaped as plain mrkdwn instead.
 */
export function escapeSlackCode(value: unknown, max: number): string {
  const text = singleLine(value).replace(/`/g, EMPHASIS_LOOKALIKES['`'] ?? '');
  if (text.length === 0 || max < 3) return escapeAndTruncate(text, max);
  return `\`${truncate(clean(text), max - 2, { encode: escapeEntities })}\``;
}
