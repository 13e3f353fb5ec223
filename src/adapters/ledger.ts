import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { chunk } from '../domain/delivery.js';
import { GROUP_OPENING_STALE_MS, type OpenGroup } from '../domain/grouping.js';
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

  /** The delivery is complete: its message (if it was posted) and the finding version it describes. */
  async recordSlack(
    findingKey: string,
    slack: { channel: string; ts: string },
    findingUpdatedAt: string,
  ): Promise<void> {
    const now = this.now();
    const posted = slack.ts !== '';
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { findingKey },
        UpdateExpression: `SET ${posted ? 'slackChannel = :channel, slackTs = :ts, ' : ''}notifiedAt = :now, findingUpdatedAt = :updated, #status = :delivered, expiresAt = :exp REMOVE slackClaim, lastError`,
        ...(posted ? { ConditionExpression: 'attribute_not_exists(slackTs) OR slackTs = :ts' } : {}),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ...(posted ? { ':channel': slack.channel, ':ts': slack.ts } : {}),
          ':now': now.toISOString(),
          ':updated': findingUpdatedAt,
          ':delivered': 'DELIVERED',
          ':exp': this.expiry(now),
        },
      }),
    );
  }

  /**
   * Claim the handling of a reopen (the finding's `updatedAt`) on one side before commenting or
   * replying: `done` when it was handled already, `held` when another execution is at it now.
   */
  async claimReopen(
    findingKey: string,
    side: 'issue' | 'slack',
    findingUpdatedAt: string,
    token: string,
  ): Promise<'claimed' | 'done' | 'held'> {
    const now = this.now();
    const last = side === 'issue' ? 'lastReopenUpdatedAt' : 'lastSlackReopenUpdatedAt';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { findingKey },
          UpdateExpression: 'SET #claim = :token, #for = :updated, #at = :now',
          ConditionExpression:
            'attribute_exists(findingKey) AND (attribute_not_exists(#last) OR #last <> :updated) AND (attribute_not_exists(#claim) OR #for <> :updated OR #claim = :token OR #at < :stale)',
          ExpressionAttributeNames: {
            '#claim': `${side}ReopenClaim`,
            '#for': `${side}ReopenFor`,
            '#at': `${side}ReopenClaimedAt`,
            '#last': last,
          },
          ExpressionAttributeValues: {
            ':token': token,
            ':updated': findingUpdatedAt,
            ':now': now.toISOString(),
            ':stale': new Date(now.getTime() - CLAIM_STALE_AFTER_MS).toISOString(),
          },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = (await this.get(findingKey)) as Record<string, unknown> | undefined;
      return current?.[last] === findingUpdatedAt ? 'done' : 'held';
    }
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

  /**
   * Open a storm group for `token` (dispatch, before it starts the workflow). Fails when the group is
   * open already: active within the window and delivered, or being opened by a live execution (the
   * same batch redelivered included: it then appends). Reopening a closed group clears the old issue
   * and message: a new storm gets a new issue.
   */
  async openGroup(groupKey: string, token: string, windowMinutes: number): Promise<boolean> {
    const now = this.now();
    const windowStart = new Date(now.getTime() - windowMinutes * 60_000).toISOString();
    const openingStale = new Date(now.getTime() - GROUP_OPENING_STALE_MS).toISOString();
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { findingKey: groupKey },
          UpdateExpression:
            'SET openedBy = :token, openedAt = :now, lastActivityAt = :now, memberCount = :zero, #status = :opening, expiresAt = :exp REMOVE issueKey, issueUrl, issueId, slackChannel, slackTs, issueClaim, slackClaim, appendsPosted, appendsCommented',
          ConditionExpression:
            'attribute_not_exists(findingKey) OR lastActivityAt < :windowStart OR (#status <> :delivered AND openedAt < :openingStale)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':token': token,
            ':now': now.toISOString(),
            ':zero': 0,
            ':opening': 'CLAIMED',
            ':delivered': 'DELIVERED',
            ':windowStart': windowStart,
            ':openingStale': openingStale,
            ':exp': this.expiry(now),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Groups as dispatch needs them: which are open, how many findings they hold. */
  async getGroups(groupKeys: readonly string[]): Promise<Map<string, OpenGroup>> {
    const entries = await this.getMany(groupKeys);
    const groups = new Map<string, OpenGroup>();
    for (const [key, entry] of entries) {
      const item = entry as LedgerEntry & {
        memberCount?: number;
        lastActivityAt?: string;
        openedAt?: string;
      };
      groups.set(key, {
        key,
        memberCount: item.memberCount ?? 0,
        lastActivityAt: item.lastActivityAt ?? '',
        openedAt: item.openedAt ?? '',
        // Delivered: its first message posted, or (Backlog only) its delivery recorded.
        delivered: item.status === 'DELIVERED' || Boolean(item.slackTs),
      });
    }
    return groups;
  }

  /** A group's activity: `count` more findings, the window starts again. */
  async touchGroup(groupKey: string, count: number): Promise<void> {
    const now = this.now();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { findingKey: groupKey },
        UpdateExpression: 'SET lastActivityAt = :now, expiresAt = :exp ADD memberCount :count',
        ExpressionAttributeValues: { ':now': now.toISOString(), ':count': count, ':exp': this.expiry(now) },
      }),
    );
  }

  /** Whether an append delivery was already applied on one side (`posted` to Slack, `commented` on Backlog). */
  appendApplied(entry: LedgerEntry | undefined, side: 'posted' | 'commented', deliveryId: string): boolean {
    const applied = (entry as Record<string, unknown> | undefined)?.[
      side === 'posted' ? 'appendsPosted' : 'appendsCommented'
    ];
    return applied instanceof Set && applied.has(deliveryId);
  }

  async recordAppend(groupKey: string, side: 'posted' | 'commented', deliveryId: string): Promise<void> {
    const now = this.now();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { findingKey: groupKey },
        UpdateExpression: 'ADD #applied :id SET expiresAt = :exp',
        ExpressionAttributeNames: { '#applied': side === 'posted' ? 'appendsPosted' : 'appendsCommented' },
        ExpressionAttributeValues: { ':id': new Set([deliveryId]), ':exp': this.expiry(now) },
      }),
    );
  }

  /**
   * Ledger each member of a delivery to where it went, so a repeat of any of them files nothing and
   * a reopen of one comments on the issue it was filed under.
   */
  async recordMembers(
    members: ReadonlyArray<{ key: string; updatedAt: string }>,
    where: {
      issueKey?: string;
      issueUrl?: string;
      slackChannel?: string;
      slackTs?: string;
      deliveryKey: string;
    },
  ): Promise<void> {
    const now = this.now();
    const items = members.map((member) => ({
      findingKey: member.key,
      status: 'DELIVERED',
      deliveredWith: where.deliveryKey,
      issueKey: where.issueKey,
      issueUrl: where.issueUrl,
      slackChannel: where.slackChannel,
      slackTs: where.slackTs,
      notifiedAt: now.toISOString(),
      findingUpdatedAt: member.updatedAt,
      expiresAt: this.expiry(now),
    }));
    for (const batch of chunk(items, 25)) {
      let request: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> | undefined = {
        [this.table]: batch.map((Item) => ({ PutRequest: { Item } })),
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 8)
          throw new LedgerError(`BatchWriteItem on ${this.table}: items still unprocessed after retries`);
        if (attempt > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
        const result = await this.doc.send(new BatchWriteCommand({ RequestItems: request }));
        request = result.UnprocessedItems as typeof request;
      }
    }
  }

  private expiry(now: Date): number {
    return Math.floor(now.getTime() / 1000) + RETENTION_SECONDS;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
