import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ClaimHeldError, Ledger } from '../adapters/ledger.js';
import { SlackPoster } from '../adapters/slack.js';
import { makeSecret } from '../config/secrets.js';
import { loadSlackSettings } from '../config/settings.js';
import { type Delivery, type IssueRef, memberKey, type SlackRef } from '../domain/delivery.js';
import { buildSlackDeliveryMessage } from '../domain/group-message.js';
import type { SlackMessage } from '../domain/slack-message.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';
import { type PostMessageInput, parsePostMessageInput } from './task-input.js';

type LedgerPort = Pick<
  Ledger,
  | 'get'
  | 'claim'
  | 'recordSlack'
  | 'claimReopen'
  | 'recordReopen'
  | 'recordMembers'
  | 'touchGroup'
  | 'appendApplied'
  | 'recordAppend'
>;

export interface PostMessageDeps {
  ledger: () => LedgerPort;
  slack: () => Pick<SlackPoster, 'post'>;
  /** The default channel; a delivery's route overrides it. */
  channel: () => string;
  logger: Logger;
}

/** Security Hub's Note (at most 512 characters): where the finding was delivered. */
export function deliveryNote(issue: IssueRef, slack: { channel: string; ts: string } | undefined): string {
  const parts = [
    issue.key ? `Backlog ${issue.key} ${issue.url}` : undefined,
    slack?.ts ? `Slack ${slack.channel} ${slack.ts}` : undefined,
  ].filter(Boolean);
  return `Notified by securityhub-notifier. ${parts.join(' ') || 'Delivered.'}`.slice(0, 512);
}

function request(message: SlackMessage, channel: string, thread?: { ts: string; broadcast: boolean }) {
  return {
    channel,
    text: message.text,
    blocks: message.blocks,
    attachments: message.attachments,
    ...(thread ? { threadTs: thread.ts, replyBroadcast: thread.broadcast } : {}),
  };
}

/** The members other than the ledger item the delivery itself is recorded under. */
function otherMembers(delivery: Delivery) {
  return delivery.members
    .map((member) => ({ key: memberKey(member), updatedAt: member.updatedAt }))
    .filter((member) => member.key !== delivery.deliveryKey);
}

/**
 * Post the Slack message for a delivery once, then ledger it and every finding it covers. A recorded
 * ts is reused; a live claim by another execution is waited for (the workflow retries). A reopen is a
 * reply in the original thread, broadcast to the channel; an append to an open group, a reply in the
 * group's thread.
 */
export async function postMessage(
  input: PostMessageInput,
  deps: PostMessageDeps,
): Promise<SlackRef & { note: string }> {
  const { delivery, issue, execution } = input;
  const { finding } = delivery;
  const ledger = deps.ledger();
  const token = `${execution}/${delivery.deliveryId}`;
  const entry = await ledger.get(delivery.deliveryKey);
  const issueLink = issue.key ? { key: issue.key, url: issue.url } : undefined;
  const context = issueLink ? { issue: issueLink } : {};
  const done = (ref: SlackRef): SlackRef & { note: string } => ({ ...ref, note: deliveryNote(issue, ref) });

  if (delivery.mode === 'append') {
    if (!entry?.slackTs || !entry.slackChannel) {
      if (delivery.destinations.slack) {
        throw new ClaimHeldError(
          `group ${delivery.deliveryKey} has no message yet: its first delivery is still running`,
        );
      }
    } else if (delivery.destinations.slack && !ledger.appendApplied(entry, 'posted', delivery.deliveryId)) {
      const message = buildSlackDeliveryMessage(delivery, context);
      await deps.slack().post(request(message, entry.slackChannel, { ts: entry.slackTs, broadcast: false }));
      await ledger.recordAppend(delivery.deliveryKey, 'posted', delivery.deliveryId);
    }
    const where = {
      issueKey: issue.key,
      issueUrl: issue.url,
      slackChannel: entry?.slackChannel,
      slackTs: entry?.slackTs,
    };
    await ledger.recordMembers(otherMembers(delivery), { ...where, deliveryKey: delivery.deliveryKey });
    await ledger.touchGroup(delivery.deliveryKey, delivery.members.length);
    return done({ channel: entry?.slackChannel ?? '', ts: entry?.slackTs ?? '', posted: false });
  }

  if (delivery.mode === 'reopen' && entry?.slackTs && entry.slackChannel) {
    const thread = { channel: entry.slackChannel, threadTs: entry.slackTs };
    const claim = await ledger.claimReopen(delivery.deliveryKey, 'slack', finding.updatedAt, token);
    if (claim === 'held') throw new ClaimHeldError(`the reopen of ${delivery.deliveryKey} is being posted`);
    if (claim === 'done' || !delivery.destinations.slack) {
      return done({ channel: thread.channel, ts: thread.threadTs, threadTs: thread.threadTs, posted: false });
    }
    const message = buildSlackDeliveryMessage(delivery, {
      ...context,
      reopenCount: (entry.reopenCount ?? 0) + 1,
    });
    const reply = await deps
      .slack()
      .post(request(message, thread.channel, { ts: thread.threadTs, broadcast: true }));
    await ledger.recordReopen(delivery.deliveryKey, 'slack', finding.updatedAt);
    return done({ channel: reply.channel, ts: reply.ts, threadTs: thread.threadTs, posted: true });
  }

  if (entry?.slackTs && entry.slackChannel) {
    return done({ channel: entry.slackChannel, ts: entry.slackTs, posted: false });
  }

  const claim = await ledger.claim(delivery.deliveryKey, token, 'slack');
  if (!claim.claimed) {
    if (claim.current?.slackTs && claim.current.slackChannel) {
      return done({ channel: claim.current.slackChannel, ts: claim.current.slackTs, posted: false });
    }
    throw new ClaimHeldError(`${delivery.deliveryKey} is being posted by another execution`);
  }

  // Below the Slack threshold of the policy: ledgered as delivered (to Backlog), nothing posted.
  const posted = delivery.destinations.slack
    ? await deps
        .slack()
        .post(
          request(
            buildSlackDeliveryMessage(delivery, context),
            delivery.route?.slackChannel ?? deps.channel(),
          ),
        )
    : { channel: '', ts: '' };
  await ledger.recordSlack(delivery.deliveryKey, posted, finding.updatedAt);
  await ledger.recordMembers(otherMembers(delivery), {
    issueKey: issue.key || undefined,
    issueUrl: issue.url || undefined,
    slackChannel: posted.channel || undefined,
    slackTs: posted.ts || undefined,
    deliveryKey: delivery.deliveryKey,
  });
  if (delivery.group) await ledger.touchGroup(delivery.deliveryKey, delivery.members.length);
  deps.logger.info('delivered', {
    channel: posted.channel,
    ts: posted.ts,
    deliveryKey: delivery.deliveryKey,
  });
  return done({ channel: posted.channel, ts: posted.ts, posted: delivery.destinations.slack });
}

export function makeHandler(deps: PostMessageDeps) {
  return lambda(deps.logger, async (event: unknown) => postMessage(parsePostMessageInput(event), deps));
}

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): PostMessageDeps {
  const settings = once(() => loadSlackSettings(env));
  const dynamo = new DynamoDBClient({});
  const secretClients = lazySecretClients();
  return {
    logger: makeLogger(),
    channel: () => settings().channel,
    ledger: once(() => new Ledger(dynamo, settings().ledgerTable)),
    slack: once(() => {
      const s = settings();
      return new SlackPoster({
        apiUrl: s.apiUrl,
        tokenSource: s.token.parameter ?? 'SLACK_BOT_TOKEN',
        getToken: makeSecret(s.token, secretClients),
      });
    }),
  };
}

export const handler = makeHandler(defaultDeps());
