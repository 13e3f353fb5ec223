/** Security Hub's Note takes at most 512 characters. */
export const MAX_NOTE_LENGTH = 512;

/** The Note written with NOTIFIED: where the finding was delivered. */
export function deliveryNote(
  issue: { key?: string | undefined; url?: string | undefined } | undefined,
  slack: { channel?: string | undefined; ts?: string | undefined } | undefined,
): string {
  const parts = [
    issue?.key ? `Backlog ${issue.key} ${issue.url ?? ''}`.trimEnd() : undefined,
    slack?.ts ? `Slack ${slack.channel ?? ''} ${slack.ts}` : undefined,
  ].filter(Boolean);
  return `Notified by securityhub-notifier. ${parts.join(' ') || 'Delivered.'}`.slice(0, MAX_NOTE_LENGTH);
}
