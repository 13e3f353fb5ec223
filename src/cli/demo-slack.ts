/**
 * The demo's sixth pass: acting from Slack. Interactions as the Slack emulator builds them from the
 * messages the demo posted, signed with the signing secret as Slack signs them, posted to `serve`'s
 * `POST /slack/actions`: Alice acknowledges the Inspector finding (its issue goes In Progress,
 * assigned to her by mail address), Bob is refused a suppression (the policy names the S0SECOPS
 * user group, he is not in it), an unsigned request is refused, and Alice suppresses the S3.8 storm
 * with a reason and an expiry (the modal, then its submission).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../adapters/aws-config.js';
import { Ledger } from '../adapters/ledger.js';
import { DEFAULT_POLICY_FILE } from '../config/constants.js';
import type { FindingItem } from '../domain/delivery/ledger-items.js';
import { ACTIONS_BLOCK_ID, FINDING_ACTIONS } from '../domain/slack/actions.js';
import { type SlackInteraction, signSlackRequest } from '../local/emulators/slack-emulator.js';
import type { Replayer } from '../local/replayer.js';
import { startServe } from '../local/server.js';
import type { LoopPass } from './demo-loop.js';

/** Who may act in the demo: the S0SECOPS user group (Alice) suppresses, Alice resolves. */
const DEMO_SLACK_ACTIONS = `
slackActions:
  suppress: { userGroups: [S0SECOPS] }
  resolve: { users: [U0ALICE] }
`;

/** The demo's policy: the one the replay used, with who may act from Slack. */
async function demoPolicy(env: Record<string, string | undefined>, outDir: string): Promise<string> {
  const source = env.NOTIFICATION_POLICY_FILE ?? DEFAULT_POLICY_FILE;
  const text = existsSync(source) ? readFileSync(source, 'utf8') : 'version: 1\n';
  if (/^slackActions:/m.test(text)) return source;
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'policy-with-slack-actions.yml');
  await writeFile(file, `${text.trimEnd()}\n${DEMO_SLACK_ACTIONS}`);
  return file;
}

export async function runSlackPass(
  replayer: Replayer,
  outDir: string,
  log: (line: string) => void = (line) => console.log(line),
): Promise<LoopPass> {
  const { slack, backlog, securityHub } = replayer.sandbox;
  if (!slack || !backlog || !securityHub) throw new Error('the demo needs the embedded emulators');
  const secret = randomBytes(16).toString('hex');
  const lines: string[] = [];
  // The refusals' log lines (WARN) are left out of the demo's output; errors are shown.
  const env: Record<string, string | undefined> = {
    ...replayer.sandbox.env,
    SLACK_SIGNING_SECRET: secret,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  env.NOTIFICATION_POLICY_FILE = await demoPolicy(env, outDir);
  const serve = await startServe({ env, port: 0, print: (line) => lines.push(line) });
  const ledger = new Ledger(new DynamoDBClient(awsClientConfig(env, 'DYNAMODB')), env.LEDGER_TABLE as string);
  try {
    log(
      `serve: Slack's interactivity requests at ${serve.slackActionsUrl}, signed with a made-up signing secret`,
    );
    const send = async (what: string, interaction: SlackInteraction, signed = true) => {
      const headers = signed
        ? signSlackRequest(interaction.body, secret)
        : { 'content-type': 'application/x-www-form-urlencoded' };
      const response = await fetch(serve.slackActionsUrl, {
        method: 'POST',
        headers,
        body: interaction.body,
      });
      await serve.idle();
      log(`${what}: the endpoint answers ${response.status}`);
      for (const line of lines.splice(0)) log(`  ${line}`);
      return response.status;
    };
    // The top-level messages with buttons, by the issue their ledger item was filed as.
    const byIssue = new Map<string, { ts: string; item: FindingItem }>();
    for (const message of slack.messages.filter((m) => !m.threadTs)) {
      const buttons = (message.blocks ?? []) as Array<{
        block_id?: string;
        elements?: Array<{ value?: string }>;
      }>;
      const value = buttons.find((block) => block.block_id === ACTIONS_BLOCK_ID)?.elements?.[0]?.value;
      const item = value ? await ledger.get(value) : undefined;
      if (item?.issueKey && item.slackTs === message.ts) byIssue.set(item.issueKey, { ts: message.ts, item });
    }
    const click = (issueKey: string, action: keyof typeof FINDING_ACTIONS, user: string) =>
      slack.clickButton({
        channel: slack.channels[0]?.id ?? '',
        ts: byIssue.get(issueKey)?.ts ?? '',
        actionId: FINDING_ACTIONS[action],
        user,
      });

    const inspector = 'SEC-1';
    const storm = 'SEC-4';
    await send(
      `Alice acknowledges ${inspector} (the Inspector finding)`,
      click(inspector, 'acknowledge', 'U0ALICE'),
    );
    const acknowledged = backlog.issue(inspector);
    const assignee = backlog.users.find((user) => user.id === acknowledged?.assigneeId)?.name ?? 'nobody';
    log(
      `  Backlog: ${inspector} is ${acknowledged?.statusId === 2 ? 'In Progress' : `status ${acknowledged?.statusId}`}, assigned to ${assignee}`,
    );
    log(`  Security Hub note: ${securityHub.batchUpdates.at(-1)?.Note?.Text ?? '-'}`);

    const updatesBefore = securityHub.batchUpdates.length;
    await send(`Bob clicks Suppress on ${storm} (the S3.8 storm)`, click(storm, 'suppress', 'U0BOB'));
    log(`  Bob sees (ephemeral): ${slack.ephemerals.at(-1)?.text ?? '-'}`);
    const unsigned = await send(
      'an unsigned request (a forgery)',
      click(storm, 'acknowledge', 'U0BOB'),
      false,
    );

    const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await send(`Alice clicks Suppress on ${storm}`, click(storm, 'suppress', 'U0ALICE'));
    const view = slack.views.at(-1);
    log(
      `  a modal opens: "${(view?.view.title as { text?: string } | undefined)?.text ?? '-'}" (a reason, an expiry date)`,
    );
    const reason = 'Public by design: the team website buckets, accepted in RISK-9';
    await send(
      `Alice submits it: "${reason}", until ${until}`,
      slack.submitView(view?.id ?? '', { user: 'U0ALICE', values: { reason, until } }),
    );
    const suppressed = securityHub.batchUpdates
      .slice(updatesBefore)
      .filter((u) => u.Workflow?.Status === 'SUPPRESSED');
    const closed = backlog.issue(storm);
    log(
      `  Security Hub: ${suppressed.reduce((n, u) => n + u.FindingIdentifiers.length, 0)} finding(s) SUPPRESSED, note: ${suppressed[0]?.Note?.Text ?? '-'}`,
    );
    log(
      `  Backlog: ${storm} is ${closed?.statusId === 4 ? 'Closed' : `status ${closed?.statusId}`} (resolution ${closed?.resolutionId === 1 ? "Won't Fix" : closed?.resolutionId})`,
    );
    const message = slack.messages.find((m) => m.ts === byIssue.get(storm)?.ts);
    log(`  Slack: the message now reads "${message?.text.slice(0, 90) ?? '-'}…"`);
    log(`  on ${until} the hourly sweep sets the 12 findings back to NEW, and they reopen ${storm}`);

    const ok =
      acknowledged?.statusId === 2 &&
      unsigned === 401 &&
      suppressed.length > 0 &&
      closed?.statusId === 4 &&
      serve.slackOutcomes.map((outcome) => outcome.outcome).join(',') === 'done,done';
    return {
      ok,
      summary: `slack: ${inspector} acknowledged -> In Progress, assigned to ${assignee}; Bob refused; a forgery 401; ${storm} suppressed until ${until} -> ${suppressed.length > 0 ? 'SUPPRESSED' : '-'}, Won't Fix`,
    };
  } finally {
    await serve.close();
  }
}
