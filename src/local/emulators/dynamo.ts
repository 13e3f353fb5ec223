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
 * Creates the ledger table (partition key `findingKey`, on demand, the `byIssueKey` index) unless it
 * exists, adds the index to a table created before it; waits until the table and index are ACTIVE.
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
          AttributeDefinitions: [
            { AttributeName: 'findingKey', AttributeType: 'S' },
            { AttributeName: 'issueKey', AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: 'findingKey', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [LEDGER_ISSUE_INDEX_DEFINITION],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  } else if (!hasIssueIndex(existing)) {
    // Best effort (DynamoDB adds an index online; dynalite cannot): without it the replay works and
    // the Backlog webhook's worker fails naming the index.
    await waitUntilActive(describe, tableName, timeoutMs);
    await client
      .send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'issueKey', AttributeType: 'S' }],
          GlobalSecondaryIndexUpdates: [{ Create: LEDGER_ISSUE_INDEX_DEFINITION }],
        }),
      )
      .catch(() => undefined);
  }
  await waitUntilActive(describe, tableName, timeoutMs);
}

function hasIssueIndex(table: TableDescription): boolean {
  return (table.GlobalSecondaryIndexes ?? []).some(
    (index) => index.IndexName === LEDGER_ISSUE_INDEX_DEFINITION.IndexName,
  );
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
