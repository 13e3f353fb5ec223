import type { DeliveryMode } from '../delivery/delivery.js';
import type { Finding } from '../finding/finding.js';
import { isSeverityLabel, type SeverityLabel } from '../finding/severity.js';
import { singleLine } from '../text/sanitize.js';
import {
  accountText,
  accountValue,
  type Block,
  button,
  type ContextBlock,
  code,
  context,
  defined,
  esc,
  field,
  findingLink,
  type HeaderBlock,
  linkBlocks,
  linkUrl,
  type MrkdwnText,
  plain,
  prose,
  type SectionBlock,
  SLACK_BLOCK_LIMITS,
  type SlackMessage,
  slackMessage,
  textSection,
} from './blocks.js';
import { truncateEscaped } from './escape.js';

export type {
  ActionsBlock,
  Block,
  ButtonElement,
  ContextBlock,
  HeaderBlock,
  MrkdwnText,
  PlainText,
  SectionBlock,
  SlackAttachment,
  SlackMessage,
} from './blocks.js';

export interface SlackMessageContext {
  mode: DeliveryMode;
  /** The Backlog issue the finding was filed as. */
  issue?: { key: string; url: string };
  /** How often the finding has been reopened, this time included. */
  reopenCount?: number;
}

/** Slack's documented limits, and the budgets this message keeps to below them. */
export const SLACK_LIMITS = {
  ...SLACK_BLOCK_LIMITS,
  /** Ours: the notification text. */
  text: 300,
  /** Ours: the description shown. */
  description: 700,
  /** Ours: the remediation text shown. */
  remediation: 400,
  /** Ours: resources listed before "+N more". */
  resources: 3,
  /** Ours: vulnerabilities listed in full. */
  vulnerabilities: 3,
} as const;

// ---------------------------------------------------------------------------------------------
// Lookup tables.

export const SEVERITY_COLORS: Readonly<Record<SeverityLabel, string>> = {
  CRITICAL: '#8B0000',
  HIGH: '#E0481F',
  MEDIUM: '#F2A900',
  LOW: '#2F80ED',
  INFORMATIONAL: '#9E9E9E',
};
export const DEFAULT_SEVERITY_COLOR = '#616161';

export const SEVERITY_EMOJI: Readonly<Record<SeverityLabel, string>> = {
  CRITICAL: '🔴',
  HIGH: '🟠',
  MEDIUM: '🟡',
  LOW: '🔵',
  INFORMATIONAL: '⚪',
};
export const DEFAULT_SEVERITY_EMOJI = '❔';

export function severityColor(label: unknown): string {
  return isSeverityLabel(label) ? SEVERITY_COLORS[label] : DEFAULT_SEVERITY_COLOR;
}

export function severityEmoji(label: unknown): string {
  return isSeverityLabel(label) ? SEVERITY_EMOJI[label] : DEFAULT_SEVERITY_EMOJI;
}

// ---------------------------------------------------------------------------------------------
// Reading a finding defensively: the type says what should be there, the builder never throws.

type Json = Record<string, unknown>;

function rec(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-blank string (numbers accepted), or undefined. */
function str(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim().length > 0 ? value : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Text helpers: every value from a finding goes through `esc` or `code` (slack-blocks) exactly once.

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

// ---------------------------------------------------------------------------------------------
// The parts of the message.

function severityText(label: unknown): string {
  return isSeverityLabel(label) ? label : esc(label, 16) || 'UNKNOWN';
}

function buildText(f: Json, reopen: boolean): string {
  const prefix = `[${severityText(f.severity)}] ${reopen ? 'Reopened: ' : ''}`;
  const where = accountText(f.accountId, f.accountName);
  const suffix = ` — ${where} ${esc(f.region, 30) || 'unknown region'}`;
  const titleBudget = Math.max(40, SLACK_LIMITS.text - prefix.length - suffix.length);
  const title = esc(f.title, titleBudget) || 'Security Hub finding';
  return truncateEscaped(`${prefix}${title}${suffix}`, SLACK_LIMITS.text);
}

function buildHeader(f: Json, reopen: boolean): HeaderBlock {
  const title = singleLine(f.title) || 'Security Hub finding';
  const text = `${severityEmoji(f.severity)} ${reopen ? 'Reopened: ' : ''}${title}`;
  return { type: 'header', text: plain(text, SLACK_LIMITS.headerText, 'Security Hub finding') };
}

function buildReopenNotice(ctx: Json): ContextBlock {
  const n = count(ctx.reopenCount);
  const issueKey = str(rec(ctx.issue).key);
  const times = n !== undefined && n > 0 ? `, for the ${ordinal(n)} time` : '';
  const filed = issueKey ? ` It is already filed as ${esc(issueKey, 64)}.` : '';
  return context(`🔁 *Reopened*: Security Hub set this finding back to NEW${times}.${filed}`);
}

/** Tags to show for a resource: `Name` first, at most two. */
function resourceTags(tags: Json): string {
  const entries = Object.entries(tags).filter(
    (entry): entry is [string, string] => str(entry[1]) !== undefined,
  );
  entries.sort(([a], [b]) => Number(b === 'Name') - Number(a === 'Name'));
  const shown = entries.slice(0, 2).map(([key, value]) => `${esc(key, 32)}=${esc(value, 64)}`);
  if (entries.length > shown.length) shown.push(`+${entries.length - shown.length} tags`);
  return shown.join(', ');
}

function resourcesField(f: Json): MrkdwnText | undefined {
  const resources = list(f.resources).map(rec);
  const total = Math.max(count(f.resourceCount) ?? 0, resources.length);
  if (total === 0) return undefined;
  const lines = resources.slice(0, SLACK_LIMITS.resources).map((resource) => {
    const tags = resourceTags(rec(resource.tags));
    const line = `${code(resource.type, 64) || '`Other`'} ${code(resource.id, 256) || '(no id)'}`;
    return tags ? `${line}\n      ${tags}` : line;
  });
  const more = total - lines.length;
  if (more > 0) lines.push(`+${more} more`);
  return field(total > 1 ? `Resources (${total})` : 'Resource', lines.join('\n'));
}

function coreFields(f: Json, ctx: Json): MrkdwnText[] {
  const fields: MrkdwnText[] = [];
  fields.push(field('Severity', `${severityEmoji(f.severity)} ${severityText(f.severity)}`));
  fields.push(field('Product', esc(f.productName, 100) || esc(f.product, 32)));
  fields.push(field('Account', accountValue(f.accountId, f.accountName)));
  fields.push(field('Region', code(f.region, 40)));
  const resources = resourcesField(f);
  if (resources) fields.push(resources);
  const issueKey = str(rec(ctx.issue).key);
  if (issueKey) fields.push(field('Backlog issue', esc(issueKey, 64)));
  return fields;
}

function controlFields(f: Json): MrkdwnText[] {
  const fields: MrkdwnText[] = [];
  const controlId = str(rec(f.control).id);
  if (controlId) fields.push(field('Control', code(controlId, 64)));
  const compliance = str(f.complianceStatus);
  if (compliance) fields.push(field('Compliance', esc(compliance, 32)));
  return fields;
}

function guardDutyFields(f: Json): MrkdwnText[] {
  if (typeof f.guardDuty !== 'object' || f.guardDuty === null) return [];
  const gd = rec(f.guardDuty);
  const fields: MrkdwnText[] = [];
  const actionType = str(gd.actionType);
  const type = code(gd.type, 200) || 'Unknown';
  fields.push(field('Finding type', actionType ? `${type}\n${esc(actionType, 64)}` : type));
  const seen = count(gd.count);
  if (seen !== undefined) fields.push(field('Count', `${seen} ${seen === 1 ? 'time' : 'times'}`));
  const ip = str(gd.remoteIp);
  const port = str(gd.remotePort);
  const endpoint = ip ? (port ? `${ip}:${port}` : ip) : port ? `port ${port}` : undefined;
  const where = [str(gd.remoteCountry), str(gd.remoteOrganization)]
    .filter((part): part is string => part !== undefined)
    .map((part) => esc(part, 100))
    .join(' · ');
  if (endpoint || where) {
    fields.push(field('Remote', [endpoint ? code(endpoint, 120) : '', where].filter(Boolean).join('\n')));
  }
  const actor = str(gd.actor);
  if (actor) fields.push(field('Actor', code(actor, 200)));
  return fields;
}

function vulnerabilityFields(f: Json): MrkdwnText[] {
  const vulnerabilities = list(f.vulnerabilities)
    .map(rec)
    .filter((v) => str(v.id) !== undefined);
  const fields = vulnerabilities.slice(0, SLACK_LIMITS.vulnerabilities).map((vulnerability) => {
    const packages = list(vulnerability.packages)
      .map(rec)
      .filter((pkg) => str(pkg.name) !== undefined);
    const lines = packages.slice(0, 3).map((pkg) => {
      const installed = esc(pkg.version, 48) || '?';
      const fixed = str(pkg.fixedVersion) ? esc(pkg.fixedVersion, 48) : 'no fix yet';
      return `${code(pkg.name, 120)} ${installed} → ${fixed}`;
    });
    if (packages.length > lines.length) lines.push(`+${packages.length - lines.length} more packages`);
    return field(esc(vulnerability.id, 80), lines.join('\n') || 'no package details');
  });
  const more = vulnerabilities.slice(SLACK_LIMITS.vulnerabilities);
  if (more.length > 0) {
    const ids = more
      .slice(0, 10)
      .map((v) => esc(v.id, 40))
      .join(', ');
    fields.push(field(`+${more.length} more vulnerabilities`, more.length > 10 ? `${ids}, …` : ids));
  }
  return fields;
}

function fieldSections(groups: MrkdwnText[][]): SectionBlock[] {
  const sections: SectionBlock[] = [];
  for (const group of groups) {
    for (let i = 0; i < group.length; i += SLACK_LIMITS.fieldsPerSection) {
      sections.push({ type: 'section', fields: group.slice(i, i + SLACK_LIMITS.fieldsPerSection) });
    }
  }
  return sections;
}

/** `*label*` over `body`; none for an empty body. */
function labelledSection(label: string, body: string): SectionBlock | undefined {
  return textSection(body ? `*${label}*\n${body}` : '');
}

function buildTimeline(f: Json): ContextBlock | undefined {
  const times: Array<[string, unknown]> = [
    ['First seen', f.firstObservedAt],
    ['Last seen', f.lastObservedAt],
    ['Updated', f.updatedAt],
  ];
  const parts = times
    .filter(([, value]) => str(value) !== undefined)
    .map(([label, value]) => `${label} ${esc(value, 40)}`);
  if (parts.length === 0) return undefined;
  return context(parts.join(' · '));
}

/**
 * The link buttons, and a line naming the host of each link from the finding that is not to a
 * known host (`findingLink`): a custom product's link never sits behind "Open in …".
 */
function buildLinks(f: Json, ctx: Json): Block[] {
  const issue = rec(ctx.issue);
  const issueUrl = linkUrl(issue.url);
  const where = f.product === 'GuardDuty' ? 'GuardDuty' : singleLine(f.productName) || 'source';
  return linkBlocks([
    findingLink(f.consoleUrl, 'Security Hub link', 'Open in Security Hub', 'open-security-hub', true),
    issueUrl
      ? { button: button(`Backlog ${singleLine(issue.key) || 'issue'}`, issueUrl, 'open-backlog-issue') }
      : {},
    findingLink(f.sourceUrl, 'Source', `Open in ${where}`, 'open-source'),
    findingLink(f.remediationUrl, 'Remediation', 'Remediation', 'open-remediation'),
  ]);
}

function render(finding: Finding, context: SlackMessageContext): SlackMessage {
  const f = rec(finding);
  const ctx = rec(context);
  const reopen = ctx.mode === 'reopen';
  const text = buildText(f, reopen);
  const top: Block[] = [buildHeader(f, reopen)];
  if (reopen) top.push(buildReopenNotice(ctx));
  const details: Block[] = [
    ...fieldSections([
      coreFields(f, ctx),
      [...controlFields(f), ...guardDutyFields(f), ...vulnerabilityFields(f)],
    ]),
    labelledSection('Description', prose(f.description, SLACK_LIMITS.description)),
    labelledSection('Remediation', prose(f.remediationText, SLACK_LIMITS.remediation)),
    buildTimeline(f),
    ...buildLinks(f, ctx),
  ].filter(defined);
  return slackMessage(text, top, details, severityColor(f.severity));
}

const UNRENDERABLE_TEXT = 'Security Hub finding: the message could not be rendered, see Security Hub';

/**
 * The Slack message for one finding: a header (severity marker + title), then, beside a colour
 * bar for the severity, the triage fields, the description, the remediation, the timeline and
 * link buttons. Every value from the finding is escaped where it is mrkdwn, shortened to fit
 * Slack's limits, and links are only ever button URLs. Never throws.
 */
export function buildSlackMessage(finding: Finding, ctx: SlackMessageContext): SlackMessage {
  try {
    return render(finding, ctx);
  } catch {
    return {
      text: UNRENDERABLE_TEXT,
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Security Hub finding', emoji: true } }],
      attachments: [
        {
          color: DEFAULT_SEVERITY_COLOR,
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: UNRENDERABLE_TEXT } }],
          fallback: UNRENDERABLE_TEXT,
        },
      ],
      unfurl_links: false,
      unfurl_media: false,
    };
  }
}
