import type { IncomingHttpHeaders } from 'node:http';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readText, sendJson, startHttpServer } from '../../src/local/emulators/http-server.js';
import { startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A tiny service with a visible effect: POST /items creates one, GET /items lists them. */
async function startItemService() {
  const items: string[] = [];
  const seen: Seen[] = [];
  const server = await startHttpServer(async (req, res) => {
    const body = await readText(req);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/items') {
      const { name } = JSON.parse(body) as { name: string };
      items.push(name);
      return sendJson(res, 201, { id: items.length, name }, { 'x-item-id': String(items.length) });
    }
    if (req.method === 'GET' && path === '/items') return sendJson(res, 200, items);
    sendJson(res, 404, { message: 'no such route' });
  });
  return { server, items, seen };
}

const create = (origin: string, name: string, init: RequestInit = {}) =>
  fetch(`${origin}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
    ...init,
  });

/** How a fetch failed: the error's name and its cause's code or message. */
async function failureOf(promise: Promise<unknown>): Promise<{ name: string; cause: string }> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { name: (error as Error).name, cause: cause?.code ?? cause?.message ?? '' };
  }
  throw new Error('expected the request to fail');
}

const until = async (condition: () => boolean, timeoutMs = 2000) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('fault proxy in front of a small local service', () => {
  let service: Awaited<ReturnType<typeof startItemService>>;
  let proxy: FaultProxy;

  beforeAll(async () => {
    service = await startItemService();
  });
  afterAll(() => service.server.close());
  beforeEach(async () => {
    service.items.length = 0;
    service.seen.length = 0;
    proxy = await startFaultProxy(service.server.origin);
  });
  afterEach(() => proxy.close());

  it('forwards method, path, query, headers and body, and returns the answer unchanged', async () => {
    const answer = await fetch(`${proxy.url}/items?source=test&n=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': 'abc', authorization: 'Bearer t' },
      body: JSON.stringify({ name: 'first' }),
    });

    expect(answer.status).toBe(201);
    expect(answer.headers.get('x-item-id')).toBe('1');
    expect(await answer.json()).toEqual({ id: 1, name: 'first' });
    expect(service.seen[0]).toMatchObject({
      method: 'POST',
      url: '/items?source=test&n=1',
      headers: { 'x-trace': 'abc', authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"name":"first"}',
    });
    expect(service.seen[0]?.headers.host).toBe(new URL(service.server.origin).host);
    expect(proxy.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/items',
        url: '/items?source=test&n=1',
        body: '{"name":"first"}',
        forwarded: true,
        targetStatus: 201,
        outcome: 201,
      }),
    ]);
    expect(proxy.requests[0]).not.toHaveProperty('fault');
  });

  it('status: answers without forwarding, with the given headers and body', async () => {
    proxy.inject(
      { method: 'POST', path: '/items' },
      { kind: 'status', status: 429, headers: { 'retry-after': '2' }, body: { message: 'slow down' } },
    );

    const limited = await create(proxy.url, 'limited');
    const next = await create(proxy.url, 'next');

    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toEqual({ message: 'slow down' });
    expect(next.status).toBe(201);
    expect(service.items).toEqual(['next']);
    expect(proxy.requests.map((r) => [r.fault?.kind, r.forwarded, r.outcome])).toEqual([
      ['status', false, 429],
      [undefined, true, 201],
    ]);
  });

  it('delay: forwards late; a client that gave up meanwhile still gets the effect', async () => {
    proxy.inject({ path: '/items' }, { kind: 'delay', ms: 150 }, 2);
    const started = Date.now();

    const answer = await create(proxy.url, 'late');
    const waited = Date.now() - started;
    const abandoned = await failureOf(
      create(proxy.url, 'landed after the timeout', { signal: AbortSignal.timeout(50) }),
    );
    const itemsRightAfter = [...service.items];
    await until(() => service.items.length === 2);

    expect(answer.status).toBe(201);
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(abandoned.name).toBe('TimeoutError');
    expect(itemsRightAfter).toEqual(['late']);
    expect(service.items).toEqual(['late', 'landed after the timeout']);
    await until(() => proxy.requests[1]?.outcome !== 'pending');
    expect(proxy.requests[1]).toMatchObject({ forwarded: true, outcome: 'client-gone' });
  });

  it('slow-answer: the effect lands at once, the client times out waiting for the answer', async () => {
    proxy.inject({ path: '/items' }, { kind: 'slow-answer', ms: 300 });

    const timedOut = await failureOf(
      create(proxy.url, 'effect without answer', { signal: AbortSignal.timeout(100) }),
    );

    expect(timedOut.name).toBe('TimeoutError');
    expect(service.items).toEqual(['effect without answer']);
    expect(proxy.requests[0]).toMatchObject({ forwarded: true, targetStatus: 201 });
    await until(() => proxy.requests[0]?.outcome !== 'pending');
    expect(proxy.requests[0]?.outcome).toBe('client-gone');
  });

  it('slow-answer: a patient client gets the real answer late', async () => {
    proxy.inject({ path: '/items' }, { kind: 'slow-answer', ms: 150 });
    const started = Date.now();

    const answer = await create(proxy.url, 'patient');

    expect(answer.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(service.items).toEqual(['patient']);
  });

  it('hang: neither forwards nor answers; the client times out and nothing happened', async () => {
    proxy.inject({ method: 'POST' }, { kind: 'hang' });

    const timedOut = await failureOf(create(proxy.url, 'never', { signal: AbortSignal.timeout(150) }));
    const list = await fetch(`${proxy.url}/items`);

    expect(timedOut.name).toBe('TimeoutError');
    expect(await list.json()).toEqual([]);
    expect(service.seen.map((s) => s.method)).toEqual(['GET']);
    expect(proxy.requests[0]).toMatchObject({ fault: { kind: 'hang' }, forwarded: false, outcome: 'hung' });
  });

  it('hang: close() ends a hung request, so a client without a timeout fails instead of waiting forever', async () => {
    proxy.inject({}, { kind: 'hang' });

    const pending = failureOf(create(proxy.url, 'never'));
    await until(() => proxy.requests.length === 1);
    await proxy.close();

    expect(await pending).toMatchObject({ name: 'TypeError' });
    expect(service.items).toEqual([]);
  });

  it('drop-after-forward: the effect happened, the client sees the connection close without an answer', async () => {
    proxy.inject({ method: 'POST', path: '/items' }, { kind: 'drop-after-forward' });

    const dropped = await failureOf(create(proxy.url, 'created, answer lost'));

    expect(dropped).toEqual({ name: 'TypeError', cause: 'UND_ERR_SOCKET' });
    expect(service.items).toEqual(['created, answer lost']);
    expect(proxy.requests[0]).toMatchObject({ forwarded: true, targetStatus: 201, outcome: 'dropped' });
  });

  it.each([500, 502, 503] as const)(
    'status-after-forward %i: the effect happened, the client sees a gateway error',
    async (status) => {
      proxy.inject({ path: '/items' }, { kind: 'status-after-forward', status });

      const answer = await create(proxy.url, `created behind a ${status}`);

      expect(answer.status).toBe(status);
      expect(answer.headers.get('content-type')).toBe('text/html');
      expect(await answer.text()).toContain(String(status));
      expect(service.items).toEqual([`created behind a ${status}`]);
      expect(proxy.requests[0]).toMatchObject({ forwarded: true, targetStatus: 201, outcome: status });
    },
  );

  it('reset: the connection is reset at once and nothing is forwarded', async () => {
    proxy.inject({ path: '/items' }, { kind: 'reset' });

    const reset = await failureOf(create(proxy.url, 'never sent'));

    expect(reset.name).toBe('TypeError');
    expect(reset.cause).toBe('ECONNRESET');
    expect(service.items).toEqual([]);
    expect(proxy.requests[0]).toMatchObject({ forwarded: false, outcome: 'reset' });
  });

  it('matches by method, path and body; counts times; injectAlways lasts until clear()', async () => {
    proxy.inject({ method: 'GET' }, { kind: 'status', status: 503 });
    proxy.inject({ bodyIncludes: '"name":"b"' }, { kind: 'status', status: 500 }, 2);
    proxy.injectAlways(
      { path: /^\/items$/, method: 'post', bodyIncludes: 'always' },
      { kind: 'status', status: 409 },
    );

    const statuses = [
      (await create(proxy.url, 'a')).status,
      (await create(proxy.url, 'b')).status,
      (await create(proxy.url, 'b')).status,
      (await create(proxy.url, 'b')).status,
      (await fetch(`${proxy.url}/items`)).status,
      (await fetch(`${proxy.url}/items`)).status,
      (await create(proxy.url, 'always 1')).status,
      (await create(proxy.url, 'always 2')).status,
    ];
    proxy.clear();
    const afterClear = (await create(proxy.url, 'always 3')).status;

    expect(statuses).toEqual([201, 500, 500, 201, 503, 200, 409, 409]);
    expect(afterClear).toBe(201);
    expect(service.items).toEqual(['a', 'b', 'always 3']);
  });

  it('answers 502 when the target cannot be reached', async () => {
    const gone = await startHttpServer(() => {});
    const origin = gone.origin;
    await gone.close();
    const orphan = await startFaultProxy(origin);

    const answer = await fetch(`${orphan.url}/items`);
    await orphan.close();

    expect(answer.status).toBe(502);
    expect(orphan.requests[0]).toMatchObject({ forwarded: false, outcome: 502 });
  });
});

describe('fault proxy in front of the Slack emulator', () => {
  const noop = () => {};
  const silent: Logger = {
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    setLevel: noop,
    getLevel: () => LogLevel.ERROR,
    setName: noop,
  };
  let slack: Awaited<ReturnType<typeof startSlackEmulator>>;
  let proxy: FaultProxy;

  beforeAll(async () => {
    slack = await startSlackEmulator();
    proxy = await startFaultProxy(slack.url);
  });
  afterAll(async () => {
    await proxy.close();
    await slack.close();
  });

  it('a lost chat.postMessage answer makes a retrying WebClient post twice', async () => {
    const client = new WebClient(slack.token, {
      slackApiUrl: `${proxy.url}/api/`,
      logger: silent,
      retryConfig: { retries: 1, factor: 1, minTimeout: 10, maxTimeout: 10 },
    });
    proxy.inject({ path: '/chat.postMessage', bodyIncludes: 'finding f-1' }, { kind: 'drop-after-forward' });

    const result = await client.chat.postMessage({ channel: '#security-alerts', text: 'finding f-1' });

    expect(result.ok).toBe(true);
    expect(slack.messagesIn('#security-alerts').map((m) => m.text)).toEqual(['finding f-1', 'finding f-1']);
    expect(proxy.requests.map((r) => r.outcome)).toEqual(['dropped', 200]);
  });
});
