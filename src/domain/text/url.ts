/**
 * Links from a finding. A finding can carry `javascript:`, `data:`, a relative path, a Slack
 * control sequence or a link to any host its product likes: only absolute http(s) URLs are kept
 * (`safeUrl`), and only links to hosts the notifier knows (`isKnownHost`) are ever put behind a
 * label the reader trusts ("Open in GuardDuty", "Remediation"); the others are shown as text that
 * names their host (`urlForDisplay`).
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

/**
 * Hosts whose pages AWS serves, and nothing a customer can publish on: the AWS consoles
 * (`console.aws.amazon.com`, `<region>.console.aws.amazon.com`, where GuardDuty, Inspector,
 * Macie and Security Hub link), the documentation (`docs.aws.amazon.com`), the Amazon Linux
 * advisories and the Health dashboard (all under `aws.amazon.com`), and the consoles and docs of
 * the GovCloud and China partitions. A name matches itself and its subdomains.
 *
 * Deliberately not `amazonaws.com` as a whole: S3 buckets, EC2 public DNS names, API Gateway and
 * other customer endpoints live under it, so anyone can publish a page there.
 */
export const KNOWN_HOSTS: readonly string[] = [
  'aws.amazon.com',
  'console.amazonaws-us-gov.com',
  'console.amazonaws.cn',
  'docs.amazonaws.cn',
];

/**
 * Whether a link may sit behind a trusted label: an https URL without credentials or an explicit
 * port, on one of `KNOWN_HOSTS` or a subdomain of one.
 */
export function isKnownHost(url: string): boolean {
  const href = safeUrl(url);
  if (href === undefined) return false;
  const parsed = new URL(href);
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.port !== '') return false;
  const host = parsed.hostname.replace(/\.$/, '');
  return KNOWN_HOSTS.some((known) => host === known || host.endsWith(`.${known}`));
}

/** How to show a link as text: its host, and the URL without the `scheme://` (so it does not read as a link). */
export interface DisplayUrl {
  /** The host name as the URL parser gives it: lower case, internationalised names in punycode. */
  host: string;
  /** `host/path?query#fragment`, port included when there is one. */
  text: string;
}

/** A safe URL (`safeUrl`) as text naming its host; undefined when the value is not one. */
export function urlForDisplay(value: unknown): DisplayUrl | undefined {
  const href = safeUrl(value);
  if (href === undefined) return undefined;
  const parsed = new URL(href);
  return { host: parsed.hostname, text: href.slice(parsed.protocol.length + 2) };
}
