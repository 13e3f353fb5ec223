/**
 * The comments of a filed finding's lifecycle in Backlog: why it closes (fixed, gone, resolved or
 * suppressed in Security Hub, by whom, with their note), and a storm group's "n of m resolved".
 */
import { type Delivery, memberKey } from '../delivery/delivery.js';
import { plural } from '../delivery/group-facts.js';
import {
  type CloseProgress,
  type CloseReason,
  describeClose,
  groupCloses,
  progressWord,
} from '../delivery/lifecycle.js';
import { vulnerabilitiesText } from '../delivery/vulnerability-group.js';
import { formatterFor, type TextFormatter, type TextFormattingRule } from './format.js';
import { memberSections } from './group-issue.js';
import { BACKLOG_LIMITS, fitText, MARKER_ROOM } from './limits.js';
import { vulnerabilitySections } from './vulnerability-issue.js';

/** A person's note, shown with the close (untrusted: escaped; Security Hub keeps it to 512 characters). */
function noteLines(f: TextFormatter, reason: CloseReason): string[] {
  if (!reason.note) return [];
  return ['', `${f.strong('Note')}:`, ...f.text(reason.note)];
}

/** The comment a close writes: the issue is closed with it, or (a storm not all closed) commented. */
export function buildCloseComment(
  delivery: Delivery,
  reason: CloseReason,
  progress: CloseProgress | undefined,
  ctx: { textFormattingRule: TextFormattingRule },
): string {
  const f = formatterFor(ctx.textFormattingRule);
  const { headline, because } = describeClose(reason);
  const word = progressWord(reason, delivery.group?.kind);
  const closes = !progress || groupCloses(progress);
  const lines: string[] = [];
  if (!progress) {
    lines.push(`${f.strong(headline)}: ${f.inline(because)}.`);
  } else {
    const title = closes
      ? `All ${progress.total} ${word}`
      : `${progress.closed} of ${progress.total} ${word}`;
    lines.push(`${f.strong(title)}: ${f.inline(because)}.`);
  }
  lines.push(...noteLines(f, reason));
  if (progress) {
    const now = delivery.members.filter((member) => memberKey(member) !== delivery.deliveryKey);
    const vulnerabilities = delivery.group?.kind === 'vulnerability';
    const title = vulnerabilities
      ? `${word.charAt(0).toUpperCase()}${word.slice(1)} now (${vulnerabilitiesText(now.length)})`
      : `${headline} now (${plural(now.length, 'finding')})`;
    lines.push(
      '',
      ...(vulnerabilities
        ? vulnerabilitySections(f, title, now)
        : memberSections(f, title, now, delivery.finding.title)),
    );
  }
  lines.push(
    '',
    closes
      ? 'securityhub-notifier closed this issue.'
      : delivery.group?.kind === 'vulnerability'
        ? 'The issue stays open until every vulnerability of the resource is fixed.'
        : 'The issue stays open until every finding of the group is resolved.',
  );
  while (lines.at(-1) === '') lines.pop();
  return fitText(`${lines.join('\n')}\n`, BACKLOG_LIMITS.comment - MARKER_ROOM, '');
}
