/**
 * The digest as a Slack message: a header and a summary in the message's blocks, then one
 * attachment holding the table block (Slack takes a table in `attachments`, one per message) and
 * the lists. Within Slack's limits whatever the number of accounts: at most 100 table rows of 7
 * cells, 50 blocks, 3,000 characters a section.
 *
 * Escaping: every value from the ledger or a finding (account names, reasons, people, notes,
 * issue keys) is escaped where it is written into mrkdwn (`esc`); in the table, account names are
 * rich-text `text`/`link` elements, which Slack shows literally (a `<!channel>` there is text, not
 * a mention), sanitised and shortened; the attachment's plain-text fallback escapes them too.
 */
import { escapeSlackText, truncateEscaped } from '../slack/escape.js';
import { severityColor } from '../slack/finding-message.js';
import { safeUrl } from '../text/url.js';
import { DIGEST_SEVERITIES } from './counts.js';
import type { Digest, IssueRef } from './digest.js';
import { type DigestSection, digestSections, formatTime, plural, withChange } from './digest-sections.js';
import { digestTable, type TableLine, tableText } from './digest-table.js';

export const DIGEST_SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  contextText: 3000,
  text: 40_000,
} as const;

export interface DigestMessageOptions {
  /** Accounts given a row before "+n more accounts". */
  maxAccounts: number;
  /** Items per list before "+n more". */
  listItems: number;
  timeZone: string;
  /** A route's digest: its channel's accounts only, named in the title; no lists. */
  scope?: string;
}

type RichTextElement =
  | { type: 'text'; text: string; style?: { bold?: boolean } }
  | { type: 'link'; url: string; text: string };
type Cell =
  | { type: 'raw_text'; text: string }
  | { type: 'rich_text'; elements: Array<{ type: 'rich_text_section'; elements: RichTextElement[] }> };
export interface TableBlock {
  type: 'table';
  rows: Cell[][];
  column_settings: Array<{ align?: 'left' | 'right'; is_wrapped?: boolean }>;
}
type Mrkdwn = { type: 'mrkdwn'; text: string; verbatim: true };
export type DigestBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: Mrkdwn }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'divider' }
  | TableBlock;

export interface DigestSlackMessage {
  text: string;
  blocks: DigestBlock[];
  attachments: Array<{ color: string; fallback: string; blocks: DigestBlock[] }>;
}

const mrkdwn = (text: string, max: number): Mrkdwn => ({
  type: 'mrkdwn',
  text: truncateEscaped(text, max) || ' ',
  verbatim: true,
});
const section = (text: string): DigestBlock => ({
  type: 'section',
  text: mrkdwn(text, DIGEST_SLACK_LIMITS.sectionText),
});
const context = (text: string): DigestBlock => ({
  type: 'context',
  elements: [mrkdwn(text, DIGEST_SLACK_LIMITS.contextText)],
});
const esc = (value: unknown) => escapeSlackText(value);

/** A link Slack's mrkdwn can carry: an http(s) URL without the characters that end one. */
function linkTarget(url: string | undefined): string | undefined {
  const safe = safeUrl(url, 3000);
  return safe?.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
}

function issueLink(issue: IssueRef): string {
  const url = linkTarget(issue.url);
  return url ? `<${url}|${esc(issue.key)}>` : esc(issue.key);
}

export function buildDigestMessage(digest: Digest, options: DigestMessageOptions): DigestSlackMessage {
  const lines = digestTable(digest, options.maxAccounts);
  const title = `Security Hub digest · ${formatTime(digest.at, options.timeZone)}${options.scope ? ` · ${options.scope}` : ''}`;
  const top: DigestBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: title.slice(0, DIGEST_SLACK_LIMITS.headerText), emoji: true },
    },
    section(summary(digest)),
    context(basis(digest, options.timeZone)),
  ];
  const lists = digestSections(digest, options.listItems, options.scope !== undefined).map(sectionBlock);
  const attachment: DigestBlock[] = [
    tableBlock(lines),
    context('Each account opens its findings in the Security Hub console.'),
    ...(lists.length > 0 ? [{ type: 'divider' } as DigestBlock, ...lists] : []),
  ];
  return {
    text: notificationText(digest, options),
    blocks: top,
    attachments: [
      {
        color: digestColor(digest),
        fallback: tableText(lines, esc).slice(0, DIGEST_SLACK_LIMITS.text),
        blocks: attachment.slice(0, DIGEST_SLACK_LIMITS.blocks - top.length),
      },
    ],
  };
}

/** `*1,234* active findings in *200* accounts` and a line of severities with their changes. */
function summary(digest: Digest): string {
  const { total } = digest;
  const totals = DIGEST_SEVERITIES.reduce((sum, label) => sum + total.counts[label], 0);
  const change = total.change
    ? DIGEST_SEVERITIES.reduce((sum, label) => sum + (total.change?.[label] ?? 0), 0)
    : undefined;
  const head = `*${withChange(totals, change)}* active findings in *${plural(total.accounts, 'account')}*`;
  const bySeverity = DIGEST_SEVERITIES.map(
    (label) =>
      `${label.charAt(0)}${label.slice(1).toLowerCase()} *${withChange(total.counts[label], total.change?.[label])}*`,
  ).join(' · ');
  const suppressed = `Currently suppressed: *${withChange(digest.suppressed.total, digest.suppressed.change)}*`;
  return `${head}\n${bySeverity}\n${suppressed}`;
}

function basis(digest: Digest, timeZone: string): string {
  const how =
    digest.source === 'statistics-v2'
      ? 'Counted by Security Hub (GetFindingStatisticsV2): status New or In Progress, compliance not Pass'
      : 'Counted by Security Hub insights: record ACTIVE, workflow NEW or NOTIFIED, compliance not PASSED';
  const since = digest.since
    ? `; ▲▼ since ${formatTime(digest.since, timeZone)}`
    : '; the first digest: no changes yet';
  const cut = digest.truncated
    ? '; Security Hub returned only its largest groups: some accounts are left out'
    : '';
  return `${how}${since} (${esc(timeZone)})${cut}.`;
}

function notificationText(digest: Digest, options: DigestMessageOptions): string {
  const { counts, change } = digest.total;
  const scope = options.scope ? ` (${esc(options.scope)})` : '';
  return `Security Hub digest${scope}: ${withChange(counts.CRITICAL, change?.CRITICAL)} critical, ${withChange(counts.HIGH, change?.HIGH)} high active findings in ${plural(digest.total.accounts, 'account')}`;
}

function digestColor(digest: Digest): string {
  const worst = DIGEST_SEVERITIES.find((label) => digest.total.counts[label] > 0);
  return worst && worst !== 'INFORMATIONAL' ? severityColor(worst) : '#2EB886';
}

function tableBlock(lines: readonly TableLine[]): TableBlock {
  const rows = lines.map((line) => {
    const [first = ' ', ...counts] = line.cells;
    const bold = line.kind !== 'account';
    const url = linkTarget(line.link);
    const label: RichTextElement =
      url && line.kind !== 'header'
        ? { type: 'link', url, text: first || ' ' }
        : { type: 'text', text: first || ' ', ...(bold ? { style: { bold: true } } : {}) };
    const firstCell: Cell = {
      type: 'rich_text',
      elements: [{ type: 'rich_text_section', elements: [label] }],
    };
    return [firstCell, ...counts.map((text): Cell => ({ type: 'raw_text', text: text || '0' }))];
  });
  return {
    type: 'table',
    rows,
    column_settings: [
      { is_wrapped: true },
      ...Array.from({ length: 6 }, () => ({ align: 'right' as const })),
    ],
  };
}

/** A list as one section: its title, an item a line, "+n more" when cut; within 3,000 characters. */
function sectionBlock(list: DigestSection): DigestBlock {
  const head = list.title ? `*${esc(list.title)}*` : '';
  const items = list.items.map((item) => {
    const link = item.issue ? issueLink(item.issue) : '';
    return [link, item.text ? esc(item.text) : ''].filter(Boolean).join(' · ');
  });
  // Issues alone (what was notified) share one line; anything with words gets a line each.
  const inline = items.length > 0 && list.items.every((item) => !item.text);
  const render = (n: number) => {
    const shown = items.slice(0, n);
    const body = shown.length === 0 ? [] : inline ? [shown.join(', ')] : shown.map((item) => `• ${item}`);
    const more = list.more + items.length - n;
    const tail = more > 0 ? [`…and ${more.toLocaleString('en-US')} more`] : [];
    const empty = items.length === 0 && list.empty ? [`_${list.empty}_`] : [];
    return [head, ...body, ...empty, ...tail].filter(Boolean).join('\n');
  };
  // Whole items only: the last ones go (and are counted as more) until the section fits.
  let n = items.length;
  while (n > 0 && render(n).length > DIGEST_SLACK_LIMITS.sectionText) n -= 1;
  return section(render(n));
}
