import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { ErrorCode, type Logger, LogLevel, WebClient } from '@slack/web-api';
import { Backlog, Error as BacklogErrors } from 'backlog-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBacklogFetch } from '../../src/adapters/backlog-fetch.js';
import { type BacklogEmulator, startBacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import { type DynamoEmulator, ensureLedgerTable, startDynamo } from '../../src/local/emulators/dynamo.js';
import {
  type SecurityHubEmulator,
  startSecurityHubEmulator,
} from '../../src/local/emulators/security-hub-emulator.js';
import { type SlackEmulator, startSlackEmulator } from '../../src/local/emulators/slack-emulator.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const noop = () => {};
/** WebClient logs the `[ERROR]` lines of an invalid_blocks answer even at LogLevel.ERROR. */
const silent: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  setLevel: noop,
  getLevel: () => LogLevel.ERROR,
  setName: noop,
};

/** The rejection of a promise, for asserting on its fields. */
async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the promise to reject');
}

describe('makeBacklogFetch', () => {
  const recording = () => {
    const urls: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return new Response('{}');
    }) as typeof globalThis.fetch;
    return { urls, fetch };
  };

  it('sends https://<host> requests to the api URL, keeping path and query', async () => {
    const base = recording();
    const fetch = makeBacklogFetch('http://127.0.0.1:4010/', base.fetch);

    await fetch('https://example.backlog.com/api/v2/issues?projectId%5B%5D=1&keyword=x');
    await fetch(new URL('https://other.backlog.jp/api/v2/space'));

    expect(base.urls).toEqual([
      'http://127.0.0.1:4010/api/v2/issues?projectId%5B%5D=1&keyword=x',
      'http://127.0.0.1:4010/api/v2/space',
    ]);
  });

  it('passes everything through when no api URL is set', async () => {
    const base = recording();

    const fetch = makeBacklogFetch(undefined, base.fetch);
    await fetch('https://example.backlog.com/api/v2/space');

    expect(fetch).toBe(base.fetch);
    expect(base.urls).toEqual(['https://example.backlog.com/api/v2/space']);
  });
});

describe('Slack emulator, driven by @slack/web-api', () => {
  let slack: SlackEmulator;
  let client: WebClient;

  beforeAll(async () => {
    slack = await startSlackEmulator();
    client = new WebClient(slack.token, {
      slackApiUrl: slack.url,
      logger: silent,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 },
    });
  });
  afterAll(() => slack.close());

  it('posts a message to a channel by name and answers with the channel id and a ts', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'HIGH: S3 bucket is public' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Account*\n111122223333' }] },
    ];

    const result = await client.chat.postMessage({
      channel: '#security-alerts',
      text: 'HIGH: S3 bucket is public',
      blocks,
      unfurl_links: false,
      unfurl_media: false,
    });

    expect(result).toMatchObject({
      ok: true,
      channel: 'C0SECURITY',
      message: { text: 'HIGH: S3 bucket is public' },
    });
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.messagesIn('#security-alerts').at(-1)).toMatchObject({
      channel: 'C0SECURITY',
      ts: result.ts,
      blocks,
      unfurlLinks: false,
      unfurlMedia: false,
    });
  });

  it('threads a reply, lists the thread and gives a permalink', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'parent' });

    const reply = await client.chat.postMessage({
      channel: 'C0SECURITY',
      text: 'reopened',
      thread_ts: parent.ts as string,
      reply_broadcast: true,
    });
    const thread = await client.conversations.replies({ channel: 'C0SECURITY', ts: parent.ts as string });
    const link = await client.chat.getPermalink({ channel: 'C0SECURITY', message_ts: reply.ts as string });

    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    expect(thread.messages?.map((m) => m.text)).toEqual(['parent', 'reopened']);
    expect(thread.messages?.[0]).toMatchObject({ reply_count: 1, thread_ts: parent.ts });
    expect(slack.messages.at(-1)).toMatchObject({ threadTs: parent.ts, replyBroadcast: true });
    expect(link.permalink).toMatch(
      /^https:\/\/local-sandbox\.slack\.com\/archives\/C0SECURITY\/p\d{16}\?thread_ts=/,
    );
  });

  it('answers 429 with Retry-After, which the client honours before succeeding', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const before = slack.calls.length;
    const started = Date.now();

    const result = await client.chat.postMessage({ channel: '#security-alerts', text: 'after a rate limit' });

    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.calls.slice(before).map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage']);
  });

  it('surfaces an injected error as a platform error carrying data.error', async () => {
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });

    const error = await rejectionOf(client.chat.postMessage({ channel: '#security-alerts', text: 'x' }));

    expect(error.code).toBe(ErrorCode.PlatformError);
    expect(error.data).toMatchObject({ ok: false, error: 'not_in_channel' });
  });

  it('validates channels, Block Kit limits and the token as Slack does', async () => {
    const header = [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }];
    const fields = [
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
    ];
    const intruder = new WebClient('xoxb-wrong', { slackApiUrl: slack.url, logger: silent });

    const errors = await Promise.all([
      rejectionOf(client.chat.postMessage({ channel: '#unknown', text: 'x' })),
      rejectionOf(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x', blocks: header })),
      rejectionOf(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x', blocks: fields })),
      rejectionOf(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x'.repeat(40_001) })),
      rejectionOf(intruder.auth.test()),
    ]);

    expect(errors.map((e) => (e.data as { error: string }).error)).toEqual([
      'channel_not_found',
      'invalid_blocks',
      'invalid_blocks',
      'msg_too_long',
      'invalid_auth',
    ]);
    expect(errors[1]?.data).toMatchObject({
      response_metadata: {
        messages: ['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]'],
      },
    });
  });
});

describe('Backlog emulator, driven by backlog-js', () => {
  let backlog: BacklogEmulator;
  let client: Backlog;
  let projectId: number;
  let securityTypeId: number;

  beforeAll(async () => {
    backlog = await startBacklogEmulator();
    client = new Backlog({
      host: 'example.backlog.com',
      apiKey: backlog.apiKey,
      fetch: makeBacklogFetch(backlog.url),
    });
    const project = await client.getProject('SEC');
    projectId = project.id;
    const types = await client.getIssueTypes('SEC');
    securityTypeId = types.find((t) => t.name === 'Security')?.id as number;
  });
  afterAll(() => backlog.close());

  const newIssue = (summary: string, description = '') =>
    client.postIssue({ projectId, summary, description, issueTypeId: securityTypeId, priorityId: 2 });

  it('describes the project, its issue types, statuses and the priorities', async () => {
    const [project, statuses, priorities] = await Promise.all([
      client.getProject('SEC'),
      client.getProjectStatuses('SEC'),
      client.getPriorities(),
    ]);

    expect(project).toMatchObject({ projectKey: 'SEC', textFormattingRule: 'markdown' });
    expect(statuses.map((s) => [s.id, s.name])).toEqual([
      [1, 'Open'],
      [2, 'In Progress'],
      [3, 'Resolved'],
      [4, 'Closed'],
    ]);
    expect(priorities.map((p) => p.id)).toEqual([2, 3, 4]);
    expect(securityTypeId).toBeGreaterThan(0);
  });

  it('creates an issue and finds it again by keyword', async () => {
    const issue = await newIssue('[HIGH] GuardDuty: SSH brute force', 'marker shfp:abc123 in the body');

    const found = await client.getIssues({ projectId: [projectId], keyword: 'shfp:abc123', count: 1 });
    const missing = await client.getIssues({ projectId: [projectId], keyword: 'shfp:nothing' });

    expect(issue).toMatchObject({
      issueKey: expect.stringMatching(/^SEC-\d+$/),
      status: { id: 1, name: 'Open' },
    });
    expect(found.map((i) => i.issueKey)).toEqual([issue.issueKey]);
    expect(missing).toEqual([]);
    expect(backlog.issue(issue.issueKey)).toMatchObject({
      statusId: 1,
      description: 'marker shfp:abc123 in the body',
    });
  });

  it('updates status with a comment and adds comments', async () => {
    const issue = await newIssue('to be reopened');

    await client.patchIssue(issue.issueKey, { statusId: 3, comment: 'resolved in Security Hub' });
    await client.postIssueComments(issue.issueKey, { content: 'reopened: compliance FAILED again' });
    const comments = await client.getIssueComments(issue.issueKey, { order: 'asc' });

    expect(backlog.issue(issue.id)?.statusId).toBe(3);
    expect(comments.map((c) => c.content)).toEqual([
      'resolved in Security Hub',
      'reopened: compliance FAILED again',
    ]);
    expect(backlog.commentsOf(issue.issueKey)[0]?.changeLog).toEqual([
      { field: 'status', newValue: 'Resolved', originalValue: 'Open' },
    ]);
  });

  it('rejects a missing required parameter with 400', async () => {
    const error = await rejectionOf(
      client.postIssue({ projectId, summary: '', issueTypeId: securityTypeId, priorityId: 2 }),
    );

    expect(error).toBeInstanceOf(BacklogErrors.BacklogApiError);
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({ errors: [{ code: 7 }] });
  });

  it('answers 401 to a wrong API key, by header or by query parameter', async () => {
    const intruder = new Backlog({
      host: 'example.backlog.com',
      apiKey: 'wrong',
      fetch: makeBacklogFetch(backlog.url),
    });

    const error = await rejectionOf(intruder.getSpace());
    const byQuery = await fetch(`${backlog.url}/api/v2/space?apiKey=${backlog.apiKey}`);

    expect(error).toBeInstanceOf(BacklogErrors.BacklogAuthError);
    expect(error.body).toEqual({ errors: [{ message: 'Authentication failure.', code: 11, moreInfo: '' }] });
    expect(byQuery.status).toBe(200);
  });

  it('answers an injected 429 with the rate-limit headers', async () => {
    backlog.failNext({ method: 'POST', path: '/issues' }, { status: 429, resetInSeconds: 5 });

    const error = await rejectionOf(newIssue('rate limited'));

    const headers = (error.response as Response).headers;
    expect(error.status).toBe(429);
    expect(error.body).toMatchObject({ errors: [{ code: 13 }] });
    expect(Number(headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('can perform an operation and then lose the response', async () => {
    backlog.failNext({ method: 'POST', path: /\/issues$/ }, { dropResponse: true });
    const before = backlog.issues.length;

    const error = await rejectionOf(newIssue('created, answer lost'));

    expect(error).toBeInstanceOf(TypeError);
    expect(backlog.issues).toHaveLength(before + 1);
    expect(backlog.issues.at(-1)?.summary).toBe('created, answer lost');
  });
});

describe('Security Hub emulator, driven by @aws-sdk/client-securityhub', () => {
  const productArn = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
  const finding = (id: string, extra: Record<string, unknown> = {}) => ({
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: productArn,
    GeneratorId: 'guardduty',
    AwsAccountId: '111122223333',
    Types: ['TTPs/Initial Access'],
    CreatedAt: '2024-01-01T00:00:00.000Z',
    UpdatedAt: '2024-01-01T00:00:00.000Z',
    Severity: { Label: 'HIGH' as const },
    Title: `finding ${id}`,
    Description: 'd',
    Resources: [{ Type: 'AwsEc2Instance', Id: 'i-1' }],
    ...extra,
  });
  let hub: SecurityHubEmulator;
  let client: SecurityHubClient;

  beforeAll(async () => {
    hub = await startSecurityHubEmulator();
    client = new SecurityHubClient({ endpoint: hub.url, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client.destroy();
    await hub.close();
  });

  it('imports findings as NEW and marks them NOTIFIED with a note', async () => {
    await client.send(new BatchImportFindingsCommand({ Findings: [finding('f-1'), finding('f-2')] }));

    const result = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-1', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
        Note: { Text: 'Backlog SEC-1', UpdatedBy: 'securityhub-notifier' },
      }),
    );
    const notNotified = await client.send(
      new GetFindingsCommand({ Filters: { WorkflowStatus: [{ Value: 'NEW', Comparison: 'EQUALS' }] } }),
    );

    expect(result.ProcessedFindings).toEqual([{ Id: 'f-1', ProductArn: productArn }]);
    expect(result.UnprocessedFindings).toEqual([]);
    expect(hub.workflowStatusOf('f-1', productArn)).toBe('NOTIFIED');
    expect(hub.notified()).toEqual([{ Id: 'f-1', ProductArn: productArn }]);
    expect(hub.batchUpdates.at(-1)).toMatchObject({ Note: { Text: 'Backlog SEC-1' } });
    expect(notNotified.Findings?.map((f) => f.Id)).toEqual(['f-2']);
  });

  it('leaves injected identifiers unprocessed', async () => {
    hub.unprocessedNext('ConcurrentUpdateError', ['f-2']);

    const result = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-2', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );

    expect(result.UnprocessedFindings).toEqual([
      {
        FindingIdentifier: { Id: 'f-2', ProductArn: productArn },
        ErrorCode: 'ConcurrentUpdateError',
        ErrorMessage: expect.any(String),
      },
    ]);
    expect(hub.workflowStatusOf('f-2', productArn)).toBe('NEW');
  });

  it('reopens a NOTIFIED finding when its record is re-activated', async () => {
    hub.importFindings([finding('f-3')]);
    await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-3', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );

    hub.importFindings([finding('f-3', { RecordState: 'ARCHIVED' })]);
    const stillNotified = hub.workflowStatusOf('f-3', productArn);
    hub.importFindings([finding('f-3', { RecordState: 'ACTIVE' })]);

    expect(stillNotified).toBe('NOTIFIED');
    expect(hub.workflowStatusOf('f-3', productArn)).toBe('NEW');
  });

  it('rejects more than 100 identifiers with InvalidInputException', async () => {
    const identifiers = Array.from({ length: 101 }, (_, i) => ({ Id: `x-${i}`, ProductArn: productArn }));

    const error = await rejectionOf(
      client.send(
        new BatchUpdateFindingsCommand({ FindingIdentifiers: identifiers, Workflow: { Status: 'NOTIFIED' } }),
      ),
    );

    expect(error.name).toBe('InvalidInputException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400 });
  });

  it('throttles with TooManyRequestsException, which the SDK retries', async () => {
    const once = new SecurityHubClient({
      endpoint: hub.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    hub.failNext({ status: 429 });
    hub.failNext({ status: 429, operation: 'BatchUpdateFindings' });
    const update = () =>
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-2', ProductArn: productArn }],
        Note: { Text: 'n', UpdatedBy: 'me' },
      });

    const error = await rejectionOf(once.send(update()));
    const retried = await client.send(update());
    once.destroy();

    expect(error.name).toBe('TooManyRequestsException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 429 });
    expect(retried.ProcessedFindings).toHaveLength(1);
    expect(hub.calls.slice(-3).map((c) => c.operation)).toEqual(Array(3).fill('BatchUpdateFindings'));
  });

  it('in strict mode answers FindingNotFound for unknown identifiers', async () => {
    const strict = await startSecurityHubEmulator({ strict: true });
    const strictClient = new SecurityHubClient({ endpoint: strict.url, region: 'us-east-1', credentials });

    const result = await strictClient.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'ghost', ProductArn: productArn }],
        Workflow: { Status: 'NOTIFIED' },
      }),
    );
    strictClient.destroy();
    await strict.close();

    expect(result.UnprocessedFindings?.[0]?.ErrorCode).toBe('FindingNotFound');
    expect(result.ProcessedFindings).toEqual([]);
  });
});

describe('DynamoDB (dynalite)', () => {
  let dynamo: DynamoEmulator;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamo();
    client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('creates the ledger table once and stores items by findingKey', async () => {
    await ensureLedgerTable(client, 'ledger');
    await ensureLedgerTable(client, 'ledger');

    await client.send(
      new PutItemCommand({
        TableName: 'ledger',
        Item: { findingKey: { S: 'arn|f-1' }, issueKey: { S: 'SEC-1' } },
      }),
    );
    const read = await client.send(
      new GetItemCommand({ TableName: 'ledger', Key: { findingKey: { S: 'arn|f-1' } } }),
    );

    expect(read.Item?.issueKey).toEqual({ S: 'SEC-1' });
  });
});
