/**
 * The digest as plain text: what `npm run digest -- --dry-run` prints instead of posting, the same
 * table and lists the Slack message holds (values sanitised, nothing escaped: a terminal parses
 * nothing).
 */
import { DIGEST_SEVERITIES } from './counts.js';
import type { Digest } from './digest.js';
import type { DigestMessageOptions } from './digest-message.js';
import { digestSections, formatTime, plural, withChange } from './digest-sections.js';
import { digestTable, tableText } from './digest-table.js';

export function renderDigestText(digest: Digest, options: DigestMessageOptions): string {
  const { total } = digest;
  const title = `Security Hub digest · ${formatTime(digest.at, options.timeZone)} (${options.timeZone})${options.scope ? ` · ${options.scope}` : ''}`;
  const since = digest.since
    ? `changes since ${formatTime(digest.since, options.timeZone)}`
    : 'the first digest: no changes yet';
  const bySeverity = DIGEST_SEVERITIES.map(
    (label) => `${label.toLowerCase()} ${withChange(total.counts[label], total.change?.[label])}`,
  ).join(', ');
  const lines = [
    title,
    `${plural(total.accounts, 'account')} with active findings: ${bySeverity}; ${since}`,
    `currently suppressed: ${withChange(digest.suppressed.total, digest.suppressed.change)}`,
    ...(digest.truncated
      ? ['(Security Hub returned only its largest groups: some accounts are left out)']
      : []),
    '',
    tableText(digestTable(digest, options.maxAccounts)),
  ];
  for (const list of digestSections(digest, options.listItems, options.scope !== undefined)) {
    lines.push('', list.title);
    const items = list.items.map((item) => [item.issue?.key, item.text].filter(Boolean).join(' · '));
    if (items.length > 0 && list.items.every((item) => !item.text)) lines.push(`  ${items.join(', ')}`);
    else lines.push(...items.map((item) => `  - ${item}`));
    if (items.length === 0 && list.empty) lines.push(`  ${list.empty}`);
    if (list.more > 0) lines.push(`  …and ${list.more.toLocaleString('en-US')} more`);
  }
  return lines.join('\n');
}
