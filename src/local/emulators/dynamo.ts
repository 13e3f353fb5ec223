import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { sleep } from './http-server.js';

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  /** A LevelDB directory; in memory when absent. */
  path?: string;
}

const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

export interface DynamoEmulator {
  /** The client's `endpoint` (or AWS_ENDPOINT_URL_DYNAMODB): `http://127.0.0.1:PORT`. */
  url: string;
  close(): Promise<void>;
}

/** DynamoDB (dynalite, in memory by default) on 127.0.0.1; tables are ACTIVE at once. */
export async function startDynamo(
  options: DynaliteOptions & { port?: number } = {},
): Promise<DynamoEmulator> {
  const { port = 0, ...settings } = options;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...settings });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The ledger's sparse index of items by Backlog issue key, as serverless.yml declares it
 * (`LedgerTable`, template-tested): the Backlog webhook's worker finds an issue's findings by it.
 */
export const LEDGER_ISSUE_INDEX_DEFINITION = {
  IndexName: 'byIssueKey',
  KeySchema: [{ AttributeName: 'issueKey', KeyType: 'HASH' as const }],
  Projection: { ProjectionType: 'ALL' as const },
};

/**
 * The digest's sparse index, as serverless.yml declares it: lifecycle events by day, and the items
 * of open issues under the pseudo-day `open-issue` (LEDGER_DAY_INDEX in ledger-items.ts).
 */
export const LEDGER_DAY_INDEX_DEFINITION = {
  IndexName: 'byDay',
  KeySchema: [
    { AttributeName: 'eventDay', KeyType: 'HASH' as const },
    { AttributeName: 'eventAt', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
};
const LEDGER_INDEXES = [LEDGER_ISSUE_INDEX_DEFINITION, LEDGER_DAY_INDEX_DEFINITION];
const LEDGER_INDEX_KEYS = ['issueKey', 'eventDay', 'eventAt'].map((AttributeName) => ({
  AttributeName,
  AttributeType: 'S' as const,
}));

/**
 * Creates the ledger table (partition key `findingKey`, on demand, the `byIssueKey` and `byDay`
 * indexes) unless it exists, adds a missing index to a table created before it; waits
 * until the table and its indexes are ACTIVE.
 */
export async function ensureLedgerTable(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs = 30_000,
): Promise<void> {
  const describe = async (): Promise<TableDescription | undefined> => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  const existing = await describe();
  if (existing === undefined) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'findingKey', AttributeType: 'S' }, ...LEDGER_INDEX_KEYS],
          KeySchema: [{ AttributeName: 'findingKey', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: LEDGER_INDEXES,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  } else {
    // Best effort (DynamoDB adds an index online, one at a time; dynalite cannot): without one the
    // replay works and what reads it (the Backlog webhook's worker, the digest) fails naming it.
    for (const index of missingIndexes(existing)) {
      await waitUntilActive(describe, tableName, timeoutMs);
      await client
        .send(
          new UpdateTableCommand({
            TableName: tableName,
            AttributeDefinitions: LEDGER_INDEX_KEYS.filter((key) =>
              index.KeySchema.some((part) => part.AttributeName === key.AttributeName),
            ),
            GlobalSecondaryIndexUpdates: [{ Create: index }],
          }),
        )
        .catch(() => undefined);
    }
  }
  await waitUntilActive(describe, tableName, timeoutMs);
}

function missingIndexes(table: TableDescription) {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  return LEDGER_INDEXES.filter((index) => !present.has(index.IndexName));
}

async function waitUntilActive(
  describe: () => Promise<TableDescription | undefined>,
  tableName: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = await describe();
    const indexes = table?.GlobalSecondaryIndexes ?? [];
    if (table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new Error(`DynamoDB table ${tableName} did not become ACTIVE`);
    await sleep(50);
  }
}
