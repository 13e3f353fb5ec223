import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DigestLedger, EffectClaim } from '../app/ports.js';
import {
  LEDGER_ATTRIBUTES as A,
  type FindingItem,
  identifierOfKey,
  isOpenLifecycle,
  LAST_DIGEST_KEY,
  LEDGER_DAY_INDEX,
  type LifecycleEventItem,
  NOTIFIED_FINDINGS,
  OPEN_ISSUES_DAY,
} from '../domain/delivery/ledger-items.js';
import type { DigestEventRecord, IssueRef, OpenIssue, StoredDigest } from '../domain/digest/digest.js';
import { Ledger, type LedgerOptions } from './ledger.js';

/** The longest stretch of days read for events (a digest missed for weeks lists the last five). */
export const MAX_EVENT_DAYS = 35;
const DAY_MS = 86_400_000;

/**
 * The digest's view of the DynamoDB ledger: its lifecycle events by day (`byDay`), the open issues
 * (that index's pseudo-day `open-issue`), the issue each finding went to, and the last digest
 * posted (`digest|last`). Effect claims (one post per channel and run) are the ledger's own.
 */
export class DigestLedgerStore implements DigestLedger {
  private readonly doc: DynamoDBDocumentClient;
  private readonly ledger: Ledger;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    options: LedgerOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.ledger = new Ledger(client, table, options);
  }

  claimEffect(effectId: string, token: string): Promise<EffectClaim> {
    return this.ledger.claimEffect(effectId, token);
  }
  recordEffectAttempt(effectId: string, token: string): Promise<void> {
    return this.ledger.recordEffectAttempt(effectId, token);
  }
  completeEffect(effectId: string, result: Record<string, string>): Promise<void> {
    return this.ledger.completeEffect(effectId, result);
  }
  releaseEffect(effectId: string, token: string): Promise<void> {
    return this.ledger.releaseEffect(effectId, token);
  }

  async lastDigest(): Promise<StoredDigest | undefined> {
    const { Item: item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { [A.key]: LAST_DIGEST_KEY }, ConsistentRead: true }),
    );
    if (!item || typeof item[A.digestAt] !== 'string') return undefined;
    return {
      at: item[A.digestAt],
      run: String(item[A.digestRun] ?? ''),
      counts: (item[A.digestCounts] ?? {}) as Record<string, number[]>,
      suppressed: Number(item[A.digestSuppressed] ?? 0),
    };
  }

  async recordDigest(digest: StoredDigest): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [A.key]: LAST_DIGEST_KEY },
          UpdateExpression: `SET ${A.digestAt} = :at, ${A.digestRun} = :run, ${A.digestCounts} = :counts, ${A.digestSuppressed} = :suppressed`,
          ConditionExpression: `attribute_not_exists(${A.digestAt}) OR ${A.digestAt} <= :at`,
          ExpressionAttributeValues: {
            ':at': digest.at,
            ':run': digest.run,
            ':counts': digest.counts,
            ':suppressed': digest.suppressed,
          },
        }),
      );
    } catch (error) {
      // A later digest was recorded meanwhile: it stays what the next one compares with.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async eventsBetween(since: Date, until: Date): Promise<DigestEventRecord[]> {
    const from = new Date(Math.max(since.getTime(), until.getTime() - MAX_EVENT_DAYS * DAY_MS));
    const events: DigestEventRecord[] = [];
    for (const day of daysFrom(from, until)) {
      for (const item of await this.query<LifecycleEventItem>({
        IndexName: LEDGER_DAY_INDEX,
        KeyConditionExpression: `${A.eventDay} = :day AND ${A.eventAt} BETWEEN :from AND :to`,
        ExpressionAttributeValues: { ':day': day, ':from': from.toISOString(), ':to': until.toISOString() },
      })) {
        // BETWEEN is inclusive: an event at the previous digest's instant was listed by it.
        if (item.eventAt === from.toISOString() && from.getTime() === since.getTime()) continue;
        const { [NOTIFIED_FINDINGS]: many, ...detail } = stringMap(item.eventDetail);
        // A storm delivery's members notified together are one item: one record each.
        for (const finding of many ? findingsOf(many, item.eventFinding) : [item.eventFinding]) {
          events.push({ kind: item.eventKind, finding, at: item.eventAt, detail });
        }
      }
    }
    return events;
  }

  /**
   * The items of the `byDay` index's pseudo-day `OPEN_ISSUES_DAY`. A storm group's issue closed in Backlog keeps its mark
   * (the activity closes the group's findings, not the group's item): a group is kept only while
   * one of its findings is open.
   */
  async openIssues(): Promise<OpenIssue[]> {
    const items = await this.query<Partial<FindingItem> & { severity?: string; dueDate?: string }>({
      IndexName: LEDGER_DAY_INDEX,
      KeyConditionExpression: `${A.eventDay} = :open`,
      ExpressionAttributeValues: { ':open': OPEN_ISSUES_DAY },
    });
    const open: OpenIssue[] = [];
    for (const item of items) {
      if (!item.issueKey || !item.filedAt || !item.findingKey) continue;
      if (item.findingKey.startsWith('group|') && !(await this.anyFindingOpen(item.issueKey))) continue;
      open.push({
        item: item.findingKey,
        key: item.issueKey,
        filedAt: item.filedAt,
        ...(item.issueUrl ? { url: item.issueUrl } : {}),
        ...(typeof item.severity === 'string' ? { severity: item.severity } : {}),
        ...(typeof item.dueDate === 'string' ? { dueDate: item.dueDate } : {}),
      });
    }
    return open;
  }

  /** Only findings' and groups' items hold issues (and only those may the digest's role read). */
  async issueRefs(keys: readonly string[]): Promise<Map<string, IssueRef>> {
    const refs = new Map<string, IssueRef>();
    const holders = keys.filter((key) => key.startsWith('arn:') || key.startsWith('group|'));
    for (const [key, item] of await this.ledger.getMany(holders)) {
      if (item.issueKey)
        refs.set(key, { key: item.issueKey, ...(item.issueUrl ? { url: item.issueUrl } : {}) });
    }
    return refs;
  }

  private async anyFindingOpen(issueKey: string): Promise<boolean> {
    const items = await this.ledger.findByIssueKey(issueKey);
    return items.some((item) => identifierOfKey(item.findingKey) !== undefined && isOpenLifecycle(item));
  }

  /** Every page of an index query. */
  private async query<T>(input: {
    IndexName: string;
    KeyConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
  }): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ TableName: this.table, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      items.push(...((page.Items ?? []) as T[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

/** The UTC days (YYYY-MM-DD) from one instant to another, both included. */
export function daysFrom(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let t = Date.parse(from.toISOString().slice(0, 10)); t <= to.getTime(); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** The findings a `notified` event stands for (its JSON list), or its own finding if unreadable. */
function findingsOf(list: string, own: string): string[] {
  try {
    const parsed: unknown = JSON.parse(list);
    if (Array.isArray(parsed) && parsed.every((key) => typeof key === 'string')) return parsed;
  } catch {
    // fall through
  }
  return [own];
}
