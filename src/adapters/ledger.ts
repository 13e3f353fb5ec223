import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { chunk } from '../domain/delivery.js';
import type { LedgerEntry } from '../domain/ledger-entry.js';

/** A claim older than this is taken to belong to an attempt that died. */
export const CLAIM_STALE_AFTER_MS = 5 * 60_000;
/** Ledger items expire (TTL attribute `expiresAt`) a year after their last write. */
const RETENTION_SECONDS = 365 * 24 * 3600;

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

/** Another execution is filing or posting this finding right now: retried by the workflow. */
export class ClaimHeldError extends Error {
  override readonly name = 'ClaimHeldError';
}

export type ClaimResult =
  | { claimed: true; previous?: LedgerEntry }
  | { claimed: false; current?: LedgerEntry };

type Clock = () => Date;

/** The DynamoDB ledger: finding key → where it was delivered. Every write is conditional. */
export class Ledger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly now: Clock = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(findingKey: string): Promise<LedgerEntry | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { findingKey }, ConsistentRead: true }),
    );
    return result.Item as LedgerEntry | undefined;
  }

  /** Entries for many keys (BatchGetItem, 100 a call, unprocessed keys retried). */
  async getMany(findingKeys: readonly string[]): Promise<Map<string, LedgerEntry>> {
    const entries = new Map<string, LedgerEntry>();
    for (const keys of chunk([...new Set(findingKeys)], 100)) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }> | undefined =
        {
          [this.table]: { Keys: keys.map((findingKey) => ({ findingKey })), ConsistentRead: true },
        };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
        if (attempt > 8)
          throw new LedgerError(`BatchGetItem on ${this.table}: keys still unprocessed after retries`);
        const result = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.table] ?? [])
          entries.set(item.findingKey, item as LedgerEntry);
        request = result.UnprocessedKeys as typeof request;
      }
    }
    return entries;
  }

  /**
   * Claim a key for `token` before filing: succeeds when nothing is filed yet and no live claim
   * by someone else exists. `field` names the thing claimed (`issue` or `slack`).
   */
  async claim(findingKey: string, token: string, field: 'issue' | 'slack'): Promise<ClaimResult> {
    const now = this.now();
    const staleBefore = new Date(now.getTime() - CLAIM_STALE_AFTER_MS).toISOString();
    const done = field === 'issue' ? 'issueKey' : 'slackTs';
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { findingKey },
          UpdateExpression:
            'SET #claim = :token, #claimedAt = :now, #status = if_not_exists(#status, :claimed), expiresAt = :exp',
          ConditionExpression:
            'attribute_not_exists(#done) AND (attribute_not_exists(#claim) OR #claim = :token OR #claimedAt < :stale)',
          ExpressionAttributeNames: {
            '#claim': `${field}Claim`,
            '#claimedAt': `${field}ClaimedAt`,
            '#status': 'status',
            '#done': done,
          },
          ExpressionAttributeValues: {
            ':token': token,
            ':now': now.toISOString(),
            ':stale': staleBefore,
            ':claimed': 'CLAIMED',
            ':exp': this.expiry(now),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = result.Attributes as LedgerEntry | undefined;
      return previous ? { claimed: true, previous } : { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(findingKey);
      return current ? { claimed: false, current } : { claimed: false };
    }
  }

  async recordIssue(findingKey: string, issue: { key: string; url: string; id?: number }): Promise<void> {
    const now = this.now();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { findingKey },
        UpdateExpression:
          'SET issueKey = :key, issueUrl = :url, issueId = :id, filedAt = :now, #status = :filed, expiresAt = :exp REMOVE issueClaim',
        ConditionExpression: 'attribute_not_exists(issueKey) OR issueKey = :key',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':key': issue.key,
          ':url': issue.url,
          ':id': issue.id,
          ':now': now.toISOString(),
          ':filed': 'FILED',
          ':exp': this.expiry(now),
        },
      }),
    );
  }

  async recordSlack(
    findingKey: string,
    slack: { channel: string; ts: string },
    findingUpdatedAt: string,
  ): Promise<void> {
    const now = this.now();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { findingKey },
        UpdateExpression:
          'SET slackChannel = :channel, slackTs = :ts, notifiedAt = :now, findingUpdatedAt = :updated, #status = :delivered, expiresAt = :exp REMOVE slackClaim, lastError',
        ConditionExpression: 'attribute_not_exists(slackTs) OR slackTs = :ts',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':channel': slack.channel,
          ':ts': slack.ts,
          ':now': now.toISOString(),
          ':updated': findingUpdatedAt,
          ':delivered': 'DELIVERED',
          ':exp': this.expiry(now),
        },
      }),
    );
  }

  /** Record that a reopen was handled on one side (`issue` comment or `slack` reply). */
  async recordReopen(findingKey: string, side: 'issue' | 'slack', findingUpdatedAt: string): Promise<void> {
    const now = this.now();
    const attribute = side === 'issue' ? 'lastReopenUpdatedAt' : 'lastSlackReopenUpdatedAt';
    const finishing = side === 'slack';
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { findingKey },
        UpdateExpression: finishing
          ? `SET ${attribute} = :updated, findingUpdatedAt = :updated, lastReopenedAt = :now, reopenCount = if_not_exists(reopenCount, :zero) + :one, expiresAt = :exp`
          : `SET ${attribute} = :updated, expiresAt = :exp`,
        ExpressionAttributeValues: finishing
          ? {
              ':updated': findingUpdatedAt,
              ':now': now.toISOString(),
              ':zero': 0,
              ':one': 1,
              ':exp': this.expiry(now),
            }
          : { ':updated': findingUpdatedAt, ':exp': this.expiry(now) },
      }),
    );
  }

  private expiry(now: Date): number {
    return Math.floor(now.getTime() / 1000) + RETENTION_SECONDS;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
