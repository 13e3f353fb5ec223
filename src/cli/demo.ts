import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createReplayer, type Replayer, type ReplayResult, readEventFiles } from '../local/replayer.js';
import type { Env } from '../local/sandbox.js';
import { runLoopPass } from './demo-loop.js';
import { runSlackPass } from './demo-slack.js';

const SAMPLES = 'samples';
const OUT_DIR = join('out', 'demo');

/** Replay files through the sandbox, unreadable lines included (reported and kept). */
async function replayFiles(replayer: Replayer, files: string[]): Promise<ReplayResult> {
  const { events, unreadable } = await readEventFiles(files);
  return replayer.replay(events, unreadable);
}

async function filesIn(dir: string, extension = '.json'): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => name.endsWith(extension))
    .map((name) => join(dir, name))
    .sort();
}

function heading(text: string): void {
  console.log(`\n=== ${text} ${'='.repeat(Math.max(0, 72 - text.length))}`);
}

/** A link that opens the message in Slack's Block Kit Builder, as Slack would render it. */
export function blockKitBuilderUrl(payload: { blocks?: unknown; attachments?: unknown }): string {
  const body = JSON.stringify({ blocks: payload.blocks ?? [], attachments: payload.attachments ?? [] });
  return `https://app.slack.com/block-kit-builder/#${encodeURIComponent(body)}`;
}

/**
 * Pass 8: one GuardDuty finding as both Security Hubs report it (an OCSF "Findings Imported V2"
 * event and its ASFF twin, in one file): one issue, one message, both copies marked; again: nothing.
 */
async function twoFormatsPass(replayer: Replayer): Promise<{ ok: boolean; summary: string }> {
  heading('8. one finding from both Security Hubs (OCSF and ASFF): filed once, both copies marked');
  const { slack, backlog, securityHub } = replayer.sandbox;
  const before = { issues: backlog?.issues.length ?? 0, messages: slack?.messages.length ?? 0 };
  const files = await filesIn(join(SAMPLES, 'two-formats'), '.jsonl');
  const first = await replayFiles(replayer, files);
  const again = await replayFiles(replayer, files);
  const issues = (backlog?.issues.length ?? 0) - before.issues;
  const messages = (slack?.messages.length ?? 0) - before.messages;
  const v2 = securityHub?.batchUpdatesV2.at(-1);
  const asffNotified = securityHub?.batchUpdates.at(-1)?.Workflow?.Status === 'NOTIFIED';
  console.log(
    `2 events (OCSF + ASFF) → ${issues} issue(s), ${messages} message(s); CSPM copy NOTIFIED: ${asffNotified}; new Security Hub copy: StatusId ${v2?.StatusId ?? '-'} with comment "${v2?.Comment ?? '-'}"; replayed: ${again.results.map((r) => r.outcome).join(', ')}`,
  );
  const ok =
    first.exitCode === 0 &&
    issues === 1 &&
    messages === 1 &&
    asffNotified &&
    v2?.StatusId === 2 &&
    again.results.every((r) => r.outcome === 'already filed');
  return { ok, summary: `both formats: ${issues} issue and ${messages} message for one finding: ${ok}` };
}

/**
 * `npm run demo`: the bundled sample events through the whole pipeline against the embedded
 * emulators, then a repeat (files nothing) and a reopen (a comment and a thread reply).
 */
async function main(): Promise<number> {
  // Always the embedded emulators: drop any endpoint the shell may point elsewhere.
  const env: Env = { ...process.env, NOTIFY_MIN_SEVERITY: process.env.NOTIFY_MIN_SEVERITY ?? 'MEDIUM' };
  for (const name of [
    'SLACK_API_URL',
    'BACKLOG_API_URL',
    'AWS_ENDPOINT_URL_SECURITYHUB',
    'AWS_ENDPOINT_URL_DYNAMODB',
  ]) {
    delete env[name];
  }
  for (const name of [
    'SLACK_BOT_TOKEN',
    'SLACK_CHANNEL',
    'BACKLOG_HOST',
    'BACKLOG_API_KEY',
    'BACKLOG_PROJECT_KEY',
  ]) {
    delete env[name];
  }
  delete env.BACKLOG_ISSUE_TYPE;
  delete env.LEDGER_TABLE;

  const replayer = await createReplayer({ env, deadLetterDir: join(OUT_DIR, 'dead-letter') });
  const { slack, backlog, securityHub } = replayer.sandbox;
  if (!slack || !backlog || !securityHub) throw new Error('the demo needs the embedded emulators');
  const passes: Array<{ title: string; result: ReplayResult }> = [];
  try {
    console.log(
      `securityhub-notifier demo: threshold ${env.NOTIFY_MIN_SEVERITY}, embedded emulators on 127.0.0.1`,
    );
    heading('1. sample events (GuardDuty, a Security Hub control, Inspector, Prowler LOW)');
    passes.push({
      title: 'samples',
      result: await replayFiles(replayer, await filesIn(join(SAMPLES, 'events'))),
    });
    heading('2. the GuardDuty event again: must file nothing');
    passes.push({
      title: 'repeat',
      result: await replayFiles(replayer, await filesIn(join(SAMPLES, 'repeat'))),
    });
    heading('3. CloudTrail.2 failed again (Security Hub reset it to NEW): a reopen');
    passes.push({
      title: 'reopen',
      result: await replayFiles(replayer, await filesIn(join(SAMPLES, 'reopen'))),
    });
    heading('4. a storm: 12 S3.8 findings in one account at once: one grouped issue and message');
    passes.push({
      title: 'storm',
      result: await replayFiles(replayer, await filesIn(join(SAMPLES, 'storm'), '.jsonl')),
    });
    heading('5. 7 CVEs Inspector found on one container image: one issue and one message, a CVE table');
    passes.push({
      title: 'vulnerabilities',
      result: await replayFiles(replayer, await filesIn(join(SAMPLES, 'vulnerabilities'))),
    });

    await mkdir(OUT_DIR, { recursive: true });
    heading(`Slack received ${slack.messages.length} message(s)`);
    for (const [index, message] of slack.messages.entries()) {
      const file = join(OUT_DIR, `slack-message-${index + 1}.json`);
      const payload = {
        channel: message.channel,
        text: message.text,
        blocks: message.blocks,
        attachments: message.attachments,
        ...(message.threadTs ? { thread_ts: message.threadTs, reply_broadcast: message.replyBroadcast } : {}),
      };
      await writeFile(file, `${JSON.stringify(payload, null, 2)}\n`);
      const where = message.threadTs
        ? `reply in thread ${message.threadTs}${message.replyBroadcast ? ', broadcast' : ''}`
        : 'top level';
      console.log(
        `- ${message.channel} ts=${message.ts} (${where})\n  text: ${message.text}\n  payload: ${file}`,
      );
      console.log(
        `  Block Kit Builder: ${blockKitBuilderUrl(message).slice(0, 120)}… (full link in ${file}.url)`,
      );
      await writeFile(`${file}.url`, `${blockKitBuilderUrl(message)}\n`);
    }

    heading(`Backlog received ${backlog.issues.length} issue(s)`);
    for (const issue of backlog.issues) {
      const file = join(OUT_DIR, `backlog-${issue.issueKey}.md`);
      await writeFile(file, `# ${issue.summary}\n\n${issue.description ?? ''}\n`);
      console.log(
        `- ${issue.issueKey} [priority ${issue.priorityId}] ${issue.summary}\n  description: ${file}`,
      );
      for (const comment of backlog.comments.filter((c) => c.issueKey === issue.issueKey)) {
        console.log(`  comment: ${String(comment.content).split('\n')[0]}`);
      }
    }

    const notified = securityHub.notified();
    heading(
      `Security Hub: ${securityHub.batchUpdates.length} BatchUpdateFindings call(s), ${notified.length} finding(s) NOTIFIED`,
    );
    for (const identifier of notified) console.log(`- NOTIFIED ${identifier.Id}`);
    for (const update of securityHub.batchUpdates) console.log(`  note: ${update.Note?.Text ?? '-'}`);

    heading('6. the loop closes both ways: fixed in Security Hub, closed in Backlog');
    // Security Hub holds the findings the samples carried: the Backlog webhook's worker reads them back.
    const held = await readEventFiles([
      ...(await filesIn(join(SAMPLES, 'events'))),
      ...(await filesIn(join(SAMPLES, 'reopen'))),
      ...(await filesIn(join(SAMPLES, 'storm'), '.jsonl')),
    ]);
    securityHub.importFindings(
      held.events.flatMap(
        (event) => (event as { detail: { findings: Array<Record<string, unknown>> } }).detail.findings,
      ),
    );
    const loop = await runLoopPass(replayer, SAMPLES, async (files) => {
      const read = await readEventFiles(files);
      return { result: await replayer.replay(read.events, read.unreadable), events: read.events };
    });

    heading('7. act from Slack: acknowledge, a refusal, a forgery, a suppression with an expiry');
    const acted = await runSlackPass(replayer, OUT_DIR);
    const twoFormats = await twoFormatsPass(replayer);

    const [first, repeat, reopen, storm, vulnerabilities] = passes.map((pass) => pass.result);
    const stormIssues = new Set(storm?.results.map((r) => r.issueKey));
    const repeatFiledNothing = repeat?.results.every((r) => r.outcome === 'already filed') ?? false;
    heading('result');
    console.log(
      `samples: ${first?.results.filter((r) => r.outcome === 'notified').length} notified; repeat filed nothing: ${repeatFiledNothing}; reopened: ${reopen?.results.filter((r) => r.outcome === 'reopened').length}; storm: ${storm?.results.length} findings in ${stormIssues.size} issue(s); vulnerabilities: ${vulnerabilities?.results.length} CVEs in ${new Set(vulnerabilities?.results.map((r) => r.issueKey)).size} issue(s)`,
    );
    console.log(loop.summary);
    console.log(acted.summary);
    console.log(twoFormats.summary);
    const ok =
      passes.every((pass) => pass.result.exitCode === 0) && repeatFiledNothing && loop.ok && acted.ok;
    return ok && twoFormats.ok ? 0 : 1;
  } finally {
    await replayer.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`demo failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
