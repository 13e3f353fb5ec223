import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Scratch space inside the repo (git-ignored), so that bundles there resolve the repo's node_modules. */
export const WORK = join(REPO, 'bench', '.work');
/** The pinned Node 24 (the `node` devDependency), whatever `node` is on PATH. */
export const NODE = join(REPO, 'node_modules', '.bin', 'node');

/** Every Lambda function: serverless.yml key, handler source, bundle path inside the artifact. */
export const FUNCTIONS = [
  { key: 'dispatch', source: 'src/handlers/dispatch.ts', bundle: 'src/handlers/dispatch.mjs' },
  {
    key: 'fileBacklogIssue',
    source: 'src/handlers/file-backlog-issue.ts',
    bundle: 'src/handlers/file-backlog-issue.mjs',
  },
  {
    key: 'postSlackMessage',
    source: 'src/handlers/post-slack-message.ts',
    bundle: 'src/handlers/post-slack-message.mjs',
  },
  { key: 'markFindings', source: 'src/handlers/mark-findings.ts', bundle: 'src/handlers/mark-findings.mjs' },
  {
    key: 'backlogWebhook',
    source: 'src/handlers/backlog-webhook.ts',
    bundle: 'src/handlers/backlog-webhook.mjs',
  },
  {
    key: 'backlogActivity',
    source: 'src/handlers/backlog-activity.ts',
    bundle: 'src/handlers/backlog-activity.mjs',
  },
  { key: 'heartbeat', source: 'src/handlers/heartbeat.ts', bundle: 'src/handlers/heartbeat.mjs' },
  { key: 'slackActions', source: 'src/handlers/slack-actions.ts', bundle: 'src/handlers/slack-actions.mjs' },
  { key: 'slackAction', source: 'src/handlers/slack-action.ts', bundle: 'src/handlers/slack-action.mjs' },
  {
    key: 'sweepSuppressions',
    source: 'src/handlers/sweep-suppressions.ts',
    bundle: 'src/handlers/sweep-suppressions.mjs',
  },
  { key: 'digest', source: 'src/handlers/digest.ts', bundle: 'src/handlers/digest.mjs' },
] as const;

export type FunctionKey = (typeof FUNCTIONS)[number]['key'];

export const run = promisify(execFile);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export const kb = (bytes: number) => `${round(bytes / 1024)} KB`;

export function duration(seconds: number): string {
  if (seconds < 60) return `${round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return `${minutes} min ${rest.toString().padStart(2, '0')} s`;
}

/** A markdown table, columns padded so that it also reads as plain text. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
}
