import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { BacklogTracker, type IssueTarget } from '../adapters/backlog.js';
import { ClaimHeldError, Ledger } from '../adapters/ledger.js';
import { makeSecret } from '../config/secrets.js';
import { loadBacklogSettings } from '../config/settings.js';
import { buildBacklogIssue, buildReopenComment, type PriorityOverrides } from '../domain/backlog-issue.js';
import type { IssueRef } from '../domain/delivery.js';
import { findingMarker } from '../domain/finding-marker.js';
import { lambda, makeLogger, once } from './runtime.js';
import { type FileIssueInput, parseFileIssueInput } from './task-input.js';

export interface FileIssueDeps {
  ledger: () => Pick<Ledger, 'get' | 'claim' | 'recordIssue' | 'recordReopen'>;
  tracker: () => Pick<BacklogTracker, 'project' | 'createIssue' | 'findByMarker' | 'reopenWithComment'>;
  /** Where issues go and the priority table, from configuration. */
  target: () => IssueTarget;
  priorityOverrides: () => PriorityOverrides;
  logger: Logger;
}

/**
 * File the Backlog issue for a delivery exactly once: reuse a recorded key; otherwise claim the
 * finding in the ledger, look for an issue an earlier attempt filed without recording it, create,
 * record. A reopen comments on the recorded issue instead.
 */
export async function fileIssue(input: FileIssueInput, deps: FileIssueDeps): Promise<IssueRef> {
  const { delivery, execution } = input;
  const { finding } = delivery;
  const ledger = deps.ledger();
  const tracker = deps.tracker();
  const target = deps.target();
  const entry = await ledger.get(delivery.deliveryKey);

  if (delivery.mode === 'reopen' && entry?.issueKey && entry.issueUrl) {
    if (entry.lastReopenUpdatedAt !== finding.updatedAt) {
      const project = await tracker.project(target.projectKey);
      const comment = buildReopenComment(finding, {
        textFormattingRule: project.textFormattingRule,
        previousUpdatedAt: entry.findingUpdatedAt,
        reason: 'Security Hub set this finding back to NEW',
      });
      const { reopened } = await tracker.reopenWithComment(entry.issueKey, comment);
      await ledger.recordReopen(delivery.deliveryKey, 'issue', finding.updatedAt);
      deps.logger.info('reopen commented', { issueKey: entry.issueKey, reopened });
    }
    return { key: entry.issueKey, url: entry.issueUrl, created: false };
  }

  if (entry?.issueKey && entry.issueUrl) return { key: entry.issueKey, url: entry.issueUrl, created: false };

  const claim = await ledger.claim(delivery.deliveryKey, `${execution}/${delivery.deliveryId}`, 'issue');
  if (!claim.claimed) {
    if (claim.current?.issueKey && claim.current.issueUrl) {
      return { key: claim.current.issueKey, url: claim.current.issueUrl, created: false };
    }
    throw new ClaimHeldError(`finding ${delivery.deliveryKey} is being filed by another execution`);
  }

  const marker = findingMarker(delivery.deliveryKey);
  // An entry existed before this claim: an earlier attempt may have created the issue and died
  // before recording it. Backlog's keyword search finds the marker every description carries.
  if (claim.previous) {
    const existing = await tracker.findByMarker(target.projectKey, marker);
    if (existing) {
      await ledger.recordIssue(delivery.deliveryKey, existing);
      deps.logger.info('found an issue filed by an earlier attempt', { issueKey: existing.key });
      return { key: existing.key, url: existing.url, created: false };
    }
  }

  const project = await tracker.project(target.projectKey);
  const content = buildBacklogIssue(finding, {
    textFormattingRule: project.textFormattingRule,
    priorityOverrides: deps.priorityOverrides(),
  });
  const issue = await tracker.createIssue(target, content);
  await ledger.recordIssue(delivery.deliveryKey, issue);
  deps.logger.info('issue filed', { issueKey: issue.key, findingKey: delivery.deliveryKey });
  return { key: issue.key, url: issue.url, created: true };
}

export function makeHandler(deps: FileIssueDeps) {
  return lambda(deps.logger, async (event: unknown) => fileIssue(parseFileIssueInput(event), deps));
}

export function defaultDeps(env: NodeJS.ProcessEnv = process.env): FileIssueDeps {
  const settings = once(() => loadBacklogSettings(env));
  const dynamo = new DynamoDBClient({});
  const secretClients = {
    ssm: once(() => new SSMClient({})),
    secretsManager: once(() => new SecretsManagerClient({})),
  };
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
