import { request } from 'node:http';
import { startDynamo } from '../src/local/emulators/dynamo.js';
import { readText, startHttpServer } from '../src/local/emulators/http-server.js';

/** Read and write operations of the DynamoDB API this project can call. */
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface DynamoCounts {
  readRequests: number;
  writeRequests: number;
  /** Request units as dynalite computes them (ReturnConsumedCapacity TOTAL, added by the meter). */
  readUnits: number;
  /** A write refused by its condition is billed too: counted as 1 unit (the ledger's items are < 1 KB). */
  writeUnits: number;
  conditionalFailures: number;
  byOperation: Record<string, number>;
}

export interface DynamoMeter {
  /** Give this to the replayer as AWS_ENDPOINT_URL_DYNAMODB. */
  url: string;
  counts(): DynamoCounts;
  reset(): void;
  close(): Promise<void>;
}

const empty = (): DynamoCounts => ({
  readRequests: 0,
  writeRequests: 0,
  readUnits: 0,
  writeUnits: 0,
  conditionalFailures: 0,
  byOperation: {},
});

function unitsOf(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((sum: number, item: { CapacityUnits?: number }) => sum + (item.CapacityUnits ?? 0), 0);
}

/**
 * An in-memory DynamoDB (dynalite) behind a counting proxy on 127.0.0.1: every request is counted
 * by operation, and asked for its consumed capacity so that request units can be priced.
 */
export async function startDynamoMeter(): Promise<DynamoMeter> {
  const dynamo = await startDynamo();
  const target = new URL(dynamo.url);
  let counts = empty();
  const proxy = await startHttpServer(async (req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    let body = await readText(req);
    if (READS.has(operation) || WRITES.has(operation)) {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      parsed.ReturnConsumedCapacity ??= 'TOTAL';
      body = JSON.stringify(parsed);
    }
    const headers = { ...req.headers, 'content-length': String(Buffer.byteLength(body)) };
    const answer = await new Promise<{ status: number; headers: typeof req.headers; body: Buffer }>(
      (resolve, reject) => {
        const forward = request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 500,
                headers: response.headers,
                body: Buffer.concat(chunks),
              }),
            );
            response.on('error', reject);
          },
        );
        forward.on('error', reject);
        forward.end(body);
      },
    );
    counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
    const isRead = READS.has(operation);
    const isWrite = WRITES.has(operation);
    if (isRead) counts.readRequests += 1;
    if (isWrite) counts.writeRequests += 1;
    try {
      const parsed = JSON.parse(answer.body.toString('utf8')) as {
        ConsumedCapacity?: unknown;
        __type?: string;
      };
      if (answer.status === 200) {
        if (isRead) counts.readUnits += unitsOf(parsed.ConsumedCapacity);
        if (isWrite) counts.writeUnits += unitsOf(parsed.ConsumedCapacity);
      } else if (isWrite && parsed.__type?.endsWith('ConditionalCheckFailedException')) {
        counts.conditionalFailures += 1;
        counts.writeUnits += 1;
      }
    } catch {
      // not JSON: nothing to count
    }
    // Passed on byte for byte: the SDK checks the body against dynalite's x-amz-crc32.
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  return {
    url: proxy.origin,
    counts: () => structuredClone(counts),
    reset: () => {
      counts = empty();
    },
    close: async () => {
      await proxy.close();
      await dynamo.close();
    },
  };
}
