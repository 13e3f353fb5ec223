import { digestSetup, makeHandler } from '../../src/handlers/digest.js';
import { makeLogger, once } from '../../src/handlers/runtime.js';
import type { SlackMessage } from '../../src/local/emulators/slack-emulator.js';
import type { Env } from '../../src/local/sandbox.js';

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type HandCount = Map<string, Record<Severity, number>>;

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const accountId = (index: number) => String(100000000000 + index * 7919).padStart(12, '0');

/**
 * ASFF findings over `accounts` accounts, every severity, record state, workflow status and
 * compliance status mixed in: what the digest must count and what it must leave out.
 */
export function seededFindings(
  accounts: number,
  perAccount: number,
  seed = 1,
  prefix = 'seed',
): Array<Record<string, unknown>> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const findings: Array<Record<string, unknown>> = [];
  for (let a = 0; a < accounts; a++) {
    const count = 1 + Math.floor(next() * perAccount);
    for (let i = 0; i < count; i++) {
      const compliance = pick(['FAILED', 'FAILED', 'WARNING', 'PASSED', 'NOT_AVAILABLE', undefined]);
      findings.push({
        SchemaVersion: '2018-10-08',
        Id: `arn:aws:securityhub:us-east-1:${accountId(a)}:finding/${prefix}-${a}-${i}`,
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
        AwsAccountId: accountId(a),
        GeneratorId: `control/${i % 7}`,
        Title: `Seeded finding ${a}-${i}`,
        Description: 'seeded',
        Resources: [{ Type: 'AwsS3Bucket', Id: `arn:aws:s3:::bucket-${a}-${i}` }],
        Severity: { Label: pick(SEVERITIES) },
        RecordState: pick(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ARCHIVED']),
        Workflow: { Status: pick(['NEW', 'NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']) },
        ...(compliance ? { Compliance: { Status: compliance } } : {}),
      });
    }
  }
  return findings;
}

/** The count by hand: active (ACTIVE, NEW or NOTIFIED, compliance not PASSED) by account and label. */
export function countByHand(findings: Iterable<Record<string, unknown>>): HandCount {
  const counts: HandCount = new Map();
  for (const finding of findings) {
    const workflow = (finding.Workflow as { Status?: string } | undefined)?.Status;
    const compliance = (finding.Compliance as { Status?: string } | undefined)?.Status;
    if (finding.RecordState !== 'ACTIVE') continue;
    if (workflow !== 'NEW' && workflow !== 'NOTIFIED') continue;
    if (compliance === 'PASSED') continue;
    const account = String(finding.AwsAccountId);
    const row = counts.get(account) ?? { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0 };
    row[(finding.Severity as { Label: Severity }).Label] += 1;
    counts.set(account, row);
  }
  return counts;
}

/** Findings SUPPRESSED on an active record, counted by hand. */
export function suppressedByHand(findings: Iterable<Record<string, unknown>>): number {
  let n = 0;
  for (const finding of findings) {
    const workflow = (finding.Workflow as { Status?: string } | undefined)?.Status;
    if (finding.RecordState === 'ACTIVE' && workflow === 'SUPPRESSED') n += 1;
  }
  return n;
}

export interface TableRow {
  label: string;
  link?: string;
  /** Critical, High, Medium, Low, Info, Total. */
  counts: number[];
  /** The change shown in each cell (0 when none). */
  changes: number[];
}

interface Cell {
  type: string;
  text?: string;
  elements?: Array<{ elements: Array<{ type: string; text: string; url?: string }> }>;
}

/** `1,234 ▲3` → count 1234, change +3. */
export function parseCell(text: string): { count: number; change: number } {
  const match = /^([\d,]+)(?: ([▲▼])([\d,]+))?$/.exec(text);
  if (!match) throw new Error(`not a count cell: ${text}`);
  const number = (s: string) => Number(s.replace(/,/g, ''));
  const change = match[2] ? number(match[3] as string) * (match[2] === '▲' ? 1 : -1) : 0;
  return { count: number(match[1] as string), change };
}

/** The table block of a digest message, its rows after the header parsed. */
export function digestTable(message: SlackMessage): TableRow[] {
  const attachment = message.attachments?.[0] as { blocks?: Array<{ type: string; rows?: Cell[][] }> };
  const table = attachment?.blocks?.find((block) => block.type === 'table');
  if (!table?.rows) throw new Error('the message has no table block');
  return table.rows.slice(1).map((row) => {
    const [first, ...cells] = row;
    const element = first?.elements?.[0]?.elements?.[0];
    const parsed = cells.map((cell) => parseCell(String(cell.text)));
    return {
      label: element?.text ?? '',
      ...(element?.url ? { link: element.url } : {}),
      counts: parsed.map((p) => p.count),
      changes: parsed.map((p) => p.change),
    };
  });
}

export const countsOf = (row: Record<Severity, number>) => {
  const cells = SEVERITIES.map((label) => row[label]);
  return [...cells, cells.reduce((a, b) => a + b, 0)];
};

export const lambdaContext = (requestId: string) =>
  ({ functionName: 'digest', awsRequestId: requestId, getRemainingTimeInMillis: () => 30_000 }) as never;

/** The digest function's real handler on an environment (the embedded emulators'). */
export function digestHandler(env: Env) {
  const logger = makeLogger(env);
  return makeHandler({ logger, setup: once(() => digestSetup(env, logger)) });
}
