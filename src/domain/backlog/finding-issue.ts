import type { Finding } from '../finding/finding.js';
import type { SeverityLabel } from '../finding/severity.js';
import { accountLabel } from '../text/account-label.js';
import { truncate } from '../text/truncate.js';
import {
  findingLink,
  formatterFor,
  normalizeInline,
  type TextFormatter,
  type TextFormattingRule,
} from './format.js';
import { BACKLOG_LIMITS, fitText, MARKER_ROOM } from './limits.js';
import { findingMarker, markerLine } from './marker.js';

/** Backlog's built-in priority ids; their names depend on the space's language. */
export const BACKLOG_PRIORITY_IDS = { high: 2, normal: 3, low: 4 } as const;

export const DEFAULT_PRIORITY_IDS: Readonly<Record<SeverityLabel, number>> = Object.freeze({
  CRITICAL: BACKLOG_PRIORITY_IDS.high,
  HIGH: BACKLOG_PRIORITY_IDS.high,
  MEDIUM: BACKLOG_PRIORITY_IDS.normal,
  LOW: BACKLOG_PRIORITY_IDS.low,
  INFORMATIONAL: BACKLOG_PRIORITY_IDS.low,
});

export type PriorityOverrides = Partial<Record<SeverityLabel, number>>;

/** The override for this severity when it is a positive integer id, else the default. */
export function priorityIdFor(severity: SeverityLabel, overrides?: PriorityOverrides): number {
  const override = overrides?.[severity];
  return override !== undefined && Number.isInteger(override) && override > 0
    ? override
    : DEFAULT_PRIORITY_IDS[severity];
}

/** Backlog rejects a longer summary. Counted in UTF-16 code units, which is never less than code points. */
export const MAX_SUMMARY_LENGTH = BACKLOG_LIMITS.summary;

/** How much of a finding's lists a description shows; less and less until it fits Backlog's limit. */
interface DetailLevel {
  /** Resource tags listed per resource before "+N more". */
  tags: number;
  /** Resources listed before "+N more". */
  resources: number;
}
const DETAIL_LEVELS: readonly DetailLevel[] = [
  { tags: 20, resources: Number.POSITIVE_INFINITY },
  { tags: 5, resources: Number.POSITIVE_INFINITY },
  { tags: 0, resources: 3 },
  { tags: 0, resources: 1 },
];
const FULL_DETAIL = DETAIL_LEVELS[0] as DetailLevel;

export interface BacklogIssueContext {
  textFormattingRule: TextFormattingRule;
  priorityOverrides?: PriorityOverrides;
}

export interface BacklogIssueDraft {
  summary: string;
  description: string;
  priorityId: number;
  marker: string;
}

export interface ReopenCommentContext {
  textFormattingRule: TextFormattingRule;
  /** The finding's UpdatedAt when it was last delivered, from the ledger. */
  previousUpdatedAt?: string;
  /** Why it counts as reopened, e.g. "compliance FAILED again" (escaped like any value). */
  reason: string;
}

/** `[SEVERITY] title (account)`: one line of plain text (Backlog does not format summaries), ≤255. */
export function buildIssueSummary(finding: Finding): string {
  const prefix = `[${finding.severity}] `;
  const suffix = ` (${normalizeInline(accountLabel(finding.accountId, finding.accountName).short)})`;
  const title = normalizeInline(finding.title) || '(untitled finding)';
  return `${prefix}${truncate(title, MAX_SUMMARY_LENGTH - prefix.length - suffix.length)}${suffix}`;
}

/** ISO 8601 in UTC when the value parses, the escaped value otherwise. */
function timestamp(f: TextFormatter, value: string): string {
  const time = Date.parse(value);
  return Number.isNaN(time) ? f.inline(value) : new Date(time).toISOString();
}

/** The account as `name (id)`, the name or id alone, or `unknown account` (`accountLabel`), escaped for `f`. */
export function accountCell(f: TextFormatter, accountId: unknown, accountName: unknown): string {
  return f.inline(accountLabel(accountId, accountName).full);
}

function remoteIpCell(f: TextFormatter, ip: string, country?: string, organization?: string): string {
  const where = [country, organization].filter((part): part is string => part !== undefined).map(f.inline);
  const nonEmpty = where.filter((part) => part !== '');
  return nonEmpty.length > 0 ? `${f.inline(ip)} (${nonEmpty.join(', ')})` : f.inline(ip);
}

/** The finding's details as table rows (Item, Value), every value escaped for `f`. */
export function detailRows(f: TextFormatter, finding: Finding): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Severity', finding.severity],
    ['Product', f.inline(finding.productName)],
    ['Account', accountCell(f, finding.accountId, finding.accountName)],
    ['Region', f.inline(finding.region)],
    ['Workflow status', f.inline(finding.workflowStatus)],
    ['Record state', f.inline(finding.recordState)],
  ];
  if (finding.control) {
    rows.push(['Control', f.inline(finding.control.id)]);
    if (finding.control.standardsArn !== undefined)
      rows.push(['Standard', f.inline(finding.control.standardsArn)]);
  }
  if (finding.complianceStatus !== undefined)
    rows.push(['Compliance status', f.inline(finding.complianceStatus)]);
  if (finding.types.length > 0) rows.push(['Types', finding.types.map(f.inline).join(', ')]);
  const gd = finding.guardDuty;
  if (gd) {
    rows.push(['GuardDuty finding type', f.inline(gd.type)]);
    if (gd.count !== undefined && Number.isFinite(gd.count)) rows.push(['Count', f.inline(String(gd.count))]);
    if (gd.actionType !== undefined) rows.push(['Action', f.inline(gd.actionType)]);
    if (gd.remoteIp !== undefined) {
      rows.push(['Remote IP', remoteIpCell(f, gd.remoteIp, gd.remoteCountry, gd.remoteOrganization)]);
    }
    if (gd.remotePort !== undefined) rows.push(['Remote port', f.inline(gd.remotePort)]);
    if (gd.actor !== undefined) rows.push(['API / domain', f.inline(gd.actor)]);
  }
  if (finding.vulnerabilities && finding.vulnerabilities.length > 0) {
    rows.push([
      'Vulnerabilities',
      finding.vulnerabilities.map((vulnerability) => f.inline(vulnerability.id)).join(', '),
    ]);
  }
  rows.push(['Resources', String(finding.resourceCount)]);
  rows.push(['Created', timestamp(f, finding.createdAt)]);
  rows.push(['Updated', timestamp(f, finding.updatedAt)]);
  if (finding.firstObservedAt !== undefined)
    rows.push(['First observed', timestamp(f, finding.firstObservedAt)]);
  if (finding.lastObservedAt !== undefined)
    rows.push(['Last observed', timestamp(f, finding.lastObservedAt)]);
  return rows;
}

function vulnerabilityLines(f: TextFormatter, finding: Finding): string[] {
  const lines: string[] = [];
  for (const vulnerability of finding.vulnerabilities ?? []) {
    lines.push(f.listItem(f.inline(vulnerability.id)));
    for (const pkg of vulnerability.packages) {
      const installed = pkg.version === undefined ? 'version unknown' : f.inline(pkg.version);
      const fixed =
        pkg.fixedVersion === undefined ? 'no fixed version' : `fixed in ${f.inline(pkg.fixedVersion)}`;
      lines.push(f.listItem(`${f.inline(pkg.name)}: ${installed} → ${fixed}`, 2));
    }
  }
  return lines;
}

function resourceLines(f: TextFormatter, finding: Finding, detail: DetailLevel): string[] {
  const lines: string[] = [];
  const listed = finding.resources.slice(0, detail.resources);
  for (const resource of listed) {
    const region = resource.region === undefined ? '' : ` (${f.inline(resource.region)})`;
    lines.push(f.listItem(`${f.inline(resource.type)}: ${f.inline(resource.id)}${region}`));
    const tags = Object.entries(resource.tags);
    if (tags.length > 0) {
      const shown = tags.slice(0, detail.tags).map(([key, value]) => `${f.inline(key)}=${f.inline(value)}`);
      const hiddenTags = tags.length - shown.length;
      const more =
        hiddenTags > 0 ? `${shown.length > 0 ? ', ' : ''}+${hiddenTags} more, see Security Hub` : '';
      lines.push(f.listItem(`Tags: ${shown.join(', ')}${more}`, 2));
    }
  }
  const hidden = finding.resourceCount - listed.length;
  if (hidden > 0) lines.push(f.listItem(`+${hidden} more, see Security Hub`));
  return lines;
}

/** List items linking the finding in the Security Hub console and the product's console. */
export function linkLines(f: TextFormatter, finding: Finding): string[] {
  const links = [
    findingLink(f, 'Security Hub console', 'Open in the Security Hub console', finding.consoleUrl),
    finding.sourceUrl === undefined
      ? undefined
      : findingLink(f, 'Product console', 'Open in the product console', finding.sourceUrl),
  ];
  return links.filter((link): link is string => link !== undefined).map((link) => f.listItem(link));
}

function section(title: string, f: TextFormatter, body: string[]): string[] {
  return body.length === 0 ? [] : [f.heading(2, title), '', ...body, ''];
}

/**
 * The issue description in the project's formatting rule; ends with the marker line. Within
 * Backlog's limit: the resource lists are cut until it fits (`DETAIL_LEVELS`), then the text.
 */
export function buildIssueDescription(finding: Finding, rule: TextFormattingRule, marker: string): string {
  const budget = BACKLOG_LIMITS.description - MARKER_ROOM;
  let description = '';
  for (const detail of DETAIL_LEVELS) {
    description = describe(finding, rule, marker, detail);
    if (description.length <= budget) return description;
  }
  return fitText(description, BACKLOG_LIMITS.description, markerLine(marker));
}

function describe(finding: Finding, rule: TextFormattingRule, marker: string, detail = FULL_DETAIL): string {
  const f = formatterFor(rule);
  const description = f.text(finding.description);
  const remediationText = f.text(finding.remediationText ?? '');
  const remediationLink =
    finding.remediationUrl === undefined
      ? undefined
      : findingLink(f, 'Remediation guide', 'Remediation guide', finding.remediationUrl);
  const remediation = [...remediationText, ...(remediationLink === undefined ? [] : ['', remediationLink])];

  const lines = [
    f.heading(1, f.inline(finding.title)),
    '',
    ...f.table(['Item', 'Value'], detailRows(f, finding)),
    '',
    ...section('Description', f, description.length > 0 ? description : ['(no description)']),
    ...section('Vulnerabilities', f, vulnerabilityLines(f, finding)),
    ...section(`Resources (${finding.resourceCount})`, f, resourceLines(f, finding, detail)),
    ...section('Remediation', f, remediation.at(0) === '' ? remediation.slice(1) : remediation),
    ...section('Links', f, linkLines(f, finding)),
    ...section('Identifiers', f, [
      'Finding Id:',
      ...f.codeBlock(finding.identifier.Id),
      '',
      'Product ARN:',
      ...f.codeBlock(finding.identifier.ProductArn),
    ]),
    markerLine(marker),
  ];
  return `${lines.join('\n')}\n`;
}

/** Everything `POST /api/v2/issues` needs from the finding (project, issue type come from config). */
export function buildBacklogIssue(finding: Finding, ctx: BacklogIssueContext): BacklogIssueDraft {
  const marker = findingMarker(finding.key);
  return {
    summary: buildIssueSummary(finding),
    description: buildIssueDescription(finding, ctx.textFormattingRule, marker),
    priorityId: priorityIdFor(finding.severity, ctx.priorityOverrides),
    marker,
  };
}

/** A comment for an issue whose finding Security Hub reset to NEW: why, the state now, and when. */
export function buildReopenComment(finding: Finding, ctx: ReopenCommentContext): string {
  const f = formatterFor(ctx.textFormattingRule);
  const rows: Array<[string, string]> = [['Severity', finding.severity]];
  if (finding.complianceStatus !== undefined)
    rows.push(['Compliance status', f.inline(finding.complianceStatus)]);
  rows.push(['Record state', f.inline(finding.recordState)]);
  rows.push(['Workflow status', f.inline(finding.workflowStatus)]);
  if (finding.guardDuty?.count !== undefined && Number.isFinite(finding.guardDuty.count)) {
    rows.push(['GuardDuty count', f.inline(String(finding.guardDuty.count))]);
  }
  rows.push(['Updated', timestamp(f, finding.updatedAt)]);
  if (ctx.previousUpdatedAt !== undefined)
    rows.push(['Previously updated', timestamp(f, ctx.previousUpdatedAt)]);
  if (finding.lastObservedAt !== undefined)
    rows.push(['Last observed', timestamp(f, finding.lastObservedAt)]);

  const consoleLink = findingLink(
    f,
    'Security Hub console',
    'Open in the Security Hub console',
    finding.consoleUrl,
  );
  const lines = [
    `${f.strong('Finding reopened')}: ${f.inline(ctx.reason)}`,
    '',
    f.inline(finding.title),
    '',
    ...f.table(['Item', 'Value'], rows),
    ...(consoleLink === undefined ? [] : ['', consoleLink]),
  ];
  return `${lines.join('\n')}\n`;
}
