import { describe, expect, it } from 'vitest';
import { tokensMatch } from '../../src/app/accept-backlog-webhook.js';
import { parsePolicy } from '../../src/config/policy-file.js';
import { loadActivityQueueUrl, loadBacklogWebhookSettings } from '../../src/config/settings.js';
import { parseBacklogWebhook, parseQueuedActivity } from '../../src/domain/backlog/activity.js';
import {
  buildStillFailingComment,
  DEFAULT_CLOSED_STATUSES,
  type FindingState,
  findingStateOf,
  issueVerdict,
  securityHubAgrees,
  trackerProjects,
  trackerReopenedNote,
  trackerResolvedNote,
  trackerSuppressedNote,
} from '../../src/domain/delivery/tracker-lifecycle.js';

const updated = {
  id: 3153,
  type: 2,
  created: '2030-01-01T00:00:00Z',
  project: { id: 101, projectKey: 'SEC', name: 'Security' },
  content: { id: 10001, key_id: 12, summary: 'x', comment: { id: 1, content: 'done' }, changes: [] },
  notifications: [],
  createdUser: { id: 2, userId: 'alice', name: 'Alice Example', roleType: 2 },
};

describe("Backlog's webhook body", () => {
  it('names the activity, its issue, its project and who acted', () => {
    expect(parseBacklogWebhook(updated)).toEqual({
      ok: true,
      activity: {
        id: 3153,
        type: 2,
        projectKey: 'SEC',
        issueKeys: ['SEC-12'],
        user: { id: 2, name: 'Alice Example' },
        created: '2030-01-01T00:00:00Z',
      },
    });
  });

  it('names every issue of a bulk update, and none for an activity that changes no issue', () => {
    const bulk = {
      ...updated,
      type: 14,
      content: { tx_id: 1, link: [{ key_id: 3 }, { key_id: 4 }, { key_id: 3 }] },
    };
    expect(parseBacklogWebhook(bulk)).toMatchObject({ activity: { issueKeys: ['SEC-3', 'SEC-4'] } });
    const wiki = { ...updated, type: 5, content: { id: 1, name: 'page' } };
    expect(parseBacklogWebhook(wiki)).toMatchObject({ ok: true, activity: { issueKeys: [] } });
  });

  it('says which field is wrong', () => {
    expect(parseBacklogWebhook({ ...updated, project: { projectKey: 'sec; drop' } })).toEqual({
      ok: false,
      problem: expect.stringMatching(/^project\.projectKey: /),
    });
    expect(parseBacklogWebhook({ ...updated, createdUser: undefined })).toMatchObject({ ok: false });
    expect(parseBacklogWebhook([])).toMatchObject({ ok: false });
  });

  it('round-trips through the queue, and a tampered message is refused', () => {
    const parsed = parseBacklogWebhook(updated);
    if (!parsed.ok) throw new Error('expected a valid activity');
    expect(parseQueuedActivity(JSON.parse(JSON.stringify(parsed.activity)))).toEqual(parsed);
    expect(parseQueuedActivity({ ...parsed.activity, issueKeys: ['SEC-1; x'] })).toMatchObject({ ok: false });
    expect(parseQueuedActivity({ ...parsed.activity, extra: 1 })).toMatchObject({ ok: false });
  });
});

describe('the webhook token', () => {
  it('matches only itself, whatever the lengths', () => {
    const token = 'a'.repeat(40);
    expect(tokensMatch(token, token)).toBe(true);
    for (const other of ['', 'a', 'a'.repeat(39), 'a'.repeat(41), `${'a'.repeat(39)}b`]) {
      expect(tokensMatch(other, token), other).toBe(false);
    }
  });
});

describe('the webhook settings', () => {
  it('read the token from its parameter; a plain token only outside Lambda', () => {
    expect(
      loadBacklogWebhookSettings({ BACKLOG_WEBHOOK_TOKEN_PARAMETER: '/shn/dev/backlog-webhook-token' }),
    ).toEqual({
      policyFile: 'policy/notification-policy.yml',
      token: { parameter: '/shn/dev/backlog-webhook-token' },
    });
    expect(loadBacklogWebhookSettings({ BACKLOG_WEBHOOK_TOKEN: 'local' }).token).toEqual({ value: 'local' });
    expect(() =>
      loadBacklogWebhookSettings({ AWS_LAMBDA_FUNCTION_NAME: 'f', BACKLOG_WEBHOOK_TOKEN: 'x' }),
    ).toThrow(/BACKLOG_WEBHOOK_TOKEN: a plaintext secret is not allowed in a Lambda environment/);
    expect(() => loadBacklogWebhookSettings({})).toThrow(/BACKLOG_WEBHOOK_TOKEN_PARAMETER: required/);
    expect(() => loadActivityQueueUrl({})).toThrow(/BACKLOG_ACTIVITY_QUEUE_URL/);
  });
});

describe('how an issue stands', () => {
  const closed = (resolution?: { id: number; name: string }) => ({
    status: { name: 'Closed' },
    ...(resolution ? { resolution } : {}),
  });

  it("is open unless its status is one of the project's closed statuses", () => {
    expect(issueVerdict({ status: { name: 'In Progress' } }, DEFAULT_CLOSED_STATUSES)).toEqual({
      kind: 'open',
    });
    expect(issueVerdict({ status: { name: 'Resolved' } }, DEFAULT_CLOSED_STATUSES).kind).toBe('fixed');
    expect(issueVerdict({ status: { name: 'Done' } }, ['Done']).kind).toBe('fixed');
    expect(issueVerdict({ status: { name: 'Closed' } }, ['Done']).kind).toBe('open');
  });

  it("is not to fix when Won't Fix, Invalid or Duplication, by id in any language; fixed otherwise", () => {
    expect(issueVerdict(closed(), DEFAULT_CLOSED_STATUSES)).toEqual({ kind: 'fixed', resolution: 'Fixed' });
    expect(issueVerdict(closed({ id: 0, name: '対応済み' }), DEFAULT_CLOSED_STATUSES)).toEqual({
      kind: 'fixed',
      resolution: 'Fixed',
    });
    expect(issueVerdict(closed({ id: 1, name: '対応しない' }), DEFAULT_CLOSED_STATUSES)).toEqual({
      kind: 'not-to-fix',
      resolution: "Won't Fix",
    });
    expect(issueVerdict(closed({ id: 2, name: 'Invalid' }), DEFAULT_CLOSED_STATUSES).kind).toBe('not-to-fix');
    expect(issueVerdict(closed({ id: 3, name: 'Duplication' }), DEFAULT_CLOSED_STATUSES).kind).toBe(
      'not-to-fix',
    );
    expect(issueVerdict(closed({ id: 4, name: 'Cannot Reproduce' }), DEFAULT_CLOSED_STATUSES)).toEqual({
      kind: 'fixed',
      resolution: 'Cannot Reproduce',
    });
  });

  it("takes each project's closed statuses from the policy's Backlog blocks (Closed and Resolved by default)", () => {
    const policy = parsePolicy(
      [
        'version: 1',
        'routes:',
        '  - name: prod',
        '    match: { account: ["111111111111"] }',
        '    backlog: { projectKey: PROD, closedStatuses: [Done, Closed] }',
        '  - name: other',
        '    match: { account: ["222222222222"] }',
        '    backlog: { projectKey: PROD, closedStatuses: [Verified] }',
        'default:',
        '  slack: { channel: "#sec" }',
        '  backlog: { projectKey: SEC, issueType: Task }',
      ].join('\n'),
      'policy.yml',
    );
    expect(Object.fromEntries(trackerProjects(policy))).toEqual({
      SEC: ['Closed', 'Resolved'],
      PROD: ['Done', 'Closed', 'Verified'],
    });
    expect(() =>
      parsePolicy(
        'version: 1\ndefault:\n  slack: { channel: "#s" }\n  backlog: { projectKey: S, issueType: T, closedStatuses: [] }\n',
        'p.yml',
      ),
    ).toThrow(/closedStatuses: must list at least one value/);
  });
});

describe('how a finding stands in Security Hub', () => {
  const state = (fields: Record<string, unknown>) =>
    findingStateOf({
      Id: 'f',
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
      ...fields,
    });

  it('agrees it is fixed when PASSED, ARCHIVED or without a compliance check; not when it fails', () => {
    expect(securityHubAgrees(state({ Compliance: { Status: 'PASSED' } }) as FindingState)).toBe(true);
    expect(
      securityHubAgrees(state({ Compliance: { Status: 'FAILED' }, RecordState: 'ARCHIVED' }) as FindingState),
    ).toBe(true);
    expect(securityHubAgrees(state({ RecordState: 'ACTIVE' }) as FindingState)).toBe(true);
    for (const status of ['FAILED', 'WARNING', 'NOT_AVAILABLE']) {
      expect(
        securityHubAgrees(state({ Compliance: { Status: status }, RecordState: 'ACTIVE' }) as FindingState),
      ).toBe(false);
    }
  });

  it('reads what the comment names: the control, the resource, when last observed', () => {
    expect(
      state({
        Compliance: { Status: 'FAILED', SecurityControlId: 'S3.8' },
        Resources: [{ Id: 'arn:aws:s3:::bucket' }],
        LastObservedAt: '2030-01-01T00:00:00Z',
        Workflow: { Status: 'NOTIFIED' },
      }),
    ).toEqual({
      identifier: { Id: 'f', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' },
      label: 'S3.8',
      complianceStatus: 'FAILED',
      workflowStatus: 'NOTIFIED',
      resource: 'arn:aws:s3:::bucket',
      lastObservedAt: '2030-01-01T00:00:00Z',
    });
    expect(findingStateOf({ Id: 'x' })).toBeUndefined();
  });
});

describe('notes and comments', () => {
  const hostile = `Mallory \u202Eevil\u202C\n<!channel> ${'é'.repeat(700)}`;

  it('keep every note to one sanitised line of at most 512 characters', () => {
    for (const note of [
      trackerResolvedNote('SEC-1', hostile, 'Fixed'),
      trackerSuppressedNote('SEC-1', hostile, "Won't Fix", hostile),
      trackerReopenedNote('SEC-1', hostile),
    ]) {
      expect(note.length).toBeLessThanOrEqual(512);
      expect(note).not.toMatch(/[\u202E\u202C\n]/);
      expect(note).toContain('Backlog SEC-1');
      expect(note).toContain('Mallory');
    }
  });

  it("escape what Security Hub and the user say for the project's formatting rule", () => {
    const failing: FindingState = {
      identifier: { Id: 'f', ProductArn: 'p' },
      label: 'S3.8',
      complianceStatus: 'FAILED',
      resource: 'arn:aws:s3:::[[evil>javascript:alert(1)]]',
      lastObservedAt: '2030-01-01T00:00:00Z',
    };
    const backlog = buildStillFailingComment([failing], { textFormattingRule: 'backlog', by: '[[x>y]]' });
    expect(backlog).not.toContain('[[');
    expect(backlog).toContain("''Reopened''");
    const markdown = buildStillFailingComment([failing, { ...failing, label: 'S3.2' }], {
      textFormattingRule: 'markdown',
      by: '**bold**',
    });
    expect(markdown).not.toContain('**bold**');
    expect(markdown.split('\n').filter((line) => line.startsWith('- '))).toHaveLength(2);
  });
});
