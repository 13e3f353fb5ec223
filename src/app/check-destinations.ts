/**
 * Use cases: check the destinations the policy routes to, without posting or filing anything. The
 * heartbeat's workflow tasks run them (a failure fails the execution, naming it) and so does
 * `npm run doctor` (a checklist line each, with the fix).
 */
import { BacklogAuthError, BacklogConfigError, SlackAuthError, SlackChannelError } from './errors.js';
import type { ChatInspector, CheckResult, TrackerInspector } from './health-ports.js';

/** Backlog roles that may only view issues: 4 Viewer and 6 Guest Viewer (4: view-only member on newer plans). */
const VIEW_ONLY_ROLES: Readonly<Record<number, string>> = { 4: 'Viewer', 6: 'Guest Viewer' };

const unchecked = (name: string, because: string): CheckResult => ({
  name,
  ok: false,
  detail: `not checked: ${because}`,
  kind: 'unchecked',
});

/**
 * The Slack bot token (`auth.test`) and the bot's membership of every channel. A refused token
 * leaves the channels unchecked. Other failures (Slack down) are thrown: the workflow retries them.
 */
export async function checkChat(
  channels: readonly string[],
  chat: ChatInspector,
  tokenSource: string,
): Promise<CheckResult[]> {
  let bot: { user: string; team: string };
  try {
    bot = await chat.identity();
  } catch (error) {
    if (!(error instanceof SlackAuthError)) throw error;
    return [
      {
        name: 'Slack bot token',
        ok: false,
        detail: error.message,
        fix: `reinstall the Slack app (or issue a new bot token) and store it: aws ssm put-parameter --overwrite --type SecureString --name ${tokenSource} --value 'xoxb-…'`,
        kind: 'slack-auth',
      },
      ...channels.map((channel) => unchecked(`Slack channel ${channel}`, 'the token was refused')),
    ];
  }
  const results: CheckResult[] = [
    { name: 'Slack bot token', ok: true, detail: `valid: bot @${bot.user} in ${bot.team}` },
  ];
  for (const channel of channels) results.push(await checkChannel(channel, chat, bot.user));
  return results;
}

async function checkChannel(channel: string, chat: ChatInspector, bot: string): Promise<CheckResult> {
  const name = `Slack channel ${channel}`;
  const access = await chat.channelAccess(channel);
  if (!access.found) {
    return {
      name,
      ok: false,
      detail: `the bot @${bot} sees no channel ${channel}`,
      fix: `create the channel, or correct it in the notification policy (routes[].slack.channel, default.slack.channel) or the slackChannel param; a private channel is visible once the bot is invited (/invite @${bot})`,
      kind: 'slack-channel',
    };
  }
  if (!access.member) {
    return {
      name,
      ok: false,
      detail: `the bot @${bot} is not a member of ${channel}`,
      fix: `invite the bot: /invite @${bot} in ${channel}`,
      kind: 'slack-channel',
    };
  }
  return { name, ok: true, detail: `the bot @${bot} is a member (${access.id ?? channel})` };
}

/**
 * The Backlog API key (its user, and a role that may add issues), every routed project (it exists,
 * the user is a member) and issue type. A refused key leaves the projects unchecked.
 */
export async function checkTracker(
  targets: ReadonlyArray<{ projectKey: string; issueTypeName: string }>,
  tracker: TrackerInspector,
  keySource: string,
): Promise<CheckResult[]> {
  const projectKeys = [...new Set(targets.map((target) => target.projectKey))];
  let user: { id: number; name: string; roleType: number };
  try {
    user = await tracker.identity();
  } catch (error) {
    if (!(error instanceof BacklogAuthError)) throw error;
    return [
      {
        name: 'Backlog API key',
        ok: false,
        detail: error.message,
        fix: `issue a new API key (Personal settings → API) for the notifier's user and store it: aws ssm put-parameter --overwrite --type SecureString --name ${keySource} --value '…'`,
        kind: 'backlog-auth',
      },
      ...projectKeys.map((key) => unchecked(`Backlog project ${key}`, 'the API key was refused')),
    ];
  }
  const results: CheckResult[] = [roleCheck(user)];
  for (const projectKey of projectKeys) {
    const issueTypes = targets.filter((t) => t.projectKey === projectKey).map((t) => t.issueTypeName);
    results.push(...(await checkProject(projectKey, issueTypes, tracker, user)));
  }
  return results;
}

function roleCheck(user: { name: string; roleType: number }): CheckResult {
  const viewOnly = VIEW_ONLY_ROLES[user.roleType];
  if (!viewOnly)
    return { name: 'Backlog API key', ok: true, detail: `valid: user ${user.name}, may add issues` };
  return {
    name: 'Backlog API key',
    ok: false,
    detail: `user ${user.name} is a ${viewOnly} and may not add issues`,
    fix: `give ${user.name} a role that may add issues (Space settings → Members: Normal user or Reporter)`,
    kind: 'backlog-auth',
  };
}

async function checkProject(
  projectKey: string,
  issueTypes: readonly string[],
  tracker: TrackerInspector,
  user: { id: number; name: string },
): Promise<CheckResult[]> {
  const name = `Backlog project ${projectKey}`;
  const access = await tracker.projectAccess(projectKey);
  if (!access.found) {
    return [
      {
        name,
        ok: false,
        detail: `no project ${projectKey} that user ${user.name} can see`,
        fix: `create the project and add ${user.name} to it, or correct the key in the notification policy (routes[].backlog.projectKey, default.backlog.projectKey) or the backlogProjectKey param`,
        kind: 'backlog-config',
      },
    ];
  }
  const member: CheckResult = access.memberIds.includes(user.id)
    ? { name, ok: true, detail: `exists; ${user.name} is a member` }
    : {
        name,
        ok: false,
        detail: `user ${user.name} is not a member of ${projectKey}`,
        fix: `add ${user.name} to ${projectKey} (Project settings → Members)`,
        kind: 'backlog-auth',
      };
  return [member, ...issueTypes.map((type) => issueTypeCheck(projectKey, type, access.issueTypes))];
}

function issueTypeCheck(projectKey: string, type: string, has: readonly string[]): CheckResult {
  const name = `Backlog issue type ${type} in ${projectKey}`;
  if (has.includes(type)) return { name, ok: true, detail: 'exists' };
  return {
    name,
    ok: false,
    detail: `${projectKey} has no issue type ${type} (has: ${has.join(', ') || 'none'})`,
    fix: `add it (Project settings → Issue types), or correct the issue type in the notification policy (backlog.issueType) or the backlogIssueType param`,
    kind: 'backlog-config',
  };
}

const ERRORS = {
  'slack-auth': SlackAuthError,
  'slack-channel': SlackChannelError,
  'backlog-auth': BacklogAuthError,
  'backlog-config': BacklogConfigError,
} as const;

/**
 * The error a failed check ends the workflow with: the catalogue's class of its first failure (all
 * fatal: retrying cannot help), its message every failure, with what to do.
 */
export function checkFailure(results: readonly CheckResult[]): Error | undefined {
  const failed = results.filter((result) => !result.ok && result.kind !== 'unchecked');
  const [first] = failed;
  if (!first?.kind || first.kind === 'unchecked') return undefined;
  const message = failed
    .map((result) => `${result.name}: ${result.detail}${result.fix ? ` (fix: ${result.fix})` : ''}`)
    .join('; ');
  return new ERRORS[first.kind](`heartbeat check failed: ${message}`);
}
