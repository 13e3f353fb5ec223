import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureLedgerTable, startDynamo } from '../../src/local/emulators/dynamo.js';

export interface LedgerTables {
  /** A real DynamoDB client of the emulator. */
  client: DynamoDBClient;
  /** A new ledger table (`<prefix>-<n>`, indexes as deployed), for one test of its own. */
  freshTable(prefix: string): Promise<string>;
  close(): Promise<void>;
}

/** dynalite on 127.0.0.1 over HTTP, for tests of the ledger adapters: one table a test. */
export async function startLedgerTables(): Promise<LedgerTables> {
  const dynamo = await startDynamo();
  const client = new DynamoDBClient({
    endpoint: dynamo.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let tables = 0;
  return {
    client,
    freshTable: async (prefix) => {
      const table = `${prefix}-${++tables}`;
      await ensureLedgerTable(client, table);
      return table;
    },
    close: async () => {
      client.destroy();
      await dynamo.close();
    },
  };
}
