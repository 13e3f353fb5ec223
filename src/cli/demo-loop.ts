/**
 * The demo's fifth pass: the loop closes both ways. A fixed finding (compliance PASSED, replayed)
 * closes its issue and restyles its message; then, through `serve`'s endpoint and Backlog's webhook
 * as the Backlog emulator would send it, an issue closed as Won't Fix suppresses its finding, and one
 * closed as Fixed while its control still fails is reopened with the explanation.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ActivityOutcome } from '../app/handle-backlog-activity.js';
import type { Replayer, ReplayResult } from '../local/replayer.js';
import { startServe } from '../local/server.js';

export interface LoopPass {
  ok: boolean;
  /** One line for the demo's result. */
  summary: string;
}

/** The findings of event files as Security Hub holds them, the latest version of each. */
function findingsOf(events: unknown[]): Array<Record<string, unknown>> {
  return events.flatMap(
    (event) => (event as { detail?: { findings?: Array<Record<string, unknown>> } }).detail?.findings ?? [],
  );
}

export async function runLoopPass(
  replayer: Replayer,
  samples: string,
  replayFiles: (files: string[]) => Promise<{ result: ReplayResult; events: unknown[] }>,
  log: (line: string) => void = (line) => console.log(line),
): Promise<LoopPass> {
  const { slack, backlog, securityHub } = replayer.sandbox;
  if (!slack || !backlog || !securityHub) throw new Error('the demo needs the embedded emulators');

  log('CloudTrail.2 is fixed: Security Hub reports it PASSED (and resolves it itself)');
  const fixed = await replayFiles([join(samples, 'fixed', 'fsbp-cloudtrail-2-passed.json')]);
  securityHub.importFindings(findingsOf(fixed.events));
  const closedIssue = fixed.result.results[0]?.issueKey ?? '';
  const issue = backlog.issue(closedIssue);
  const original = slack.messages.find((m) => !m.threadTs && JSON.stringify(m.blocks).includes('Resolved'));
  log(`  ${closedIssue} is now ${issue?.statusId === 4 ? 'Closed' : `status ${issue?.statusId}`}`);
  log(`  its Slack message ${original ? `ts=${original.ts} is restyled as resolved` : 'was not restyled'}`);

  const lines: string[] = [];
  const serve = await startServe({
    env: { ...replayer.sandbox.env, BACKLOG_WEBHOOK_TOKEN: randomBytes(24).toString('hex') },
    port: 0,
    print: (line) => lines.push(line),
  });
  try {
    log(`serve: listening on ${serve.url}, the Backlog webhook at /backlog/webhook/<token>`);
    const person = backlog.users.find((user) => user.id !== backlog.myself.id) ?? backlog.myself;
    const send = async (issueKey: string, change: Parameters<typeof backlog.actAs>[2], what: string) => {
      const activity = backlog.actAs(person.id, issueKey, change);
      const response = await fetch(serve.backlogWebhookUrl, {
        method: 'POST',
        body: JSON.stringify(activity),
      });
      const answer = (await response.json()) as { status?: string };
      await serve.idle();
      log(`${person.name} ${what}: the webhook answers ${response.status} ${answer.status ?? ''}`.trimEnd());
      for (const line of lines.splice(0)) log(`  ${line}`);
      return serve.outcomes.at(-1);
    };

    const guardDuty = 'SEC-3';
    const suppressed = await send(
      guardDuty,
      {
        statusId: 4,
        resolutionId: 1,
        comment: 'Known scanner, blocked at the security group: accepted in RISK-7',
      },
      `closes ${guardDuty} (the GuardDuty finding) as Won't Fix`,
    );
    const suppression = securityHub.batchUpdates.at(-1);
    log(
      `  Security Hub: ${suppression?.Workflow?.Status ?? '-'} with the note: ${suppression?.Note?.Text ?? '-'}`,
    );

    const storm = 'SEC-4';
    const updatesBefore = securityHub.batchUpdates.length;
    const kept = await send(
      storm,
      { statusId: 4, resolutionId: 0, comment: 'Fixed the bucket policies' },
      `closes ${storm} (the S3.8 storm) as Fixed while the control still fails`,
    );
    const explanation = backlog.commentsOf(storm).at(-1)?.content ?? '';
    log(
      `  ${storm} is ${backlog.issue(storm)?.statusId === 1 ? 'Open again' : 'still closed'}; the comment:`,
    );
    for (const line of explanation.split('\n').filter(Boolean).slice(0, 4)) log(`    ${line}`);
    log(
      `  Security Hub: ${securityHub.batchUpdates.length - updatesBefore} update(s): nothing changed there`,
    );

    const handled = (outcome: ActivityOutcome | undefined, expected: string) =>
      outcome?.outcome === 'handled' && outcome.issues[0]?.outcome === expected;
    const ok =
      fixed.result.exitCode === 0 &&
      issue?.statusId === 4 &&
      handled(suppressed, 'suppressed') &&
      handled(kept, 'kept-open') &&
      securityHub.batchUpdates.length === updatesBefore;
    return {
      ok,
      summary: `loop: ${closedIssue} closed when its finding PASSED; ${guardDuty} Won't Fix -> ${suppression?.Workflow?.Status ?? '-'}; ${storm} Fixed while failing -> reopened with the explanation`,
    };
  } finally {
    await serve.close();
  }
}
