import type { TextFormattingRule } from '../../src/domain/backlog/format.js';
import { DIRECTION_MARKS } from '../../src/domain/text/sanitize.js';

/** Any direction mark or bidi control the sanitiser removes. */
export const DIRECTION_MARK = new RegExp(`[${DIRECTION_MARKS.join('')}]`);

// ---------------------------------------------------------------------------------------------
// Slack mrkdwn checks.

/** A `<`, a `>` or an `&` that does not start one of Slack's three entities. */
export const UNESCAPED = /[<>]|&(?!amp;|lt;|gt;)/;

/** A high surrogate without its low half, or a low one without its high half. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Each of Slack's emphasis delimiters and a stand-in of the same length that behaves the same in
 * every step before Slack sees it (not a space, not punctuation a line is cut after; a word
 * character for `_`, which is one, a non-word character for the others): a finding with every
 * delimiter swapped for its stand-in renders to a message of exactly the same shape.
 */
export const EMPHASIS_STAND_INS: Readonly<Record<string, string>> = { '*': '-', '~': '+', '`': '=', _: 'Z' };

/** `value` with every emphasis delimiter swapped for its stand-in. */
export function withoutEmphasis(value: string): string {
  return value.replace(/[*_~`]/g, (char) => EMPHASIS_STAND_INS[char] ?? char);
}

/** Every string of a finding (or context) mapped with `fn`, keys included; links are left as they are. */
export function mapStrings<T>(value: T, fn: (text: string) => string): T {
  const walk = (item: unknown, key?: string): unknown => {
    if (typeof item === 'string') return key !== undefined && /(?:^u|U)rl$/.test(key) ? item : fn(item);
    if (Array.isArray(item)) return item.map((element) => walk(element));
    if (typeof item === 'object' && item !== null) {
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [fn(k), walk(v, k)]));
    }
    return item;
  };
  return walk(value) as T;
}

const ASCII_ALNUM = /^[A-Za-z0-9]$/;

/**
 * The emphasis delimiters a finding's values put into a mrkdwn text, where Slack could act on
 * them: `text` is rendered from the values, `reference` from the same values `withoutEmphasis`.
 * A delimiter counts when `reference` does not have it at the same place (so the builder did not
 * write it), it is outside the builder's inline code, and it is not `*` `_` `~` between two ASCII
 * letters or digits (inside a word, which Slack never reads as emphasis).
 */
export function emphasisFromValues(text: string, reference: string): string[] {
  const found: string[] = [];
  let inCode = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charAt(index);
    const fromBuilder = reference.charAt(index) === char;
    if (char === '`' && fromBuilder) {
      inCode = !inCode;
      continue;
    }
    if (inCode || fromBuilder || !'*_~`'.includes(char)) continue;
    const inWord =
      char !== '`' && ASCII_ALNUM.test(text.charAt(index - 1)) && ASCII_ALNUM.test(text.charAt(index + 1));
    if (!inWord) found.push(`${char} at ${index}`);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Markdown and Backlog notation tokenizers: a builder's output has exactly the markup it emits.

/**
 * Markup a Markdown (CommonMark + GFM) renderer would act on, outside code blocks and after
 * backslash escapes, as a sequence: block starts and inline delimiters.
 */
export function markdownTokens(document: string): string[] {
  const tokens: string[] = [];
  let fence: number | undefined;
  for (const line of document.split('\n')) {
    if (fence !== undefined) {
      const close = /^ {0,3}(`+)[ \t]*$/.exec(line);
      if (close?.[1] && close[1].length >= fence) {
        tokens.push('fence-end');
        fence = undefined;
      }
      continue;
    }
    const open = /^ {0,3}(`{3,})/.exec(line);
    if (open?.[1]) {
      tokens.push('fence');
      fence = open[1].length;
      continue;
    }
    const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
    if (indent >= 4) tokens.push('indented-code');
    const content = line.slice(indent);
    const first = content.charAt(0);
    if ('-+=#>*_~|<`'.includes(first) && first !== '') tokens.push(`line-start ${first}`);
    if (/^\d{1,9}[.)](?: |$)/.test(content)) tokens.push('ordered-list');
    for (let index = 0; index < content.length; index += 1) {
      const char = content.charAt(index);
      if (char === '\\') {
        index += 1;
      } else if ('`*_[]<>|~&#@'.includes(char)) {
        tokens.push(char);
      } else if (char === ':' && content.startsWith('//', index + 1)) {
        tokens.push('://');
      } else if (char === '.' && /(?:^|[^A-Za-z0-9])www$/i.test(content.slice(0, index))) {
        tokens.push('www.');
      }
    }
  }
  return tokens;
}

/**
 * Markup Backlog notation would act on, outside `{code}` blocks and after backslash escapes,
 * bare URLs (`scheme://`, `www.`) included: Backlog links them by itself.
 */
export function backlogTokens(document: string): string[] {
  const tokens: string[] = [];
  let inCode = false;
  for (const line of document.split('\n')) {
    if (inCode) {
      if (/\{\/code\}/i.test(line)) {
        tokens.push('code-end');
        inCode = false;
      }
      continue;
    }
    const first = line.charAt(0);
    if ("*-+>~#|'%".includes(first) && first !== '') tokens.push(`line-start ${first}`);
    for (let index = 0; index < line.length; index += 1) {
      const char = line.charAt(index);
      const next = line.charAt(index + 1);
      if (char === '\\') {
        index += 1;
      } else if (char === '{' && /^\{code(?::\w+)?\}/i.test(line.slice(index))) {
        tokens.push('code');
        inCode = true;
        break;
      } else if ('[]{}&|'.includes(char)) {
        tokens.push(char);
      } else if ((char === "'" || char === '%') && next === char) {
        tokens.push(`${char}${char}`);
        index += 1;
      } else if (char === '#' && /[A-Za-z]/.test(next)) {
        tokens.push('#macro');
      } else if (char === ':' && line.startsWith('//', index + 1)) {
        tokens.push('://');
      } else if (char === '.' && /(?:^|[^A-Za-z0-9])www$/i.test(line.slice(0, index))) {
        tokens.push('www.');
      }
    }
  }
  return tokens;
}

/** The tokenizer of each text formatting rule. */
export const TOKENS: Record<TextFormattingRule, (document: string) => string[]> = {
  markdown: markdownTokens,
  backlog: backlogTokens,
};
