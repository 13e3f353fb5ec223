import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/adapters/aws-config.js';
import { Ledger } from '../../src/adapters/ledger.js';
import { type ImportedEvent, loadEvent, withFinding } from '../helpers/events.js';
import { startTestReplayer } from '../helpers/replay.js';

/**
 * The loop closes from Security Hub: a filed finding that is fixed, gone, resolved or suppressed
 * closes its issue and its Slack alert; one that fails again reopens them; the notifier's own
 * updates do nothing. Through the real workflow, the real clients and the emulators over HTTP.
 */

type TestReplayer = Awaited<ReturnType<typeof startTestReplayer>>;
const control = loadEvent('fsbp-cloudtrail-2.json');
const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');
const NOTE_OURS = {
  Text: 'Notified by securityhub-notifier. Backlog SEC-1',
  UpdatedBy: 'securityhub-notifier',
};

/** The same finding as Security Hub sends it after a change. */
function changed(
  event: ImportedEvent,
  at: string,
  change: (finding: Record<string, unknown>) => void,
  id = `${event.id}-${at}`,
) {
  return withFinding(
    event,
    (finding) => {
      finding.UpdatedAt = at;
      finding.Note = { ...NOTE_OURS, UpdatedAt: at };
      change(finding);
    },
    id,
  );
}

const passed = (event: ImportedEvent, at: string) =>
  changed(event, at, (f) => {
    f.Compliance = { ...(f.Compliance as object), Status: 'PASSED' };
    f.Workflow = { Status: 'RESOLVED' };
  });
const failedAgain = (event: ImportedEvent, at: string) =>
  changed(event, at, (f) => {
    f.Compliance = { ...(f.Compliance as object), Status: 'FAILED' };
    f.Workflow = { Status: 'NEW' };
  });
const suppressedBy = (event: ImportedEvent, at: string, who: string, note: string) =>
  changed(event, at, (f) => {
    f.Workflow = { Status: 'SUPPRESSED' };
    f.Note = { Text: note, UpdatedBy: who, UpdatedAt: at };
  });

/** `n` findings of one control in one account, each on its own bucket: a storm group. */
function stormOf(n: number): ImportedEvent[] {
  return Array.from({ length: n }, (_, index) =>
    withFinding(
      control,
      (finding) => {
        finding.Id = `${String(finding.Id)}-storm-${index}`;
        const [resource] = finding.Resources as Array<Record<string, unknown>>;
        if (resource) resource.Id = `arn:aws:cloudtrail:us-east-2:123456789012:trail/storm-${index}`;
      },
      `storm-${index}`,
    ),
  );
}

describe('the lifecycle, from Security Hub to Backlog and Slack', () => {
  let replayer: TestReplayer | undefined;
  afterEach(async () => {
    await replayer?.close();
    replayer = undefined;
  });

  const ledgerOf = (r: TestReplayer) =>
    new Ledger(
      new DynamoDBClient(awsClientConfig(r.sandbox.env, 'DYNAMODB')),
      r.sandbox.env.LEDGER_TABLE as string,
    );

  it('closes the issue, replies in the thread and restyles the message when compliance PASSED', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([control]);

    const result = await replayer.replay([passed(control, '2030-01-03T00:00:00Z')]);

    expect(result.results).toEqual([expect.objectContaining({ outcome: 'closed', issueKey: 'SEC-1' })]);
    const issue = replayer.sandbox.backlog?.issue('SEC-1');
    expect(issue?.statusId).toBe(4);
    expect(issue?.resolutionId).toBe(0);
    const comments = replayer.sandbox.backlog?.commentsOf('SEC-1') ?? [];
    expect(comments.map((c) => c.content)).toEqual([
      expect.stringContaining('compliance PASSED at 2030-01-03T00:00:00Z'),
    ]);
    const [original, reply] = replayer.sandbox.slack?.messages ?? [];
    expect(reply?.threadTs).toBe(original?.ts);
    expect(reply?.text).toContain('Resolved');
    expect(JSON.stringify(original?.blocks)).toContain('✅ Resolved: ');
    expect((original?.attachments?.[0] as { color?: string })?.color).toBe('#2EB67D');
    expect(original?.edited).toBeDefined();
    expect(replayer.sandbox.securityHub?.batchUpdates).toHaveLength(1);
    expect((await ledgerOf(replayer).get(String(result.results[0]?.key)))?.lifecycle).toBe('closed');
  });

  it('reopens the same issue, replies and restyles the message back when the finding fails again', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([control]);
    await replayer.replay([passed(control, '2030-01-03T00:00:00Z')]);

    const result = await replayer.replay([failedAgain(control, '2030-01-04T00:00:00Z')]);

    expect(result.results).toEqual([expect.objectContaining({ outcome: 'reopened', issueKey: 'SEC-1' })]);
    expect(replayer.sandbox.backlog?.issues).toHaveLength(1);
    expect(replayer.sandbox.backlog?.issue('SEC-1')?.statusId).toBe(1);
    const messages = replayer.sandbox.slack?.messages ?? [];
    expect(messages.filter((m) => !m.threadTs)).toHaveLength(1);
    expect(messages.at(-1)).toMatchObject({ threadTs: messages[0]?.ts, replyBroadcast: true });
    expect(JSON.stringify(messages[0]?.blocks)).not.toContain('Resolved');
    expect(replayer.sandbox.securityHub?.notified()).toHaveLength(1);
  });

  it('comments "n of m resolved" on a storm group, then closes it with its last finding', async () => {
    replayer = await startTestReplayer();
    const storm = stormOf(3);
    await replayer.replay(storm);

    const first = await replayer.replay([passed(storm[0] as ImportedEvent, '2030-01-03T00:00:00Z')]);
    const rest = await replayer.replay(storm.slice(1).map((event) => passed(event, '2030-01-03T01:00:00Z')));

    expect(first.results.map((r) => r.outcome)).toEqual(['closed']);
    expect(rest.results.map((r) => r.outcome)).toEqual(['closed', 'closed']);
    const comments = (replayer.sandbox.backlog?.commentsOf('SEC-1') ?? []).map((c) => String(c.content));
    expect(comments).toHaveLength(2);
    expect(comments[0]).toContain('1 of 3 resolved');
    expect(comments[1]).toContain('All 3 resolved');
    expect(replayer.sandbox.backlog?.issue('SEC-1')?.statusId).toBe(4);
    const replies = (replayer.sandbox.slack?.messages ?? []).filter((m) => m.threadTs);
    expect(replies.map((m) => m.text)).toEqual([
      expect.stringContaining('1 of 3'),
      expect.stringContaining('All 3'),
    ]);
  });

  it("closes as Won't Fix when a person suppressed it, with their escaped note", async () => {
    replayer = await startTestReplayer();
    await replayer.replay([guardDuty]);
    const hostile = 'accepted risk <!channel> *bold* [[x>javascript:alert(1)]]';

    const result = await replayer.replay([
      suppressedBy(guardDuty, '2030-01-05T00:00:00Z', 'arn:aws:iam::123456789012:user/alice', hostile),
    ]);

    expect(result.results.map((r) => r.outcome)).toEqual(['closed']);
    const issue = replayer.sandbox.backlog?.issue('SEC-1');
    expect(issue?.statusId).toBe(4);
    expect(issue?.resolutionId).toBe(1);
    const comment = String(replayer.sandbox.backlog?.commentsOf('SEC-1')[0]?.content);
    expect(comment).toContain('SUPPRESSED');
    expect(comment).toContain('alice');
    expect(comment).not.toContain('[[x>');
    const reply = replayer.sandbox.slack?.messages.at(-1);
    expect(JSON.stringify(reply?.blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(reply?.blocks)).toContain('&lt;!channel&gt;');
    expect((await ledgerOf(replayer).get(String(result.results[0]?.key)))?.lifecycle).toBe('suppressed');
  });

  it('records an issue deleted in Backlog and goes on: the reply and the message still change', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([control, guardDuty]);
    const issues = replayer.sandbox.backlog?.issues ?? [];
    issues.splice(
      issues.findIndex((i) => i.issueKey === 'SEC-1'),
      1,
    );

    const result = await replayer.replay([
      passed(control, '2030-01-03T00:00:00Z'),
      changed(guardDuty, '2030-01-03T00:00:00Z', (f) => (f.RecordState = 'ARCHIVED')),
    ]);

    expect(result.exitCode).toBe(0);
    expect(result.results.map((r) => r.outcome)).toEqual(['closed', 'closed']);
    const item = await ledgerOf(replayer).get(String(result.results[0]?.key));
    expect(item?.issueGoneAt).toBeDefined();
    expect(replayer.sandbox.backlog?.issue('SEC-2')?.statusId).toBe(4);
  });

  it("does nothing with the notifier's own updates, a repeat of a close, or a finding it never filed", async () => {
    replayer = await startTestReplayer();
    await replayer.replay([control]);
    const notifiedEcho = changed(
      control,
      '2024-01-01T00:00:00Z',
      (f) => (f.Workflow = { Status: 'NOTIFIED' }),
      'echo',
    );
    const close = passed(control, '2030-01-03T00:00:00Z');
    await replayer.replay([close]);
    const never = passed(
      withFinding(control, (f) => (f.Id = 'never-filed'), 'never'),
      '2030-01-03T00:00:00Z',
    );
    const writesBefore = (replayer.sandbox.backlog?.calls ?? []).filter((c) => c.method !== 'GET').length;
    const messagesBefore = replayer.sandbox.slack?.messages.length;

    const result = await replayer.replay([notifiedEcho, close, never]);

    expect(result.results.map((r) => r.outcome)).toEqual(['filtered', 'already closed', 'not filed']);
    expect((replayer.sandbox.backlog?.calls ?? []).filter((c) => c.method !== 'GET').length).toBe(
      writesBefore,
    );
    expect(replayer.sandbox.slack?.messages.length).toBe(messagesBefore);
  });
});
