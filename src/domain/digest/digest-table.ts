/**
 * The digest's table as lines of cells, before either rendering (the Slack table block, the plain
 * text of the fallback and the terminal): a header, the worst accounts, "+n more accounts" with
 * their sum, and the total. Cell text is plain (sanitised, not escaped).
 */
import { truncate } from '../text/truncate.js';
import { DIGEST_SEVERITIES, type SeverityCounts, sumCounts, totalOf } from './counts.js';
import type { Digest } from './digest.js';

/** Slack's table block: at most 100 rows of at most 20 cells (https://docs.slack.dev/reference/block-kit/blocks/table-block). */
export const TABLE_LIMITS = { rows: 100, cells: 20 } as const;
/** Rows that are not accounts: the header, "+n more accounts" and the total. */
const FRAME_ROWS = 3;
/** The most account rows a table can hold within Slack's limit. */
export const MAX_TABLE_ACCOUNTS = TABLE_LIMITS.rows - FRAME_ROWS;
export const DEFAULT_TABLE_ACCOUNTS = 25;
/** An account's cell: its name and id, at most this long. */
export const ACCOUNT_CELL_MAX = 90;

export const COLUMN_TITLES = ['Account', 'Critical', 'High', 'Medium', 'Low', 'Info', 'Total'] as const;

export interface TableLine {
  kind: 'header' | 'account' | 'more' | 'total';
  cells: string[];
  /** The Security Hub console, filtered to the account (or to every account, for the other rows). */
  link?: string;
}

const number = (n: number) => n.toLocaleString('en-US');

/** `12 ▲3`, `5 ▼2`, `7`: a count and its change since the previous digest (none when unchanged). */
export function countCell(count: number, change?: number): string {
  if (change === undefined || change === 0) return number(count);
  return `${number(count)} ${change > 0 ? '▲' : '▼'}${number(Math.abs(change))}`;
}

function countCells(counts: SeverityCounts, change: SeverityCounts | undefined): string[] {
  const cells = DIGEST_SEVERITIES.map((label) => countCell(counts[label], change?.[label]));
  return [...cells, countCell(totalOf(counts), change ? totalOf(change) : undefined)];
}

/** How many accounts get a row: all of them when they fit, or when only one would be left over. */
export function shownAccounts(digest: Digest, maxAccounts: number): number {
  const limit = Math.max(1, Math.min(maxAccounts, MAX_TABLE_ACCOUNTS));
  return digest.rows.length <= limit + 1 && digest.rows.length <= MAX_TABLE_ACCOUNTS
    ? digest.rows.length
    : limit;
}

export function digestTable(digest: Digest, maxAccounts: number): TableLine[] {
  const shown = shownAccounts(digest, maxAccounts);
  const hidden = digest.rows.slice(shown);
  const lines: TableLine[] = [{ kind: 'header', cells: [...COLUMN_TITLES] }];
  for (const row of digest.rows.slice(0, shown)) {
    lines.push({
      kind: 'account',
      cells: [truncate(row.label.full, ACCOUNT_CELL_MAX), ...countCells(row.counts, row.change)],
      link: row.consoleUrl,
    });
  }
  if (hidden.length > 0) {
    const changes = hidden.map((r) => r.change).filter((c): c is SeverityCounts => c !== undefined);
    const change = digest.total.change ? sumCounts(changes) : undefined;
    lines.push({
      kind: 'more',
      cells: [
        `+${number(hidden.length)} more accounts`,
        ...countCells(sumCounts(hidden.map((r) => r.counts)), change),
      ],
      link: digest.consoleUrl,
    });
  }
  const accounts = `${number(digest.total.accounts)} account${digest.total.accounts === 1 ? '' : 's'}`;
  lines.push({
    kind: 'total',
    cells: [`Total (${accounts})`, ...countCells(digest.total.counts, digest.total.change)],
    link: digest.consoleUrl,
  });
  return lines;
}

/** East Asian wide and fullwidth characters take two columns in a terminal or a code block. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u;

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += WIDE.test(char) ? 2 : 1;
  return width;
}

/**
 * The table as monospaced text: the account column left-aligned, the counts right-aligned, each
 * cell passed through `encode` (an escaper) after its width is measured.
 */
export function tableText(lines: readonly TableLine[], encode: (cell: string) => string = (c) => c): string {
  const columns = COLUMN_TITLES.length;
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...lines.map((line) => displayWidth(line.cells[i] ?? ''))),
  );
  return lines
    .map((line) =>
      line.cells
        .map((cell, i) => {
          const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(cell)));
          return i === 0 ? encode(cell) + pad : pad + encode(cell);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
