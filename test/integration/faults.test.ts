import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKLOG_LIMITS } from '../../src/domain/backlog/limits.js';
import { readEventFiles } from '../../src/local/replayer.js';
import { type ImportedEvent, loadEvent, withFinding } from '../helpers/events.js';
import { type FaultBench, startFaultBench } from '../helpers/faults.js';

/**
 * Every failure an adversarial test of the pipeline found (issue 11), each reproduced through the
 * production path (the real handlers, clients and workflow definition) against the emulators
 * behind fault-injecting proxies, showing the fixed behaviour: one message and one issue per
 * finding under every once-fault; after a persistent fault clears and the events come again,
 * every finding has one message and one issue and is NOTIFIED; the replay reports every finding.
 */

const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');
const control = loadEvent('fsbp-cloudtrail-2.json');
const POST = { method: 'POST', path: '/chat.postMessage' } as const;
const CREATE = { method: 'POST', path: '/api/v2/issues' } as const;
const MARK = { method: 'PATCH', path: '/findings/batchupdate' } as const;

/** `n` GuardDuty findings of one type in one account, each its own finding. */
function guardDutyStorm(n: number, label: string): ImportedEvent[] {
  return Array.from({ length: n }, (_, index) =>
    withFinding(
      guardDuty,
      (finding) => {
        finding.Id = `${String(finding.Id)}-${label}-${index}`;
        finding.Title = `${label} ${index}: 198.51.100.${index % 250} is performing SSH brute force attacks against i-0123`;
      },
      `${label}-${index}`,
    ),
  );
}

function idOf(event: ImportedEvent): string {
  return String(event.detail.findings[0]?.Id);
}

describe('faults: nothing lost, nothing twice', () => {
  let bench: FaultBench;
  beforeEach(async () => {
    bench = await startFaultBench();
  });
  afterEach(async () => {
    await bench.close();
  });

  const notified = () => new Set(bench.securityHub.notified().map((i) => i.Id));

  describe('1. a mark that fails past its retries', () => {
    it.each([
      [
        'persistent throttling',
        { kind: 'status', status: 429, body: { __type: 'TooManyRequestsException', message: 'slow down' } },
      ],
      [
        'persistent 5xx',
        { kind: 'status', status: 500, body: { __type: 'InternalException', message: 'boom' } },
      ],
      [
        'AccessDenied',
        { kind: 'status', status: 403, body: { __type: 'AccessDeniedException', message: 'no' } },
      ],
    ] as const)(
      'with %s: the rest of the batch is delivered, the finding recorded and marked once the fault clears',
      async (_name, fault) => {
        const replayer = await bench.replayer();
        bench.securityHubProxy.injectAlways({ ...MARK, bodyIncludes: idOf(control) }, fault);

        const first = await replayer.replay([control, guardDuty]);
        bench.securityHubProxy.clear();
        const again = await replayer.replay([control, guardDuty]);

        expect(first.exitCode).toBe(1);
        expect(first.results.find((r) => r.key.endsWith(idOf(control)))).toMatchObject({
          outcome: 'failed',
          detail: expect.stringContaining('delivered, not marked'),
        });
        expect(first.results.find((r) => r.key.endsWith(idOf(guardDuty)))?.outcome).toBe('notified');
        expect(again.exitCode).toBe(0);
        expect(again.results.map((r) => r.outcome).sort()).toEqual(['already filed', 'notified']);
        expect(notified()).toEqual(new Set([idOf(control), idOf(guardDuty)]));
        expect(bench.backlog.issues).toHaveLength(2);
        expect(bench.slack.messages).toHaveLength(2);
      },
    );
  });

  describe('2. identifiers Security Hub returns unprocessed', () => {
    it.each(['FindingNotFound', 'ConcurrentUpdateError'] as const)(
      '%s every time: recorded, the execution fails, and the next event marks it',
      async (code) => {
        const replayer = await bench.replayer();
        // Every call of the first delivery: one, and two tries again of an error that may pass.
        bench.securityHub.unprocessedNext(code, [idOf(control)], code === 'FindingNotFound' ? 1 : 3);

        const first = await replayer.replay([control]);
        const again = await replayer.replay([control]);

        expect(first.exitCode).toBe(1);
        expect(first.runs[0]?.status).toBe('FAILED');
        expect(first.results[0]).toMatchObject({ outcome: 'failed', detail: expect.stringContaining(code) });
        expect(again.results[0]?.outcome).toBe('notified');
        expect(notified()).toEqual(new Set([idOf(control)]));
        expect(bench.backlog.issues).toHaveLength(1);
        expect(bench.slack.messages).toHaveLength(1);
      },
    );
  });

  describe('3. a storm append longer than a Backlog comment', () => {
    it('is split into comments within the limit, one thread reply, every finding marked', async () => {
      const replayer = await bench.replayer();
      const storm = guardDutyStorm(203, 'storm');
      await replayer.replay(storm.slice(0, 3));

      const append = await replayer.replay(storm.slice(3));

      expect(append.exitCode).toBe(0);
      expect(bench.backlog.issues).toHaveLength(1);
      const comments = bench.backlog.comments;
      expect(comments.length).toBeGreaterThan(1);
      for (const comment of comments)
        expect(String(comment.content).length).toBeLessThanOrEqual(BACKLOG_LIMITS.comment);
      const replies = bench.slack.messages.filter((m) => m.threadTs);
      expect(replies).toHaveLength(1);
      expect(notified().size).toBe(203);
    });
  });

  describe('4. Slack and Backlog are independent', () => {
    it('posts the alert when Backlog is down, saying the issue is not filed yet; links it once Backlog is back', async () => {
      const replayer = await bench.replayer();
      bench.backlogProxy.injectAlways(
        {},
        { kind: 'status', status: 503, body: { errors: [{ message: 'down' }] } },
      );

      const down = await replayer.replay([control, guardDuty]);
      const markedWhileDown = notified().size;
      const backlogRequestsWhileDown = bench.backlogProxy.requests.length;
      bench.backlogProxy.clear();
      const back = await replayer.replay([control, guardDuty]);

      expect(down.exitCode).toBe(1);
      expect(
        down.results.every(
          (r) => r.outcome === 'failed' && /message posted, issue not filed yet/.test(r.detail ?? ''),
        ),
      ).toBe(true);
      const [first] = bench.slack.messages;
      expect(JSON.stringify(first?.raw)).toContain('Backlog issue not filed yet');
      expect(bench.slack.messages).toHaveLength(2);
      expect(markedWhileDown).toBe(0);
      // One delivery paid Backlog's retries (at most 6 attempts); the next skipped it at once (down).
      const whileDown = bench.backlogProxy.requests.slice(0, backlogRequestsWhileDown);
      expect(whileDown.length).toBeLessThanOrEqual(6);
      expect(new Set(whileDown.map((r) => `${r.method} ${r.path}`))).toEqual(
        new Set(['GET /api/v2/projects/SEC']),
      );

      expect(back.exitCode).toBe(0);
      expect(back.results.map((r) => r.outcome)).toEqual(['notified', 'notified']);
      expect(bench.backlog.issues).toHaveLength(2);
      expect(bench.slack.messages).toHaveLength(2);
      for (const message of bench.slack.messages) {
        expect(message.edited).toBeDefined();
        expect(JSON.stringify(message.blocks)).not.toContain('not filed yet');
        expect(JSON.stringify(message.attachments)).toMatch(/SEC-\d/);
      }
      expect(notified().size).toBe(2);
    });

    it('files a finding whose tags escape past the description limit, and Slack gets it', async () => {
      const replayer = await bench.replayer();
      const tags = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`${i}${'_'.repeat(125)}`, '[]{}|*_#'.repeat(32)]),
      );
      const tagged = withFinding(control, (finding) => {
        finding.Resources = Array.from({ length: 10 }, (_, i) => ({
          Type: 'AwsS3Bucket',
          Id: `arn:aws:s3:::tagged-${i}`,
          Region: 'us-east-2',
          Tags: tags,
        }));
      });

      const result = await replayer.replay([tagged]);

      expect(result.results[0]?.outcome).toBe('notified');
      expect(bench.backlog.issues[0]?.description.length).toBeLessThanOrEqual(BACKLOG_LIMITS.description);
      expect(bench.slack.messages).toHaveLength(1);
    });

    it('records a Backlog 400 with its message and does not retry it', async () => {
      const replayer = await bench.replayer();
      bench.backlogProxy.injectAlways(CREATE, {
        kind: 'status',
        status: 400,
        body: { errors: [{ message: 'Please change the description: too long', code: 7 }] },
      });

      const result = await replayer.replay([control]);

      expect(result.results[0]).toMatchObject({
        outcome: 'failed',
        detail: expect.stringContaining('Please change the description: too long'),
      });
      expect(
        bench.backlogProxy.requests.filter((r) => r.method === 'POST' && r.path === CREATE.path),
      ).toHaveLength(1);
      expect(bench.slack.messages).toHaveLength(1);
    });
  });

  describe('5. Slack exactly once', () => {
    it.each([
      ['a lost answer', { kind: 'drop-after-forward' }],
      ['an answer slower than the client timeout', { kind: 'slow-answer', ms: 1_000 }],
      ['a 5xx after the post took effect', { kind: 'status-after-forward', status: 502 }],
    ] as const)('posts one message after %s', async (_name, fault) => {
      const replayer = await bench.replayer();
      bench.slackProxy.inject(POST, fault);

      const result = await replayer.replay([control]);

      expect(result.results[0]?.outcome).toBe('notified');
      expect(bench.slack.messages).toHaveLength(1);
      expect(bench.slack.calls.filter((c) => c.method === 'conversations.history').length).toBeGreaterThan(0);
    });

    it('posts one message when two identical replays run at once', async () => {
      const [a, b] = await Promise.all([bench.replayer(), bench.replayer()]);

      const results = await Promise.all([a.replay([control, guardDuty]), b.replay([control, guardDuty])]);

      expect(bench.slack.messages).toHaveLength(2);
      expect(bench.backlog.issues).toHaveLength(2);
      const again = await a.replay([control, guardDuty]);
      expect(again.results.map((r) => r.outcome)).toEqual(['already filed', 'already filed']);
      expect(
        results.flatMap((r) => r.results).filter((r) => r.outcome === 'notified').length,
      ).toBeGreaterThan(0);
      expect(notified().size).toBe(2);
    });
  });

  describe('6. Backlog exactly once when a create lands late', () => {
    it('waits for a create slower than the client timeout to land, then adopts it', async () => {
      const replayer = await bench.replayer();
      bench.backlogProxy.inject(CREATE, { kind: 'delay', ms: 700 });

      const result = await replayer.replay([control]);

      expect(result.results[0]?.outcome).toBe('notified');
      expect(bench.backlog.issues).toHaveLength(1);
      expect(bench.slack.messages).toHaveLength(1);
    });
  });

  describe('7. storm appends announced once', () => {
    it('announces each finding once when the same storm arrives in two batches at once', async () => {
      const [a, b] = await Promise.all([bench.replayer(), bench.replayer()]);
      const storm = guardDutyStorm(4, 'twice');

      await Promise.all([a.replay(storm), b.replay(storm)]);

      expect(bench.backlog.issues).toHaveLength(1);
      expect(bench.backlog.comments).toHaveLength(0);
      expect(bench.slack.messages.filter((m) => m.threadTs)).toHaveLength(0);
      expect(bench.slack.messages).toHaveLength(1);
      expect(notified().size).toBe(4);
    });

    it('recovers a group whose first Slack post failed at once on redelivery, announcing nothing twice', async () => {
      const replayer = await bench.replayer();
      const storm = guardDutyStorm(3, 'recover');
      bench.slackProxy.injectAlways(POST, {
        kind: 'status',
        status: 200,
        body: { ok: false, error: 'channel_not_found' },
      });

      const failed = await replayer.replay(storm);
      bench.slackProxy.clear();
      const recovered = await replayer.replay(storm);

      expect(failed.exitCode).toBe(1);
      expect(recovered.exitCode).toBe(0);
      expect(recovered.results.every((r) => r.outcome === 'notified')).toBe(true);
      expect(bench.backlog.issues).toHaveLength(1);
      expect(bench.backlog.comments).toHaveLength(0);
      expect(bench.slack.messages).toHaveLength(1);
      expect(notified().size).toBe(3);
    });
  });

  describe('8. bounded time', () => {
    it('bounds a batch when Backlog hangs: one delivery pays the timeouts, the others skip Backlog, Slack gets all', async () => {
      const replayer = await bench.replayer();
      bench.backlogProxy.injectAlways({}, { kind: 'hang' });
      const started = Date.now();

      const result = await replayer.replay([control, ...guardDutyStorm(3, 'hang-storm'), guardDuty]);

      const seconds = (Date.now() - started) / 1000;
      expect(result.results).toHaveLength(5);
      expect(result.results.every((r) => r.outcome === 'failed')).toBe(true);
      // A storm message for the four GuardDuty findings, and one for the control.
      expect(bench.slack.messages).toHaveLength(2);
      expect(bench.slack.messages.every((m) => JSON.stringify(m.raw).includes('not filed yet'))).toBe(true);
      // 5 attempts of at most 400 ms of a hung request each, for the first delivery only.
      expect(seconds).toBeLessThan(12);
    });

    it('hands a Slack Retry-After to the workflow to wait, then posts once', async () => {
      const replayer = await bench.replayer();
      bench.slackProxy.inject(POST, {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '1' },
        body: { ok: false, error: 'ratelimited' },
      });

      const result = await replayer.replay([control]);

      expect(result.results[0]?.outcome).toBe('notified');
      expect(bench.slack.messages).toHaveLength(1);
    });

    it('fails clearly when Slack asks to wait longer than the longest wait', async () => {
      const replayer = await bench.replayer();
      bench.slackProxy.injectAlways(POST, {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '600' },
        body: { ok: false, error: 'ratelimited' },
      });

      const result = await replayer.replay([control]);

      expect(result.results[0]).toMatchObject({
        outcome: 'failed',
        detail: expect.stringContaining('SlackRateLimitError'),
      });
      expect(bench.slack.messages).toHaveLength(0);
    });
  });

  describe('9. the replay never aborts', () => {
    it('gives every finding its line when Slack fails for a whole batch (sustained 5xx)', async () => {
      const replayer = await bench.replayer();
      bench.slackProxy.injectAlways({}, { kind: 'status', status: 503, body: 'unavailable' });

      const result = await replayer.replay([control, guardDuty, ...guardDutyStorm(2, 'sustained')]);

      expect(result.results).toHaveLength(4);
      expect(result.exitCode).toBe(1);
      expect(replayer.lines.filter((line) => line.startsWith('failed'))).toHaveLength(4);
    });

    it('rejects a non-JSON line with file:line, keeps it, and delivers its neighbours', async () => {
      const replayer = await bench.replayer();
      const file = join(tmpdir(), `shn-mixed-${Date.now()}.jsonl`);
      writeFileSync(file, `${JSON.stringify(control)}\n{not json at all\n${JSON.stringify(guardDuty)}\n`);
      const { events, unreadable } = await readEventFiles([file]);

      const result = await replayer.replay(events, unreadable);

      expect(result.results.map((r) => r.outcome).sort()).toEqual(['notified', 'notified', 'rejected']);
      expect(result.results.find((r) => r.outcome === 'rejected')).toMatchObject({
        key: `${file}:2`,
        detail: expect.stringContaining('not JSON'),
      });
      expect(readFileSync(result.rejectedFile as string, 'utf8')).toContain('{not json at all');
    });

    it('rejects input nested absurdly deep instead of crashing', async () => {
      const replayer = await bench.replayer();
      let deep: unknown = 'bottom';
      for (let i = 0; i < 6_000; i++) deep = { deeper: deep };
      const nested = withFinding(
        control,
        (finding) => (finding.ProductFields = deep as Record<string, unknown>),
        'deep',
      );

      const result = await replayer.replay([nested, guardDuty]);

      expect(result.results.map((r) => r.outcome).sort()).toEqual(['notified', 'rejected']);
      expect(result.results.find((r) => r.outcome === 'rejected')?.detail).toMatch(/nested deeper/);
    });
  });
});
