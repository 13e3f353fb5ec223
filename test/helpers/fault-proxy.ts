import {
  Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import {
  FaultQueue,
  readRaw,
  resetConnection,
  startHttpServer,
} from '../../src/local/emulators/http-server.js';

/**
 * Which requests a fault applies to; every given field must match.
 * - `method`: case-insensitive.
 * - `path`: a RegExp tested on the path (no query), or a path matched exactly or as its last
 *   segments: `'/chat.postMessage'` matches `/api/chat.postMessage`, `'/issues'` matches `/api/v2/issues`.
 * - `bodyIncludes`: a substring of the raw body or of its form-decoded text (a Slack form body
 *   carries its JSON URL-encoded).
 */
export interface FaultMatch {
  method?: string;
  path?: string | RegExp;
  bodyIncludes?: string;
}

export type ProxyFault =
  /** Answer this, never forward: the target sees nothing. `body` as text, or JSON if an object. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string | object }
  /** Forward after `ms`, even if the client has given up by then (a request that lands late). */
  | { kind: 'delay'; ms: number }
  /** Forward at once, hold the answer `ms`: the effect lands while the client waits (and may time out). */
  | { kind: 'slow-answer'; ms: number }
  /** Never forward, never answer; `close()` ends it. */
  | { kind: 'hang' }
  /** Forward, let the target answer, then destroy the client's socket: the effect happened, the answer is lost. */
  | { kind: 'drop-after-forward' }
  /** Forward, then answer a gateway error instead of the target's answer: the effect happened. */
  | { kind: 'status-after-forward'; status: 500 | 502 | 503 }
  /** Reset the connection (TCP RST) once the request has arrived; nothing is forwarded. */
  | { kind: 'reset' };

/** What the client ended up with. */
export type ProxyOutcome =
  /** The status it was answered. */
  | number
  /** Nothing yet. */
  | 'pending'
  /** A `hang`: nothing, until the client gave up or the proxy closed. */
  | 'hung'
  /** Its socket was destroyed after the target answered (`drop-after-forward`). */
  | 'dropped'
  /** Its connection was reset (`reset`). */
  | 'reset'
  /** It had gone (timed out, aborted) before the answer could be written. */
  | 'client-gone';

export interface ProxiedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  /** The path alone, which `FaultMatch.path` is tested against. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The fault applied to it, if one matched. */
  fault?: ProxyFault;
  /** Whether the target received it and answered (so its effect happened). */
  forwarded: boolean;
  /** The target's own answer status, when it was forwarded. */
  targetStatus?: number;
  outcome: ProxyOutcome;
}

export interface FaultProxy {
  /** The proxy's origin, `http://127.0.0.1:PORT`: use it where the target's origin went. */
  url: string;
  /** Every request that arrived, in order, with the fault applied to it. */
  requests: ProxiedRequest[];
  /** The next `times` requests matching `match` get `fault`; the first pending entry that matches wins. */
  inject(match: FaultMatch, fault: ProxyFault, times?: number): void;
  /** Every matching request gets `fault`, until `clear()`. */
  injectAlways(match: FaultMatch, fault: ProxyFault): void;
  /** Drops every pending fault, once-only and always. */
  clear(): void;
  /** Stops listening, ends hung and held requests, forwards nothing more; calling it again is harmless. */
  close(): Promise<void>;
}

interface Arrived {
  method: string;
  path: string;
  body: string;
}

interface TargetAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that describe one connection, not the message: never passed through. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * An HTTP proxy on 127.0.0.1 (any free port) in front of `targetOrigin` (`http://127.0.0.1:PORT`;
 * a path after the origin is ignored). It forwards each request unchanged (method, path, query,
 * headers but Host, body) and returns the target's answer unchanged, unless an injected fault
 * matches. Plain node:http, no dependency.
 */
export async function startFaultProxy(targetOrigin: string): Promise<FaultProxy> {
  const target = new URL(targetOrigin);
  const agent = new Agent({ keepAlive: false });
  const faults = new FaultQueue<Arrived, ProxyFault>();
  const requests: ProxiedRequest[] = [];
  const waiting = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          waiting.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      waiting.add(entry);
    });

  const forward = (req: IncomingMessage, body: Buffer, record: ProxiedRequest) =>
    new Promise<TargetAnswer>((resolve, reject) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(name) && name !== 'host' && value !== undefined) headers[name] = value;
      }
      headers.host = target.host;
      if (body.length > 0 || req.headers['content-length'] !== undefined) {
        headers['content-length'] = String(body.length);
      }
      const outgoing = httpRequest(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('error', reject);
          answer.on('end', () => {
            record.forwarded = true;
            record.targetStatus = answer.statusCode ?? 0;
            resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const reply = (
    res: ServerResponse,
    record: ProxiedRequest,
    status: number,
    headers: OutgoingHttpHeaders,
    body: Buffer,
  ) => {
    if (res.destroyed || res.writableEnded) {
      record.outcome = 'client-gone';
      return;
    }
    const passed: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!HOP_BY_HOP.has(name.toLowerCase()) && value !== undefined) passed[name.toLowerCase()] = value;
    }
    passed['content-length'] = String(body.length);
    res.writeHead(status, passed);
    res.end(body);
    record.outcome = status;
  };

  const replyTarget = (res: ServerResponse, record: ProxiedRequest, answer: TargetAnswer) =>
    reply(res, record, answer.status, answer.headers, answer.body);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readRaw(req);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = new URL(url, 'http://proxy.invalid').pathname;
    const text = body.toString('utf8');
    const fault = faults.take({ method, path, body: text });
    const record: ProxiedRequest = {
      method,
      url,
      path,
      headers: req.headers,
      body: text,
      ...(fault && { fault }),
      forwarded: false,
      outcome: 'pending',
    };
    requests.push(record);
    if (closed) return resetConnection(req);

    /** Forwards, or answers 502 as a gateway would when the target cannot be reached. */
    const pass = async (): Promise<TargetAnswer | undefined> => {
      try {
        return await forward(req, body, record);
      } catch (error) {
        if (closed) return undefined;
        const message = `fault proxy: ${targetOrigin} did not answer: ${(error as Error).message}`;
        reply(res, record, 502, { 'content-type': 'text/plain' }, Buffer.from(message));
        return undefined;
      }
    };

    switch (fault?.kind) {
      case undefined: {
        const answer = await pass();
        if (answer) replyTarget(res, record, answer);
        return;
      }
      case 'status': {
        const json = fault.body !== undefined && typeof fault.body !== 'string';
        const payload = json ? JSON.stringify(fault.body) : ((fault.body as string | undefined) ?? '');
        const headers = { ...(json && { 'content-type': 'application/json' }), ...fault.headers };
        return reply(res, record, fault.status, headers, Buffer.from(payload));
      }
      case 'delay': {
        await wait(fault.ms);
        if (closed) return resetConnection(req);
        const answer = await pass();
        if (answer) replyTarget(res, record, answer);
        return;
      }
      case 'slow-answer': {
        const answer = await pass();
        if (!answer) return;
        await wait(fault.ms);
        if (closed) return resetConnection(req);
        return replyTarget(res, record, answer);
      }
      case 'hang':
        record.outcome = 'hung';
        return;
      case 'drop-after-forward': {
        const answer = await pass();
        if (!answer) return;
        record.outcome = 'dropped';
        req.socket.destroy();
        return;
      }
      case 'status-after-forward': {
        const answer = await pass();
        if (!answer) return;
        const page = `<html><body><h1>${fault.status} ${GATEWAY_TEXT[fault.status]}</h1></body></html>`;
        return reply(res, record, fault.status, { 'content-type': 'text/html' }, Buffer.from(page));
      }
      case 'reset':
        record.outcome = 'reset';
        return resetConnection(req);
    }
  };

  const server = await startHttpServer(handle);
  return {
    url: server.origin,
    requests,
    inject: (match, fault, times = 1) => faults.add((arrived) => matches(match, arrived), fault, times),
    injectAlways: (match, fault) =>
      faults.add((arrived) => matches(match, arrived), fault, Number.POSITIVE_INFINITY),
    clear: () => faults.clear(),
    close: () => {
      closing ??= (async () => {
        closed = true;
        for (const entry of waiting) {
          clearTimeout(entry.timer);
          entry.resolve();
        }
        waiting.clear();
        await server.close();
        agent.destroy();
      })();
      return closing;
    },
  };
}

const GATEWAY_TEXT: Record<500 | 502 | 503, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function matches(match: FaultMatch, arrived: Arrived): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== arrived.method.toUpperCase()) return false;
  if (match.path instanceof RegExp) {
    if (!match.path.test(arrived.path)) return false;
  } else if (match.path !== undefined) {
    const tail = `/${match.path.replace(/^\//, '')}`;
    if (arrived.path !== match.path && !arrived.path.endsWith(tail)) return false;
  }
  if (match.bodyIncludes !== undefined) {
    const needle = match.bodyIncludes;
    if (!arrived.body.includes(needle) && !formDecoded(arrived.body).includes(needle)) return false;
  }
  return true;
}

function formDecoded(body: string): string {
  try {
    return decodeURIComponent(body.replace(/\+/g, ' '));
  } catch {
    return body;
  }
}
