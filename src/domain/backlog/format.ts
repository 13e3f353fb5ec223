/**
 * Escaping and block helpers for the two text formatting rules a Backlog project can use.
 *
 * Every string that came from a finding is untrusted: it goes through `inline`/`text` (escaped
 * prose), `codeBlock` (shown verbatim) or `link` (URL re-checked and percent-encoded; a link from
 * the finding goes through `findingLink`, which links known hosts only), never straight into the
 * output. Escaping only ever inserts a backslash before a character, and a backslash in the value
 * is itself escaped, so removing every `\x` → `x` gives back the normalised value: the escaping
 * is checkable.
 */

import { sanitizeText, singleLine } from '../text/sanitize.js';
import { isKnownHost, safeUrl, urlForDisplay } from '../text/url.js';
import { defangMarkers, defangMarkersInUrl } from './marker.js';

export const TEXT_FORMATTING_RULES = ['markdown', 'backlog'] as const;
export type TextFormattingRule = (typeof TEXT_FORMATTING_RULES)[number];

/** Shown for a value that is empty once normalised, so a table cell or list item is never blank. */
export const EMPTY_VALUE = '(none)';

/**
 * One line: sanitised (`sanitizeText`: lone surrogates repaired, control characters and every
 * direction mark dropped), whitespace collapsed to single spaces, trimmed, marker-like words
 * broken (`defangMarkers`).
 */
export function normalizeInline(value: string): string {
  return defangMarkers(singleLine(value));
}

/**
 * Multi-line text: each line normalised like `normalizeInline` (so no leading indentation that a
 * renderer could read as a code block), runs of blank lines collapsed to one, no blank lines at
 * either end.
 */
export function normalizeMultiline(value: string): string {
  const lines: string[] = [];
  for (const raw of sanitizeText(value).split('\n')) {
    const line = normalizeInline(raw);
    if (line === '' && (lines.length === 0 || lines.at(-1) === '')) continue;
    lines.push(line);
  }
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n');
}

/**
 * Text shown verbatim in a code block: sanitised (`sanitizeText`: line breaks unified, control
 * characters other than tab and every direction mark dropped), marker-like words broken.
 */
export function normalizeCode(value: string): string {
  return defangMarkers(sanitizeText(value));
}

function escapeEachChar(line: string, mustEscape: (line: string, index: number) => boolean): string {
  let out = '';
  for (let index = 0; index < line.length; index += 1) {
    const char = line.charAt(index);
    out += mustEscape(line, index) ? `\\${char}` : char;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown (CommonMark + GFM tables, strikethrough and autolinks, as Backlog renders it)
// ---------------------------------------------------------------------------------------------

/**
 * Escaped wherever they stand: `\` (the escape itself), `` ` `` (code spans, fences), `*` `_`
 * (emphasis, thematic breaks, list bullets), `[` `]` (links, images, reference definitions,
 * checkboxes), `<` `>` (raw HTML, `<scheme:…>` autolinks, block quotes), `|` (table cells), `~`
 * (strikethrough, `~~~` fences), `&` (entity references), `#` (ATX headings and their closing
 * sequence), `@` (GFM e-mail autolinks). All are ASCII punctuation, which CommonMark lets any
 * character be escaped as.
 */
const MARKDOWN_ALWAYS = new Set(['\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#', '@']);
/** Escaped at the start of a line (or of a value): list bullets and setext underlines. */
const MARKDOWN_LINE_START = new Set(['-', '+', '=']);

function mustEscapeMarkdown(line: string, index: number): boolean {
  const char = line.charAt(index);
  if (MARKDOWN_ALWAYS.has(char)) return true;
  if (index === 0 && MARKDOWN_LINE_START.has(char)) return true;
  // `1.` / `1)` then a space (or nothing) at the start of a line opens an ordered list.
  if ((char === '.' || char === ')') && /^\d{1,9}$/.test(line.slice(0, index))) {
    return index === line.length - 1 || line.charAt(index + 1) === ' ';
  }
  // GFM extended autolinks: `scheme://…` and `www.…`.
  if (char === ':' && line.startsWith('//', index + 1)) return true;
  if (char === '.' && /(?:^|[^A-Za-z0-9])www$/i.test(line.slice(0, index))) return true;
  return false;
}

/** One normalised line escaped for Markdown; its start is treated as the start of a line. */
function escapeMarkdownLine(line: string): string {
  return escapeEachChar(line, mustEscapeMarkdown);
}

export function escapeMarkdownInline(value: string): string {
  return escapeMarkdownLine(normalizeInline(value));
}

export function escapeMarkdownText(value: string): string[] {
  const text = normalizeMultiline(value);
  return text === '' ? [] : text.split('\n').map(escapeMarkdownLine);
}

/**
 * A fenced code block: content is never interpreted. The fence is longer than any run of
 * backticks in the value, so no line of the value can close it.
 */
export function markdownCodeBlock(value: string): string[] {
  const body = normalizeCode(value);
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return [fence, ...body.split('\n'), fence];
}

// ---------------------------------------------------------------------------------------------
// Backlog notation
// ---------------------------------------------------------------------------------------------

/**
 * Escaped wherever they stand: `\`, `[` `]` (`[[link]]`, `[[label>url]]`, `[[label:url]]`), `{` `}`
 * (`{code}`, `{quote}`, `&color(…) { … }`), `&` (`&br;`, `&color`), `|` (table cells).
 */
const BACKLOG_ALWAYS = new Set(['\\', '[', ']', '{', '}', '&', '|']);
/**
 * Escaped at the start of a line (or of a value): `*` headings, `-` lists, `+` numbered lists,
 * `>` quotes (and a cell of `>` merging), `~` row-header cells, `#` macros, `'` and `%`.
 */
const BACKLOG_LINE_START = new Set(['*', '-', '+', '>', '~', '#', "'", '%']);

function mustEscapeBacklog(line: string, index: number): boolean {
  const char = line.charAt(index);
  if (BACKLOG_ALWAYS.has(char)) return true;
  if (index === 0 && BACKLOG_LINE_START.has(char)) return true;
  // `''bold''`, `'''italic'''`, `%%strike%%`: a quote or percent sign next to another, or at an
  // end of the value where it could pair with the text around it.
  if (char === "'" || char === '%') {
    return index === line.length - 1 || line.charAt(index - 1) === char || line.charAt(index + 1) === char;
  }
  // `#image(…)`, `#thumbnail(…)`, `#contents`, `#rev(…)` and whatever macro comes next.
  if (char === '#') return /[A-Za-z]/.test(line.charAt(index + 1));
  // Bare URLs, which Backlog links by itself (a link nobody chose, under any text): as in
  // Markdown, the `:` of `scheme://` and the `.` of `www.`.
  if (char === ':' && line.startsWith('//', index + 1)) return true;
  if (char === '.' && /(?:^|[^A-Za-z0-9])www$/i.test(line.slice(0, index))) return true;
  return false;
}

function escapeBacklogLine(line: string): string {
  return escapeEachChar(line, mustEscapeBacklog);
}

export function escapeBacklogInline(value: string): string {
  return escapeBacklogLine(normalizeInline(value));
}

export function escapeBacklogText(value: string): string[] {
  const text = normalizeMultiline(value);
  return text === '' ? [] : text.split('\n').map(escapeBacklogLine);
}

/**
 * `{code}…{/code}`: content shown verbatim. Backlog notation has no way to escape inside a code
 * block and blocks do not nest, so a value that itself holds `{code…}` or `{/code}` is shown as
 * escaped text instead.
 */
export function backlogCodeBlock(value: string): string[] {
  const body = normalizeCode(value);
  if (/\{\s*\/?\s*code/i.test(body)) return escapeBacklogText(body);
  return ['{code}', ...body.split('\n'), '{/code}'];
}

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

/**
 * Characters kept as they are in a link target: letters, digits and the URL punctuation that
 * breaks neither `[label](url)` nor `[[label>url]]`. Everything else (`(` `)` `[` `]` `<` `>`
 * `{` `}` `|` `'` `"` `` ` `` `\` `^`, spaces, non-ASCII) is percent-encoded, and so is a `%` that
 * does not start an escape (`%%` would be Backlog strikethrough).
 */
const URL_UNSAFE = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:/?#@!$&*+,;=%]/gu;

function percentEncode(char: string): string {
  return Array.from(
    new TextEncoder().encode(char),
    (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}

/**
 * A safe URL (`safeUrl`: absolute http(s)) made safe to put in link syntax, or undefined for
 * anything else. Marker-like words in it are broken too (`defangMarkersInUrl`): the console link
 * carries the finding Id.
 */
export function linkTarget(url: string): string | undefined {
  const href = safeUrl(url);
  return href === undefined ? undefined : defangMarkersInUrl(href.replace(URL_UNSAFE, percentEncode));
}

// ---------------------------------------------------------------------------------------------
// One interface over both rules
// ---------------------------------------------------------------------------------------------

export interface TextFormatter {
  readonly rule: TextFormattingRule;
  /** An untrusted value for running text, table cells and list items: one line, escaped. */
  inline(value: string): string;
  /** Untrusted multi-line text: one escaped output line per line (none for empty text). */
  text(value: string): string[];
  /** An untrusted value shown verbatim (the finding Id, the ProductArn). */
  codeBlock(value: string): string[];
  /** A link with a label chosen by the builder; undefined when the URL is not http(s). */
  link(label: string, url: string): string | undefined;
  /** The structural pieces below take text that is already escaped (or the builder's own). */
  heading(level: 1 | 2 | 3, text: string): string;
  table(header: readonly [string, string], rows: ReadonlyArray<readonly [string, string]>): string[];
  listItem(text: string, depth?: 1 | 2): string;
  strong(text: string): string;
}

const cell = (text: string): string => (text === '' ? EMPTY_VALUE : text);

export const markdownFormatter: TextFormatter = {
  rule: 'markdown',
  inline: escapeMarkdownInline,
  text: escapeMarkdownText,
  codeBlock: markdownCodeBlock,
  link(label, url) {
    const target = linkTarget(url);
    return target === undefined ? undefined : `[${escapeMarkdownInline(label)}](${target})`;
  },
  heading: (level, text) => `${'#'.repeat(level)} ${cell(text)}`,
  table: (header, rows) => [
    `| ${header[0]} | ${header[1]} |`,
    '| --- | --- |',
    ...rows.map(([key, value]) => `| ${cell(key)} | ${cell(value)} |`),
  ],
  listItem: (text, depth = 1) => `${'  '.repeat(depth - 1)}- ${cell(text)}`,
  strong: (text) => `**${cell(text)}**`,
};

export const backlogFormatter: TextFormatter = {
  rule: 'backlog',
  inline: escapeBacklogInline,
  text: escapeBacklogText,
  codeBlock: backlogCodeBlock,
  link(label, url) {
    const target = linkTarget(url);
    return target === undefined ? undefined : `[[${escapeBacklogInline(label)}>${target}]]`;
  },
  heading: (level, text) => `${'*'.repeat(level)} ${cell(text)}`,
  table: (header, rows) => [
    `|${header[0]}|${header[1]}|h`,
    ...rows.map(([key, value]) => `|${cell(key)}|${cell(value)}|`),
  ],
  listItem: (text, depth = 1) => `${'-'.repeat(depth)} ${cell(text)}`,
  strong: (text) => `''${cell(text)}''`,
};

export const TEXT_FORMATTERS: Readonly<Record<TextFormattingRule, TextFormatter>> = {
  markdown: markdownFormatter,
  backlog: backlogFormatter,
};

export function formatterFor(rule: TextFormattingRule): TextFormatter {
  return TEXT_FORMATTERS[rule];
}

/**
 * A link from a finding that `label` would vouch for ("Open in the product console",
 * "Remediation guide"): a titled link when its host is known (`isKnownHost`: AWS consoles and
 * docs); otherwise escaped text, `What (unverified host evil.example): evil.example/path`, the
 * URL without its scheme, which neither rule links. Undefined when the value is not an http(s) URL.
 */
export function findingLink(f: TextFormatter, what: string, label: string, url: string): string | undefined {
  if (safeUrl(url) === undefined) return undefined;
  if (isKnownHost(url)) return f.link(label, url);
  const shown = urlForDisplay(url);
  if (shown === undefined) return undefined;
  return `${what} (unverified host ${f.inline(shown.host)}): ${f.inline(shown.text)}`;
}
