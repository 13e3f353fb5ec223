import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BacklogTracker, type IssueTarget } from '../adapters/backlog.js';
import { ClaimHeldError, Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../config/secrets.js';
import { loadBacklogSettings } from '../config/settings.js';
import { buildReopenComment, type PriorityOverrides } from '../domain/backlog-issue.js';
import type { Delivery, IssueRef } from '../domain/delivery.js';
import { findingMarker } from '../domain/finding-marker.js';
import { buildBacklogDeliveryIssue, buildGroupAppendComment } from '../domain/group-issue.js';
import { lambda, lazySecretClients, makeLogger, once } from './runtime.js';
import { type FileIssueInput, parseFileIssueInput } from './task-input.js';

type LedgerPort = Pick<
  Ledger,
  'get' | 'claim' | 'recordIssue' | 'claimReopen' | 'recordReopen' | 'appendApplied' | 'recordAppend'
>;

export interface FileIssueDeps {
  ledger: () => LedgerPort;
  tracker: () => Pick<BacklogTracker, 'project' | 'createIssue' | 'findByMarker' | 'reopenWithComment'>;
  /** Where issues go by default (a delivery's route overrides it) and the priority table. */
  target: () => IssueTarget;
  priorityOverrides: () => PriorityOverrides;
  logger: Logger;
}

/** The delivery's route, over the configured defaults. */
function targetOf(delivery: Delivery, defaults: IssueTarget): IssueTarget {
  const backlog = delivery.route?.backlog;
  if (!backlog) return defaults;
  return {
    ...defaults,
    projectKey: backlog.projectKey,
    issueTypeName: backlog.issueTypeName,
    ...(backlog.categoryName ? { categoryName: backlog.categoryName } : {}),
    ...(backlog.assigneeId ? { assigneeId: backlog.assigneeId } : {}),
  };
}

const NO_ISSUE: IssueRef = { key: '', url: '', created: false };

/**
 * File the Backlog issue for a delivery exactly once: reuse a recorded key; otherwise claim the
 * finding (or group) in the ledger, look for an issue an earlier attempt filed without recording
 * it, create, record. A reopen comments on the recorded issue; an append to an open group comments
 * with the findings it adds.
 */
export async function fileIssue(input: FileIssueInput, deps: FileIssueDeps): Promise<IssueRef> {
  const { delivery, execution } = input;
  if (!delivery.destinations.backlog) return NO_ISSUE;
  const { finding } = delivery;
  const ledger = deps.ledger();
  const tracker = deps.tracker();
  const target = targetOf(delivery, deps.target());
  const token = `${execution}/${delivery.deliveryId}`;
  const entry = await ledger.get(delivery.deliveryKey);

  if (delivery.mode === 'append') {
    if (!entry?.issueKey || !entry.issueUrl) {
      throw new ClaimHeldError(
        `group ${delivery.deliveryKey} has no issue yet: its first delivery is still running`,
      );
    }
    if (!ledger.appendApplied(entry, 'commented', delivery.deliveryId)) {
      const project = await tracker.project(target.projectKey);
      const comment = buildGroupAppendComment(delivery, { textFormattingRule: project.textFormattingRule });
      await tracker.reopenWithComment(
        entry.issueKey,
        comment,
        findingMarker(`append|${delivery.deliveryId}`),
      );
      await ledger.recordAppend(delivery.deliveryKey, 'commented', delivery.deliveryId);
    }
    return { key: entry.issueKey, url: entry.issueUrl, created: false };
  }

  if (delivery.mode === 'reopen' && entry?.issueKey && entry.issueUrl) {
    const claim = await ledger.claimReopen(delivery.deliveryKey, 'issue', finding.updatedAt, token);
    if (claim === 'held')
      throw new ClaimHeldError(`the reopen of ${delivery.deliveryKey} is being commented on`);
    if (claim === 'claimed') {
      const project = await tracker.project(target.projectKey);
      const comment = buildReopenComment(finding, {
        textFormattingRule: project.textFormattingRule,
        previousUpdatedAt: entry.findingUpdatedAt,
        reason: 'Security Hub set this finding back to NEW',
      });
      const marker = findingMarker(`reopen|${delivery.deliveryKey}|${finding.updatedAt}`);
      const { reopened } = await tracker.reopenWithComment(entry.issueKey, comment, marker);
      await ledger.recordReopen(delivery.deliveryKey, 'issue', finding.updatedAt);
      deps.logger.info('reopen commented', { issueKey: entry.issueKey, reopened });
    }
    return { key: entry.issueKey, url: entry.issueUrl, created: false };
  }

  if (entry?.issueKey && entry.issueUrl) return { key: entry.issueKey, url: entry.issueUrl, created: false };

  const claim = await ledger.claim(delivery.deliveryKey, token, 'issue');
  if (!claim.claimed) {
    if (claim.current?.issueKey && claim.current.issueUrl) {
      return { key: claim.current.issueKey, url: claim.current.issueUrl, created: false };
    }
    throw new ClaimHeldError(`${delivery.deliveryKey} is being filed by another execution`);
  }

  const marker = findingMarker(delivery.deliveryKey);
  // An entry existed before this claim: an earlier attempt may have created the issue and died (or
  // lost the answer) before recording it. Backlog's keyword search finds the marker every issue carries.
  if (claim.previous) {
    const existing = await tracker.findByMarker(target.projectKey, marker);
    if (existing) {
      await ledger.recordIssue(delivery.deliveryKey, existing);
      deps.logger.info('found an issue filed by an earlier attempt', { issueKey: existing.key });
      return { key: existing.key, url: existing.url, created: false };
    }
  }

  const project = await tracker.project(target.projectKey);
  const content = buildBacklogDeliveryIssue(delivery, {
    textFormattingRule: project.textFormattingRule,
    priorityOverrides: deps.priorityOverrides(),
  });
  const issue = await tracker.createIssue(target, content);
  await ledger.recordIssue(delivery.deliveryKey, issue);
  deps.logger.info('issue filed', { issueKey: issue.key, deliveryKey: delivery.deliveryKey });
  return { key: issue.key, url: issue.url, created: true };
}

export function makeHandler(deps: FileIssueDeps) {
  return lambda(deps.logger, async (event: unknown) => fileIssue(parseFileIssueInput(event), deps));
}

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): FileIssueDeps {
  const settings = once(() => loadBacklogSettings(env));
  const dynamo = new DynamoDBClient({});
  const secretClients = lazySecretClients();
  return {
    logger: makeLogger(),
    ledger: once(() => new Ledger(dynamo, settings().ledgerTable)),
    target: () => settings().target,
    priorityOverrides: () => settings().priorityOverrides,
    tracker: once(() => {
      const s = settings();
      return new BacklogTracker({
        host: s.host,
        apiUrl: s.apiUrl,
        apiKeySource: s.apiKey.parameter ?? 'BACKLOG_API_KEY',
        getApiKey: makeSecret(s.apiKey, secretClients),
      });
    }),
  };
}

export const handler = makeHandler(defaultDeps());
