import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/adapters/aws-config.js';
import { Ledger } from '../../src/adapters/ledger.js';
import { FINDING_ACTIONS } from '../../src/domain/slack/actions.js';
import * as sweep from '../../src/handlers/sweep-suppressions.js';
import type { BacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import type { SecurityHubEmulator } from '../../src/local/emulators/security-hub-emulator.js';
import {
  type SlackEmulator,
  type SlackInteraction,
  signSlackRequest,
} from '../../src/local/emulators/slack-emulator.js';
import type { Replayer } from '../../src/local/replayer.js';
import { localContext, type ServeHandle, startServe } from '../../src/local/server.js';
import { type ImportedEvent, loadEvent, wrapFindings } from '../helpers/events.js';
import { UNESCAPED } from '../helpers/markup.js';
import { loadOcsf, ocsfEvent } from '../helpers/ocsf.js';
import { startTestReplayer } from '../helpers/replay.js';

/**
 * Acting from Slack, over HTTP: interactions as the Slack emulator builds them from the messages the
 * pipeline posted, signed as Slack signs them, posted to `serve`'s `POST /slack/actions`; the
 * endpoint's and the worker's real handlers; the real Slack, Backlog, Security Hub and DynamoDB
 * clients against the emulators. The policy lets anyone acknowledge, the `S0SECOPS` user group
 * (Alice) suppress, and Alice resolve; Bob may only acknowledge.
 */

const SECRET = 'test-signing-secret-0123456789abcdef';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CHANNEL = '#security-alerts';
const STATUS = { open: 1, inProgress: 2, closed: 4 } as const;
const RESOLUTION = { fixed: 0, wontFix: 1 } as const;
const control = loadEvent('fsbp-cloudtrail-2.json');
const guardDuty = loadEvent('guardduty-ssh-bruteforce.json');
const DAY_MS = 86_400_000;
const dayAfter = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);

const POLICY = `version: 1
slackActions:
  suppress: { userGroups: [S0SECOPS] }
  resolve: { users: [${ALICE}] }
`;

interface Actions {
  replayer: Replayer & { lines: string[] };
  serve: ServeHandle;
  slack: SlackEmulator;
  backlog: BacklogEmulator;
  hub: SecurityHubEmulator;
  ledger: Ledger;
  lines: string[];
}

let current: Actions | undefined;
afterEach(async () => {
  await current?.serve.close();
  await current?.replayer.close();
  current = undefined;
});

async function startActions(policy = POLICY): Promise<Actions> {
  const file = join(mkdtempSync(join(tmpdir(), 'shn-policy-')), 'policy.yml');
  writeFileSync(file, policy);
  const replayer = await startTestReplayer({ NOTIFICATION_POLICY_FILE: file });
  const lines: string[] = [];
  const serve = await startServe({
    env: { ...replayer.sandbox.env, SLACK_SIGNING_SECRET: SECRET, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    port: 0,
    print: (line) => lines.push(line),
    retryDelayMs: 1,
  });
  const { slack, backlog, securityHub } = replayer.sandbox;
  if (!slack || !backlog || !securityHub) throw new Error('the replayer runs the embedded emulators');
  const env = replayer.sandbox.env;
  const ledger = new Ledger(new DynamoDBClient(awsClientConfig(env, 'DYNAMODB')), env.LEDGER_TABLE as string);
  current = { replayer, serve, slack, backlog, hub: securityHub, ledger, lines };
  return current;
}

/** File findings as Security Hub holds them: imported into its emulator, then replayed. */
async function file(a: Actions, events: ImportedEvent[]) {
  a.hub.importFindings(events.flatMap((event) => event.detail.findings));
  const result = await a.replayer.replay(events);
  expect(result.exitCode).toBe(0);
}

/** The top-level message of the n-th delivery (in posting order). */
function topMessage(a: Actions, index = 0) {
  const message = a.slack.messagesIn(CHANNEL).filter((m) => !m.threadTs)[index];
  if (!message) throw new Error(`no top-level message ${index}`);
  return message;
}

/** Post an interaction to the endpoint, signed (or not) as given; the worker done. */
async function send(
  a: Actions,
  interaction: SlackInteraction,
  options: { secret?: string; timestamp?: number; body?: string; headers?: Record<string, string> } = {},
) {
  const headers =
    options.headers ?? signSlackRequest(interaction.body, options.secret ?? SECRET, options.timestamp);
  const response = await fetch(a.serve.slackActionsUrl, {
    method: 'POST',
    headers,
    body: options.body ?? interaction.body,
  });
  const text = await response.text();
  await a.serve.idle();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const click = (a: Actions, action: keyof typeof FINDING_ACTIONS, user = ALICE, index = 0) =>
  a.slack.clickButton({
    channel: CHANNEL,
    ts: topMessage(a, index).ts,
    actionId: FINDING_ACTIONS[action],
    user,
  });

const first = (event: ImportedEvent) => event.detail.findings[0] as { Id: string; ProductArn: string };
const keyOf = (event: ImportedEvent) => `${first(event).ProductArn}|${first(event).Id}`;
const statusOf = (a: Actions, event: ImportedEvent) =>
  a.hub.workflowStatusOf(first(event).Id, first(event).ProductArn);
const backlogWrites = (a: Actions) => a.backlog.calls.filter((call) => call.method !== 'GET').length;
const texts = (blocks: unknown) => JSON.stringify(blocks ?? []);
/** Every mrkdwn text of a message's blocks and attachments. */
function mrkdwnOf(message: { blocks?: unknown[]; attachments?: unknown[] }): string[] {
  const found: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.type === 'mrkdwn' && typeof record.text === 'string') found.push(record.text);
      Object.values(record).forEach(visit);
    }
  };
  visit([message.blocks, message.attachments]);
  return found;
}

/** What must not change when a request is refused: Security Hub, Backlog, the message, the worker. */
function snapshot(a: Actions) {
  return {
    updates: a.hub.batchUpdates.length,
    updatesV2: a.hub.batchUpdatesV2.length,
    writes: backlogWrites(a),
    message: JSON.stringify(topMessage(a)),
    views: a.slack.views.length,
    outcomes: a.serve.slackOutcomes.length,
  };
}

describe('acting on a finding from Slack, over HTTP', () => {
  it('acknowledges: ledgered, noted in Security Hub, the issue In Progress assigned by mail address with a comment, the message says so', async () => {
    const a = await startActions();
    await file(a, [control]);

    const answer = await send(a, click(a, 'acknowledge'));

    expect(answer).toEqual({ status: 200, body: undefined });
    expect(a.serve.slackOutcomes).toEqual([
      expect.objectContaining({ action: 'acknowledge', outcome: 'done' }),
    ]);
    const update = a.hub.batchUpdates.at(-1);
    expect(update?.Workflow?.Status).toBe('NOTIFIED');
    expect(update?.Note?.Text).toMatch(/^Acknowledged from Slack by Alice Example at \d{4}-/);
    const issue = a.backlog.issue('SEC-1');
    expect([issue?.statusId, issue?.assigneeId]).toEqual([STATUS.inProgress, 2]);
    const comment = String(a.backlog.commentsOf('SEC-1').at(-1)?.content);
    expect(comment).toContain('Acknowledged');
    expect(comment).toContain('Alice Example');
    expect(comment).toContain('Assigned to Alice Example');
    const message = topMessage(a);
    expect(message.edited).toBeDefined();
    expect(texts(message.blocks)).toMatch(
      /👀 \*Acknowledged\* by Alice Example at .*assigned to Alice Example in Backlog/,
    );
    expect(await a.ledger.get(keyOf(control))).toMatchObject({
      acknowledgedBy: `Alice Example (Slack ${ALICE})`,
    });
  });

  it('acknowledges for someone without a Backlog user of their mail address: not assigned, the comment says why; the policy mapping overrides', async () => {
    const a = await startActions(`${POLICY}  backlogUsers: { U0ANALYST: 2 }\n`);
    await file(a, [control, guardDuty]);

    await send(a, click(a, 'acknowledge', BOB, 0));
    expect(a.backlog.issue('SEC-1')?.assigneeId).toBeUndefined();
    expect(String(a.backlog.commentsOf('SEC-1').at(-1)?.content)).toContain(
      "Not assigned: no user of the project has the Slack user's mail address",
    );

    await send(a, click(a, 'acknowledge', 'U0ANALYST', 1));
    expect(a.backlog.issue('SEC-2')?.assigneeId).toBe(2);
  });

  it('suppresses with a reason and an expiry: the modal, then its submission changes Security Hub, Backlog and the message', async () => {
    const a = await startActions();
    await file(a, [control]);
    const until = dayAfter(7);

    const opened = await send(a, click(a, 'suppress'));
    expect(opened.status).toBe(200);
    expect(a.hub.batchUpdates.filter((u) => u.Workflow?.Status === 'SUPPRESSED')).toEqual([]);
    const view = a.slack.views.at(-1);
    expect(view?.view).toMatchObject({ callback_id: 'finding.suppress', type: 'modal' });

    const submitted = await send(
      a,
      a.slack.submitView(view?.id as string, {
        user: ALICE,
        values: { reason: 'Accepted risk, see RISK-42', until },
      }),
    );

    expect(submitted).toEqual({ status: 200, body: undefined });
    expect(statusOf(a, control)).toBe('SUPPRESSED');
    expect(a.hub.batchUpdates.at(-1)?.Note?.Text).toBe(
      `Suppressed from Slack by Alice Example: Accepted risk, see RISK-42 (until ${until})`,
    );
    const issue = a.backlog.issue('SEC-1');
    expect([issue?.statusId, issue?.resolutionId]).toEqual([STATUS.closed, RESOLUTION.wontFix]);
    const comment = String(a.backlog.commentsOf('SEC-1').at(-1)?.content);
    expect(comment).toContain('Accepted risk, see RISK-42');
    expect(comment).toContain(`until ${until}`);
    const message = topMessage(a);
    expect(message.text).toMatch(/^🔕 Suppressed: /);
    expect(texts(message.blocks)).toContain(`suppressed from Slack by Alice Example at`);
    expect(texts(message.blocks)).toContain('Accepted risk, see RISK-42');
    expect(await a.ledger.get(keyOf(control))).toMatchObject({
      lifecycle: 'suppressed',
      suppressedUntil: until,
    });
  });

  it("sets an expired suppression back to NEW (the sweep), and Security Hub's event reopens the same issue through the lifecycle", async () => {
    const a = await startActions();
    await file(a, [control]);
    const until = dayAfter(2);
    await send(a, click(a, 'suppress'));
    await send(
      a,
      a.slack.submitView(a.slack.views.at(-1)?.id as string, {
        user: ALICE,
        values: { reason: 'for two days', until },
      }),
    );
    const env = a.replayer.sandbox.env;
    const runSweep = (at: Date) =>
      sweep.makeHandler(sweep.defaultDeps(env, { now: () => at }))(
        {} as never,
        localContext('sweepSuppressions'),
      );

    const early = await runSweep(new Date(Date.now() + DAY_MS));
    expect(early).toEqual({ reopened: [], skipped: [] });
    expect(statusOf(a, control)).toBe('SUPPRESSED');

    const due = await runSweep(new Date(`${until}T00:30:00Z`));

    expect(due).toEqual({ reopened: [keyOf(control)], skipped: [] });
    expect(statusOf(a, control)).toBe('NEW');
    expect(a.hub.batchUpdates.at(-1)?.Note?.Text).toBe(
      `The suppression from Slack by Alice Example expired on ${until}: set back to NEW by securityhub-notifier.`,
    );
    const echo = wrapFindings(
      [structuredClone(a.hub.findings.get(keyOf(control)) as Record<string, unknown>)],
      'echo',
    );
    const reopened = await a.replayer.replay([echo]);
    expect(reopened.results.map((r) => r.outcome)).toEqual(['reopened']);
    expect(a.backlog.issue('SEC-1')?.statusId).toBe(STATUS.open);
    expect(a.backlog.issues).toHaveLength(1);
    expect(topMessage(a).text).not.toMatch(/Suppressed/);
    expect(await runSweep(new Date(`${until}T01:30:00Z`))).toEqual({ reopened: [], skipped: [] });
  });

  it('resolves a finding without a compliance check: RESOLVED, the issue closed as Fixed, the message restyled', async () => {
    const a = await startActions();
    await file(a, [guardDuty]);

    expect((await send(a, click(a, 'resolve'))).status).toBe(200);

    expect(statusOf(a, guardDuty)).toBe('RESOLVED');
    expect(a.hub.batchUpdates.at(-1)?.Note?.Text).toMatch(/^Resolved from Slack by Alice Example at /);
    const issue = a.backlog.issue('SEC-1');
    expect([issue?.statusId, issue?.resolutionId]).toEqual([STATUS.closed, RESOLUTION.fixed]);
    expect(String(a.backlog.commentsOf('SEC-1').at(-1)?.content)).toContain('Resolved');
    expect(topMessage(a).text).toMatch(/^✅ Resolved: /);
    expect((await a.ledger.get(keyOf(guardDuty)))?.lifecycle).toBe('closed');
  });

  it('offers no Resolve on a control finding (it resolves itself when it passes)', async () => {
    const a = await startActions();
    await file(a, [control]);
    expect(() => click(a, 'resolve')).toThrow(/has no button finding.resolve/);
  });

  it("updates the new Security Hub's copy too (BatchUpdateFindingsV2, status 3 Suppressed)", async () => {
    const a = await startActions();
    const finding = loadOcsf('guardduty-detection-runtime-newbinary-create.json');
    a.hub.importFindingsV2([finding]);
    expect((await a.replayer.replay([ocsfEvent(finding)])).exitCode).toBe(0);

    await send(a, click(a, 'suppress'));
    await send(
      a,
      a.slack.submitView(a.slack.views.at(-1)?.id as string, {
        user: ALICE,
        values: { reason: 'test binary' },
      }),
    );

    const uid = String((finding.metadata as { uid: string }).uid);
    expect(a.hub.batchUpdatesV2.at(-1)).toEqual({
      MetadataUids: [uid],
      StatusId: 3,
      Comment: 'Suppressed from Slack by Alice Example: test binary',
    });
  });

  it('escapes a hostile reason in the note, the Backlog comment and the message', async () => {
    const a = await startActions();
    await file(a, [control]);
    const reason =
      '<!channel> *urgent* <https://evil.example|click> \u202Eevil\u202C & `code` @here\nsecond line';

    await send(a, click(a, 'suppress'));
    await send(
      a,
      a.slack.submitView(a.slack.views.at(-1)?.id as string, { user: ALICE, values: { reason } }),
    );

    const note = String(a.hub.batchUpdates.at(-1)?.Note?.Text);
    expect(note).toContain('<!channel> *urgent*');
    expect(note).not.toMatch(/[\u202E\u202C\n]/);
    const comment = String(a.backlog.commentsOf('SEC-1').at(-1)?.content);
    expect(comment).not.toContain('<!channel>');
    expect(comment).not.toContain('<https://evil.example|click>');
    expect(comment).toContain('\\<!channel\\>');
    expect(comment).not.toMatch(/[\u202E\u202C]/);
    const message = topMessage(a);
    const shown = mrkdwnOf(message).join('\n');
    expect(shown).toContain('&lt;!channel&gt;');
    for (const text of mrkdwnOf(message)) expect(text).not.toMatch(UNESCAPED);
    expect(JSON.stringify(message)).not.toMatch(/[\u202E\u202C]/);
  });
});

describe('what the endpoint refuses, over HTTP: nothing changes', () => {
  it('answers 401 to a bad signature, a timestamp 6 minutes old or ahead, a modified body, no signature', async () => {
    const a = await startActions();
    await file(a, [control]);
    const before = snapshot(a);
    const interaction = click(a, 'acknowledge');
    const now = Math.floor(Date.now() / 1000);
    const modified = interaction.body.replace(encodeURIComponent(ALICE), encodeURIComponent('U0MALLORY'));
    expect(modified).not.toBe(interaction.body);

    const answers = [
      await send(a, interaction, { secret: 'another-secret-0123456789abcdef' }),
      await send(a, interaction, { timestamp: now - 360 }),
      await send(a, interaction, { timestamp: now + 360 }),
      await send(a, interaction, { body: modified }),
      await send(a, interaction, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ];

    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401]);
    expect(snapshot(a)).toEqual(before);
    expect(a.slack.ephemerals).toEqual([]);
  });

  it('handles a replayed request once: the second gets 200 and changes nothing', async () => {
    const a = await startActions();
    await file(a, [control]);
    const interaction = click(a, 'acknowledge');
    const headers = signSlackRequest(interaction.body, SECRET);

    await send(a, interaction, { headers });
    const after = snapshot(a);
    const again = await send(a, interaction, { headers });

    expect(again.status).toBe(200);
    expect(a.serve.slackOutcomes.map((o) => o.outcome)).toEqual(['done', 'duplicate']);
    expect({ ...snapshot(a), outcomes: after.outcomes }).toEqual(after);
  });

  it('handles a replayed modal submission once, and a replayed Suppress click opens no second modal', async () => {
    const a = await startActions();
    await file(a, [control]);
    const suppress = click(a, 'suppress');
    const headers = signSlackRequest(suppress.body, SECRET);
    await send(a, suppress, { headers });
    const submission = a.slack.submitView(a.slack.views.at(-1)?.id as string, {
      user: ALICE,
      values: { reason: 'ok' },
    });
    const submitted = signSlackRequest(submission.body, SECRET);
    await send(a, submission, { headers: submitted });
    const after = snapshot(a);

    expect((await send(a, suppress, { headers })).status).toBe(200);
    expect((await send(a, submission, { headers: submitted })).status).toBe(200);

    expect(a.serve.slackOutcomes.map((o) => o.outcome)).toEqual(['done', 'duplicate']);
    expect({ ...snapshot(a), outcomes: after.outcomes }).toEqual(after);
  });

  it('refuses a user the policy does not name: 200, an ephemeral message saying why, no modal, nothing changed', async () => {
    const a = await startActions();
    await file(a, [guardDuty]);
    const before = snapshot(a);

    const suppress = await send(a, click(a, 'suppress', BOB));
    const resolve = await send(a, click(a, 'resolve', BOB));

    expect([suppress.status, resolve.status]).toEqual([200, 200]);
    expect(snapshot(a)).toEqual(before);
    expect(a.slack.ephemerals.map((e) => [e.user, e.text])).toEqual([
      [
        BOB,
        expect.stringMatching(
          /^You may not suppress this finding: .*slackActions\.suppress.*Nothing was changed\.$/,
        ),
      ],
      [BOB, expect.stringMatching(/^You may not resolve this finding: .*slackActions\.resolve/)],
    ]);
  });

  it('refuses suppress and resolve to everyone when the policy names nobody (the default)', async () => {
    const a = await startActions('version: 1\n');
    await file(a, [guardDuty]);
    const before = snapshot(a);

    await send(a, click(a, 'suppress', ALICE));
    await send(a, click(a, 'resolve', ALICE));
    await send(a, click(a, 'acknowledge', BOB));

    expect(a.slack.ephemerals.map((e) => e.text)).toEqual([
      expect.stringContaining('names nobody yet'),
      expect.stringContaining('names nobody yet'),
    ]);
    expect(a.serve.slackOutcomes.map((o) => [o.action, o.outcome])).toEqual([['acknowledge', 'done']]);
    expect(a.hub.batchUpdates.length).toBe(before.updates + 1);
  });

  it('answers 400 to an unknown action or callback, 200 to a link button, and changes nothing', async () => {
    const a = await startActions();
    await file(a, [control]);
    const before = snapshot(a);
    const base = click(a, 'acknowledge');
    const forge = (change: (payload: Record<string, unknown>) => void): SlackInteraction => {
      const payload = structuredClone(base.payload);
      change(payload);
      return { payload, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() };
    };
    const unknownAction = forge((p) => {
      (p.actions as Array<Record<string, unknown>>)[0] = {
        action_id: 'finding.delete',
        value: 'x',
        type: 'button',
        action_ts: '1.1',
      };
    });
    const unknownCallback = forge((p) => {
      p.type = 'view_submission';
      p.view = { id: 'V1', callback_id: 'finding.delete', private_metadata: '', state: { values: {} } };
    });
    const shortcut = forge((p) => {
      p.type = 'shortcut';
    });
    const link = a.slack.clickButton({
      channel: CHANNEL,
      ts: topMessage(a).ts,
      actionId: 'open-security-hub',
      user: BOB,
    });

    const answers = [await send(a, unknownAction), await send(a, unknownCallback), await send(a, shortcut)];

    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400]);
    expect(answers[0]?.body?.message).toBe('unknown action "finding.delete"');
    expect(answers[1]?.body?.message).toBe('unknown callback "finding.delete"');
    expect(await send(a, link)).toEqual({ status: 200, body: undefined });
    expect(snapshot(a)).toEqual(before);
  });

  it('shows a suppress form error for an expiry that is not after today, and does nothing', async () => {
    const a = await startActions();
    await file(a, [control]);
    await send(a, click(a, 'suppress'));
    const before = snapshot(a);

    const answer = await send(
      a,
      a.slack.submitView(a.slack.views.at(-1)?.id as string, {
        user: ALICE,
        values: { reason: 'ok', until: new Date().toISOString().slice(0, 10) },
      }),
    );

    expect(answer).toEqual({
      status: 200,
      body: { response_action: 'errors', errors: { until: 'Choose a day after today.' } },
    });
    expect(snapshot(a)).toEqual(before);
  });

  it('refuses a button whose value names another finding than the message it was on', async () => {
    const a = await startActions();
    await file(a, [control, guardDuty]);
    const forged = click(a, 'acknowledge', BOB, 0);
    const actions = forged.payload.actions as Array<Record<string, unknown>>;
    (actions[0] as Record<string, unknown>).value = keyOf(guardDuty);
    const body = new URLSearchParams({ payload: JSON.stringify(forged.payload) }).toString();
    const before = snapshot(a);

    expect((await send(a, { payload: forged.payload, body })).status).toBe(200);

    expect(a.serve.slackOutcomes.at(-1)).toMatchObject({
      outcome: 'refused',
      why: expect.stringContaining('does not belong'),
    });
    expect({ ...snapshot(a), outcomes: before.outcomes }).toEqual(before);
    expect(a.slack.ephemerals.at(-1)?.text).toContain('Nothing was changed');
  });
});

describe('faults: retried, done once, never lost', () => {
  it('finishes a suppression whose Backlog close failed: retried by the queue, one comment, the message updated', async () => {
    const a = await startActions();
    await file(a, [control]);
    await send(a, click(a, 'suppress'));
    a.backlog.failNext({ method: 'PATCH', path: /\/issues\/SEC-1$/ }, { status: 503 }, 2);

    await send(
      a,
      a.slack.submitView(a.slack.views.at(-1)?.id as string, { user: ALICE, values: { reason: 'ok' } }),
    );

    expect(a.serve.slackOutcomes.map((o) => o.outcome)).toEqual(['done']);
    expect(a.lines.filter((line) => line.includes('dead-lettered'))).toEqual([]);
    const issue = a.backlog.issue('SEC-1');
    expect([issue?.statusId, issue?.resolutionId]).toEqual([STATUS.closed, RESOLUTION.wontFix]);
    expect(a.backlog.commentsOf('SEC-1').filter((c) => c.content.includes('**Suppressed**'))).toHaveLength(1);
    expect(statusOf(a, control)).toBe('SUPPRESSED');
    expect(topMessage(a).text).toMatch(/^🔕 Suppressed: /);
  });

  it('keeps an action Slack keeps failing in its dead-letter queue after five receives', async () => {
    const a = await startActions();
    await file(a, [control]);
    a.slack.failNext('chat.update', { error: 'internal_error' }, 5);

    const answer = await send(a, click(a, 'acknowledge'));

    expect(answer.status).toBe(200);
    expect(a.serve.slackActionQueue.deadLetters).toHaveLength(1);
    expect(JSON.parse(a.serve.slackActionQueue.deadLetters[0]?.body ?? '{}')).toMatchObject({
      action: 'acknowledge',
      user: { id: ALICE },
    });
    expect(a.lines.at(-1)).toMatch(/slack action queue: local-1 dead-lettered after 5 receives/);
    // What was done before the failure was done once: one comment, one note.
    expect(a.backlog.commentsOf('SEC-1').filter((c) => c.content.includes('**Acknowledged**'))).toHaveLength(
      1,
    );
  });
});

describe('the Slack app manifest', () => {
  it('asks for the scopes the notifier uses and names the interactivity URL to fill in', () => {
    const manifest = readFileSync(new URL('../../deploy/slack-app-manifest.yml', import.meta.url), 'utf8');
    for (const scope of [
      'chat:write',
      'users:read',
      'users:read.email',
      'usergroups:read',
      'channels:history',
      'groups:history',
      'channels:read',
      'groups:read',
    ]) {
      expect(manifest).toMatch(new RegExp(`^\\s+- ${scope.replace('.', '\\.')}$`, 'm'));
    }
    expect(manifest).toMatch(
      /interactivity:\s+is_enabled: true\n(\s+#.*\n)*\s+request_url: https:\/\/<function-url-id>\.lambda-url\.<region>\.on\.aws\/slack\/actions\n/,
    );
  });
});
