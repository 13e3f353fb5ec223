import type { Delivery, DeliveryMember } from '../delivery/delivery.js';
import { findingsText, type GroupFacts, groupFacts, nonNegative, plural } from '../delivery/group-facts.js';
import type { SeverityLabel } from '../finding/severity.js';
import { accountLabel } from '../text/account-label.js';
import { singleLine } from '../text/sanitize.js';
import { truncate } from '../text/truncate.js';
import {
  accountText,
  accountValue,
  type Block,
  type ButtonElement,
  button,
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
  mrkdwn,
  plain,
  prose,
  type SectionBlock,
  type SlackMessage,
  slackMessage,
  textSection,
} from './blocks.js';
import { truncateEscaped } from './escape.js';
import { buildSlackMessage, SLACK_LIMITS, severityColor, severityEmoji } from './finding-message.js';

/** What a grouped message or reply can link: the Backlog issue the group was filed as. */
export interface GroupMessageContext {
  issue?: { key: string; url: string };
}

/** Budgets of the grouped messages, below Slack's limits (`SLACK_LIMITS`). */
export const GROUP_LIMITS = {
  /** Members whose resources are listed before "+N more". */
  listedMembers: 15,
  /** A resource id shown as a code span, backticks included. */
  resourceId: 180,
  resourceType: 64,
  /** Regions named in the Regions field before "+N more". */
  regions: 8,
  /** Other members named in the "Also reported by" line of a consolidated single delivery. */
  consolidated: 3,
} as const;

// ---------------------------------------------------------------------------------------------
// What a delivery's members share and how they differ.

/** The shared facts, and how the message shows the members' regions and what the group is keyed on. */
interface MessageFacts extends GroupFacts {
  /** Distinct regions, most frequent first. */
  regions: string[];
  /** What the group is keyed on: `Control`, `Finding type` or `Grouped by`. */
  kindLabel: string;
}

function messageFacts(delivery: Delivery): MessageFacts {
  const { finding, members } = delivery;
  const regionCounts = new Map<string, number>();
  for (const member of members) {
    const region = singleLine(member.region);
    if (region) regionCounts.set(region, (regionCounts.get(region) ?? 0) + 1);
  }
  const regions = [...regionCounts.entries()].sort((a, b) => b[1] - a[1]).map(([region]) => region);
  const kindLabel = finding.guardDuty ? 'Finding type' : finding.control ? 'Control' : 'Grouped by';
  return { ...groupFacts(delivery), regions, kindLabel };
}

function severityText(label: SeverityLabel | undefined): string {
  return label ?? 'UNKNOWN';
}

/** `prod-payments (123456789012)` as plain text, for a header; `accountText` escapes it for mrkdwn. */
function accountPlain(facts: MessageFacts): string {
  return accountLabel(facts.accountId, facts.accountName).full;
}

function severityField(facts: MessageFacts): MrkdwnText {
  const [first] = facts.severities;
  if (facts.severities.length <= 1) {
    return field('Severity', `${severityEmoji(facts.highest)} ${severityText(facts.highest)}`);
  }
  const last = facts.severities[facts.severities.length - 1];
  const range = `${severityEmoji(first?.[0])} ${first?.[0]} – ${severityEmoji(last?.[0])} ${last?.[0]}`;
  const counts = facts.severities.map(([label, n]) => `${n} ${label}`).join(' · ');
  return field('Severity', `${range}\n${counts}`);
}

function regionsField(facts: MessageFacts): MrkdwnText {
  const shown = facts.regions.slice(0, GROUP_LIMITS.regions).map((region) => code(region, 40));
  const more = facts.regions.length - shown.length;
  if (more > 0) shown.push(`+${more} more`);
  return field(facts.regions.length > 1 ? `Regions (${facts.regions.length})` : 'Region', shown.join(', '));
}

interface LineOptions {
  region: boolean;
  severity: boolean;
  /** A member without a title of its own has the representative's. */
  title: string;
}

/** One line per member: its first resource as `type` `id`, or its title when it names none. */
function memberLine(member: DeliveryMember, options: LineOptions): string {
  const [resource] = member.resources;
  let line = resource
    ? `${code(resource.type, GROUP_LIMITS.resourceType) || '`Other`'} ${code(resource.id, GROUP_LIMITS.resourceId) || '(no id)'}`
    : esc(member.title ?? options.title, 150) || '(no resource)';
  const extra = Math.max(nonNegative(member.resourceCount), member.resources.length) - (resource ? 1 : 0);
  if (resource && extra > 0) line += ` +${plural(extra, 'resource')}`;
  if (options.region) line += ` · ${esc(member.region, 30) || '?'}`;
  const prefix = options.severity ? `${severityEmoji(member.severity)} ` : '• ';
  return `${prefix}${line}`;
}

/**
 * The members' resources: the first `listedMembers`, as many as fit one section, then "+N more".
 * `title` is trusted or escaped.
 */
function resourcesSection(title: string, delivery: Delivery, facts: MessageFacts): SectionBlock {
  const { members } = delivery;
  const options: LineOptions = {
    region: facts.regions.length > 1,
    severity: facts.severities.length > 1,
    title: delivery.finding.title,
  };
  const head = `*${title}*`;
  const reserve = 32; // room for "+N more"
  const lines: string[] = [];
  let length = head.length;
  for (const member of members.slice(0, GROUP_LIMITS.listedMembers)) {
    const line = memberLine(member, options);
    if (length + 1 + line.length + reserve > SLACK_LIMITS.sectionText) break;
    lines.push(line);
    length += 1 + line.length;
  }
  const more = members.length - lines.length;
  if (more > 0) lines.push(`+${more} more`);
  return { type: 'section', text: mrkdwn([head, ...lines].join('\n'), SLACK_LIMITS.sectionText) };
}

function issueButton(ctx: GroupMessageContext): ButtonElement | undefined {
  const url = linkUrl(ctx.issue?.url);
  if (!url) return undefined;
  return button(`Backlog ${singleLine(ctx.issue?.key) || 'issue'}`, url, 'open-backlog-issue');
}

// ---------------------------------------------------------------------------------------------
// The grouped message, the append reply.

function renderGroup(delivery: Delivery, ctx: GroupMessageContext): SlackMessage {
  const { finding, members } = delivery;
  const facts = messageFacts(delivery);
  const counted = ` — ${findingsText(facts.total)} in `;

  const headerRest = `${counted}${accountPlain(facts)}`;
  const emoji = `${severityEmoji(facts.highest)} `;
  const labelBudget = Math.max(24, SLACK_LIMITS.headerText - emoji.length - headerRest.length);
  const headerLabel = truncate(singleLine(facts.label), labelBudget) || 'Security Hub findings';
  const header: HeaderBlock = {
    type: 'header',
    text: plain(`${emoji}${headerLabel}${headerRest}`, SLACK_LIMITS.headerText, 'Security Hub findings'),
  };

  const textRest = `${counted}${accountText(facts.accountId, facts.accountName)}`;
  const prefix = `[${severityText(facts.highest)}] `;
  const textLabel = esc(facts.label, Math.max(40, SLACK_LIMITS.text - prefix.length - textRest.length));
  const text = truncateEscaped(
    `${prefix}${textLabel || 'Security Hub findings'}${textRest}`,
    SLACK_LIMITS.text,
  );

  const fields: MrkdwnText[] = [
    field('Account', accountValue(facts.accountId, facts.accountName)),
    severityField(facts),
    field('Product', esc(finding.productName, 100) || esc(finding.product, 32)),
    regionsField(facts),
    field(facts.kindLabel, code(facts.label, 200)),
    field('Findings', facts.previousCount > 0 ? `${facts.total} (${members.length} new)` : `${facts.total}`),
  ];
  const issueKey = singleLine(ctx.issue?.key);
  if (issueKey) fields.push(field('Backlog issue', esc(issueKey, 64)));

  const title = esc(finding.title, 200);
  const description = prose(finding.description, SLACK_LIMITS.description);
  const remediation = prose(finding.remediationText, SLACK_LIMITS.remediation);
  const listed = Math.min(members.length, GROUP_LIMITS.listedMembers);
  const resourcesTitle =
    members.length > listed
      ? `Resources (first ${listed} of ${members.length})`
      : `Resources (${members.length})`;

  const about = [title ? `*${title}*` : '', description].filter(Boolean).join('\n');
  const parts: Array<Block | undefined> = [
    { type: 'section', fields: fields.slice(0, SLACK_LIMITS.fieldsPerSection) },
    textSection(about),
    textSection(remediation ? `*Remediation*\n${remediation}` : ''),
    resourcesSection(resourcesTitle, delivery, facts),
    context(
      `🧺 Grouped: Security Hub raised these findings together. More of them arrive as replies in this thread${
        issueKey ? ` and as comments on ${esc(issueKey, 64)}` : ''
      }.`,
    ),
    ...linkBlocks([
      findingLink(finding.consoleUrl, 'Security Hub link', 'Open in Security Hub', 'open-security-hub', true),
      { button: issueButton(ctx) },
      findingLink(finding.remediationUrl, 'Remediation', 'Remediation', 'open-remediation'),
    ]),
  ];

  return slackMessage(text, [header], parts.filter(defined), severityColor(facts.highest));
}

function renderAppend(delivery: Delivery, ctx: GroupMessageContext): SlackMessage {
  const { finding, members } = delivery;
  const facts = messageFacts(delivery);
  const more = `${plural(members.length, 'more finding', 'more findings')} (total ${facts.total})`;
  const where = ` — ${accountText(facts.accountId, facts.accountName)}`;
  const label = esc(facts.label, Math.max(40, SLACK_LIMITS.text - more.length - where.length - 8));
  const text = truncateEscaped(`${more} of ${label || 'the group'}${where}`, SLACK_LIMITS.text);
  const top: Block[] = [
    {
      type: 'section',
      text: mrkdwn(
        `➕ *${plural(members.length, 'more finding', 'more findings')}* (total ${facts.total}) of ${
          code(facts.label, 200) || 'the group'
        } in ${accountText(facts.accountId, facts.accountName)}`,
        SLACK_LIMITS.sectionText,
      ),
    },
  ];
  const listed = Math.min(members.length, GROUP_LIMITS.listedMembers);
  const title =
    members.length > listed ? `New resources (first ${listed} of ${members.length})` : 'New resources';
  const severities = facts.severities
    .map(([label, n]) => `${severityEmoji(label)} ${n} ${label}`)
    .join(' · ');
  const regions = facts.regions.slice(0, GROUP_LIMITS.regions).map((region) => esc(region, 40));
  if (facts.regions.length > regions.length) regions.push(`+${facts.regions.length - regions.length} more`);
  const summary = [severities, regions.join(', ')].filter(Boolean).join(' · ');
  const parts: Array<Block | undefined> = [
    resourcesSection(title, delivery, facts),
    summary ? context(summary) : undefined,
    ...linkBlocks([
      { button: issueButton(ctx) },
      findingLink(finding.consoleUrl, 'Security Hub link', 'Open in Security Hub', 'open-security-hub'),
    ]),
  ];
  return slackMessage(text, top, parts.filter(defined), severityColor(facts.highest));
}

/** Never throw: a message that cannot be rendered falls back to the representative's own message. */
function safely(render: () => SlackMessage, delivery: Delivery, ctx: GroupMessageContext): SlackMessage {
  try {
    return render();
  } catch {
    return buildSlackMessage(delivery.finding, { mode: 'new', ...(ctx.issue ? { issue: ctx.issue } : {}) });
  }
}

/**
 * The top-level message of a storm group (`kind: 'group'`, `mode: 'new'`): a header naming the
 * control or type, how many findings and the account; the triage fields; the representative's
 * description and remediation; the members' resources (the first 15, then "+N more"); link
 * buttons. Same shape and colour bar as `buildSlackMessage`, every finding value escaped.
 */
export function buildSlackGroupMessage(delivery: Delivery, ctx: GroupMessageContext): SlackMessage {
  return safely(() => renderGroup(delivery, ctx), delivery, ctx);
}

/** The thread reply for findings that joined an open group (`mode: 'append'`): "N more findings (total T)". */
export function buildSlackAppendReply(delivery: Delivery, ctx: GroupMessageContext): SlackMessage {
  return safely(() => renderAppend(delivery, ctx), delivery, ctx);
}
