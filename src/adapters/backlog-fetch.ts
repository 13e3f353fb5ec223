/**
 * backlog-js always builds `https://<host>/api/v2/...`; its `fetch` option is the seam. With an
 * `apiUrl` (a local emulator, a proxy), every `https://` URL is sent to `apiUrl` instead, path and
 * query kept (appended to any path `apiUrl` has). Without one, the base fetch is used unchanged.
 */
export function makeBacklogFetch(
  apiUrl: string | undefined,
  baseFetch: typeof fetch = globalThis.fetch,
): typeof fetch {
  if (!apiUrl) return baseFetch;
  const base = new URL(apiUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const rewrite = (url: string) => {
    if (!url.startsWith('https://')) return url;
    const original = new URL(url);
    return `${base.origin}${prefix}${original.pathname}${original.search}`;
  };
  return (input, init) => {
    if (typeof input === 'string') return baseFetch(rewrite(input), init);
    if (input instanceof URL) return baseFetch(rewrite(input.href), init);
    return baseFetch(new Request(rewrite(input.url), input), init);
  };
}
