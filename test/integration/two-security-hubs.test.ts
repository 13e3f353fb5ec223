import { afterEach, describe, expect, it } from 'vitest';
import { loadEvent } from '../helpers/events.js';
import { asffEvent, asffTwin, loadOcsf, ocsfEvent } from '../helpers/ocsf.js';
import { startTestReplayer } from '../helpers/replay.js';

/**
 * Security Hub CSPM (ASFF) and the new Security Hub (OCSF) side by side: one issue and one message
 * per underlying finding, every copy marked (NOTIFIED in CSPM, In Progress in the new one), whichever
 * arrives first; the notifier's own V2 updates do nothing.
 */

type TestReplayer = Awaited<ReturnType<typeof startTestReplayer>>;
const uidOf = (finding: Record<string, unknown>) => String((finding.metadata as { uid: string }).uid);

const guardDuty = loadOcsf('guardduty-detection-runtime-newbinary-create.json');
const sqs = loadOcsf('securityhub-compliance-sqs1-fail-create.json');
const inspector = loadOcsf('inspector-vulnerability-lambda-cve-2025-47906-create.json');
const control = loadEvent('fsbp-cloudtrail-2.json');

describe('two Security Hubs', () => {
  let replayer: TestReplayer | undefined;
  afterEach(async () => {
    await replayer?.close();
    replayer = undefined;
  });

  it('files one issue and one message per underlying finding of a mixed file, and marks every copy', async () => {
    replayer = await startTestReplayer();
    const events = [
      ocsfEvent(guardDuty),
      asffEvent(asffTwin(guardDuty)),
      asffEvent(asffTwin(sqs)),
      ocsfEvent(sqs),
      ocsfEvent(inspector),
      control,
    ];

    const result = await replayer.replay(events);

    expect(result.exitCode).toBe(0);
    expect(result.results.map((r) => r.outcome)).toEqual(['notified', 'notified', 'notified', 'notified']);
    const { backlog, slack, securityHub } = replayer.sandbox;
    expect(backlog?.issues).toHaveLength(4);
    expect(slack?.messages).toHaveLength(4);
    for (const finding of [guardDuty, sqs, inspector])
      expect(securityHub?.statusIdOf(uidOf(finding))).toBe(2);
    expect(
      securityHub
        ?.notified()
        .map((i) => i.Id)
        .sort(),
    ).toEqual([asffTwin(guardDuty).Id, asffTwin(sqs).Id, control.detail.findings[0]?.Id].sort());
    expect(
      securityHub?.batchUpdatesV2.every((u) => u.Comment?.startsWith('Notified by securityhub-notifier')),
    ).toBe(true);

    const again = await replayer.replay(events);

    // One line per underlying finding: its two copies are one finding.
    expect(again.results.map((r) => r.outcome)).toEqual(Array(4).fill('already filed'));
    expect(backlog?.issues).toHaveLength(4);
    expect(slack?.messages).toHaveLength(4);
  });

  it('marks the copy that arrives later without filing anything, whichever Security Hub was first', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([asffEvent(asffTwin(guardDuty))]);
    await replayer.replay([ocsfEvent(sqs)]);

    const later = await replayer.replay([ocsfEvent(guardDuty), asffEvent(asffTwin(sqs))]);

    expect(later.results.map((r) => r.outcome)).toEqual(['notified', 'notified']);
    expect(replayer.sandbox.backlog?.issues).toHaveLength(2);
    expect(replayer.sandbox.slack?.messages).toHaveLength(2);
    expect(replayer.sandbox.securityHub?.statusIdOf(uidOf(guardDuty))).toBe(2);
    expect(replayer.sandbox.securityHub?.notified()).toHaveLength(2);
  });

  it('files once when both copies race in two executions', async () => {
    replayer = await startTestReplayer();
    const second = await startTestReplayer({
      SLACK_API_URL: replayer.sandbox.env.SLACK_API_URL,
      BACKLOG_API_URL: replayer.sandbox.env.BACKLOG_API_URL,
      AWS_ENDPOINT_URL_SECURITYHUB: replayer.sandbox.env.AWS_ENDPOINT_URL_SECURITYHUB,
      AWS_ENDPOINT_URL_DYNAMODB: replayer.sandbox.env.AWS_ENDPOINT_URL_DYNAMODB,
      SLACK_BOT_TOKEN: replayer.sandbox.env.SLACK_BOT_TOKEN,
      SLACK_CHANNEL: replayer.sandbox.env.SLACK_CHANNEL,
      BACKLOG_HOST: replayer.sandbox.env.BACKLOG_HOST,
      BACKLOG_API_KEY: replayer.sandbox.env.BACKLOG_API_KEY,
      BACKLOG_PROJECT_KEY: replayer.sandbox.env.BACKLOG_PROJECT_KEY,
      BACKLOG_ISSUE_TYPE: replayer.sandbox.env.BACKLOG_ISSUE_TYPE,
      LEDGER_TABLE: replayer.sandbox.env.LEDGER_TABLE,
    });
    try {
      await Promise.all([
        replayer.replay([ocsfEvent(guardDuty)]),
        second.replay([asffEvent(asffTwin(guardDuty))]),
      ]);

      expect(replayer.sandbox.backlog?.issues).toHaveLength(1);
      expect(replayer.sandbox.slack?.messages).toHaveLength(1);
      expect(replayer.sandbox.securityHub?.statusIdOf(uidOf(guardDuty))).toBe(2);
      expect(replayer.sandbox.securityHub?.notified()).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("does nothing with the notifier's own V2 update when it comes back", async () => {
    replayer = await startTestReplayer();
    await replayer.replay([ocsfEvent(guardDuty)]);
    const echo = structuredClone(guardDuty);
    Object.assign(echo, {
      status: 'In Progress',
      status_id: 2,
      comment: 'Notified by securityhub-notifier. Backlog SEC-1',
    });

    const result = await replayer.replay([ocsfEvent(echo, 'echo')]);

    expect(result.results.map((r) => r.outcome)).toEqual(['filtered']);
    expect(replayer.sandbox.securityHub?.batchUpdatesV2).toHaveLength(1);
    expect(replayer.sandbox.slack?.messages).toHaveLength(1);
  });

  it('closes what the new Security Hub says is resolved', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([ocsfEvent(sqs)]);
    const passed = structuredClone(sqs);
    Object.assign(passed, {
      status: 'Resolved',
      status_id: 4,
      comment: 'Notified by securityhub-notifier. Backlog SEC-1',
      compliance: { ...(sqs.compliance as object), status: 'Pass', status_id: 1 },
      finding_info: {
        ...(sqs.finding_info as object),
        modified_time_dt: '2030-01-01T00:00:00.000Z',
        modified_time: 1893456000000,
      },
    });

    const result = await replayer.replay([ocsfEvent(passed, 'passed')]);

    expect(result.results.map((r) => r.outcome)).toEqual(['closed']);
    expect(replayer.sandbox.backlog?.issue('SEC-1')?.statusId).toBe(4);
  });
});
