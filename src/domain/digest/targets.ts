/**
 * Where the digest goes: the policy's default channel with every account, and, when route channels
 * are on, each route's channel that names accounts (`match.account`) with only those accounts.
 */
import type { NotificationPolicy } from '../policy/policy.js';

export interface DigestTarget {
  channel: string;
  /** A route's channel: the account patterns (ids or names, wildcards) its routes match. */
  accounts?: string[];
  /** Named in the title: the routes it is for. */
  scope?: string;
}

export function digestTargets(policy: NotificationPolicy, routeChannels: boolean): DigestTarget[] {
  const main = policy.defaultRoute.slackChannel;
  const targets: DigestTarget[] = [{ channel: main }];
  if (!routeChannels) return targets;
  const byChannel = new Map<string, { accounts: Set<string>; names: string[] }>();
  for (const { match, route } of policy.routes) {
    if (!match.account?.length || route.slackChannel === main) continue;
    const entry = byChannel.get(route.slackChannel) ?? { accounts: new Set<string>(), names: [] };
    for (const pattern of match.account) entry.accounts.add(pattern);
    entry.names.push(route.name);
    byChannel.set(route.slackChannel, entry);
  }
  for (const [channel, { accounts, names }] of byChannel) {
    targets.push({ channel, accounts: [...accounts], scope: `route ${names.join(', ')}` });
  }
  return targets;
}

/** The names accounts are shown with, as in messages: the `accountNames` parameter, then the policy's. */
export function digestAccountNames(
  policy: NotificationPolicy,
  accountNames: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...policy.accounts, ...accountNames };
}
