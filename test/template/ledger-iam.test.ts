import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokedFunction } from '../../src/local/local-workflow.js';
import type { Replayer } from '../../src/local/replayer.js';
import { type ServeHandle, startServe } from '../../src/local/server.js';
import { stormEvents, withFinding } from '../helpers/events.js';
import { startTestReplayer } from '../helpers/replay.js';
import { uniqueEvent } from '../helpers/task-harness.js';
import { type Json, packageStack, type Template } from '../helpers/template.js';

/**
 * The pipeline's functions may make the ledger calls their code makes. Every DynamoDB request the
 * local pipeline sends is attributed to the function that sent it (the local invocation's name)
 * with the partition keys it touches, over a storm (opening, appends), single findings, a repeat,
 * a reopen, a mark that fails then succeeds, and the storm's issue closed in Backlog (its webhook
 * through `serve`); each must be allowed by that function's role in the packaged template,
 * leading-key conditions included. Hand-written action lists missed one:
 * markFindings could not write the digest's events.
 */

const ROLES: Record<string, string> = {
  dispatch: 'DispatchRole',
  fileBacklogIssue: 'FileBacklogIssueRole',
  postSlackMessage: 'PostSlackMessageRole',
  markFindings: 'MarkFindingsRole',
  backlogActivity: 'BacklogActivityRole',
};

const GUARDDUTY = 'guardduty-ssh-bruteforce.json';

interface Call {
  fn: string;
  action: string;
  keys: string[];
}

/** The `findingKey` values a DynamoDB request names (Key, RequestItems' keys and items). */
function partitionKeys(body: Record<string, Json>): string[] {
  const keys: string[] = [];
  const visit = (key: Json | undefined) => {
    const value = (key as { findingKey?: { S?: string } } | undefined)?.findingKey?.S;
    if (value !== undefined) keys.push(value);
  };
  visit(body.Key);
  for (const request of Object.values((body.RequestItems ?? {}) as Record<string, Json>)) {
    if (Array.isArray(request)) {
      for (const write of request as Array<Record<string, Record<string, Json>>>) {
        visit(write.PutRequest?.Item);
        visit(write.DeleteRequest?.Key);
      }
    } else {
      for (const key of ((request as { Keys?: Json[] }).Keys ?? []) as Json[]) visit(key);
    }
  }
  return keys;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, string[]>>;
}

function statementsOf(template: Template, roleId: string): Statement[] {
  const role = template.Resources[roleId];
  const policies = (role?.Properties?.Policies ?? []) as Array<{
    PolicyDocument: { Statement: Statement[] };
  }>;
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

const like = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);

/** Whether an Allow statement of the role covers the call (ForAllValues:StringLike on LeadingKeys). */
function allowed(statements: Statement[], call: Call): boolean {
  return statements.some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    if (!([] as string[]).concat(statement.Action).includes(`dynamodb:${call.action}`)) return false;
    const patterns = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    return !patterns || call.keys.every((key) => patterns.some((pattern) => like(pattern, key)));
  });
}

describe("the ledger calls of the pipeline, against its functions' roles", () => {
  let template: Template;
  let replayer: Replayer;
  let serve: ServeHandle | undefined;
  const calls: Call[] = [];
  const original = NodeHttpHandler.prototype.handle;

  beforeAll(async () => {
    template = (await packageStack()).template;
    NodeHttpHandler.prototype.handle = function (this: NodeHttpHandler, request, options) {
      const target = String(request.headers['x-amz-target'] ?? '');
      const fn = invokedFunction.getStore();
      if (fn && target.startsWith('DynamoDB_')) {
        const raw: unknown = request.body;
        const text = raw instanceof Uint8Array ? new TextDecoder().decode(raw) : String(raw ?? '{}');
        const body = JSON.parse(text) as Record<string, Json>;
        calls.push({ fn, action: target.split('.')[1] ?? target, keys: partitionKeys(body) });
      }
      return original.call(this, request, options);
    };
    replayer = await startTestReplayer();
    const storm = stormEvents(60, ['S3.8', 'S3.2'], ['111111111111']);
    replayer.sandbox.securityHub?.importFindings(storm.flatMap((event) => event.detail.findings));
    await replayer.replay(storm.slice(0, 30));
    await replayer.replay(storm.slice(30));
    // The storm's first issue closed as Won't Fix in Backlog: its webhook, the worker behind it.
    serve = await startServe({
      env: {
        ...replayer.sandbox.env,
        BACKLOG_WEBHOOK_TOKEN: 'ledger-iam-token-0123456789abcdef',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      port: 0,
      print: () => {},
      retryDelayMs: 1,
    });
    const closed = replayer.sandbox.backlog?.actAs(2, 'SEC-1', { statusId: 4, resolutionId: 1 });
    await fetch(serve.backlogWebhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(closed),
    });
    await serve.idle();
    const single = uniqueEvent(GUARDDUTY, 'ledger-iam-single');
    await replayer.replay([single]);
    await replayer.replay([single]);
    const reopened = withFinding(
      single,
      (finding) => {
        finding.UpdatedAt = '2099-01-01T00:00:00.000Z';
      },
      'ledger-iam-reopen',
    );
    await replayer.replay([reopened]);
    replayer.sandbox.securityHub?.unprocessedNext('FindingNotFound');
    const remarked = uniqueEvent(GUARDDUTY, 'ledger-iam-remark');
    await replayer.replay([remarked]);
    await replayer.replay([remarked]);
  }, 240_000);

  afterAll(async () => {
    NodeHttpHandler.prototype.handle = original;
    await serve?.close();
    await replayer?.close();
  });

  it('sees each function of the pipeline call the ledger', () => {
    expect([...new Set(calls.map((call) => call.fn))].sort()).toEqual(Object.keys(ROLES).sort());
    expect(calls.some((call) => call.fn === 'markFindings' && call.action === 'BatchWriteItem')).toBe(true);
    // The worker read the storm's members with their group (which deliveries were marked).
    expect(
      calls.some(
        (call) =>
          call.fn === 'backlogActivity' &&
          call.action === 'BatchGetItem' &&
          call.keys.some((key) => key.startsWith('group|')),
      ),
    ).toBe(true);
  });

  it.each(Object.entries(ROLES))('%s: every ledger call is allowed by its role', (fn, roleId) => {
    const statements = statementsOf(template, roleId);
    const refused = calls
      .filter((call) => call.fn === fn && !allowed(statements, call))
      .map((call) => `${call.action} ${call.keys.map((key) => key.split('|')[0]).join(',')}`);
    expect([...new Set(refused)]).toEqual([]);
  });

  it('checks the leading keys (a check of the check)', () => {
    const statements: Statement[] = [
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['group|*'] } },
      },
    ];
    expect(allowed(statements, { fn: 'x', action: 'UpdateItem', keys: ['group|a|S3.8'] })).toBe(true);
    expect(allowed(statements, { fn: 'x', action: 'UpdateItem', keys: ['arn:aws:x|y'] })).toBe(false);
    expect(allowed(statements, { fn: 'x', action: 'BatchGetItem', keys: ['group|a'] })).toBe(false);
  });
});
