import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LedgerError } from '../app/errors.js';
import type { HeartbeatLedger, HeartbeatRecord } from '../app/health-ports.js';
import { LEDGER_ATTRIBUTES as A } from '../domain/delivery/ledger-items.js';
import { heartbeatLedgerKey } from '../domain/heartbeat/heartbeat.js';

/** The heartbeat's item kept a year after its last write, like every ledger item. */
const RETENTION_SECONDS = 365 * 24 * 3600;

/**
 * The heartbeat's ledger item, `heartbeat|<stack>`: the last pass (when, its latency, the finding),
 * written by the heartbeat function; the last failure (lastError, failedAt), written by the
 * workflow. `npm run doctor` reads it for the last heartbeat's age.
 */
export class HeartbeatLedgerTable implements HeartbeatLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async recordHeartbeat(
    stack: string,
    success: { at: string; latencyMs: number; findingId: string },
  ): Promise<void> {
    const expiresAt = Math.floor(Date.parse(success.at) / 1000) + RETENTION_SECONDS;
    await this.send<unknown>(
      new UpdateCommand({
        TableName: this.table,
        Key: { [A.key]: heartbeatLedgerKey(stack) },
        UpdateExpression: 'SET #at = :at, #latency = :latency, #finding = :finding, #expires = :expires',
        ExpressionAttributeNames: {
          '#at': A.heartbeatAt,
          '#latency': A.heartbeatLatencyMs,
          '#finding': A.heartbeatFinding,
          '#expires': A.expiresAt,
        },
        ExpressionAttributeValues: {
          ':at': success.at,
          ':latency': success.latencyMs,
          ':finding': success.findingId,
          ':expires': expiresAt,
        },
      }),
    );
  }

  async lastHeartbeat(stack: string): Promise<HeartbeatRecord | undefined> {
    const { Item: item } = await this.send<{ Item?: Record<string, unknown> }>(
      new GetCommand({
        TableName: this.table,
        Key: { [A.key]: heartbeatLedgerKey(stack) },
        ConsistentRead: true,
      }),
    );
    if (!item) return undefined;
    const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
    const record: HeartbeatRecord = {};
    const succeededAt = text(A.heartbeatAt);
    const findingId = text(A.heartbeatFinding);
    const failedAt = text(A.failedAt);
    const lastError = text(A.lastError);
    if (succeededAt) record.succeededAt = succeededAt;
    if (typeof item[A.heartbeatLatencyMs] === 'number')
      record.latencyMs = item[A.heartbeatLatencyMs] as number;
    if (findingId) record.findingId = findingId;
    if (failedAt) record.failedAt = failedAt;
    if (lastError) record.lastError = lastError;
    return record;
  }

  private async send<T>(command: { input: unknown }): Promise<T> {
    try {
      return (await this.doc.send(command as never)) as T;
    } catch (error) {
      throw new LedgerError(`heartbeat ledger item: ${(error as Error).name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
