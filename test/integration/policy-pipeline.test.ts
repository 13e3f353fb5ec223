import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEvent, withFinding } from '../helpers/events.js';
import { startTestReplayer } from '../helpers/replay.js';

type TestReplayer = Awaited<ReturnType<typeof startTestReplayer>>;

const control = loadEvent('fsbp-cloudtrail-2.json');
const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');

/** Another control finding of the same sample, as `controlId` in `account` at `severity`. */
function controlFinding(id: string, controlId: string, account: string, severity: string) {
  return withFinding(
    control,
    (f) => {
      f.Id = `arn:aws:securityhub:us-east-2:${account}:subscription/aws-foundational-security-best-practices/v/1.0.0/${controlId}/finding/${id}`;
      f.AwsAccountId = account;
      f.Title = `${controlId} sample control`;
      f.Severity = { Label: severity };
      f.Compliance = { Status: 'FAILED', SecurityControlId: controlId };
      f.ProductFields = { ControlId: controlId };
    },
    `event-${id}`,
  );
}

describe('the notification policy, end to end through the workflow', () => {
  let replayer: TestReplayer;
  let result: Awaited<ReturnType<TestReplayer['replay']>>;
  const routed = controlFinding('routed', 'S3.8', '123456789012', 'HIGH');
  const slackOnly = controlFinding('slack-only', 'S3.2', '999999999999', 'MEDIUM');

  beforeAll(async () => {
    replayer = await startTestReplayer({ NOTIFICATION_POLICY_FILE: 'test/fixtures/policies/pipeline.yml' });
    result = await replayer.replay([control, guardDuty, routed, slackOnly]);
  });

  afterAll(async () => {
    await replayer.close();
  });

  const outcomeOf = (event: typeof control) =>
    result.results.find((r) => r.key.endsWith(`|${String(event.detail.findings[0]?.Id)}`));
  const identifierOf = (event: typeof control) =>
    event.detail.findings[0] as { Id: string; ProductArn: string };

  it('marks a suppressed finding SUPPRESSED with the rule and its reason, and files nothing for it', () => {
    const { Id, ProductArn } = identifierOf(control);

    expect(outcomeOf(control)).toMatchObject({
      outcome: 'suppressed',
      detail: 'rule accepted-trail-encryption',
    });
    expect(replayer.sandbox.securityHub?.workflowStatusOf(Id, ProductArn)).toBe('SUPPRESSED');
    expect(replayer.sandbox.securityHub?.batchUpdates.map((u) => u.Note?.Text)).toContain(
      'Suppressed by securityhub-notifier rule accepted-trail-encryption: CloudTrail encryption is handled by the organization trail (RISK-7)',
    );
  });

  it('drops an excluded finding, naming the rule, and leaves it NEW', () => {
    expect(outcomeOf(guardDuty)?.outcome).toBe('filtered');
    expect(outcomeOf(guardDuty)?.detail).toContain('no-guardduty-from-the-lab');
  });

  it('routes by account name and severity to its own channel and project', () => {
    const message = replayer.sandbox.slack?.messages.find((m) => m.text.includes('S3.8 sample control'));
    const issue = replayer.sandbox.backlog?.issues.find((i) => i.summary.includes('S3.8 sample control'));

    expect(outcomeOf(routed)).toMatchObject({ outcome: 'notified', issueKey: 'PROD-1' });
    expect(message?.channel).toBe(replayer.sandbox.slack?.channels.find((c) => c.name === 'sec-prod')?.id);
    expect(message?.text).toContain('prod-payments');
    expect(issue?.issueKey).toBe('PROD-1');
  });

  it('sends a finding below the Backlog threshold to Slack only, and still marks it NOTIFIED', () => {
    const { Id, ProductArn } = identifierOf(slackOnly);

    expect(outcomeOf(slackOnly)).toMatchObject({ outcome: 'notified', issueKey: undefined });
    expect(replayer.sandbox.slack?.messages.some((m) => m.text.includes('S3.2 sample control'))).toBe(true);
    expect(replayer.sandbox.backlog?.issues.some((i) => i.summary.includes('S3.2'))).toBe(false);
    expect(replayer.sandbox.securityHub?.workflowStatusOf(Id, ProductArn)).toBe('NOTIFIED');
  });
});

describe('a finding below the Slack threshold but at the Backlog one', () => {
  let replayer: TestReplayer;

  beforeAll(async () => {
    replayer = await startTestReplayer({
      NOTIFICATION_POLICY_FILE: 'test/fixtures/policies/backlog-only.yml',
    });
  });

  afterAll(async () => {
    await replayer.close();
  });

  it('is filed in Backlog without a Slack message, marked NOTIFIED with a note naming the issue', async () => {
    const high = controlFinding('backlog-only', 'S3.8', '123456789012', 'HIGH');
    const { Id, ProductArn } = high.detail.findings[0] as { Id: string; ProductArn: string };

    const result = await replayer.replay([high]);
    const repeat = await replayer.replay([high]);

    expect(result.results).toEqual([
      expect.objectContaining({ outcome: 'notified', issueKey: 'SEC-1', slackTs: undefined }),
    ]);
    expect(replayer.sandbox.slack?.messages).toHaveLength(0);
    expect(replayer.sandbox.securityHub?.workflowStatusOf(Id, ProductArn)).toBe('NOTIFIED');
    expect(replayer.sandbox.securityHub?.batchUpdates[0]?.Note?.Text).toBe(
      'Notified by securityhub-notifier. Backlog SEC-1 https://example.backlog.com/view/SEC-1',
    );
    expect(repeat.results).toEqual([
      expect.objectContaining({ outcome: 'already filed', issueKey: 'SEC-1' }),
    ]);
  });
});
