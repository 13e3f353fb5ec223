'use strict';
/**
 * Serverless Framework variable resolver: validates the notification policy while serverless.yml
 * is resolved, so `serverless package` / `serverless deploy` stop on a broken policy before
 * anything is built or uploaded.
 *
 *   ${file(./deploy/check-policy.cjs):policyFile}    the policy's path, after it validated
 *   ${file(./deploy/check-policy.cjs):minSeverity}   the lower of its two thresholds: the
 *                                                    severity the EventBridge rule must forward
 *
 * Runs the same TypeScript checker as `tsx src/cli/check-policy.ts` (and the same parser as
 * the dispatch function's cold start), in a child node process with tsx's loader. The policy file
 * is the `policyFile` stage param (default policy/notification-policy.yml, relative to the
 * service); the defaults it may leave out come from the stage params the functions get as
 * environment: minSeverity, slackChannel, backlogProjectKey, backlogIssueType.
 *
 * osls calls an exported function with `{ options, resolveConfigurationProperty, resolveVariable }`
 * and awaits it; a throw fails the variable's resolution with our message.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const SERVICE_DIR = path.resolve(__dirname, '..');
const CHECKER = 'src/cli/check-policy.ts';
const DEFAULT_POLICY_FILE = 'policy/notification-policy.yml';

/** Stage param -> the environment variable the checker (and the function) reads it from. */
const PARAM_ENV = {
  minSeverity: 'NOTIFY_MIN_SEVERITY',
  slackChannel: 'SLACK_CHANNEL',
  backlogProjectKey: 'BACKLOG_PROJECT_KEY',
  backlogIssueType: 'BACKLOG_ISSUE_TYPE',
};

/** One check per policy file and defaults, however many variables ask. */
const checks = new Map();

async function resolveParam(resolveVariable, name, fallback) {
  const value = await resolveVariable(`param:${name}, '${fallback}'`);
  return value === null || value === undefined ? fallback : String(value);
}

function runChecker(file, env) {
  let stdout;
  try {
    stdout = execFileSync(process.execPath, ['--import', 'tsx', CHECKER, file, '--json'], {
      cwd: SERVICE_DIR,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (error) {
    const detail = String(error.stderr || error.message).trim();
    const failure = new Error(`the notification policy ${file} is not valid:\n${detail}`);
    // osls prints the stack of a resolver's error: keep it to the checker's own message.
    failure.stack = failure.message;
    throw failure;
  }
  const report = JSON.parse(stdout);
  process.stderr.write(`${file}: policy OK: ${report.summary}\n`);
  return report;
}

async function check(resolveVariable) {
  const file = await resolveParam(resolveVariable, 'policyFile', DEFAULT_POLICY_FILE);
  const env = { ...process.env };
  for (const [param, variable] of Object.entries(PARAM_ENV)) {
    delete env[variable];
    const value = await resolveParam(resolveVariable, param, '');
    if (value !== '') env[variable] = value;
  }
  const key = JSON.stringify([file, ...Object.values(PARAM_ENV).map((variable) => env[variable])]);
  if (!checks.has(key)) checks.set(key, runChecker(file, env));
  return checks.get(key);
}

module.exports = {
  policyFile: async ({ resolveVariable }) => (await check(resolveVariable)).file,
  minSeverity: async ({ resolveVariable }) => (await check(resolveVariable)).minimumThreshold,
};
