import { type Delivery, memberKey } from '../delivery/delivery.js';
import { plural } from '../delivery/group-facts.js';
import { type BacklogIssueContext, type BacklogIssueDraft, buildBacklogIssue } from './finding-issue.js';
import { formatterFor, type TextFormattingRule } from './format.js';
import {
  buildBacklogGroupIssue,
  buildGroupAppendComments,
  type GroupCommentContext,
  memberSections,
} from './group-issue.js';
import { BACKLOG_LIMITS, fitText } from './limits.js';
import { markerLine } from './marker.js';
import { buildBacklogVulnerabilityIssue, buildVulnerabilityAppendComments } from './vulnerability-issue.js';

/** The section a consolidated single delivery adds: the other standards' findings and their Ids. */
function consolidatedLines(delivery: Delivery, rule: TextFormattingRule): string[] {
  const f = formatterFor(rule);
  const others = delivery.members.filter((member) => memberKey(member) !== delivery.finding.key);
  if (others.length === 0) return [];
  const what = delivery.finding.control !== undefined ? 'standard' : 'finding';
  const title = `Also reported by ${plural(others.length, `other ${what}`)}`;
  return memberSections(f, title, others, delivery.finding.title);
}

/**
 * The Backlog issue for any delivery: a group → `buildBacklogGroupIssue`; a single →
 * `buildBacklogIssue` of its finding, with the other members' Ids (the same control reported by
 * other standards) listed before the marker line when it consolidates several.
 */
export function buildBacklogDeliveryIssue(delivery: Delivery, ctx: BacklogIssueContext): BacklogIssueDraft {
  const draft = composeIssue(delivery, ctx);
  const description = fitText(draft.description, BACKLOG_LIMITS.description, markerLine(draft.marker));
  return description === draft.description ? draft : { ...draft, description };
}

/** The comments of an append to an open group: a storm's member list, or a vulnerability group's CVE table. */
export function buildAppendComments(delivery: Delivery, ctx: GroupCommentContext): string[] {
  return delivery.group?.kind === 'vulnerability'
    ? buildVulnerabilityAppendComments(delivery, ctx)
    : buildGroupAppendComments(delivery, ctx);
}

function composeIssue(delivery: Delivery, ctx: BacklogIssueContext): BacklogIssueDraft {
  if (delivery.kind === 'group' && delivery.group?.kind === 'vulnerability')
    return buildBacklogVulnerabilityIssue(delivery, ctx);
  if (delivery.kind === 'group') return buildBacklogGroupIssue(delivery, ctx);
  const draft = buildBacklogIssue(delivery.finding, ctx);
  if (delivery.members.length < 2) return draft;
  const extra = consolidatedLines(delivery, ctx.textFormattingRule);
  const line = markerLine(draft.marker);
  const at = draft.description.lastIndexOf(line);
  if (extra.length === 0 || at < 0) return draft;
  const description = `${draft.description.slice(0, at)}${extra.join('\n')}\n${draft.description.slice(at)}`;
  return { ...draft, description };
}
