import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BacklogAuthError,
  BacklogConfigError,
  BacklogRateLimitError,
  BacklogRequestError,
  ClaimHeldError,
  LedgerError,
} from '../../src/app/errors.js';
import {
  BACKLOG_KEY_PARAMETER,
  BACKLOG_NOTATION_PROJECT,
  fileIssueInput,
  findingOf,
  firstCalls,
  ledgerRefusing,
  MARKDOWN_PROJECT,
  rejectionOf,
  reopenedEvent,
  startTaskHarness,
  type TaskHarness,
  uniqueEvent,
  uniqueLabel,
} from '../helpers/task-harness.js';

const CONTROL = 'fsbp-cloudtrail-2.json';
const GUARDDUTY = 'guardduty-ssh-bruteforce.json';
const CREATE = { method: 'POST', path: '/api/v2/issues' } as const;

describe('fileIssue against the Backlog emulator, exactly once', () => {
  let h: TaskHarness;
  beforeAll(async () => {
    h = await startTaskHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const createCalls = () => h.backlog.calls.filter((c) => c.method === 'POST' && c.path === CREATE.path);
  /** Marker searches (`GET /api/v2/issues?keyword=`): how a lost create is found. */
  const searches = () => h.backlog.calls.filter((c) => c.method === 'GET' && c.path === CREATE.path).length;

  it('finds the issue by its marker when the create answer was lost, and records it', async () => {
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-lost-response');
    h.backlog.failNext(CREATE, { dropResponse: true });

    const firstAttempt = await rejectionOf(h.fileIssue(input));
    const issuesAfterLoss = h.issuesOf(input.delivery.deliveryKey).length;
    const retry = await h.fileIssue(input);

    expect(firstAttempt).toBeInstanceOf(BacklogRequestError);
    expect(issuesAfterLoss).toBe(1);
    const issues = h.issuesOf(input.delivery.deliveryKey);
    expect(issues).toHaveLength(1);
    expect(retry).toEqual({
      key: issues[0]?.issueKey,
      url: `https://example.backlog.com/view/${issues[0]?.issueKey}`,
      created: false,
    });
    expect((await h.ledger.get(input.delivery.deliveryKey))?.issueKey).toBe(retry.key);
  });

  it('records the issue on the retry when recording it failed after the create: one issue', async () => {
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-record-failed');
    const ports = { ...h.fileIssueDeps, ledger: ledgerRefusing(h.ledger, ['recordIssue'], firstCalls(1)) };

    const firstAttempt = await rejectionOf(h.fileIssue(input, ports));
    const searchesBefore = searches();
    const retry = await h.fileIssue(input, ports);

    const issues = h.issuesOf(input.delivery.deliveryKey);
    expect(firstAttempt).toBeInstanceOf(LedgerError);
    expect(issues).toHaveLength(1);
    expect(retry).toMatchObject({ key: issues[0]?.issueKey, created: false });
    expect((await h.ledger.get(input.delivery.deliveryKey))?.issueKey).toBe(retry.key);
    // The claim kept the result: the retry records it without searching Backlog.
    expect(searches()).toBe(searchesBefore);
  });

  it('adopts the issue by its marker when neither the record nor the claim could be written after the create', async () => {
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-ledger-down');
    let down = true;
    const ledger = ledgerRefusing(h.ledger, ['recordIssue', 'completeEffect'], () => down);
    const ports = { ...h.fileIssueDeps, ledger };

    const firstAttempt = await rejectionOf(h.fileIssue(input, ports));
    down = false;
    const searchesBefore = searches();
    const retry = await h.fileIssue(input, ports);

    const issues = h.issuesOf(input.delivery.deliveryKey);
    expect(firstAttempt).toBeInstanceOf(LedgerError);
    expect(issues).toHaveLength(1);
    expect(retry).toMatchObject({ key: issues[0]?.issueKey, created: false });
    expect(searches()).toBe(searchesBefore + 1);
  });

  it('returns the recorded key when a task that succeeded is retried', async () => {
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-retried-task');

    const first = await h.fileIssue(input);
    const creates = createCalls().length;
    const again = await h.fileIssue(input);

    expect(first.created).toBe(true);
    expect(again).toEqual({ ...first, created: false });
    expect(h.issuesOf(input.delivery.deliveryKey)).toHaveLength(1);
    expect(createCalls()).toHaveLength(creates);
  });

  it('files one issue when the same event is delivered twice by two executions', async () => {
    const event = uniqueEvent(GUARDDUTY, uniqueLabel());

    const first = await h.fileIssue(fileIssueInput(event, 'exec-delivery-1'));
    const second = await h.fileIssue(fileIssueInput(event, 'exec-delivery-2'));

    expect(second).toEqual({ ...first, created: false });
    expect(h.issuesOf(findingOf(event).key)).toHaveLength(1);
  });

  it('files one issue for two concurrent deliveries; the loser is ClaimHeldError and its retry returns the key', async () => {
    const event = uniqueEvent(CONTROL, uniqueLabel());
    const a = fileIssueInput(event, 'exec-race-a');
    const b = fileIssueInput(event, 'exec-race-b');
    const inputs = [a, b];

    const settled = await Promise.allSettled(inputs.map((input) => h.fileIssue(input)));
    const retries = await Promise.all(inputs.map((input) => h.fileIssue(input)));

    const issues = h.issuesOf(a.delivery.deliveryKey);
    expect(issues).toHaveLength(1);
    const key = issues[0]?.issueKey;
    expect(settled.filter((s) => s.status === 'fulfilled').map((s) => s.value.key)).toContain(key);
    for (const outcome of settled) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ClaimHeldError);
      else expect(outcome.value.key).toBe(key);
    }
    expect(retries.map((r) => r.key)).toEqual([key, key]);
    expect(retries.every((r) => !r.created)).toBe(true);
  });

  it('comments on the existing issue when the finding is reopened, and only once when the reopen repeats', async () => {
    const event = uniqueEvent(CONTROL, uniqueLabel());
    const filed = await h.fileIssue(fileIssueInput(event, 'exec-new'));
    const reopen = fileIssueInput(reopenedEvent(event, '2030-01-02T00:00:00Z'), 'exec-reopen', 'reopen');

    const first = await h.fileIssue(reopen);
    const repeated = await h.fileIssue(reopen);

    expect(first).toEqual({ ...filed, created: false });
    expect(repeated).toEqual(first);
    expect(h.issuesOf(reopen.delivery.deliveryKey)).toHaveLength(1);
    const comments = h.backlog.commentsOf(filed.key);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.content).toContain('Finding reopened');
    expect(h.backlog.issue(filed.key)?.statusId).toBe(1);
  });

  it('comments once when the same reopen arrives from two executions at once', async () => {
    const event = uniqueEvent(CONTROL, uniqueLabel());
    const filed = await h.fileIssue(fileIssueInput(event, 'exec-new'));
    const reopened = reopenedEvent(event, '2030-01-05T00:00:00Z');
    const inputs = [
      fileIssueInput(reopened, 'exec-a', 'reopen'),
      fileIssueInput(reopened, 'exec-b', 'reopen'),
    ];

    const settled = await Promise.allSettled(inputs.map((input) => h.fileIssue(input)));
    const retries = await Promise.all(inputs.map((input) => h.fileIssue(input)));

    for (const outcome of settled) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ClaimHeldError);
    }
    expect(retries.map((r) => r.key)).toEqual([filed.key, filed.key]);
    expect(h.backlog.commentsOf(filed.key)).toHaveLength(1);
  });

  it('comments once when the answer to the reopen comment is lost and the task is retried', async () => {
    const event = uniqueEvent(CONTROL, uniqueLabel());
    const filed = await h.fileIssue(fileIssueInput(event, 'exec-new'));
    const reopen = fileIssueInput(reopenedEvent(event, '2030-01-07T00:00:00Z'), 'exec-reopen', 'reopen');
    h.backlog.failNext({ method: 'POST', path: /\/comments$/ }, { dropResponse: true });

    const first = await h.fileIssue(reopen).catch((error: Error) => error);
    const retry = await h.fileIssue(reopen);

    expect(first).toBeInstanceOf(Error);
    expect(retry.key).toBe(filed.key);
    expect(h.backlog.commentsOf(filed.key)).toHaveLength(1);
  });

  it('sets a closed issue back to Open with the reopen comment in the same write', async () => {
    const event = uniqueEvent(CONTROL, uniqueLabel());
    const filed = await h.fileIssue(fileIssueInput(event, 'exec-new'));
    const record = h.backlog.issue(filed.key);
    if (record) record.statusId = 4;
    const reopen = fileIssueInput(reopenedEvent(event, '2030-02-03T00:00:00Z'), 'exec-reopen', 'reopen');

    await h.fileIssue(reopen);
    await h.fileIssue(reopen);

    expect(h.backlog.issue(filed.key)?.statusId).toBe(1);
    const comments = h.backlog.commentsOf(filed.key);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.content).toContain('Finding reopened');
    expect(comments[0]?.changeLog).toEqual([{ field: 'status', newValue: 'Open', originalValue: 'Closed' }]);
    const writes = h.backlog.calls.filter(
      (c) => c.method !== 'GET' && c.path.startsWith(`/api/v2/issues/${filed.key}`),
    );
    expect(writes.map((c) => `${c.method} ${c.path}`)).toEqual([`PATCH /api/v2/issues/${filed.key}`]);
    expect(writes[0]?.body).toMatchObject({
      statusId: '1',
      comment: expect.stringContaining('Finding reopened'),
    });
  });

  it('hands a 429 to the workflow to wait until X-RateLimit-Reset, then creates the issue once', async () => {
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-rate-limited');
    h.backlog.failNext(CREATE, { status: 429, resetInSeconds: 2 });
    const waitsBefore = h.backlogWaits.length;
    const responsesBefore = h.backlogResponses.length;

    const result = await h.fileIssue(input);

    expect(result.created).toBe(true);
    expect(h.issuesOf(input.delivery.deliveryKey)).toHaveLength(1);
    const limited = h.backlogResponses.slice(responsesBefore).find((r) => r.status === 429);
    const waits = h.backlogWaits.slice(waitsBefore);
    expect(limited).toBeDefined();
    expect(waits).toHaveLength(1);
    // The wait is reset − now, in whole seconds (rounded up).
    const untilReset = Math.max(0, (limited?.rateLimitReset ?? 0) * 1000 - (limited?.receivedAt ?? 0));
    expect(untilReset).toBeLessThanOrEqual(2000);
    expect(waits[0]).toBeGreaterThanOrEqual(untilReset);
    expect(waits[0]).toBeLessThanOrEqual(untilReset + 1000);
  });

  it('fails with BacklogRateLimitError when the reset is beyond the longest wait, and a later retry files once', async () => {
    const deps = h.makeFileIssueDeps({ timing: { maxWaitSeconds: 2 } });
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-rate-limited-long');
    h.backlog.failNext(CREATE, { status: 429, resetInSeconds: 60 });
    const waitsBefore = h.backlogWaits.length;

    const error = await rejectionOf(h.fileIssue(input, deps));
    const issuesAfterFailure = h.issuesOf(input.delivery.deliveryKey).length;
    const retry = await h.fileIssue(input, deps);

    expect(error).toBeInstanceOf(BacklogRateLimitError);
    expect(error.message).toMatch(/resets in \d+s/);
    expect(h.backlogWaits.slice(waitsBefore)).toEqual([]);
    expect(issuesAfterFailure).toBe(0);
    expect(retry.created).toBe(true);
    expect(h.issuesOf(input.delivery.deliveryKey)).toHaveLength(1);
  });

  it('fails with BacklogAuthError naming the parameter when the API key is wrong', async () => {
    const deps = h.makeFileIssueDeps({ tracker: h.makeTracker({ getApiKey: async () => 'not-the-key' }) });
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-wrong-key');

    const error = await rejectionOf(h.fileIssue(input, deps));

    expect(error).toBeInstanceOf(BacklogAuthError);
    expect(error.message).toContain(BACKLOG_KEY_PARAMETER);
    expect(error.message).not.toContain('not-the-key');
    expect(h.issuesOf(input.delivery.deliveryKey)).toHaveLength(0);
  });

  it('fails with BacklogConfigError naming BACKLOG_PROJECT_KEY for an unknown project', async () => {
    const deps = h.makeFileIssueDeps({ tracker: h.makeTracker(), target: { projectKey: 'NOSUCH' } });
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-unknown-project');

    const error = await rejectionOf(h.fileIssue(input, deps));

    expect(error).toBeInstanceOf(BacklogConfigError);
    expect(error.message).toContain('BACKLOG_PROJECT_KEY');
    expect(error.message).toContain('NOSUCH');
  });

  it('fails with BacklogConfigError naming BACKLOG_ISSUE_TYPE for an unknown issue type', async () => {
    const deps = h.makeFileIssueDeps({ target: { issueTypeName: 'Incident' } });
    const input = fileIssueInput(uniqueEvent(CONTROL, uniqueLabel()), 'exec-unknown-type');

    const error = await rejectionOf(h.fileIssue(input, deps));

    expect(error).toBeInstanceOf(BacklogConfigError);
    expect(error.message).toContain('BACKLOG_ISSUE_TYPE');
    expect(error.message).toContain('Incident');
    expect(h.issuesOf(input.delivery.deliveryKey)).toHaveLength(0);
  });

  describe('the description follows the project formatting rule and escapes hostile text', () => {
    const HOSTILE_TITLE = 'Pwn [[x>javascript:alert(1)]] <script>alert(1)</script> **bold**';
    const hostileEvent = () =>
      uniqueEvent(CONTROL, uniqueLabel(), (finding) => {
        finding.Title = HOSTILE_TITLE;
        finding.SourceUrl = 'javascript:alert(2)';
      });

    it('writes markdown (``` fences, escaped title) for a markdown project', async () => {
      const input = fileIssueInput(hostileEvent(), 'exec-markdown');

      const result = await h.fileIssue(input);

      const issue = h.backlog.issue(result.key);
      const description = issue?.description ?? '';
      expect(h.backlog.projects.find((p) => p.id === issue?.projectId)?.projectKey).toBe(MARKDOWN_PROJECT);
      expect(description).toContain('```');
      expect(description).not.toContain('{code}');
      expect(description).toContain('\\[\\[x\\>javascript:alert(1)\\]\\]');
      expect(description).toContain('\\<script\\>');
      expect(description).toContain('\\*\\*bold\\*\\*');
      for (const raw of ['[[x>', '<script>', '**bold**', 'javascript:alert(2)']) {
        expect(description).not.toContain(raw);
      }
    });

    it('writes Backlog notation ({code} blocks, escaped link syntax) for a backlog-notation project', async () => {
      const deps = h.makeFileIssueDeps({ target: { projectKey: BACKLOG_NOTATION_PROJECT } });
      const input = fileIssueInput(hostileEvent(), 'exec-backlog-notation');

      const result = await h.fileIssue(input, deps);

      const description = h.backlog.issue(result.key)?.description ?? '';
      expect(result.key).toMatch(new RegExp(`^${BACKLOG_NOTATION_PROJECT}-\\d+$`));
      expect(description).toContain('{code}');
      expect(description).toContain('{/code}');
      expect(description).not.toContain('```');
      expect(description).toContain('\\[\\[x>javascript:alert(1)\\]\\]');
      for (const raw of ['[[x>', '>javascript:alert(2)', '[[Open in the product console']) {
        expect(description).not.toContain(raw);
      }
    });
  });
});
