/**
 * Use case: the daily triage digest. Reads the counts from Security Hub's own aggregation (never by
 * paging findings), the previous digest, the lifecycle events since it and the open issues from the
 * ledger; posts one digest to each target channel, once per run whatever the retries (each post is
 * an effect claimed in the ledger and carries metadata to find it after a lost answer); then
 * records what it posted, so the next digest shows the changes. A dry run renders the same
 * digests and posts and records nothing. Any failure (an unreadable insight, Slack refusing) is
 * thrown: the invocation fails, naming what to fix.
 */
import { shortHash } from '../domain/delivery/delivery.js';
import type { CountsSnapshot } from '../domain/digest/counts.js';
import {
  buildDigest,
  type Digest,
  dateIn,
  forAccounts,
  keysToLookUp,
  storedDigest,
} from '../domain/digest/digest.js';
import {
  buildDigestMessage,
  type DigestMessageOptions,
  type DigestSlackMessage,
} from '../domain/digest/digest-message.js';
import { renderDigestText } from '../domain/digest/digest-text.js';
import type { DigestTarget } from '../domain/digest/targets.js';
import { exactlyOnce } from './exactly-once.js';
import type { Chat, Clock, DigestLedger, FindingCounter, Log, Timing } from './ports.js';

export interface DigestPorts {
  counter: FindingCounter;
  ledger: DigestLedger;
  chat: Chat;
  clock: Clock;
  log: Log;
  timing: Timing;
}

export interface DigestOptions {
  targets: readonly DigestTarget[];
  accountNames: Readonly<Record<string, string>>;
  homeRegion: string;
  timeZone: string;
  maxAccounts: number;
  listItems: number;
}

export interface DigestRequest {
  /** The run (the schedule's time): one post per channel and run, whatever the retries. */
  run: string;
  /** This attempt (the Lambda request): holds the claims while it posts. */
  attempt: string;
  dryRun?: boolean;
}

export interface DigestPost {
  channel: string;
  message: DigestSlackMessage;
  /** The same digest as plain text (what a dry run prints). */
  text: string;
  /** `now`, `before` (an earlier attempt of the run posted it), `found` (its answer was lost), `dry-run`. */
  posted: 'now' | 'before' | 'found' | 'dry-run';
  ts?: string;
}

export interface DigestOutcome {
  digest: Digest;
  posts: DigestPost[];
}

const DAY_MS = 86_400_000;

export async function postDigest(
  request: DigestRequest,
  options: DigestOptions,
  ports: DigestPorts,
): Promise<DigestOutcome> {
  const { digest, snapshot } = await readDigest(options, ports);
  const posts: DigestPost[] = [];
  for (const target of options.targets) posts.push(await postTo(target, digest, request, options, ports));
  if (!request.dryRun) await ports.ledger.recordDigest(storedDigest(digest, snapshot, request.run));
  ports.log.info(request.dryRun ? 'digest rendered (dry run)' : 'digest posted', {
    run: request.run,
    source: digest.source,
    accounts: digest.total.accounts,
    total: digest.total.counts,
    posts: posts.map(({ channel, posted, ts }) => ({ channel, posted, ts })),
  });
  return { digest, posts };
}

/** Step 1: the counts, the previous digest, the events since it and the open issues, as a digest. */
async function readDigest(
  options: DigestOptions,
  ports: DigestPorts,
): Promise<{ digest: Digest; snapshot: CountsSnapshot }> {
  const at = ports.clock.now();
  const [snapshot, previous, openIssues] = await Promise.all([
    ports.counter.read(),
    ports.ledger.lastDigest(),
    ports.ledger.openIssues(),
  ]);
  // A missed day compares with the last digest posted; the first one lists the last day's events.
  const since = previous ? new Date(previous.at) : new Date(at.getTime() - DAY_MS);
  const events = await ports.ledger.eventsBetween(since, at);
  const issues = await ports.ledger.issueRefs(keysToLookUp(events));
  const digest = buildDigest({
    snapshot,
    ...(previous ? { previous } : {}),
    events,
    issues,
    openIssues,
    accountNames: options.accountNames,
    homeRegion: options.homeRegion,
    at,
    today: dateIn(at, options.timeZone),
    oldestCount: options.listItems,
  });
  return { digest, snapshot };
}

/** Step 2: one target's digest rendered, and posted once for the run. */
async function postTo(
  target: DigestTarget,
  whole: Digest,
  request: DigestRequest,
  options: DigestOptions,
  ports: DigestPorts,
): Promise<DigestPost> {
  const digest = target.accounts ? forAccounts(whole, target.accounts) : whole;
  const layout: DigestMessageOptions = {
    maxAccounts: options.maxAccounts,
    listItems: options.listItems,
    timeZone: options.timeZone,
    ...(target.scope ? { scope: target.scope } : {}),
  };
  const message = buildDigestMessage(digest, layout);
  const text = renderDigestText(digest, layout);
  if (request.dryRun) return { channel: target.channel, message, text, posted: 'dry-run' };
  const postId = shortHash(`digest|${request.run}|${target.channel}`, 32);
  const { result, done } = await exactlyOnce(
    {
      id: `post|${postId}`,
      what: `the digest ${request.run} to ${target.channel}`,
      find: (attemptedAt) =>
        ports.chat.findPost(target.channel, postId, new Date(attemptedAt.getTime() - 60_000)),
      act: () => ports.chat.post({ channel: target.channel, ...message, postId }),
      encode: (posted) => ({ channel: posted.channel, ts: posted.ts }),
      decode: (posted) => ({ channel: posted.channel ?? '', ts: posted.ts ?? '' }),
    },
    { ledger: ports.ledger, token: request.attempt, timing: ports.timing, clock: ports.clock },
  );
  return { channel: target.channel, message, text, posted: done, ts: result.ts };
}
