/**
 * Use case: one action taken from Slack (the endpoint verified, authorised and queued it), done
 * once. Of the action nothing is trusted but who took it (Slack signed that) and which message the
 * button was on: the button's value names a ledger item, which is re-read, and must be the item
 * whose message that is; its findings are found in the ledger, and a resolve checks Security Hub.
 *
 * - acknowledge: the ledger records who and when; each finding's note says so (still NOTIFIED);
 *   the Backlog issue goes to In Progress, assigned to the Backlog user whose mail address is the
 *   Slack user's (the policy's `backlogUsers` overrides), with a comment; the message says so;
 * - suppress: SUPPRESSED with "Suppressed from Slack by …: reason (until …)"; the issue commented
 *   and closed as Won't Fix; the message restyled with the reason; an expiry is ledgered for the
 *   sweep, which sets the findings back to NEW on that day (they then reopen as any finding does);
 * - resolve (findings without a compliance check only): RESOLVED, the issue closed as Fixed, the
 *   message restyled.
 *
 * The ledger is written first: the Security Hub events these updates cause find the findings closed
 * already and do nothing. Every action is audited in the note, a Backlog comment and a log line.
 */
import { projectKeyOfIssue } from '../domain/backlog/activity.js';
import { findingMarker } from '../domain/backlog/marker.js';
import { type FindingItem, identifierOfKey, isOpenLifecycle } from '../domain/delivery/ledger-items.js';
import type { CloseReason } from '../domain/delivery/lifecycle.js';
import {
  acknowledgedNote,
  buildAcknowledgedComment,
  buildResolvedComment,
  buildSuppressedComment,
  resolvedNote,
  suppressedNote,
} from '../domain/delivery/slack-action-audit.js';
import { isResolvable, withAcknowledgement, withSlackClose } from '../domain/slack/actions.js';
import { escapeSlackText } from '../domain/slack/escape.js';
import type { QueuedSlackAction } from '../domain/slack/interaction.js';
import type { PostedMessage } from '../domain/slack/lifecycle-message.js';
import { BacklogIssueGoneError, ClaimHeldError, SlackMessageGoneError } from './errors.js';
import type {
  Chat,
  Clock,
  FindingCopyRef,
  FindingsReader,
  FindingsUpdater,
  Log,
  SlackActionLedger,
  SlackActionTracker,
  SlackPeople,
  TrackerUser,
} from './ports.js';
import { updateFindingCopies } from './update-findings.js';

export interface HandleSlackActionPorts {
  ledger: SlackActionLedger;
  tracker: SlackActionTracker;
  /** Security Hub: a resolve reads the findings first; every action updates them. */
  reader: FindingsReader;
  updater: FindingsUpdater;
  chat: Pick<Chat, 'read' | 'update'>;
  people: SlackPeople;
  /** Slack user id → Backlog user id (the policy's `slackActions.backlogUsers`). */
  backlogUsers: Readonly<Record<string, number>>;
  /** The projects the notifier files into, each with the statuses that mean closed (the first is set). */
  projects: ReadonlyMap<string, readonly string[]>;
  clock: Clock;
  log: Log;
}

export interface SlackActionOutcome {
  id: string;
  action: QueuedSlackAction['action'];
  outcome: 'done' | 'duplicate' | 'refused';
  findings?: string[];
  issueKey?: string;
  /** Why it was refused. */
  why?: string;
}

/** What an action acts on, re-read: the ledger item of the message, its open findings, who acted. */
interface Target {
  action: QueuedSlackAction;
  item: FindingItem & { slackChannel: string; slackTs: string };
  findings: FindingItem[];
  by: string;
  email?: string;
}

/** Handle one queued action once; `attempt` names this delivery of it (its claim). */
export async function handleSlackAction(
  action: QueuedSlackAction,
  attempt: string,
  ports: HandleSlackActionPorts,
): Promise<SlackActionOutcome> {
  const effect = `slack-action|${action.id}`;
  const claim = await ports.ledger.claimEffect(effect, attempt);
  if (claim.state === 'done') return { id: action.id, action: action.action, outcome: 'duplicate' };
  if (claim.state === 'held')
    throw new ClaimHeldError(`Slack action ${action.id} is being handled by another delivery`);
  try {
    const found = await findTarget(action, ports);
    const outcome =
      'why' in found
        ? await refuse(action, found.why, ports)
        : action.action === 'acknowledge'
          ? await acknowledge(found, ports)
          : action.action === 'suppress'
            ? await suppress(found, ports)
            : await resolve(found, ports);
    await ports.ledger.completeEffect(effect, {
      outcome: outcome.outcome,
      ...(outcome.why ? { why: outcome.why } : {}),
    });
    return outcome;
  } catch (error) {
    await ports.ledger.releaseEffect(effect, attempt).catch(() => undefined);
    throw error;
  }
}

/** The ledger item the button names, checked against the message it was on; its open findings. */
async function findTarget(
  action: QueuedSlackAction,
  ports: HandleSlackActionPorts,
): Promise<Target | { why: string }> {
  const { ledgerKey, channel, messageTs } = action.target;
  const item = await ports.ledger.get(ledgerKey);
  if (!item || !(identifierOfKey(ledgerKey) || ledgerKey.startsWith('group|'))) {
    return { why: 'the notifier has no finding filed under this message' };
  }
  if (item.slackChannel !== channel || item.slackTs !== messageTs) {
    ports.log.warn('Slack action on a message that is not the one ledgered for its value', {
      ledgerKey,
      channel,
      messageTs,
    });
    return { why: 'this button does not belong to the message the notifier posted for the finding' };
  }
  const items = item.issueKey ? await ports.ledger.findByIssueKey(item.issueKey) : [item];
  const members = items.filter(
    (entry) =>
      identifierOfKey(entry.findingKey) !== undefined &&
      (entry.deliveredWith ?? entry.findingKey) === ledgerKey,
  );
  if (members.length === 0) return { why: "the message's findings are not in the ledger" };
  // Open, or closed by this very action in an attempt that failed later (its retry finishes the job).
  const findings = members.filter((entry) => isOpenLifecycle(entry) || entry.closedAt === action.at);
  if (findings.length === 0) {
    return {
      why: `nothing to ${action.action}: the findings are closed already (${members[0]?.closedBecause ?? 'closed'})`,
    };
  }
  const person = await ports.people.profile(action.user.id).catch((error: Error) => {
    ports.log.warn('the Slack user could not be looked up: the name in the request is used', {
      error: error.message,
    });
    return { name: action.user.name } as { name: string; email?: string };
  });
  const target: Target = {
    action,
    item: item as Target['item'],
    findings,
    by: person.name || action.user.name,
  };
  if (person.email) target.email = person.email;
  return target;
}

/** Not done: the person is told why (only they see it), a log line, the claim completed. */
async function refuse(
  action: QueuedSlackAction,
  why: string,
  ports: HandleSlackActionPorts,
): Promise<SlackActionOutcome> {
  ports.log.warn('Slack action refused', { id: action.id, action: action.action, user: action.user.id, why });
  await ports.people
    .postEphemeral(action.target.channel, action.user.id, `Nothing was changed: ${escapeSlackText(why)}.`)
    .catch((error: Error) => ports.log.warn('the refusal could not be shown', { error: error.message }));
  return { id: action.id, action: action.action, outcome: 'refused', why };
}

const keysOf = (items: readonly FindingItem[]) => items.map((item) => item.findingKey);

async function acknowledge(target: Target, ports: HandleSlackActionPorts): Promise<SlackActionOutcome> {
  const { action, by, item, findings } = target;
  await ports.ledger.recordAcknowledged(
    [item.findingKey, ...keysOf(findings)],
    `${by} (Slack ${action.user.id})`,
    action.at,
  );
  await updateFindingCopies(findings, { status: 'NOTIFIED', note: acknowledgedNote(by, action.at) }, ports);
  const assignee = item.issueKey ? await acknowledgeIssue(target, item.issueKey, ports) : undefined;
  await changeMessage(
    target,
    (message) => withAcknowledgement(message, { by, at: action.at, assignee: assignee?.name }),
    ports,
  );
  return audited(target, ports);
}

/** The Backlog user the acknowledgement assigns: the policy's mapping, else the same mail address. */
function assigneeOf(target: Target, users: readonly TrackerUser[], ports: HandleSlackActionPorts) {
  const mapped = ports.backlogUsers[target.action.user.id];
  if (mapped !== undefined) {
    const user = users.find((candidate) => candidate.id === mapped);
    return (
      user ?? {
        missing: `the policy maps this Slack user to Backlog user ${mapped}, who is not in the project`,
      }
    );
  }
  if (!target.email) return { missing: 'the Slack user has no visible mail address' };
  const email = target.email.toLowerCase();
  const user = users.find((candidate) => candidate.mailAddress?.toLowerCase() === email);
  return user ?? { missing: "no user of the project has the Slack user's mail address" };
}

async function acknowledgeIssue(target: Target, issueKey: string, ports: HandleSlackActionPorts) {
  return whileIssueExists(issueKey, ports, async () => {
    const projectKey = projectKeyOfIssue(issueKey);
    const assignee = assigneeOf(target, await ports.tracker.projectUsers(projectKey), ports);
    const comment = buildAcknowledgedComment(await commentContext(target, projectKey, ports), assignee);
    const marker = findingMarker(`slack-action|${target.action.id}`);
    if (!(await ports.tracker.hasComment(issueKey, marker))) {
      await ports.tracker.startProgress(issueKey, {
        comment,
        marker,
        ...('id' in assignee ? { assigneeId: assignee.id } : {}),
      });
    }
    return 'id' in assignee ? assignee : undefined;
  });
}

async function commentContext(target: Target, projectKey: string, ports: HandleSlackActionPorts) {
  const project = await ports.tracker.project(projectKey);
  return {
    textFormattingRule: project.textFormattingRule,
    by: target.by,
    at: target.action.at,
    findings: target.findings.length,
  };
}

async function suppress(target: Target, ports: HandleSlackActionPorts): Promise<SlackActionOutcome> {
  const { action, by } = target;
  const reasonText = action.reason ?? '';
  const reason: CloseReason = { kind: 'suppressed', at: action.at, by, via: 'Slack', note: reasonText };
  if (action.until) reason.until = action.until;
  await ports.ledger.recordClosed(
    [...keysOf(target.findings), target.item.findingKey],
    reason,
    target.item.findingKey,
  );
  if (action.until) await ports.ledger.recordSuppressionExpiry(keysOf(target.findings), action.until);
  await updateFindingCopies(
    target.findings,
    { status: 'SUPPRESSED', note: suppressedNote(by, reasonText, action.until) },
    ports,
  );
  await closeIssue(
    target,
    "Won't Fix",
    (ctx) => buildSuppressedComment(ctx, reasonText, action.until),
    ports,
  );
  await changeMessage(target, (message) => withSlackClose(message, reason), ports);
  return audited(target, ports, { reason: reasonText, until: action.until ?? 'no expiry' });
}

async function resolve(target: Target, ports: HandleSlackActionPorts): Promise<SlackActionOutcome> {
  const { action, by } = target;
  const states = await ports.reader.read(
    target.findings.map((item) => identifierOfKey(item.findingKey) as FindingCopyRef['identifier']),
  );
  if (!states.every(isResolvable)) {
    const why =
      'these findings have a compliance check: they resolve themselves when it passes (suppress them if the risk is accepted)';
    return refuse(action, why, ports);
  }
  const reason: CloseReason = { kind: 'resolved', at: action.at, by, via: 'Slack' };
  await ports.ledger.recordClosed(
    [...keysOf(target.findings), target.item.findingKey],
    reason,
    target.item.findingKey,
  );
  await updateFindingCopies(
    target.findings,
    { status: 'RESOLVED', note: resolvedNote(by, action.at) },
    ports,
  );
  await closeIssue(target, 'Fixed', buildResolvedComment, ports);
  await changeMessage(target, (message) => withSlackClose(message, reason), ports);
  return audited(target, ports);
}

/** Close the issue with the comment; one a person closed already gets the comment only (once). */
async function closeIssue(
  target: Target,
  resolution: string,
  comment: (ctx: Awaited<ReturnType<typeof commentContext>>) => string,
  ports: HandleSlackActionPorts,
): Promise<void> {
  const issueKey = target.item.issueKey;
  if (!issueKey) return;
  await whileIssueExists(issueKey, ports, async () => {
    const projectKey = projectKeyOfIssue(issueKey);
    const text = comment(await commentContext(target, projectKey, ports));
    const marker = findingMarker(`slack-action|${target.action.id}`);
    if (await ports.tracker.hasComment(issueKey, marker)) return;
    const status = ports.projects.get(projectKey)?.[0] ?? 'Closed';
    const { closed } = await ports.tracker.close(issueKey, { status, resolution, comment: text, marker });
    if (!closed) await ports.tracker.remark(issueKey, text, marker);
  });
}

/** A Backlog change; an issue deleted meanwhile is logged and the rest goes on. */
async function whileIssueExists<T>(
  issueKey: string,
  ports: HandleSlackActionPorts,
  change: () => Promise<T>,
) {
  try {
    return await change();
  } catch (error) {
    if (!(error instanceof BacklogIssueGoneError)) throw error;
    ports.log.warn('the Backlog issue was deleted: not changed', { issueKey });
    return undefined;
  }
}

/** The message as Slack has it now, changed; one deleted meanwhile is logged and left. */
async function changeMessage(
  target: Target,
  change: (message: PostedMessage) => PostedMessage,
  ports: HandleSlackActionPorts,
): Promise<void> {
  const { slackChannel: channel, slackTs: ts } = target.item;
  try {
    const current = await ports.chat.read(channel, ts);
    if (!current) throw new SlackMessageGoneError(`the message ${ts} in ${channel} is gone`);
    await ports.chat.update(channel, ts, change(current));
  } catch (error) {
    if (!(error instanceof SlackMessageGoneError)) throw error;
    ports.log.warn('the Slack message was deleted: not changed', { channel, ts });
  }
}

/** The log line of a done action (who, what, when, why), and its outcome. */
function audited(
  target: Target,
  ports: HandleSlackActionPorts,
  why: Record<string, string> = {},
): SlackActionOutcome {
  const { action } = target;
  const findings = keysOf(target.findings);
  ports.log.info('Slack action done', {
    id: action.id,
    action: action.action,
    user: { id: action.user.id, name: target.by },
    at: action.at,
    ledgerKey: action.target.ledgerKey,
    issueKey: target.item.issueKey,
    findings: findings.length,
    ...why,
  });
  return {
    id: action.id,
    action: action.action,
    outcome: 'done',
    findings,
    ...(target.item.issueKey ? { issueKey: target.item.issueKey } : {}),
  };
}
