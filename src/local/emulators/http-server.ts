import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RunningServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** Form and query values: `key[]=a&key[]=b` (and `key[0]=`) become `key: ['a', 'b']`. */
export type FormParams = Record<string, string | string[]>;

/** Listens on 127.0.0.1 only (port 0 = any free port); a handler that throws answers 500. */
export async function startHttpServer(handler: RequestHandler, port = 0): Promise<RunningServer> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      sendJson(res, 500, { message: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The body's bytes exactly as received, for forwarding them unchanged. */
export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a JSON or `application/x-www-form-urlencoded` body; an empty body is `{}`. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  if (text.length === 0) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return parseForm(text);
  return JSON.parse(text) as unknown;
}

export function parseForm(text: string): FormParams {
  const params: FormParams = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const arrayKey = /^(.+)\[\d*\]$/.exec(rawKey)?.[1];
    const key = arrayKey ?? rawKey;
    const existing = params[key];
    if (arrayKey !== undefined || existing !== undefined) {
      params[key] = [...(existing === undefined ? [] : [existing].flat()), value];
    } else {
      params[key] = value;
    }
  }
  return params;
}

/** Splits a request URL into its path and its query parameters. */
export function parseUrl(req: IncomingMessage): { path: string; query: FormParams } {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return { path: url.pathname, query: parseForm(url.search.slice(1)) };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers nothing: the client sees the connection close mid-request, as with a lost response. */
export function dropConnection(req: IncomingMessage): void {
  req.socket.destroy();
}

/** Ends the connection with a TCP RST, as a crashed peer or a middlebox would: the client sees ECONNRESET. */
export function resetConnection(req: IncomingMessage): void {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
  else socket.destroy();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A queue of injected faults: each entry matches some requests and fires `times` times. */
export class FaultQueue<Request, Fault> {
  readonly #entries: Array<{ matches: (request: Request) => boolean; fault: Fault; remaining: number }> = [];

  add(matches: (request: Request) => boolean, fault: Fault, times = 1): void {
    if (times > 0) this.#entries.push({ matches, fault, remaining: times });
  }

  /** The first pending fault matching the request, consumed once; undefined if none. */
  take(request: Request): Fault | undefined {
    const index = this.#entries.findIndex((entry) => entry.matches(request));
    const entry = this.#entries[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#entries.splice(index, 1);
    return entry.fault;
  }

  clear(): void {
    this.#entries.length = 0;
  }
}

export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : [value].flat();
}
