/**
 * Links from a finding. A finding can carry `javascript:`, `data:`, a relative path, a Slack
 * control sequence: only absolute http(s) URLs are kept (`safeUrl`), by the normaliser, the
 * Slack builders and the Backlog builders alike.
 */

/** The longest URL kept from a finding: beyond it a link is dropped, never cut. */
export const MAX_URL_LENGTH = 4096;

/**
 * An absolute http(s) URL, normalised by the WHATWG URL parser (`href`), at most `maxLength`
 * characters once normalised; undefined for anything else (non-strings, blank, relative,
 * another scheme, unparsable, too long).
 */
export function safeUrl(value: unknown, maxLength: number = MAX_URL_LENGTH): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.href.length <= maxLength ? url.href : undefined;
}
