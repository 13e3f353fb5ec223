import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { afterEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/adapters/aws-config.js';
import { Ledger } from '../../src/adapters/ledger.js';
import { SecurityHubReader } from '../../src/adapters/security-hub.js';
import { activityKey } from '../../src/domain/delivery/ledger-items.js';
import type { BacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import {
  type SecurityHubEmulator,
  startSecurityHubEmulator,
} from '../../src/local/emulators/security-hub-emulator.js';
import type { Replayer } from '../../src/local/replayer.js';
import { type ServeHandle, startServe } from '../../src/local/server.js';
import { type ImportedEvent, loadEvent, withFinding, wrapFindings } from '../helpers/events.js';
import { asffEvent, asffTwin, loadOcsf, ocsfEvent } from '../helpers/ocsf.js';
import { startTestReplayer } from '../helpers/replay.js';

/**
 * The loop closes from Backlog: the webhook over HTTP against `serve`'s server, the worker's real
 * handler, the real Backlog, Security Hub and DynamoDB clients against the emulators. A replay and
 * the server share the emulators and the ledger, as `npm run replay` and `npm run serve` pointed
 * at the same endpoints do.
 */

const TOKEN = 'test-webhook-token-0123456789abcdef';
const ALICE = 2;
const STATUS = { open: 1, closed: 4 } as const;
const RESOLUTION = { fixed: 0, wontFix: 1 } as const;
const control = loadEvent('fsbp-cloudtrail-2.json');
const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');

interface Loop {
  replayer: Replayer & { lines: string[] };
  serve: ServeHandle;
  backlog: BacklogEmulator;
  hub: SecurityHubEmulator;
  ledger: Ledger;
  lines: string[];
}

let loop: Loop | undefined;
afterEach(async () => {
  await loop?.serve.close();
  await loop?.replayer.close();
  loop = undefined;
});

/** A replayer on fresh emulators, and `serve` pointed at the same ones (the same ledger). */
async function startLoop(): Promise<Loop> {
  const replayer = await startTestReplayer();
  const lines: string[] = [];
  const serve = await startServe({
    env: { ...replayer.sandbox.env, BACKLOG_WEBHOOK_TOKEN: TOKEN, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    port: 0,
    print: (line) => lines.push(line),
    retryDelayMs: 1,
  });
  const { backlog, securityHub } = replayer.sandbox;
  if (!backlog || !securityHub) throw new Error('the replayer runs the embedded emulators');
  const env = replayer.sandbox.env;
  const ledger = new Ledger(new DynamoDBClient(awsClientConfig(env, 'DYNAMODB')), env.LEDGER_TABLE as string);
  loop = { replayer, serve, backlog, hub: securityHub, ledger, lines };
  return loop;
}

/** File findings as Security Hub holds them: imported into its emulator, then replayed. */
async function file(l: Loop, events: ImportedEvent[]) {
  l.hub.importFindings(events.flatMap((event) => event.detail.findings));
  const result = await l.replayer.replay(events);
  expect(result.exitCode).toBe(0);
  return result;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** What a person does in Backlog, and Backlog's webhook for it, sent to the server; the worker done. */
async function act(
  l: Loop,
  userId: number,
  issueKey: string,
  change: Parameters<BacklogEmulator['actAs']>[2],
) {
  const activity = l.backlog.actAs(userId, issueKey, change);
  const answer = await post(l.serve.backlogWebhookUrl, activity);
  await l.serve.idle();
  return { activity, answer };
}

const first = (event: ImportedEvent) => event.detail.findings[0] as { Id: string; ProductArn: string };
const keyOf = (event: ImportedEvent) => `${first(event).ProductArn}|${first(event).Id}`;
const statusOf = (l: Loop, event: ImportedEvent) =>
  l.hub.workflowStatusOf(first(event).Id, first(event).ProductArn);
/** The finding as Security Hub now holds it, as its next Imported event would carry it. */
const echoOf = (l: Loop, event: ImportedEvent, id: string) =>
  wrapFindings([structuredClone(l.hub.findings.get(keyOf(event)) as Record<string, unknown>)], id);
const writes = (l: Loop) => l.backlog.calls.filter((call) => call.method !== 'GET').length;

describe('the loop from Backlog to Security Hub, over HTTP', () => {
  it('refuses a wrong or missing token with 404 and changes nothing', async () => {
    const l = await startLoop();
    await file(l, [control]);
    const activity = l.backlog.actAs(ALICE, 'SEC-1', {
      statusId: STATUS.closed,
      resolutionId: RESOLUTION.wontFix,
    });
    const updatesBefore = l.hub.batchUpdates.length;

    for (const path of [
      '/backlog/webhook/wrong-token-0123456789abcdef00',
      '/backlog/webhook/',
      '/backlog/webhook',
    ]) {
      expect((await post(`${l.serve.url}${path}`, activity)).status, path).toBe(404);
    }
    expect((await fetch(l.serve.backlogWebhookUrl)).status).toBe(404);
    await l.serve.idle();

    expect(l.serve.outcomes).toEqual([]);
    expect(l.hub.batchUpdates).toHaveLength(updatesBefore);
    expect(statusOf(l, control)).toBe('NOTIFIED');
    expect(await l.ledger.get(activityKey(activity.id as number))).toBeUndefined();
    expect((await l.ledger.get(keyOf(control)))?.lifecycle).toBeUndefined();
  });

  it('answers 400 to a body that is not a Backlog activity, 200 "ignored" to a project it does not file into', async () => {
    const l = await startLoop();
    expect((await post(l.serve.backlogWebhookUrl, 'not json')).status).toBe(400);
    expect((await post(l.serve.backlogWebhookUrl, { id: 'x', type: 2 })).status).toBe(400);
    const other = await post(l.serve.backlogWebhookUrl, {
      id: 7,
      type: 2,
      project: { projectKey: 'OTHER' },
      content: { key_id: 1, summary: 'x' },
      createdUser: { id: ALICE, name: 'Alice Example' },
    });
    expect(other).toEqual({ status: 200, body: expect.objectContaining({ status: 'ignored' }) });
    await l.serve.idle();
    expect(l.serve.outcomes).toEqual([]);
  });

  it("suppresses a finding closed as Won't Fix, the note naming the issue, the user and the sanitised comment (≤ 512)", async () => {
    const l = await startLoop();
    await file(l, [control]);
    const comment = `Accepted risk, see RISK-42 <!channel> \u202Eevil\u202C\r\nsecond line ${'x'.repeat(600)}`;

    const { answer } = await act(l, ALICE, 'SEC-1', {
      statusId: STATUS.closed,
      resolutionId: RESOLUTION.wontFix,
      comment,
    });

    expect(answer).toEqual({ status: 200, body: expect.objectContaining({ status: 'queued' }) });
    expect(statusOf(l, control)).toBe('SUPPRESSED');
    const update = l.hub.batchUpdates.at(-1);
    expect(update?.Workflow?.Status).toBe('SUPPRESSED');
    const note = String(update?.Note?.Text);
    expect(note.length).toBeLessThanOrEqual(512);
    expect(note).toContain('Backlog SEC-1');
    expect(note).toContain('Alice Example');
    expect(note).toContain("Won't Fix");
    expect(note).toContain('Accepted risk, see RISK-42');
    expect(note).not.toMatch(/[\u202E\u202C\r\n]/);
    expect(update?.Note?.UpdatedBy).toBe('securityhub-notifier');
    const item = await l.ledger.get(keyOf(control));
    expect(item).toMatchObject({ lifecycle: 'suppressed', closedBy: 'Alice Example (Backlog SEC-1)' });
    expect(l.lines.at(-1)).toMatch(/SEC-1 suppressed \(1 finding/);
  });

  it('resolves a finding closed as Fixed when Security Hub reports it PASSED', async () => {
    const l = await startLoop();
    await file(l, [control]);
    l.hub.importFindings([
      { ...control.detail.findings[0], Compliance: { Status: 'PASSED', SecurityControlId: 'CloudTrail.2' } },
    ]);

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });

    expect(statusOf(l, control)).toBe('RESOLVED');
    expect(String(l.hub.batchUpdates.at(-1)?.Note?.Text)).toMatch(
      /Backlog SEC-1 closed as Fixed by Alice Example/,
    );
    expect((await l.ledger.get(keyOf(control)))?.lifecycle).toBe('closed');
    expect(l.backlog.issue('SEC-1')?.statusId).toBe(STATUS.closed);
  });

  it('resolves a GuardDuty finding (no compliance check) closed as Fixed: a person is all there is', async () => {
    const l = await startLoop();
    await file(l, [guardDuty]);
    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });
    expect(statusOf(l, guardDuty)).toBe('RESOLVED');
  });

  it('changes nothing in Security Hub for a finding closed as Fixed while it still FAILS: the issue is reopened, saying why', async () => {
    const l = await startLoop();
    await file(l, [control]);
    const updatesBefore = l.hub.batchUpdates.length;

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });

    expect(l.hub.batchUpdates).toHaveLength(updatesBefore);
    expect(statusOf(l, control)).toBe('NOTIFIED');
    expect(l.backlog.issue('SEC-1')?.statusId).toBe(STATUS.open);
    const last = String(l.backlog.commentsOf('SEC-1').at(-1)?.content);
    expect(last).toContain(
      'Security Hub still reports CloudTrail.2 FAILED on arn:aws:cloudtrail:us-east-2:123456789012:trail/AWSMacieTrail-DO-NOT-EDIT, last observed 2021-09-28T16:10:06.956Z: reopened.',
    );
    expect(last).toContain('Alice Example');
    expect((await l.ledger.get(keyOf(control)))?.lifecycle).toBeUndefined();
    expect(l.lines.at(-1)).toMatch(/SEC-1 kept-open/);
  });

  it('handles the same activity once, however often it is delivered', async () => {
    const l = await startLoop();
    await file(l, [control]);
    const activity = l.backlog.actAs(ALICE, 'SEC-1', {
      statusId: STATUS.closed,
      resolutionId: RESOLUTION.wontFix,
    });

    for (let i = 0; i < 3; i++) expect((await post(l.serve.backlogWebhookUrl, activity)).status).toBe(200);
    await l.serve.idle();

    expect(l.serve.outcomes.map((o) => o.outcome)).toEqual(['handled', 'duplicate', 'duplicate']);
    expect(l.hub.batchUpdates.filter((u) => u.Workflow?.Status === 'SUPPRESSED')).toHaveLength(1);
    expect(await l.ledger.get(activityKey(activity.id as number))).toMatchObject({
      doneAt: expect.any(String),
    });
  });

  it("ignores an activity of the notifier's own Backlog user", async () => {
    const l = await startLoop();
    await file(l, [control]);
    const updatesBefore = l.hub.batchUpdates.length;

    await act(l, l.backlog.myself.id, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.wontFix });

    expect(l.serve.outcomes).toEqual([expect.objectContaining({ outcome: 'own' })]);
    expect(l.hub.batchUpdates).toHaveLength(updatesBefore);
    expect(statusOf(l, control)).toBe('NOTIFIED');
    expect((await l.ledger.get(keyOf(control)))?.lifecycle).toBeUndefined();
  });

  it('ignores an issue the notifier never filed', async () => {
    const l = await startLoop();
    await file(l, [control]);
    const project = l.backlog.projects[0];
    const created = await fetch(`${l.backlog.url}/api/v2/issues?apiKey=${l.backlog.apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        projectId: String(project?.id),
        summary: 'a person files an issue by hand',
        issueTypeId: String(project?.issueTypes[0]?.id),
        priorityId: '3',
      }),
    });
    const { issueKey } = (await created.json()) as { issueKey: string };
    const reads = l.hub.calls.length;

    await act(l, ALICE, issueKey, { statusId: STATUS.closed, resolutionId: RESOLUTION.wontFix });

    expect(l.serve.outcomes).toEqual([
      expect.objectContaining({ issues: [{ issueKey, outcome: 'not-filed' }] }),
    ]);
    expect(l.hub.calls).toHaveLength(reads);
  });

  it('sets the findings back to NOTIFIED when the issue is reopened in Backlog', async () => {
    const l = await startLoop();
    await file(l, [control]);
    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.wontFix });
    expect(statusOf(l, control)).toBe('SUPPRESSED');

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.open, comment: 'not accepted after all' });

    expect(statusOf(l, control)).toBe('NOTIFIED');
    expect(String(l.hub.batchUpdates.at(-1)?.Note?.Text)).toMatch(/Backlog SEC-1 reopened by Alice Example/);
    const item = await l.ledger.get(keyOf(control));
    expect(item?.lifecycle).toBe('open');
    expect(item?.reopenCount).toBe(1);
  });

  it("suppresses a storm group's findings together, found in the ledger by the issue key", async () => {
    const l = await startLoop();
    const storm = [0, 1, 2].map((index) =>
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
    await file(l, storm);
    expect(l.backlog.issues).toHaveLength(1);

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.wontFix });

    expect(storm.map((event) => statusOf(l, event))).toEqual(['SUPPRESSED', 'SUPPRESSED', 'SUPPRESSED']);
    expect(l.hub.batchUpdates.filter((u) => u.Workflow?.Status === 'SUPPRESSED')).toHaveLength(1);
  });

  it('does nothing with the Security Hub events its own RESOLVED and SUPPRESSED cause, replayed', async () => {
    const l = await startLoop();
    await file(l, [control, guardDuty]);
    l.hub.importFindings([{ ...control.detail.findings[0], Compliance: { Status: 'PASSED' } }]);
    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });
    await act(l, ALICE, 'SEC-2', { statusId: STATUS.closed, resolutionId: RESOLUTION.wontFix });
    expect([statusOf(l, control), statusOf(l, guardDuty)]).toEqual(['RESOLVED', 'SUPPRESSED']);
    const writesBefore = writes(l);
    const messagesBefore = l.replayer.sandbox.slack?.messages.length;
    const updatesBefore = l.hub.batchUpdates.length;

    const result = await l.replayer.replay([
      echoOf(l, control, 'echo-resolved'),
      echoOf(l, guardDuty, 'echo-suppressed'),
    ]);

    expect(result.results.map((r) => r.outcome)).toEqual(['already closed', 'already closed']);
    expect(writes(l)).toBe(writesBefore);
    expect(l.replayer.sandbox.slack?.messages.length).toBe(messagesBefore);
    expect(l.hub.batchUpdates).toHaveLength(updatesBefore);
  });
});

describe('reading findings from Security Hub (GetFindings)', () => {
  it('asks for at most 20 identifiers a call (the filter limit), reads every page, leaves out what it does not have', async () => {
    const hub = await startSecurityHubEmulator();
    const client = new SecurityHubClient({
      endpoint: hub.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const base = control.detail.findings[0] as Record<string, unknown>;
      const findings = Array.from({ length: 45 }, (_, index) => ({
        ...base,
        Id: `finding-${index}`,
        ProductArn: String(base.ProductArn),
      }));
      hub.importFindings(findings);
      const wanted = [
        ...findings.map(({ Id, ProductArn }) => ({ Id, ProductArn })),
        { Id: 'gone', ProductArn: 'p' },
      ];

      const states = await new SecurityHubReader(client).read(
        wanted as Array<{ Id: string; ProductArn: string }>,
      );

      expect(states.map((state) => state.identifier.Id).sort()).toEqual(findings.map((f) => f.Id).sort());
      expect(states[0]).toMatchObject({
        complianceStatus: 'FAILED',
        recordState: 'ACTIVE',
        label: 'CloudTrail.2',
      });
      const calls = hub.calls.filter((call) => call.operation === 'GetFindings');
      expect(calls).toHaveLength(3);
      for (const call of calls) {
        expect((call.body as { Filters: { Id: unknown[] } }).Filters.Id.length).toBeLessThanOrEqual(20);
      }
    } finally {
      client.destroy();
      await hub.close();
    }
  });
});

describe('the loop from Security Hub, the rows the lifecycle tests leave out', () => {
  let replayer: (Replayer & { lines: string[] }) | undefined;
  afterEach(async () => {
    await replayer?.close();
    replayer = undefined;
  });

  it('closes the issue as Fixed when a person sets the finding RESOLVED in Security Hub, naming them', async () => {
    replayer = await startTestReplayer();
    await replayer.replay([control]);
    const resolved = withFinding(
      control,
      (finding) => {
        finding.UpdatedAt = '2030-01-06T00:00:00Z';
        finding.Workflow = { Status: 'RESOLVED' };
        finding.Note = {
          Text: 'rotated the trail key by hand',
          UpdatedBy: 'arn:aws:iam::123456789012:user/bob',
          UpdatedAt: '2030-01-06T00:00:00Z',
        };
      },
      'resolved-by-bob',
    );

    const result = await replayer.replay([resolved]);

    expect(result.results.map((r) => r.outcome)).toEqual(['closed']);
    const issue = replayer.sandbox.backlog?.issue('SEC-1');
    expect([issue?.statusId, issue?.resolutionId]).toEqual([STATUS.closed, RESOLUTION.fixed]);
    const comment = String(replayer.sandbox.backlog?.commentsOf('SEC-1').at(-1)?.content);
    expect(comment).toContain('set to RESOLVED in Security Hub by arn:aws:iam::123456789012:user/bob');
    expect(comment).toContain('rotated the trail key by hand');
  });
});

describe("the loop from Backlog to the new Security Hub's copies (OCSF)", () => {
  const gdOcsf = loadOcsf('guardduty-detection-runtime-newbinary-create.json');
  const sqsOcsf = loadOcsf('securityhub-compliance-sqs1-fail-create.json');
  const uidOf = (finding: Record<string, unknown>) => String((finding.metadata as { uid: string }).uid);

  /** Filed from the new Security Hub only: its copy held by the emulator, the event replayed. */
  async function fileOcsf(l: Loop, findings: Array<Record<string, unknown>>) {
    l.hub.importFindingsV2(findings.map((finding) => structuredClone(finding)));
    const result = await l.replayer.replay(findings.map((finding) => ocsfEvent(finding)));
    expect(result.exitCode).toBe(0);
  }

  it("suppresses the OCSF copy (status 3, with the note as comment) of a finding closed as Won't Fix", async () => {
    const l = await startLoop();
    await fileOcsf(l, [gdOcsf]);
    expect(l.hub.statusIdOf(uidOf(gdOcsf))).toBe(2);

    await act(l, ALICE, 'SEC-1', {
      statusId: STATUS.closed,
      resolutionId: RESOLUTION.wontFix,
      comment: 'lab host',
    });

    expect(l.hub.statusIdOf(uidOf(gdOcsf))).toBe(3);
    const update = l.hub.batchUpdatesV2.at(-1);
    expect(update?.MetadataUids).toEqual([uidOf(gdOcsf)]);
    expect(update?.Comment).toMatch(
      /^Suppressed by securityhub-notifier: Backlog SEC-1 closed as Won't Fix by Alice/,
    );
    expect(update?.Comment).toContain('lab host');
    expect(l.hub.batchUpdates).toHaveLength(0);
  });

  it('reads the OCSF copy: Fixed while it still Fails changes nothing and reopens; once it Passes, Resolved (status 4)', async () => {
    const l = await startLoop();
    await fileOcsf(l, [sqsOcsf]);
    const updates = l.hub.batchUpdatesV2.length;

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });

    expect(l.hub.batchUpdatesV2).toHaveLength(updates);
    expect(l.backlog.issue('SEC-1')?.statusId).toBe(STATUS.open);
    expect(String(l.backlog.commentsOf('SEC-1').at(-1)?.content)).toContain(
      'Security Hub still reports SQS.1 FAILED',
    );

    l.hub.importFindingsV2([
      { ...structuredClone(sqsOcsf), compliance: { ...(sqsOcsf.compliance as object), status: 'Pass' } },
    ]);
    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });

    expect(l.hub.statusIdOf(uidOf(sqsOcsf))).toBe(4);
    expect((await l.ledger.get(keyOf(asffEvent(asffTwin(sqsOcsf)))))?.lifecycle).toBe('closed');
    const calls = l.hub.calls.filter((call) => call.operation === 'GetFindingsV2');
    expect(calls.length).toBeGreaterThan(0);
  });

  it('updates both copies of a finding both Security Hubs reported, and sets both back when the issue is reopened', async () => {
    const l = await startLoop();
    const twin = asffEvent(asffTwin(gdOcsf));
    l.hub.importFindings(twin.detail.findings);
    await fileOcsf(l, [gdOcsf]);
    await l.replayer.replay([twin]);
    expect(statusOf(l, twin)).toBe('NOTIFIED');

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.wontFix });

    expect([statusOf(l, twin), l.hub.statusIdOf(uidOf(gdOcsf))]).toEqual(['SUPPRESSED', 3]);

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.open });

    expect([statusOf(l, twin), l.hub.statusIdOf(uidOf(gdOcsf))]).toEqual(['NOTIFIED', 2]);
  });
});

describe('the loop from Backlog reaches the Slack message', () => {
  const messageOf = (l: Loop) => l.replayer.sandbox.slack?.messages.find((m) => !m.threadTs);
  const colorOf = (l: Loop) => (messageOf(l)?.attachments?.[0] as { color?: string } | undefined)?.color;

  it("restyles the message suppressed (with the person's escaped comment) on Won't Fix, and open again on reopen", async () => {
    const l = await startLoop();
    await file(l, [guardDuty]);
    const openColor = colorOf(l);

    await act(l, ALICE, 'SEC-1', {
      statusId: STATUS.closed,
      resolutionId: RESOLUTION.wontFix,
      comment: 'lab host <!channel> *bold*',
    });

    const suppressed = JSON.stringify(messageOf(l)?.blocks);
    expect(suppressed).toContain('🔕 Suppressed: ');
    expect(suppressed).toContain('suppressed from Backlog by Alice Example (SEC-1');
    expect(suppressed).toContain('lab host &lt;!channel&gt;');
    expect(suppressed).not.toContain('<!channel>');
    expect(colorOf(l)).toBe('#9E9E9E');

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.open });

    const reopened = JSON.stringify(messageOf(l)?.blocks);
    expect(reopened).not.toContain('🔕 Suppressed: ');
    expect(reopened).not.toContain('lab host');
    expect(colorOf(l)).toBe(openColor);
  });

  it('restyles the message resolved when the issue is closed as Fixed and Security Hub agrees; leaves it open while it still FAILS', async () => {
    const l = await startLoop();
    await file(l, [control]);

    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });

    expect(JSON.stringify(messageOf(l)?.blocks)).not.toContain('✅ Resolved: ');

    l.hub.importFindings([
      { ...control.detail.findings[0], Compliance: { Status: 'PASSED', SecurityControlId: 'CloudTrail.2' } },
    ]);
    await act(l, ALICE, 'SEC-1', { statusId: STATUS.closed, resolutionId: RESOLUTION.fixed });

    expect(JSON.stringify(messageOf(l)?.blocks)).toContain('✅ Resolved: ');
    expect(JSON.stringify(messageOf(l)?.blocks)).toContain(
      'resolved from Backlog by Alice Example (SEC-1, Fixed)',
    );
    expect(colorOf(l)).toBe('#2EB67D');
  });
});
