import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ClaimHeldError, Ledger } from '../adapters/ledger.js';
import { SlackPoster } from '../adapters/slack.js';
import { makeSecret } from '../config/secrets.js';
import { loadSlackSettings } from '../config/settings.js';
import type { SlackRef } from '../domain/delivery.js';
import { buildSlackMessage } from '../domain/slack-message.js';
import { lambda, makeLogger, once } from './runtime.js';
import { type PostMessageInput, parsePostMessageInput } from './task-input.js';

export interface PostMessageDeps {
  ledger: () => Pick<Ledger, 'get' | 'claim' | 'recordSlack' | 'recordReopen'>;
  slack: () => Pick<SlackPoster, 'post'>;
  channel: () => string;
  logger: Logger;
}

/**
 * Post the Slack message for a delivery once: a recorded ts is reused, a live claim by another
 * execution is waited for (the workflow retries). A reopen is a reply in the original thread,
 * broadcast to the channel.
 */
export async function postMessage(input: PostMessageInput, deps: PostMessageDeps): Promise<SlackRef> {
  const { delivery, issue, execution } = input;
  const { finding } = delivery;
  const ledger = deps.ledger();
  const entry = await ledger.get(delivery.deliveryKey);

  if (delivery.mode === 'reopen' && entry?.slackTs && entry.slackChannel) {
    const thread = { channel: entry.slackChannel, threadTs: entry.slackTs };
    if (entry.lastSlackReopenUpdatedAt === finding.updatedAt) {
      return { channel: thread.channel, ts: thread.threadTs, threadTs: thread.threadTs, posted: false };
    }
    const message = buildSlackMessage(finding, {
      mode: 'reopen',
      issue: { key: issue.key, url: issue.url },
      reopenCount: (entry.reopenCount ?? 0) + 1,
    });
    const reply = await deps.slack().post({
      channel: thread.channel,
      text: message.text,
      blocks: message.blocks,
      attachments: message.attachments,
      threadTs: thread.threadTs,
      replyBroadcast: true,
    });
    await ledger.recordReopen(delivery.deliveryKey, 'slack', finding.updatedAt);
    return { channel: reply.channel, ts: reply.ts, threadTs: thread.threadTs, posted: true };
  }

  if (entry?.slackTs && entry.slackChannel)
    return { channel: entry.slackChannel, ts: entry.slackTs, posted: false };

  const claim = await ledger.claim(delivery.deliveryKey, `${execution}/${delivery.deliveryId}`, 'slack');
  if (!claim.claimed) {
    if (claim.current?.slackTs && claim.current.slackChannel) {
      return { channel: claim.current.slackChannel, ts: claim.current.slackTs, posted: false };
    }
    throw new ClaimHeldError(`finding ${delivery.deliveryKey} is being posted by another execution`);
  }

  const message = buildSlackMessage(finding, { mode: 'new', issue: { key: issue.key, url: issue.url } });
  const posted = await deps.slack().post({
    channel: deps.channel(),
    text: message.text,
    blocks: message.blocks,
    attachments: message.attachments,
  });
  await ledger.recordSlack(delivery.deliveryKey, posted, finding.updatedAt);
  deps.logger.info('message posted', {
    channel: posted.channel,
    ts: posted.ts,
    findingKey: delivery.deliveryKey,
  });
  return { channel: posted.channel, ts: posted.ts, posted: true };
}

export function makeHandler(deps: PostMessageDeps) {
  return lambda(deps.logger, async (event: unknown) => postMessage(parsePostMessageInput(event), deps));
}

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): PostMessageDeps {
  const settings = once(() => loadSlackSettings(env));
  const dynamo = new DynamoDBClient({});
  const secretClients = {
    ssm: once(() => new SSMClient({})),
    secretsManager: once(() => new SecretsManagerClient({})),
  };
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
