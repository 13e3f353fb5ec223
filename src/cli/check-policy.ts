/**
 * Validate the notification policy file, as the deployed function will at cold start.
 *
 *   tsx src/cli/check-policy.ts [file] [--json]
 *
 * The environment settings the policy may leave out are read from the same variables the
 * functions get: NOTIFY_MIN_SEVERITY, SLACK_CHANNEL, BACKLOG_PROJECT_KEY, BACKLOG_ISSUE_TYPE
 * (deploy/check-policy.cjs sets them from the stage params at package time). Prints
 * `policy OK: <summary>` (or, with --json, `{"file","summary","minimumThreshold"}`) and exits 0;
 * prints every problem, one `<file>:<line>:<col>: <setting>: <problem>` a line, and exits 1.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_POLICY_FILE, loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { minimumThreshold, type NotificationPolicy, type PolicyDefaults } from '../domain/policy/policy.js';
import { describeSla } from '../domain/policy/sla.js';

function describeRoute(route: NotificationPolicy['defaultRoute']): string {
  const { projectKey, issueTypeName, categoryName } = route.backlog;
  return `Slack ${route.slackChannel}, Backlog ${projectKey}/${issueTypeName}${categoryName ? `/${categoryName}` : ''}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** One line: what the policy does, for the deploy log. */
export function summarizePolicy(policy: NotificationPolicy): string {
  const { thresholds, grouping } = policy;
  return [
    `thresholds Slack ${thresholds.slack}, Backlog ${thresholds.backlog} (rule forwards ${minimumThreshold(policy)} and above)`,
    policy.include ? count(policy.include.length, 'include rule') : 'all findings included',
    count(policy.exclude.length, 'exclude rule'),
    count(policy.suppressions.length, 'suppression'),
    `${count(policy.routes.length, 'route')} + default (${describeRoute(policy.defaultRoute)})`,
    count(Object.keys(policy.accounts).length, 'account name'),
    grouping.enabled
      ? `grouping on (${grouping.minFindings}+ findings, ${grouping.windowMinutes} min window)`
      : 'grouping off',
    `due dates ${describeSla(policy.sla)}`,
  ].join('; ');
}

/** Validate a policy file; the summary on success, `PolicyError` (or `ConfigError`) otherwise. */
export function checkPolicyFile(
  path: string = DEFAULT_POLICY_FILE,
  defaults: Partial<PolicyDefaults> = policyDefaultsFromEnv(process.env),
): string {
  return summarizePolicy(loadPolicyFile(path, defaults));
}

function main(argv: readonly string[]): number {
  const json = argv.includes('--json');
  const path = argv.find((arg) => !arg.startsWith('--')) ?? DEFAULT_POLICY_FILE;
  try {
    const policy = loadPolicyFile(path, policyDefaultsFromEnv(process.env));
    const summary = summarizePolicy(policy);
    process.stdout.write(
      json
        ? `${JSON.stringify({ file: path, summary, minimumThreshold: minimumThreshold(policy) })}\n`
        : `policy OK: ${summary}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
