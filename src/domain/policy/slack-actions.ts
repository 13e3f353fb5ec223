/**
 * Who may act on findings from Slack (the policy's `slackActions`): each action allows anyone, or
 * the Slack users and user groups it names. By default anyone may acknowledge, and nobody may
 * suppress or resolve until the policy names who may. `backlogUsers` maps a Slack user to the
 * Backlog user an acknowledgement assigns the issue to (overriding the match by mail address).
 */
import type { FindingAction } from '../slack/actions.js';

export interface SlackActionRule {
  /** Anyone who can click the button (in the channel). */
  anyone: boolean;
  users: readonly string[];
  userGroups: readonly string[];
}

export interface SlackActionsPolicy {
  rules: Readonly<Record<FindingAction, SlackActionRule>>;
  /** Slack user id → Backlog user id (numeric). */
  backlogUsers: Readonly<Record<string, number>>;
}

export const ANYONE: SlackActionRule = { anyone: true, users: [], userGroups: [] };
export const NOBODY: SlackActionRule = { anyone: false, users: [], userGroups: [] };

export const DEFAULT_SLACK_ACTIONS: SlackActionsPolicy = {
  rules: { acknowledge: ANYONE, suppress: NOBODY, resolve: NOBODY },
  backlogUsers: {},
};

/** The policy's Slack actions, or the defaults when it names none. */
export function slackActionsOf(policy: { slackActions?: SlackActionsPolicy }): SlackActionsPolicy {
  return policy.slackActions ?? DEFAULT_SLACK_ACTIONS;
}

/** What the rule says of a user, before their user groups are looked up. */
export function ruleAllows(rule: SlackActionRule, userId: string): 'yes' | 'no' | 'ask-groups' {
  if (rule.anyone || rule.users.includes(userId)) return 'yes';
  return rule.userGroups.length > 0 ? 'ask-groups' : 'no';
}

/** Why a user may not take an action, in the words of the ephemeral message they get. */
export function refusalText(action: FindingAction, rule: SlackActionRule): string {
  const who =
    rule.users.length + rule.userGroups.length === 0
      ? 'names nobody yet'
      : 'names the people and user groups who may, and you are not one of them';
  return `You may not ${action} this finding: the notification policy's \`slackActions.${action}\` ${who}. Nothing was changed.`;
}
