import type { TextFormattingRule } from '../../src/domain/backlog/format.js';

// ---------------------------------------------------------------------------------------------
// Slack mrkdwn checks.

/** A `<`, a `>` or an `&` that does not start one of Slack's three entities. */
export const UNESCAPED = /[<>]|&(?!amp;|lt;|gt;)/;

/** A high surrogate without its low half, or a low one without its high half. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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

/** Markup Backlog notation would act on, outside `{code}` blocks and after backslash escapes. */
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
