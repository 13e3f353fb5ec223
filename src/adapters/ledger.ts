import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { LedgerError } from '../app/errors.js';
import type {
  ClaimResult,
  DispatchLedger,
  IssueLedger,
  MemberRecord,
  MessageLedger,
  ReopenClaim,
} from '../app/ports.js';
import { chunk } from '../domain/delivery/delivery.js';
import { GROUP_OPENING_STALE_MS, type OpenGroup } from '../domain/delivery/grouping.js';
import { LEDGER_ATTRIBUTES as A, type FindingItem, type GroupItem } from '../domain/delivery/ledger-items.js';

/** A claim older than this is taken to belong to an attempt that died. */
export const CLAIM_STALE_AFTER_MS = 5 * 60_000;
/** Ledger items expire (TTL attribute `expiresAt`) a year after their last write. */
const RETENTION_SECONDS = 365 * 24 * 3600;
const MAX_UNPROCESSED_ATTEMPTS = 8;

type Clock = () => Date;
type Update = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

/** The DynamoDB ledger: finding key → where it was delivered. Every write is conditional. */
export class Ledger implements DispatchLedger, IssueLedger, MessageLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly now: Clock = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(key: string): Promise<FindingItem | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { [A.key]: key }, ConsistentRead: true }),
    );
    return result.Item as FindingItem | undefined;
  }

  /** Items for many keys (BatchGetItem, 100 a call, unprocessed keys retried). */
  async getMany(keys: readonly string[]): Promise<Map<string, FindingItem>> {
    const items = new Map<string, FindingItem>();
    for (const part of chunk([...new Set(keys)], 100)) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }> | undefined =
        { [this.table]: { Keys: part.map((key) => ({ [A.key]: key })), ConsistentRead: true } };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        await backOff(attempt, `BatchGetItem on ${this.table}: keys still unprocessed after retries`);
        const result = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.table] ?? []) items.set(item[A.key], item as FindingItem);
        request = result.UnprocessedKeys as typeof request;
      }
    }
    return items;
  }

  /**
   * Claim a key for `token` before filing: succeeds when nothing is filed yet and no live claim
   * by someone else exists. `side` names the thing claimed (`issue` or `slack`).
   */
  async claim(key: string, token: string, side: 'issue' | 'slack'): Promise<ClaimResult> {
    const now = this.now();
    try {
      const result = await this.update(key, {
        UpdateExpression: `SET #claim = :token, #claimedAt = :now, #status = if_not_exists(#status, :claimed), ${A.expiresAt} = :exp`,
        ConditionExpression:
          'attribute_not_exists(#done) AND (attribute_not_exists(#claim) OR #claim = :token OR #claimedAt < :stale)',
        ExpressionAttributeNames: {
          '#claim': side === 'issue' ? A.issueClaim : A.slackClaim,
          '#claimedAt': side === 'issue' ? A.issueClaimedAt : A.slackClaimedAt,
          '#status': A.status,
          '#done': side === 'issue' ? A.issueKey : A.slackTs,
        },
        ExpressionAttributeValues: {
          ':token': token,
          ':now': now.toISOString(),
          ':stale': this.staleBefore(now),
          ':claimed': 'CLAIMED',
          ':exp': this.expiry(now),
        },
        ReturnValues: 'ALL_OLD',
      });
      const previous = result.Attributes as FindingItem | undefined;
      return previous ? { claimed: true, previous } : { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(key);
      return current ? { claimed: false, current } : { claimed: false };
    }
  }

  async recordIssue(key: string, issue: { key: string; url: string; id?: number }): Promise<void> {
    const now = this.now();
    await this.update(key, {
      UpdateExpression: `SET ${A.issueKey} = :key, ${A.issueUrl} = :url, ${A.issueId} = :id, ${A.filedAt} = :now, #status = :filed, ${A.expiresAt} = :exp REMOVE ${A.issueClaim}`,
      ConditionExpression: `attribute_not_exists(${A.issueKey}) OR ${A.issueKey} = :key`,
      ExpressionAttributeNames: { '#status': A.status },
      ExpressionAttributeValues: {
        ':key': issue.key,
        ':url': issue.url,
        ':id': issue.id,
        ':now': now.toISOString(),
        ':filed': 'FILED',
        ':exp': this.expiry(now),
      },
    });
  }

  /** The delivery is complete: its message (if it was posted) and the finding version it describes. */
  async recordSlack(
    key: string,
    slack: { channel: string; ts: string },
    findingUpdatedAt: string,
  ): Promise<void> {
    const now = this.now();
    const posted = slack.ts !== '';
    const message = posted ? `${A.slackChannel} = :channel, ${A.slackTs} = :ts, ` : '';
    await this.update(key, {
      UpdateExpression: `SET ${message}${A.notifiedAt} = :now, ${A.findingUpdatedAt} = :updated, #status = :delivered, ${A.expiresAt} = :exp REMOVE ${A.slackClaim}, ${A.lastError}`,
      ...(posted ? { ConditionExpression: `attribute_not_exists(${A.slackTs}) OR ${A.slackTs} = :ts` } : {}),
      ExpressionAttributeNames: { '#status': A.status },
      ExpressionAttributeValues: {
        ...(posted ? { ':channel': slack.channel, ':ts': slack.ts } : {}),
        ':now': now.toISOString(),
        ':updated': findingUpdatedAt,
        ':delivered': 'DELIVERED',
        ':exp': this.expiry(now),
      },
    });
  }

  /**
   * Claim the handling of a reopen (the finding's `updatedAt`) on one side before commenting or
   * replying: `done` when it was handled already, `held` when another execution is at it now.
   */
  async claimReopen(
    key: string,
    side: 'issue' | 'slack',
    findingUpdatedAt: string,
    token: string,
  ): Promise<ReopenClaim> {
    const now = this.now();
    const last = side === 'issue' ? A.lastIssueReopenUpdatedAt : A.lastSlackReopenUpdatedAt;
    try {
      await this.update(key, {
        UpdateExpression: 'SET #claim = :token, #for = :updated, #at = :now',
        ConditionExpression: `attribute_exists(${A.key}) AND (attribute_not_exists(#last) OR #last <> :updated) AND (attribute_not_exists(#claim) OR #for <> :updated OR #claim = :token OR #at < :stale)`,
        ExpressionAttributeNames: {
          '#claim': side === 'issue' ? A.issueReopenClaim : A.slackReopenClaim,
          '#for': side === 'issue' ? A.issueReopenFor : A.slackReopenFor,
          '#at': side === 'issue' ? A.issueReopenClaimedAt : A.slackReopenClaimedAt,
          '#last': last,
        },
        ExpressionAttributeValues: {
          ':token': token,
          ':updated': findingUpdatedAt,
          ':now': now.toISOString(),
          ':stale': this.staleBefore(now),
        },
      });
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = (await this.get(key)) as Record<string, unknown> | undefined;
      return current?.[last] === findingUpdatedAt ? 'done' : 'held';
    }
  }

  /** Record that a reopen was handled on one side (`issue` comment or `slack` reply). */
  async recordReopen(key: string, side: 'issue' | 'slack', findingUpdatedAt: string): Promise<void> {
    const now = this.now();
    if (side === 'issue') {
      await this.update(key, {
        UpdateExpression: `SET ${A.lastIssueReopenUpdatedAt} = :updated, ${A.expiresAt} = :exp`,
        ExpressionAttributeValues: { ':updated': findingUpdatedAt, ':exp': this.expiry(now) },
      });
      return;
    }
    await this.update(key, {
      UpdateExpression: `SET ${A.lastSlackReopenUpdatedAt} = :updated, ${A.findingUpdatedAt} = :updated, ${A.lastReopenedAt} = :now, ${A.reopenCount} = if_not_exists(${A.reopenCount}, :zero) + :one, ${A.expiresAt} = :exp`,
      ExpressionAttributeValues: {
        ':updated': findingUpdatedAt,
        ':now': now.toISOString(),
        ':zero': 0,
        ':one': 1,
        ':exp': this.expiry(now),
      },
    });
  }

  /**
   * Open a storm group for `token` (dispatch, before it starts the workflow). Fails when the group is
   * open already: active within the window and delivered, or being opened by a live execution (the
   * same batch redelivered included: it then appends). Reopening a closed group clears the old issue
   * and message: a new storm gets a new issue.
   */
  async openGroup(groupKey: string, token: string, windowMinutes: number): Promise<boolean> {
    const now = this.now();
    const cleared = [
      A.issueKey,
      A.issueUrl,
      A.issueId,
      A.slackChannel,
      A.slackTs,
      A.issueClaim,
      A.slackClaim,
      A.appendsPosted,
      A.appendsCommented,
    ];
    try {
      await this.update(groupKey, {
        UpdateExpression: `SET ${A.openedBy} = :token, ${A.openedAt} = :now, ${A.lastActivityAt} = :now, ${A.memberCount} = :zero, #status = :opening, ${A.expiresAt} = :exp REMOVE ${cleared.join(', ')}`,
        ConditionExpression: `attribute_not_exists(${A.key}) OR ${A.lastActivityAt} < :windowStart OR (#status <> :delivered AND ${A.openedAt} < :openingStale)`,
        ExpressionAttributeNames: { '#status': A.status },
        ExpressionAttributeValues: {
          ':token': token,
          ':now': now.toISOString(),
          ':zero': 0,
          ':opening': 'CLAIMED',
          ':delivered': 'DELIVERED',
          ':windowStart': new Date(now.getTime() - windowMinutes * 60_000).toISOString(),
          ':openingStale': new Date(now.getTime() - GROUP_OPENING_STALE_MS).toISOString(),
          ':exp': this.expiry(now),
        },
      });
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Groups as dispatch needs them: which are open, how many findings they hold. */
  async getGroups(groupKeys: readonly string[]): Promise<Map<string, OpenGroup>> {
    const groups = new Map<string, OpenGroup>();
    for (const [key, entry] of await this.getMany(groupKeys)) {
      const item = entry as Partial<GroupItem>;
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
    await this.update(groupKey, {
      UpdateExpression: `SET ${A.lastActivityAt} = :now, ${A.expiresAt} = :exp ADD ${A.memberCount} :count`,
      ExpressionAttributeValues: { ':now': now.toISOString(), ':count': count, ':exp': this.expiry(now) },
    });
  }

  async recordAppend(groupKey: string, side: 'posted' | 'commented', deliveryId: string): Promise<void> {
    await this.update(groupKey, {
      UpdateExpression: `ADD #applied :id SET ${A.expiresAt} = :exp`,
      ExpressionAttributeNames: { '#applied': side === 'posted' ? A.appendsPosted : A.appendsCommented },
      ExpressionAttributeValues: { ':id': new Set([deliveryId]), ':exp': this.expiry(this.now()) },
    });
  }

  /**
   * Ledger each member of a delivery to where it went, so a repeat of any of them files nothing and
   * a reopen of one comments on the issue it was filed under.
   */
  async recordMembers(
    members: ReadonlyArray<{ key: string; updatedAt: string }>,
    where: MemberRecord,
  ): Promise<void> {
    const now = this.now();
    const items = members.map(
      (member): FindingItem => ({
        [A.key]: member.key,
        [A.status]: 'DELIVERED',
        [A.deliveredWith]: where.deliveryKey,
        [A.issueKey]: where.issueKey,
        [A.issueUrl]: where.issueUrl,
        [A.slackChannel]: where.slackChannel,
        [A.slackTs]: where.slackTs,
        [A.notifiedAt]: now.toISOString(),
        [A.findingUpdatedAt]: member.updatedAt,
        [A.expiresAt]: this.expiry(now),
      }),
    );
    for (const batch of chunk(items, 25)) {
      let request: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> | undefined = {
        [this.table]: batch.map((Item) => ({ PutRequest: { Item: { ...Item } } })),
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        await backOff(attempt, `BatchWriteItem on ${this.table}: items still unprocessed after retries`);
        const result = await this.doc.send(new BatchWriteCommand({ RequestItems: request }));
        request = result.UnprocessedItems as typeof request;
      }
    }
  }

  private update(key: string, update: Update) {
    return this.doc.send(new UpdateCommand({ TableName: this.table, Key: { [A.key]: key }, ...update }));
  }

  private staleBefore(now: Date): string {
    return new Date(now.getTime() - CLAIM_STALE_AFTER_MS).toISOString();
  }

  private expiry(now: Date): number {
    return Math.floor(now.getTime() / 1000) + RETENTION_SECONDS;
  }
}

/** Before a retry of unprocessed items: a short exponential wait; past the last attempt, an error. */
async function backOff(attempt: number, failure: string): Promise<void> {
  if (attempt === 0) return;
  if (attempt > MAX_UNPROCESSED_ATTEMPTS) throw new LedgerError(failure);
  await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
}
