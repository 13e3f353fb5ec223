/**
 * What Backlog accepts, in UTF-16 code units after escaping. Nulab does not document these; they
 * come from a published test of the API (a longer value is refused with 400 and never filed). The
 * builders measure every text against them and cut lists ("+n more, see Security Hub") or split a
 * storm's comment into several rather than be refused.
 */
export const BACKLOG_LIMITS = {
  summary: 255,
  description: 100_000,
  comment: 50_000,
} as const;

/** Room kept below a limit for the marker line and the line breaks around it. */
export const MARKER_ROOM = 200;

/**
 * The last guard: a text still over `max` is cut at a line boundary, a line says so, and the
 * marker line (which a retried create looks for) is kept at the end.
 */
export function fitText(text: string, max: number, markerLine: string): string {
  if (text.length <= max) return text;
  const note = '… (cut to fit Backlog: the whole finding is in Security Hub)';
  const at = markerLine ? text.lastIndexOf(markerLine) : -1;
  const body = at < 0 ? text : text.slice(0, at);
  const room = max - note.length - markerLine.length - 4;
  const cut = body.slice(0, Math.max(0, room));
  const lineEnd = cut.lastIndexOf('\n');
  const kept = lineEnd > room / 2 ? cut.slice(0, lineEnd) : cut;
  return `${kept}\n\n${note}\n${at < 0 ? '' : `${markerLine}\n`}`;
}
