import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
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

/** Creates the ledger table (partition key `findingKey`, on demand) unless it exists; waits until ACTIVE. */
export async function ensureLedgerTable(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs = 30_000,
): Promise<void> {
  const status = async () => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  if ((await status()) === undefined) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'findingKey', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'findingKey', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while ((await status()) !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`DynamoDB table ${tableName} did not become ACTIVE`);
    await sleep(50);
  }
}
