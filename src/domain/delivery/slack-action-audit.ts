/**
 * The audit trail of an action taken from Slack, in the words each place keeps it: the finding's
 * note in Security Hub (plain text, at most 512 characters) and the Backlog comment (escaped for
 * the project's formatting rule). Who acted and why (their reason) are untrusted text: sanitised
 * on one line for the note, escaped for Backlog. The third place, the log line, is structured.
 */
import { formatterFor, type TextFormattingRule } from '../backlog/format.js';
import { BACKLOG_LIMITS, fitText, MARKER_ROOM } from '../backlog/limits.js';
import { singleLine } from '../text/sanitize.js';
import { truncate } from '../text/truncate.js';
import { MAX_NOTE_LENGTH } from './note.js';

const plain = (value: unknown, max: number) => truncate(singleLine(value), max);

/** With NOTIFIED (the status does not change): who acknowledged it, when. */
export function acknowledgedNote(by: string, at: string): string {
  return truncate(`Acknowledged from Slack by ${plain(by, 128)} at ${at}.`, MAX_NOTE_LENGTH);
}

/** With SUPPRESSED: "Suppressed from Slack by <who>: <reason> (until <day>)", the reason cut to fit. */
export function suppressedNote(by: string, reason: string, until?: string): string {
  const head = `Suppressed from Slack by ${plain(by, 128)}: `;
  const tail = until ? ` (until ${until})` : '';
  return `${head}${plain(reason, MAX_NOTE_LENGTH - head.length - tail.length)}${tail}`;
}

/** With RESOLVED. */
export function resolvedNote(by: string, at: string): string {
  return truncate(`Resolved from Slack by ${plain(by, 128)} at ${at}.`, MAX_NOTE_LENGTH);
}

/** With NEW, when a suppression's expiry day has come (the sweep). */
export function expiredNote(until: string, suppressedBy?: string): string {
  const by = suppressedBy ? ` by ${plain(suppressedBy, 128)}` : '';
  return truncate(
    `The suppression from Slack${by} expired on ${until}: set back to NEW by securityhub-notifier.`,
    MAX_NOTE_LENGTH,
  );
}

export interface ActionComment {
  textFormattingRule: TextFormattingRule;
  /** Who acted (untrusted). */
  by: string;
  at: string;
  /** How many findings the message covers (a storm group's). */
  findings: number;
}

function finish(lines: string[]): string {
  return fitText(`${lines.join('\n')}\n`, BACKLOG_LIMITS.comment - MARKER_ROOM, '');
}

/** `The finding <one>` or `The n findings <many>`. */
function subject(count: number, one: string, many: string): string {
  return count === 1 ? `The finding ${one}` : `The ${count} findings ${many}`;
}

/** An acknowledgement: who, when, and the assignee it set (or why none). */
export function buildAcknowledgedComment(
  ctx: ActionComment,
  assignee: { name: string } | { missing: string } | undefined,
): string {
  const f = formatterFor(ctx.textFormattingRule);
  const assigned =
    assignee === undefined
      ? ''
      : 'name' in assignee
        ? ` Assigned to ${assignee.name}.`
        : ` Not assigned: ${assignee.missing}.`;
  return finish([
    `${f.strong('Acknowledged')}: ${f.inline(`from Slack by ${singleLine(ctx.by)} at ${ctx.at}.${assigned}`)}`,
    '',
    f.inline(
      `${subject(ctx.findings, 'stays', 'stay')} open in Security Hub (NOTIFIED, with a note saying so).`,
    ),
  ]);
}

/** A suppression: who, until when, and their reason (escaped, as they wrote it). */
export function buildSuppressedComment(ctx: ActionComment, reason: string, until?: string): string {
  const f = formatterFor(ctx.textFormattingRule);
  const expiry = until
    ? `On ${until} (UTC) the suppression expires: back to NEW, and this issue reopens.`
    : 'The suppression does not expire.';
  return finish([
    `${f.strong('Suppressed')}: ${f.inline(`from Slack by ${singleLine(ctx.by)} at ${ctx.at}${until ? ` until ${until}` : ''}.`)}`,
    '',
    `${f.strong('Reason')}:`,
    ...f.text(reason),
    '',
    f.inline(`${subject(ctx.findings, 'was', 'were')} set to SUPPRESSED in Security Hub. ${expiry}`),
  ]);
}

/** A resolution by hand (a finding without a compliance check). */
export function buildResolvedComment(ctx: ActionComment): string {
  const f = formatterFor(ctx.textFormattingRule);
  return finish([
    `${f.strong('Resolved')}: ${f.inline(`from Slack by ${singleLine(ctx.by)} at ${ctx.at}.`)}`,
    '',
    f.inline(`${subject(ctx.findings, 'was', 'were')} set to RESOLVED in Security Hub.`),
  ]);
}
