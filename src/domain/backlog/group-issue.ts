import type { Delivery, DeliveryMember } from '../delivery/delivery.js';
import { findingsText, type GroupFacts, groupFacts, nonNegative, plural } from '../delivery/group-facts.js';
import { isSeverityLabel, type SeverityLabel } from '../finding/severity.js';
import { accountLabel } from '../text/account-label.js';
import { truncate } from '../text/truncate.js';
import {
  accountCell,
  type BacklogIssueContext,
  type BacklogIssueDraft,
  detailRows,
  linkLines,
  MAX_SUMMARY_LENGTH,
  priorityIdFor,
} from './finding-issue.js';
import {
  findingLink,
  formatterFor,
  normalizeInline,
  type TextFormatter,
  type TextFormattingRule,
} from './format.js';
import { BACKLOG_LIMITS, fitText, MARKER_ROOM } from './limits.js';
import { findingMarker, markerLine } from './marker.js';

export interface GroupCommentContext {
  textFormattingRule: TextFormattingRule;
}

/** Budgets of a grouped issue or comment: a storm can hold thousands of findings. */
export const GROUP_ISSUE_LIMITS = {
  /** Members listed before "+N more". */
  listedMembers: 200,
  /** Characters the member list may take before "+N more". */
  listChars: 60_000,
} as const;

// ---------------------------------------------------------------------------------------------
// What a delivery's members share and how they differ.

/** The shared facts, with a severity always known and how the issue shows regions and the kind. */
interface IssueFacts extends Omit<GroupFacts, 'highest'> {
  /** With no member or representative label, the representative's severity as it is. */
  highest: SeverityLabel;
  /** Distinct regions, in the members' order. */
  regions: string[];
  kindLabel: string;
}

function issueFacts(delivery: Delivery): IssueFacts {
  const { finding, members } = delivery;
  const facts = groupFacts(delivery);
  return {
    ...facts,
    highest: facts.highest ?? finding.severity,
    regions: [...new Set(members.map((member) => normalizeInline(member.region)))].filter(Boolean),
    kindLabel: finding.guardDuty ? 'GuardDuty finding type' : finding.control ? 'Control' : 'Grouped by',
  };
}

/** `[HIGH] CloudTrail.2: 137 findings in prod-payments`: plain text, one line, ≤255. */
function groupSummary(facts: IssueFacts): string {
  const account = normalizeInline(accountLabel(facts.accountId, facts.accountName).short);
  const prefix = `[${facts.highest}] `;
  const suffix = `: ${findingsText(facts.total)} in ${account}`;
  const label = normalizeInline(facts.label) || '(unnamed group)';
  return `${prefix}${truncate(label, MAX_SUMMARY_LENGTH - prefix.length - suffix.length)}${suffix}`;
}

function severityCell(facts: IssueFacts): string {
  return facts.severities.map(([label, n]) => `${label} (${n})`).join(', ') || facts.highest;
}

function heading(f: TextFormatter, level: 1 | 2 | 3, title: string, body: string[]): string[] {
  return body.length === 0 ? [] : [f.heading(level, title), '', ...body, ''];
}

/** One value per line, for a code block: a line break inside a value would shift the list. */
function oneLine(value: string): string {
  return value.replace(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/g, ' ');
}

/**
 * Members as a list (severity, resource, region; the title when it is not the representative's),
 * as many as the budget holds, then "+N more"; and their finding Ids, in the same order, in one
 * code block.
 */
function memberLines(
  f: TextFormatter,
  members: DeliveryMember[],
  representativeTitle: string,
): { list: string[]; ids: string[] } {
  const list: string[] = [];
  const ids: string[] = [];
  let length = 0;
  for (const member of members) {
    if (ids.length >= GROUP_ISSUE_LIMITS.listedMembers) break;
    const severity = isSeverityLabel(member.severity) ? member.severity : f.inline(String(member.severity));
    const region = f.inline(member.region);
    const [resource, ...moreResources] = member.resources;
    const hidden = Math.max(nonNegative(member.resourceCount), member.resources.length) - 1;
    const lines: string[] = [];
    if (resource) {
      const more = hidden > 0 ? `, +${plural(hidden, 'more resource')}` : '';
      lines.push(
        f.listItem(`${severity} ${f.inline(resource.type)}: ${f.inline(resource.id)} (${region}${more})`),
      );
      if (member.title !== undefined) lines.push(f.listItem(f.inline(member.title), 2));
      for (const other of moreResources) {
        lines.push(f.listItem(`${f.inline(other.type)}: ${f.inline(other.id)}`, 2));
      }
    } else {
      lines.push(f.listItem(`${severity} ${f.inline(member.title ?? representativeTitle)} (${region})`));
    }
    const size = lines.reduce((sum, line) => sum + line.length + 1, 0) + member.identifier.Id.length;
    if (length + size > GROUP_ISSUE_LIMITS.listChars && ids.length > 0) break;
    list.push(...lines);
    ids.push(oneLine(member.identifier.Id));
    length += size;
  }
  const more = members.length - ids.length;
  if (more > 0) list.push(f.listItem(`+${more} more, listed in Security Hub`));
  return { list, ids };
}

export function memberSections(
  f: TextFormatter,
  title: string,
  members: DeliveryMember[],
  representativeTitle: string,
): string[] {
  const { list, ids } = memberLines(f, members, representativeTitle);
  return [
    ...heading(f, 2, title, list),
    ...heading(f, 3, 'Finding Ids', ids.length > 0 ? f.codeBlock(ids.join('\n')) : []),
  ];
}

function groupDescription(
  delivery: Delivery,
  facts: IssueFacts,
  rule: TextFormattingRule,
  marker: string,
): string {
  const f = formatterFor(rule);
  const { finding, members } = delivery;
  const label = f.inline(facts.label);
  const rows: Array<[string, string]> = [
    [facts.kindLabel, label],
    ['Account', accountCell(f, facts.accountId, facts.accountName)],
    ['Findings', String(facts.total)],
    ['Severity', severityCell(facts)],
    ['Regions', facts.regions.map(f.inline).join(', ')],
    ['Product', f.inline(finding.productName)],
  ];
  if (facts.previousCount > 0) rows.push(['In this delivery', String(members.length)]);

  const description = f.text(finding.description);
  const remediationText = f.text(finding.remediationText ?? '');
  const remediationLink =
    finding.remediationUrl === undefined
      ? undefined
      : findingLink(f, 'Remediation guide', 'Remediation guide', finding.remediationUrl);
  const remediation = [
    ...remediationText,
    ...(remediationLink === undefined ? [] : [...(remediationText.length > 0 ? [''] : []), remediationLink]),
  ];

  const lines = [
    f.heading(
      1,
      `${label}: ${findingsText(facts.total)} in ${accountCell(f, facts.accountId, facts.accountName)}`,
    ),
    '',
    `Security Hub raised ${findingsText(facts.total)} for ${label} in this account together. They are grouped into this one issue, and findings that join the group later are added as comments.`,
    '',
    ...f.table(['Item', 'Value'], rows),
    '',
    ...heading(f, 2, `Representative finding: ${f.inline(finding.title)}`, [
      ...f.table(['Item', 'Value'], detailRows(f, finding)),
    ]),
    ...heading(f, 3, 'Description', description.length > 0 ? description : ['(no description)']),
    ...heading(f, 3, 'Remediation', remediation),
    ...heading(f, 3, 'Links', linkLines(f, finding)),
    ...memberSections(f, `Findings (${members.length})`, members, finding.title),
    markerLine(marker),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The Backlog issue of a storm group: the summary names the label, the count and the account;
 * the description says what the group is, describes the representative finding (details,
 * description, remediation, links), lists the members and their Ids, and ends with the group's
 * marker (`findingMarker(deliveryKey)`), so the exactly-once marker search finds it on a retry.
 */
export function buildBacklogGroupIssue(delivery: Delivery, ctx: BacklogIssueContext): BacklogIssueDraft {
  const facts = issueFacts(delivery);
  const marker = findingMarker(delivery.deliveryKey);
  return {
    summary: groupSummary(facts),
    description: groupDescription(delivery, facts, ctx.textFormattingRule, marker),
    priorityId: priorityIdFor(facts.highest, ctx.priorityOverrides),
    marker,
  };
}

/** The comment for findings that joined an open group: "N more findings (total T)" and the list. */
export function buildGroupAppendComment(delivery: Delivery, ctx: GroupCommentContext, part?: string): string {
  const f = formatterFor(ctx.textFormattingRule);
  const facts = issueFacts(delivery);
  const n = delivery.members.length;
  const lines = [
    `${f.strong(plural(n, 'more finding'))} (total ${facts.total})${part ? `, ${part}` : ''}`,
    '',
    `${f.inline(facts.label)} in ${accountCell(f, facts.accountId, facts.accountName)}, severity ${severityCell(facts)}`,
    '',
    ...memberSections(f, `New findings (${n})`, delivery.members, delivery.finding.title),
  ];
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

/**
 * The comments announcing findings that joined an open group: one when it fits Backlog's comment
 * limit, else several, each within it and listing its share of the members in full (a storm of
 * hundreds of findings is never cut to "+n more" in a comment, nor refused).
 */
export function buildGroupAppendComments(delivery: Delivery, ctx: GroupCommentContext): string[] {
  return splitAppendComments(delivery, delivery.members, GROUP_ISSUE_LIMITS.listedMembers, (part, label) =>
    buildGroupAppendComment(part, ctx, label),
  );
}

/**
 * An append's comments (a storm's or a resource's vulnerabilities): `members`, in that order, cut
 * into parts of at most `maxPerPart` whose comment fits Backlog's comment limit, each built by
 * `build` with the members before it counted and, when there are several, "part i of n"; each
 * comment within the limit.
 */
export function splitAppendComments(
  delivery: Delivery,
  members: readonly DeliveryMember[],
  maxPerPart: number,
  build: (part: Delivery, label?: string) => string,
): string[] {
  const budget = BACKLOG_LIMITS.comment - MARKER_ROOM - 40;
  const parts: DeliveryMember[][] = [];
  let rest = [...members];
  while (rest.length > 0) {
    let take = Math.min(rest.length, maxPerPart);
    while (take > 1 && build({ ...delivery, members: rest.slice(0, take) }).length > budget) {
      take = Math.max(1, Math.floor(take * 0.7));
    }
    parts.push(rest.slice(0, take));
    rest = rest.slice(take);
  }
  let before = delivery.group?.previousCount ?? 0;
  return parts.map((part, index) => {
    const group = delivery.group ? { ...delivery.group, previousCount: before } : undefined;
    before += part.length;
    const label = parts.length > 1 ? `part ${index + 1} of ${parts.length}` : undefined;
    const comment = build({ ...delivery, members: part, ...(group ? { group } : {}) }, label);
    return comment.length <= budget ? comment : fitText(comment, budget, '');
  });
}
