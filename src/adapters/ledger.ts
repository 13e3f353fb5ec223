import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ClaimHeldError, LedgerError } from '../app/errors.js';
import type {
  ActivityClaim,
  ActivityLedger,
  DispatchLedger,
  EffectClaim,
  IssueDue,
  IssueLedger,
  LedgeredMember,
  LifecycleEvent,
  MarkLedger,
  MemberRecord,
  MessageLedger,
  SlackActionLedger,
  SweepLedger,
} from '../app/ports.js';
import { chunk } from '../domain/delivery/delivery.js';
import { GROUP_OPENING_STALE_MS, type OpenGroup } from '../domain/delivery/grouping.js';
import {
  LEDGER_ATTRIBUTES as A,
  activityKey,
  type ClaimItem,
  DELIVERED_STATUSES,
  type DestinationItem,
  destinationKey,
  effectKey,
  expiryKey,
  type FindingItem,
  type GroupItem,
  isNotified,
  LEDGER_ISSUE_INDEX,
  type LifecycleEventItem,
  NOTIFIED_FINDINGS,
  OPEN_ISSUES_DAY,
} from '../domain/delivery/ledger-items.js';
import {
  type CloseProgress,
  type CloseReason,
  describeClose,
  stateAfter,
} from '../domain/delivery/lifecycle.js';

/** Ledger items expire (TTL attribute `expiresAt`) a year after their last write; claims after 30 days. */
const RETENTION_SECONDS = 365 * 24 * 3600;
const CLAIM_RETENTION_SECONDS = 30 * 24 * 3600;
const MAX_UNPROCESSED_ATTEMPTS = 8;
/** Single-item writes a batch of member claims or marks runs at once. */
const PARALLEL_WRITES = 16;
/** Storm members named by one `notified` event item (~130 characters a key: ~65 KB an item). */
const NOTIFIED_PER_EVENT = 500;
/**
 * What a group item may hold of announcements and marks, well inside DynamoDB's 400 KB an item:
 * members in its announcement map (11 characters each, ~165 KB), deliveries in it (a 16-character
 * id and its entry's overhead each, ~60 KB) and deliveries marked (~100 KB). Past either, later
 * deliveries claim and mark their members one by one, as before the map.
 */
export const MAX_ANNOUNCED_IN_MAP = 15_000;
export const MAX_ANNOUNCING_DELIVERIES = 3_000;
export const MAX_MARKED_DELIVERIES = 5_000;
/** Versioned writes of a group's announcement map tried before the claim is reported held. */
const ANNOUNCE_ROUNDS = 12;
const HASH_LENGTH = 11;

/** A member's short hash in a group's announcement map (66 bits of SHA-256, base64url). */
function memberHash(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, HASH_LENGTH);
}

function hashesOf(joined: string): string[] {
  const hashes: string[] = [];
  for (let index = 0; index + HASH_LENGTH <= joined.length; index += HASH_LENGTH) {
    hashes.push(joined.slice(index, index + HASH_LENGTH));
  }
  return hashes;
}

export interface LedgerOptions {
  now?: () => Date;
  /**
   * How long a claim is held before it is taken to belong to an attempt that died: longer than a
   * task can run (its Lambda timeout), so a live attempt never loses its claim.
   */
  claimStaleMs?: number;
  /** Members a group's announcement map holds before later ones are claimed one by one. */
  announceMapCap?: number;
  /** Deliveries a group's announcement map holds, likewise. */
  announcingDeliveriesCap?: number;
  /** Deliveries a group records as marked before later ones are marked member by member. */
  markedDeliveriesCap?: number;
}

/** Default: the task functions' 30 s timeout, with a margin. */
export const DEFAULT_CLAIM_STALE_MS = 45_000;

type Update = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

/** The DynamoDB ledger: finding key → where it was delivered. Every write is conditional. */
export class Ledger
  implements
    DispatchLedger,
    IssueLedger,
    MessageLedger,
    MarkLedger,
    ActivityLedger,
    SlackActionLedger,
    SweepLedger
{
  private readonly doc: DynamoDBDocumentClient;
  private readonly now: () => Date;
  private readonly claimStaleMs: number;
  private readonly announceMapCap: number;
  private readonly announcingDeliveriesCap: number;
  private readonly markedDeliveriesCap: number;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    options: LedgerOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.now = options.now ?? (() => new Date());
    this.claimStaleMs = options.claimStaleMs ?? DEFAULT_CLAIM_STALE_MS;
    this.announceMapCap = options.announceMapCap ?? MAX_ANNOUNCED_IN_MAP;
    this.announcingDeliveriesCap = options.announcingDeliveriesCap ?? MAX_ANNOUNCING_DELIVERIES;
    this.markedDeliveriesCap = options.markedDeliveriesCap ?? MAX_MARKED_DELIVERIES;
  }

  async get(key: string): Promise<FindingItem | undefined> {
    return this.resolveMark(await this.getRaw(key));
  }

  /** One item read as resolveMarks reads many. */
  private async resolveMark(item: FindingItem | undefined): Promise<FindingItem | undefined> {
    return item ? (await this.resolveMarks([item]))[0] : undefined;
  }

  private async getRaw(key: string): Promise<FindingItem | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { [A.key]: key }, ConsistentRead: true }),
    );
    return result.Item as FindingItem | undefined;
  }

  /** Items for many keys (BatchGetItem, 100 a call, unprocessed keys retried). */
  async getMany(keys: readonly string[]): Promise<Map<string, FindingItem>> {
    const items = await this.getManyRaw(keys);
    for (const item of await this.resolveMarks([...items.values()])) items.set(item.findingKey, item);
    return items;
  }

  private async getManyRaw(keys: readonly string[]): Promise<Map<string, FindingItem>> {
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
   * Storm members are marked a delivery at a time: a member whose delivery (`markedWith`) its group
   * lists in `markedDeliveries` is read as NOTIFIED, with the copies that delivery marked added to
   * any marked since (a twin from the other Security Hub). Every read of finding items goes
   * through here.
   */
  private async resolveMarks(items: readonly FindingItem[]): Promise<FindingItem[]> {
    const linked = items.filter((item) => item.markedWith && item.deliveredWith?.startsWith('group|'));
    if (linked.length === 0) return [...items];
    const groups = await this.getManyRaw(linked.map((item) => item.deliveredWith as string));
    return items.map((item) => {
      const group = item.deliveredWith ? (groups.get(item.deliveredWith) as Partial<GroupItem>) : undefined;
      if (!item.markedWith || !group?.markedDeliveries?.has(item.markedWith)) return item;
      const uids = [...(item.ocsfUids ?? []), ...(item.pendingUids ?? [])];
      return {
        ...item,
        status: isNotified(item.status) ? item.status : 'NOTIFIED',
        ...(item.markedAt || group.markedAt ? { markedAt: item.markedAt ?? group.markedAt } : {}),
        markedCopies: new Set([...(item.markedCopies ?? []), ...(item.pendingCopies ?? [])]),
        ...(uids.length > 0 ? { ocsfUids: new Set(uids) } : {}),
      };
    });
  }

  // --- effects: one claim item per external effect --------------------------------------------------

  /**
   * The claim also records this attempt as about to act when no earlier one did (one write, not
   * two: the caller acts right after it); an earlier attempt's time is kept and returned.
   */
  async claimEffect(effectId: string, token: string): Promise<EffectClaim> {
    return this.claimItem(effectKey(effectId), token, true);
  }

  /**
   * One claim item (an effect's, a Backlog activity's): taken for `token` unless done, or held by
   * another token that is not stale yet.
   */
  private async claimItem(key: string, token: string, attempt = false): Promise<EffectClaim> {
    const now = this.now();
    const attemptAt = attempt ? `, ${A.attemptAt} = if_not_exists(${A.attemptAt}, :now)` : '';
    try {
      const result = await this.update(key, {
        UpdateExpression: `SET ${A.claimToken} = :token, ${A.claimedAt} = :now, ${A.expiresAt} = :exp${attemptAt}`,
        ConditionExpression: `attribute_not_exists(${A.doneAt}) AND (attribute_not_exists(${A.claimToken}) OR ${A.claimToken} = :token OR ${A.claimedAt} < :stale)`,
        ExpressionAttributeValues: {
          ':token': token,
          ':now': now.toISOString(),
          ':stale': new Date(now.getTime() - this.claimStaleMs).toISOString(),
          ':exp': this.expiry(now, CLAIM_RETENTION_SECONDS),
        },
        ReturnValues: 'ALL_OLD',
      });
      const previous = result.Attributes as ClaimItem | undefined;
      return previous?.attemptAt
        ? { state: 'claimed', attemptedAt: previous.attemptAt }
        : { state: 'claimed' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = (await this.getRaw(key)) as ClaimItem | undefined;
      return current?.doneAt ? { state: 'done', result: current.result ?? {} } : { state: 'held' };
    }
  }

  async recordEffectAttempt(effectId: string, token: string): Promise<void> {
    try {
      await this.update(effectKey(effectId), {
        UpdateExpression: `SET ${A.attemptAt} = :now`,
        ConditionExpression: `${A.claimToken} = :token`,
        ExpressionAttributeValues: { ':now': this.now().toISOString(), ':token': token },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new LedgerError(`the claim on ${effectId} was lost before acting (a stale claim taken over)`, {
        cause: error,
      });
    }
  }

  async completeEffect(effectId: string, result: Record<string, string>): Promise<void> {
    await this.completeItem(effectKey(effectId), result);
  }

  /** A claim item done: its result kept, the claim dropped. */
  private async completeItem(key: string, result: Record<string, string>): Promise<void> {
    const now = this.now();
    await this.update(key, {
      UpdateExpression: `SET ${A.doneAt} = :now, #result = :result, ${A.expiresAt} = :exp REMOVE ${A.claimToken}`,
      ExpressionAttributeNames: { '#result': A.result },
      ExpressionAttributeValues: {
        ':now': now.toISOString(),
        ':result': result,
        ':exp': this.expiry(now, CLAIM_RETENTION_SECONDS),
      },
    });
  }

  async releaseEffect(effectId: string, token: string): Promise<void> {
    await this.releaseItem(effectKey(effectId), token);
  }

  /** Give a claim item back, if `token` still holds it. */
  private async releaseItem(key: string, token: string): Promise<void> {
    try {
      await this.update(key, {
        UpdateExpression: `REMOVE ${A.claimToken}, ${A.claimedAt}`,
        ConditionExpression: `${A.claimToken} = :token`,
        ExpressionAttributeValues: { ':token': token },
      });
    } catch (error) {
      ignoreConditionFailure(error);
    }
  }

  // --- deliveries ---------------------------------------------------------------------------------

  async recordIssue(
    key: string,
    issue: { key: string; url: string; id?: number },
    due?: IssueDue,
  ): Promise<void> {
    const now = this.now();
    const facts = due ? this.dueUpdate(due) : { set: '', names: {}, values: {} };
    const issueUpdate = (filed: boolean): Update => ({
      // Listed with the open issues (`byDay`, OPEN_ISSUES_DAY) from when it is filed.
      UpdateExpression: `SET ${A.issueKey} = :key, ${A.issueUrl} = :url, ${A.issueId} = :id, ${A.filedAt} = :now, ${A.eventDay} = :open, ${A.eventAt} = :now, ${A.expiresAt} = :exp${facts.set}${filed ? ', #status = :filed' : ''}`,
      ConditionExpression: `(attribute_not_exists(${A.issueKey}) OR ${A.issueKey} = :key)${filed ? ' AND (attribute_not_exists(#status) OR #status IN (:claimed, :posted))' : ''}`,
      ...(due || filed
        ? { ExpressionAttributeNames: { ...facts.names, ...(filed ? { '#status': A.status } : {}) } }
        : {}),
      ExpressionAttributeValues: {
        ':key': issue.key,
        ':url': issue.url,
        ':id': issue.id,
        ':now': now.toISOString(),
        ':open': OPEN_ISSUES_DAY,
        ':exp': this.expiry(now),
        ...facts.values,
        ...(filed ? { ':filed': 'FILED', ':claimed': 'CLAIMED', ':posted': 'POSTED' } : {}),
      },
    });
    // Nothing filed before (or only the message, while Backlog was down): FILED now, the message
    // owed. Otherwise (delivered already, a repeat): the issue recorded, the status kept.
    try {
      await this.update(key, issueUpdate(true));
    } catch (error) {
      ignoreConditionFailure(error);
      await this.update(key, issueUpdate(false));
    }
  }

  async recordDue(key: string, due: IssueDue): Promise<void> {
    const facts = this.dueUpdate(due);
    await this.update(key, {
      UpdateExpression: `SET ${facts.set.slice(2)}`,
      ExpressionAttributeNames: facts.names,
      ExpressionAttributeValues: facts.values,
    });
  }

  /** `, #severity = :severity, #dueDate = :dueDate`: the severity always, the due date when there is one. */
  private dueUpdate(due: IssueDue) {
    const names: Record<string, string> = { '#severity': A.severity };
    const values: Record<string, string> = { ':severity': due.severity };
    let set = ', #severity = :severity';
    if (due.dueDate !== undefined) {
      names['#dueDate'] = A.dueDate;
      values[':dueDate'] = due.dueDate;
      set += ', #dueDate = :dueDate';
    }
    return { set, names, values };
  }

  async recordSlack(
    key: string,
    slack: { channel: string; ts: string; issueKey?: string | undefined },
    findingUpdatedAt: string,
    complete: boolean,
  ): Promise<void> {
    const now = this.now();
    const posted = slack.ts !== '';
    const message = posted ? `${A.slackChannel} = :channel, ${A.slackTs} = :ts, ` : '';
    const shows = slack.issueKey ? `${A.messageIssueKey} = :shows, ` : '';
    await this.update(key, {
      UpdateExpression: `SET ${message}${shows}${A.notifiedAt} = :now, ${A.findingUpdatedAt} = :updated, #status = :status, ${A.expiresAt} = :exp REMOVE ${A.lastError}`,
      ...(posted ? { ConditionExpression: `attribute_not_exists(${A.slackTs}) OR ${A.slackTs} = :ts` } : {}),
      ExpressionAttributeNames: { '#status': A.status },
      ExpressionAttributeValues: {
        ...(posted ? { ':channel': slack.channel, ':ts': slack.ts } : {}),
        ...(slack.issueKey ? { ':shows': slack.issueKey } : {}),
        ':now': now.toISOString(),
        ':updated': findingUpdatedAt,
        ':status': complete ? 'MARK_PENDING' : 'POSTED',
        ':exp': this.expiry(now),
      },
    });
  }

  /**
   * A reopen reached every destination: its version, one more reopen, the lifecycle open again, to
   * be marked again; a storm member counted as closed is uncounted in its group.
   */
  async recordReopen(key: string, findingUpdatedAt: string, group?: string): Promise<void> {
    const now = this.now();
    try {
      const result = await this.update(key, {
        UpdateExpression: `SET ${A.findingUpdatedAt} = :updated, ${A.lastReopenedAt} = :now, ${A.reopenCount} = if_not_exists(${A.reopenCount}, :zero) + :one, #status = :pending, ${A.lifecycle} = :open, ${A.expiresAt} = :exp REMOVE ${A.closedAt}, ${A.closedBecause}, ${A.closedBy}, ${A.closeTallied}, ${A.markedWith}`,
        ConditionExpression: `attribute_exists(${A.key}) AND ${A.findingUpdatedAt} <> :updated`,
        ExpressionAttributeNames: { '#status': A.status },
        ExpressionAttributeValues: {
          ':updated': findingUpdatedAt,
          ':now': now.toISOString(),
          ':zero': 0,
          ':one': 1,
          ':pending': 'MARK_PENDING',
          ':open': 'open',
          ':exp': this.expiry(now),
        },
        ReturnValues: 'ALL_OLD',
      });
      const before = result.Attributes as FindingItem | undefined;
      if (group && before?.closeTallied) {
        await this.update(group, {
          UpdateExpression: `ADD ${A.closedCount} :minus`,
          ExpressionAttributeValues: { ':minus': -1 },
        });
      }
      await this.markIssueOpen([key]);
      await this.recordEvents(
        [{ kind: 'reopened', finding: key, detail: { updatedAt: findingUpdatedAt } }],
        now,
      );
    } catch (error) {
      ignoreConditionFailure(error);
    }
  }

  /**
   * Ledger each member of a delivery to where it went, so a repeat of any of them files nothing and
   * a reopen of one comments on the issue it was filed under.
   */
  async recordMembers(members: ReadonlyArray<LedgeredMember>, where: MemberRecord): Promise<void> {
    const now = this.now();
    const group = where.deliveryKey.startsWith('group|');
    const items = members.map(
      (member): FindingItem => ({
        [A.key]: member.key,
        [A.status]: where.complete ? 'MARK_PENDING' : 'POSTED',
        [A.deliveredWith]: where.deliveryKey,
        [A.announcedIn]: where.deliveryKey,
        [A.announcedBy]: where.announcedBy,
        [A.issueKey]: where.issueKey,
        [A.issueUrl]: where.issueUrl,
        [A.slackChannel]: where.slackChannel,
        [A.slackTs]: where.slackTs,
        [A.notifiedAt]: now.toISOString(),
        [A.findingUpdatedAt]: member.updatedAt,
        [A.expiresAt]: this.expiry(now),
        // Marked with the whole delivery (recordDeliveryMarked): the copies it marks.
        ...(group && member.copies.length > 0
          ? { [A.markedWith]: where.announcedBy, [A.pendingCopies]: new Set(member.copies) }
          : {}),
        ...(group && member.ocsfUids.length > 0 ? { [A.pendingUids]: new Set(member.ocsfUids) } : {}),
      }),
    );
    await this.putAll(items as unknown as Record<string, unknown>[]);
  }

  /** BatchWriteItem puts, 25 a call, unprocessed items retried. */
  private async putAll(items: ReadonlyArray<Record<string, unknown>>): Promise<void> {
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

  /**
   * A delivery's members, claimed for announcing in one conditional write to the group's
   * announcement map (versioned: a racing claim reads again): the members no live delivery
   * announced yet. Idempotent: the same delivery gets what it got. One by one, when the map is
   * full or the group was opened before there was one.
   */
  async claimMembers(
    groupKey: string,
    claimant: string,
    keys: readonly string[],
    takeover: readonly string[],
    seen?: FindingItem,
  ): Promise<Set<string>> {
    const unique = [...new Set(keys)];
    const hashes = new Map(unique.map((key) => [key, memberHash(key)] as const));
    const hashOf = (key: string) => hashes.get(key) as string;
    for (let round = 0; round < ANNOUNCE_ROUNDS; round++) {
      // The group as the caller read it first (a stale map fails the versioned write: read again).
      const group = (round === 0 && seen?.findingKey === groupKey ? seen : await this.getRaw(groupKey)) as
        | Partial<GroupItem>
        | undefined;
      const legacy = group !== undefined && !group.announced && (group.memberCount ?? 0) > 0;
      if (!group || legacy) return this.claimEach(groupKey, claimant, unique, takeover);
      const announced = group.announced ?? {};
      const failed = new Set(takeover);
      const taken = new Set<string>();
      let size = 0;
      for (const [by, joined] of Object.entries(announced)) {
        size += joined.length / HASH_LENGTH;
        if (!failed.has(by) && by !== claimant) for (const hash of hashesOf(joined)) taken.add(hash);
      }
      const own = announced[claimant];
      if (own !== undefined || group.announceFull) {
        // Asked again (both tasks of a delivery ask), or the map is full: the map's answer, then
        // the members no delivery holds in it, one by one.
        const mine = new Set(hashesOf(own ?? ''));
        const inMap = unique.filter((key) => mine.has(hashOf(key)));
        if (!group.announceFull) return new Set(inMap);
        const rest = unique.filter((key) => !mine.has(hashOf(key)) && !taken.has(hashOf(key)));
        return new Set([...inMap, ...(await this.claimEach(groupKey, claimant, rest, takeover))]);
      }
      const won = unique.filter((key) => !taken.has(hashOf(key)));
      const full =
        size + won.length > this.announceMapCap ||
        Object.keys(announced).length + 1 > this.announcingDeliveriesCap;
      if (await this.writeAnnounced(groupKey, group.announceVersion, claimant, won.map(hashOf), full)) {
        return full ? this.claimEach(groupKey, claimant, won, takeover) : new Set(won);
      }
    }
    throw new ClaimHeldError(`the announcement map of ${groupKey} kept changing: ${ANNOUNCE_ROUNDS} tries`);
  }

  /** One versioned write of a group's announcement map (or of its being full); false when it moved on. */
  private async writeAnnounced(
    groupKey: string,
    version: number | undefined,
    claimant: string,
    hashes: readonly string[],
    full: boolean,
  ): Promise<boolean> {
    const first = version === undefined;
    const set = full
      ? `${A.announceFull} = :full`
      : first
        ? `${A.announced} = :map`
        : `${A.announced}.#claimant = :hashes`;
    try {
      await this.update(groupKey, {
        UpdateExpression: `SET ${set}, ${A.announceVersion} = :next`,
        ConditionExpression: `attribute_exists(${A.key}) AND ${first ? `attribute_not_exists(${A.announceVersion})` : `${A.announceVersion} = :version`}`,
        ...(!full && !first ? { ExpressionAttributeNames: { '#claimant': claimant } } : {}),
        ExpressionAttributeValues: {
          ':next': (version ?? 0) + 1,
          ...(first ? {} : { ':version': version }),
          ...(full
            ? { ':full': true }
            : first
              ? { ':map': { [claimant]: hashes.join('') } }
              : { ':hashes': hashes.join('') }),
        },
      });
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Members claimed one conditional write each (a full announcement map, a group from before it). */
  private async claimEach(
    groupKey: string,
    claimant: string,
    keys: readonly string[],
    takeover: readonly string[],
  ): Promise<Set<string>> {
    const won = new Set<string>();
    const failed = takeover.slice(0, 50).map((id, index) => [`:f${index}`, id] as const);
    const takeable =
      failed.length > 0 ? ` OR ${A.announcedBy} IN (${failed.map(([name]) => name).join(', ')})` : '';
    await inParallel(keys, async (key) => {
      try {
        await this.update(key, {
          UpdateExpression: `SET ${A.announcedIn} = :group, ${A.announcedBy} = :me, ${A.expiresAt} = :exp`,
          ConditionExpression: `attribute_not_exists(${A.announcedBy}) OR ${A.announcedBy} = :me OR ${A.announcedIn} <> :group${takeable}`,
          ExpressionAttributeValues: {
            ':group': groupKey,
            ':me': claimant,
            ':exp': this.expiry(this.now()),
            ...Object.fromEntries(failed),
          },
        });
        won.add(key);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
    return won;
  }

  // --- lifecycle -------------------------------------------------------------------------------------

  async tallyClosed(
    groupKey: string,
    deliveryId: string,
    memberKeys: readonly string[],
  ): Promise<CloseProgress> {
    let counted = 0;
    await inParallel([...new Set(memberKeys)], async (key) => {
      try {
        const result = await this.update(key, {
          UpdateExpression: `SET ${A.closeTallied} = :id`,
          ConditionExpression: `attribute_exists(${A.key}) AND (attribute_not_exists(${A.closeTallied}) OR ${A.closeTallied} = :id)`,
          ExpressionAttributeValues: { ':id': deliveryId },
          ReturnValues: 'ALL_OLD',
        });
        if ((result.Attributes as FindingItem | undefined)?.closeTallied !== deliveryId) counted += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
    const result = await this.update(groupKey, {
      UpdateExpression: `ADD ${A.closedCount} :n`,
      ExpressionAttributeValues: { ':n': counted },
      ReturnValues: 'ALL_NEW',
    });
    const group = result.Attributes as Partial<GroupItem> | undefined;
    return { closed: group?.closedCount ?? counted, total: group?.memberCount ?? 0 };
  }

  async recordClosed(memberKeys: readonly string[], reason: CloseReason, deliveryKey: string): Promise<void> {
    const now = this.now();
    const { because } = describeClose(reason);
    const state = stateAfter(reason);
    await inParallel([...new Set(memberKeys)], (key) =>
      this.update(key, {
        UpdateExpression: `SET ${A.lifecycle} = :state, ${A.closedAt} = :at, ${A.closedBecause} = :because${reason.by ? `, ${A.closedBy} = :by` : ''} REMOVE ${A.eventDay}, ${A.eventAt}`,
        ConditionExpression: `attribute_exists(${A.key})`,
        ExpressionAttributeValues: {
          ':state': state,
          ':at': reason.at,
          ':because': because.slice(0, 1000),
          ...(reason.by ? { ':by': reason.by.slice(0, 256) } : {}),
        },
      }).catch(ignoreConditionFailure),
    );
    await this.recordEvents(
      memberKeys.map((key) => ({
        kind: state === 'suppressed' ? 'suppressed' : 'closed',
        finding: key,
        detail: {
          because: because.slice(0, 1000),
          deliveryKey,
          ...(reason.by ? { by: reason.by.slice(0, 256) } : {}),
          ...(reason.note ? { note: reason.note.slice(0, 1000) } : {}),
          ...(reason.until ? { until: reason.until } : {}),
        },
      })),
      now,
    );
  }

  async recordGone(key: string, what: 'issue' | 'message'): Promise<void> {
    await this.update(key, {
      UpdateExpression: `SET ${what === 'issue' ? A.issueGoneAt : A.messageGoneAt} = :now`,
      ExpressionAttributeValues: { ':now': this.now().toISOString() },
    });
  }

  /** One lifecycle event item each (`event|<day>|…`), for the digest; they expire with the ledger. */
  async recordEvents(events: readonly LifecycleEvent[], now = this.now()): Promise<void> {
    const at = now.toISOString();
    const day = at.slice(0, 10);
    const items = events.map(
      (event, index): LifecycleEventItem => ({
        [A.key]: `event|${day}|${at}|${index}|${Math.random().toString(36).slice(2, 10)}`,
        [A.eventDay]: day,
        [A.eventAt]: at,
        [A.eventKind]: event.kind,
        [A.eventFinding]: event.finding,
        [A.eventDetail]: event.detail,
        [A.expiresAt]: this.expiry(now),
      }),
    );
    await this.putAll(items as unknown as Record<string, unknown>[]);
  }

  // --- marking --------------------------------------------------------------------------------------

  async recordMarked(marked: ReadonlyArray<{ key: string; copy?: string; ocsfUid?: string }>): Promise<void> {
    const now = this.now();
    // One write per item: its copies (and a delivery's own item, when it is a member too) together.
    const byKey = new Map<string, { copies: Set<string>; uids: Set<string> }>();
    for (const { key, copy, ocsfUid } of marked) {
      const entry = byKey.get(key) ?? { copies: new Set<string>(), uids: new Set<string>() };
      if (copy) entry.copies.add(copy);
      if (ocsfUid) entry.uids.add(ocsfUid);
      byKey.set(key, entry);
    }
    const first: string[] = [];
    await inParallel([...byKey], async ([key, { copies, uids }]) => {
      const added = [
        copies.size > 0 ? `${A.markedCopies} :copy` : '',
        uids.size > 0 ? `${A.ocsfUids} :uid` : '',
      ].filter(Boolean);
      try {
        const result = await this.update(key, {
          UpdateExpression: `SET #status = :notified, ${A.markedAt} = :now${added.length > 0 ? ` ADD ${added.join(', ')}` : ''} REMOVE ${A.markError}, ${A.markFailedAt}`,
          ConditionExpression: `attribute_exists(${A.key})`,
          ExpressionAttributeNames: { '#status': A.status },
          ExpressionAttributeValues: {
            ':notified': 'NOTIFIED',
            ':now': now.toISOString(),
            ...(copies.size > 0 ? { ':copy': copies } : {}),
            ...(uids.size > 0 ? { ':uid': uids } : {}),
          },
          ReturnValues: 'ALL_OLD',
        });
        const before = (result.Attributes as FindingItem | undefined)?.status;
        if (before !== 'NOTIFIED' && !key.startsWith('group|')) first.push(key);
      } catch (error) {
        ignoreConditionFailure(error);
      }
    });
    await this.recordEvents(
      first.map((key) => ({ kind: 'notified', finding: key, detail: {} })),
      now,
    );
  }

  /**
   * Every member of a storm delivery was marked: one write to its group (the delivery listed in
   * `markedDeliveries`, the group NOTIFIED); the members it announced read as NOTIFIED from then on
   * (resolveMarks). Their events are recorded the first time only.
   */
  async recordDeliveryMarked(
    groupKey: string,
    deliveryId: string,
    memberKeys: readonly string[],
  ): Promise<boolean> {
    const now = this.now();
    let before: Partial<GroupItem> | undefined;
    try {
      const result = await this.update(groupKey, {
        UpdateExpression: `SET #status = :notified, ${A.markedAt} = :now ADD ${A.markedDeliveries} :delivery REMOVE ${A.markError}, ${A.markFailedAt}`,
        // The group exists and has room (or holds this delivery already: a retried mark).
        ConditionExpression: `attribute_exists(${A.key}) AND (attribute_not_exists(${A.markedDeliveries}) OR size(${A.markedDeliveries}) < :cap OR contains(${A.markedDeliveries}, :id))`,
        ExpressionAttributeNames: { '#status': A.status },
        ExpressionAttributeValues: {
          ':notified': 'NOTIFIED',
          ':now': now.toISOString(),
          ':delivery': new Set([deliveryId]),
          ':cap': this.markedDeliveriesCap,
          ':id': deliveryId,
        },
        ReturnValues: 'ALL_OLD',
      });
      before = result.Attributes as Partial<GroupItem> | undefined;
    } catch (error) {
      ignoreConditionFailure(error);
      return false;
    }
    if (before?.markedDeliveries?.has(deliveryId)) return true;
    const announced = before?.announced?.[deliveryId];
    const own = new Set(hashesOf(announced ?? ''));
    const first = announced
      ? memberKeys.filter((key) => own.has(memberHash(key)))
      : [...(await this.getManyRaw(memberKeys)).values()]
          .filter((item) => item.markedWith === deliveryId)
          .map((item) => item.findingKey);
    // One event item per NOTIFIED_PER_EVENT members, not one per member (the digest expands them).
    await this.recordEvents(
      chunk(first, NOTIFIED_PER_EVENT).map(
        (keys): LifecycleEvent => ({
          kind: 'notified',
          finding: keys[0] as string,
          detail: keys.length > 1 ? { [NOTIFIED_FINDINGS]: JSON.stringify(keys) } : {},
        }),
      ),
      now,
    );
    return true;
  }

  async recordMarkFailure(keys: readonly string[], error: string): Promise<void> {
    const now = this.now().toISOString();
    await inParallel([...new Set(keys)], (key) =>
      this.update(key, {
        UpdateExpression: `SET ${A.markError} = :error, ${A.markFailedAt} = :now`,
        ConditionExpression: `attribute_exists(${A.key})`,
        ExpressionAttributeValues: { ':error': error.slice(0, 1000), ':now': now },
      }).catch(ignoreConditionFailure),
    );
  }

  async readDelivery(
    key: string,
    destination: 'backlog' | 'slack',
  ): Promise<{ entry?: FindingItem; down?: { execution: string; reason: string } }> {
    const circuit = destinationKey(destination);
    const items = await this.getManyRaw([key, circuit]);
    const health = items.get(circuit) as DestinationItem | undefined;
    const entry = await this.resolveMark(items.get(key));
    return {
      ...(entry ? { entry } : {}),
      ...(health?.downExecution
        ? { down: { execution: health.downExecution, reason: health.downReason ?? 'failed' } }
        : {}),
    };
  }

  // --- the loop from Backlog: activities, an issue's items, reopens -------------------------------

  async claimActivity(activityId: number, token: string): Promise<ActivityClaim> {
    return (await this.claimItem(activityKey(activityId), token)).state;
  }

  async completeActivity(activityId: number, result: Record<string, string>): Promise<void> {
    await this.completeItem(activityKey(activityId), result);
  }

  async releaseActivity(activityId: number, token: string): Promise<void> {
    await this.releaseItem(activityKey(activityId), token);
  }

  /** Query the sparse `byIssueKey` index (every page): the items filed under the issue. */
  async findByIssueKey(issueKey: string): Promise<FindingItem[]> {
    const items: FindingItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: LEDGER_ISSUE_INDEX,
          KeyConditionExpression: `${A.issueKey} = :key`,
          ExpressionAttributeValues: { ':key': issueKey },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...((page.Items ?? []) as FindingItem[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return this.resolveMarks(items);
  }

  async recordReopenedBy(keys: readonly string[], why: Record<string, string>): Promise<string[]> {
    const now = this.now();
    const reopened: string[] = [];
    await inParallel([...new Set(keys)], async (key) => {
      try {
        const result = await this.update(key, {
          UpdateExpression: `SET ${A.lifecycle} = :open, ${A.lastReopenedAt} = :now, ${A.reopenCount} = if_not_exists(${A.reopenCount}, :zero) + :one, ${A.expiresAt} = :exp REMOVE ${A.closedAt}, ${A.closedBecause}, ${A.closedBy}, ${A.closeTallied}`,
          ConditionExpression: `attribute_exists(${A.key}) AND ${A.lifecycle} IN (:closed, :suppressed)`,
          ExpressionAttributeValues: {
            ':open': 'open',
            ':closed': 'closed',
            ':suppressed': 'suppressed',
            ':now': now.toISOString(),
            ':zero': 0,
            ':one': 1,
            ':exp': this.expiry(now),
          },
          ReturnValues: 'ALL_OLD',
        });
        const before = result.Attributes as FindingItem | undefined;
        if (before?.closeTallied && before.deliveredWith?.startsWith('group|')) {
          await this.update(before.deliveredWith, {
            UpdateExpression: `ADD ${A.closedCount} :minus`,
            ExpressionAttributeValues: { ':minus': -1 },
          });
        }
        reopened.push(key);
      } catch (error) {
        ignoreConditionFailure(error);
      }
    });
    await this.markIssueOpen(reopened);
    await this.recordEvents(
      reopened.map((key) => ({ kind: 'reopened', finding: key, detail: why })),
      now,
    );
    return reopened;
  }

  // --- acting from Slack: acknowledgements and suppressions that expire -----------------------------

  async recordAcknowledged(keys: readonly string[], by: string, at: string): Promise<void> {
    await inParallel([...new Set(keys)], (key) =>
      this.update(key, {
        UpdateExpression: `SET ${A.acknowledgedBy} = :by, ${A.acknowledgedAt} = :at`,
        ConditionExpression: `attribute_exists(${A.key})`,
        ExpressionAttributeValues: { ':by': by.slice(0, 256), ':at': at },
      }).catch(ignoreConditionFailure),
    );
  }

  /** Each finding suppressed until `until`, and listed in that day's expiry item for the sweep. */
  async recordSuppressionExpiry(keys: readonly string[], until: string): Promise<void> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return;
    await inParallel(unique, (key) =>
      this.update(key, {
        UpdateExpression: `SET ${A.suppressedUntil} = :until`,
        ConditionExpression: `attribute_exists(${A.key})`,
        ExpressionAttributeValues: { ':until': until },
      }).catch(ignoreConditionFailure),
    );
    await this.update(expiryKey(until), {
      UpdateExpression: `SET ${A.expiresAt} = :exp ADD ${A.dueFindings} :keys`,
      ExpressionAttributeValues: { ':keys': new Set(unique), ':exp': this.expiry(this.now()) },
    });
  }

  async dueSuppressions(day: string): Promise<string[]> {
    const item = (await this.getRaw(expiryKey(day))) as { dueFindings?: Set<string> } | undefined;
    return [...(item?.dueFindings ?? [])];
  }

  async clearSuppressionExpiry(day: string, keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return;
    await inParallel(unique, (key) =>
      this.update(key, {
        UpdateExpression: `REMOVE ${A.suppressedUntil}`,
        ConditionExpression: `${A.suppressedUntil} = :day`,
        ExpressionAttributeValues: { ':day': day },
      }).catch(ignoreConditionFailure),
    );
    await this.update(expiryKey(day), {
      UpdateExpression: `DELETE ${A.dueFindings} :keys`,
      ExpressionAttributeValues: { ':keys': new Set(unique) },
    });
  }

  // --- storm groups ---------------------------------------------------------------------------------

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
      A.messageIssueKey,
      A.failedAt,
      A.failedDeliveries,
      A.retakenAt,
      A.announced,
      A.announceVersion,
      A.announceFull,
    ];
    try {
      await this.update(groupKey, {
        UpdateExpression: `SET ${A.openedBy} = :token, ${A.openedAt} = :now, ${A.lastActivityAt} = :now, ${A.memberCount} = :zero, #status = :opening, ${A.expiresAt} = :exp REMOVE ${cleared.join(', ')}`,
        ConditionExpression: `attribute_not_exists(${A.key}) OR ${A.lastActivityAt} < :windowStart OR (NOT #status IN (:pending, :notified, :delivered) AND ${A.openedAt} < :openingStale)`,
        ExpressionAttributeNames: { '#status': A.status },
        ExpressionAttributeValues: {
          ':token': token,
          ':now': now.toISOString(),
          ':zero': 0,
          ':opening': 'CLAIMED',
          ':pending': 'MARK_PENDING',
          ':notified': 'NOTIFIED',
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

  /** A group whose opening failed, taken up by `token`: its issue and opening are kept. */
  async retakeGroup(groupKey: string, token: string): Promise<boolean> {
    const now = this.now();
    try {
      await this.update(groupKey, {
        UpdateExpression: `SET ${A.retakenAt} = :now, ${A.lastActivityAt} = :now, ${A.retakenBy} = :token REMOVE ${A.failedAt}`,
        ConditionExpression: `attribute_exists(${A.failedAt}) AND ${A.failedAt} >= ${A.openedAt} AND NOT #status IN (:pending, :notified, :delivered)`,
        ExpressionAttributeNames: { '#status': A.status },
        ExpressionAttributeValues: {
          ':now': now.toISOString(),
          ':token': token,
          ':pending': 'MARK_PENDING',
          ':notified': 'NOTIFIED',
          ':delivered': 'DELIVERED',
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
      const delivered =
        Boolean(item.slackTs) || (item.status !== undefined && DELIVERED_STATUSES.has(item.status));
      groups.set(key, {
        key,
        memberCount: item.memberCount ?? 0,
        lastActivityAt: item.lastActivityAt ?? '',
        openedAt: item.openedAt ?? '',
        delivered,
        failed: !delivered && Boolean(item.failedAt) && (item.failedAt ?? '') >= (item.openedAt ?? ''),
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

  /**
   * The items among `keys` that hold an issue (they carry `filedAt`) are open: in the `byDay` index
   * under the pseudo-day `OPEN_ISSUES_DAY`, sorted by when filed, until recordClosed takes them out.
   */
  private async markIssueOpen(keys: readonly string[]): Promise<void> {
    await inParallel([...new Set(keys)], (key) =>
      this.update(key, {
        UpdateExpression: `SET ${A.eventDay} = :open, ${A.eventAt} = ${A.filedAt}`,
        ConditionExpression: `attribute_exists(${A.filedAt})`,
        ExpressionAttributeValues: { ':open': OPEN_ISSUES_DAY },
      }).catch(ignoreConditionFailure),
    );
  }

  private update(key: string, update: Update) {
    return this.doc.send(new UpdateCommand({ TableName: this.table, Key: { [A.key]: key }, ...update }));
  }

  private expiry(now: Date, seconds = RETENTION_SECONDS): number {
    return Math.floor(now.getTime() / 1000) + seconds;
  }
}

function ignoreConditionFailure(error: unknown): void {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
}

/** Run `task` over `items`, at most PARALLEL_WRITES at once. */
async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, items.length) }, worker));
}

/** Before a retry of unprocessed items: a short exponential wait; past the last attempt, an error. */
async function backOff(attempt: number, failure: string): Promise<void> {
  if (attempt === 0) return;
  if (attempt > MAX_UNPROCESSED_ATTEMPTS) throw new LedgerError(failure);
  await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
}
