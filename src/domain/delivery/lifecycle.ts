/**
 * A filed finding's lifecycle: what a Security Hub event says happened to it, and the words the
 * issue comment, the thread reply and the updated message use for it.
 */
import type { Finding } from '../finding/finding.js';

/** Why a filed finding closes: Security Hub says it is fixed, gone, resolved or suppressed. */
export interface CloseReason {
  kind: 'passed' | 'archived' | 'resolved' | 'suppressed';
  /** When Security Hub saw it (the finding's UpdatedAt, or the note's for a person's change). */
  at: string;
  /** Who set the workflow status (the note's author), for `resolved` and `suppressed`. */
  by?: string;
  /** Their note (untrusted text). */
  note?: string;
  /** Where a person set it, when not in Security Hub itself (`Slack`). */
  via?: string;
  /** A suppression's expiry date (YYYY-MM-DD), when it has one. */
  until?: string;
}

/** What an event says about a finding. */
export type Transition =
  | { kind: 'open' }
  | { kind: 'close'; reason: CloseReason }
  /** Nothing to act on: NOTIFIED (the notifier's own mark), or nothing that changes the lifecycle. */
  | { kind: 'none' };

/** The lifecycle state a ledger item keeps (for the digest and for deciding what an event means). */
export type LifecycleState = 'open' | 'closed' | 'suppressed';

/**
 * What happened to a finding, from its state in the event: archived (the resource is gone), then
 * compliance PASSED (fixed), then RESOLVED or SUPPRESSED in Security Hub; NEW and ACTIVE and not
 * PASSED is an open finding (new or reopened); anything else (NOTIFIED) is nothing to act on.
 */
export function transitionOf(finding: Finding): Transition {
  const at = finding.updatedAt;
  if (finding.recordState === 'ARCHIVED') return { kind: 'close', reason: { kind: 'archived', at } };
  if (finding.complianceStatus === 'PASSED') return { kind: 'close', reason: { kind: 'passed', at } };
  if (finding.workflowStatus === 'RESOLVED' || finding.workflowStatus === 'SUPPRESSED') {
    const reason: CloseReason = {
      kind: finding.workflowStatus === 'RESOLVED' ? 'resolved' : 'suppressed',
      at: finding.note?.updatedAt ?? at,
    };
    if (finding.note?.updatedBy) reason.by = finding.note.updatedBy;
    if (finding.note?.text) reason.note = finding.note.text;
    return { kind: 'close', reason };
  }
  if (finding.workflowStatus === 'NEW') return { kind: 'open' };
  return { kind: 'none' };
}

/** The lifecycle state a close leaves: suppressed when a person suppressed it, else closed. */
export function stateAfter(reason: CloseReason): LifecycleState {
  return reason.kind === 'suppressed' ? 'suppressed' : 'closed';
}

/** Plain text (escaped by each renderer): "compliance PASSED at T", "set to SUPPRESSED by X at T". */
export function describeClose(reason: CloseReason): { headline: string; because: string } {
  switch (reason.kind) {
    case 'passed':
      return { headline: 'Resolved', because: `compliance PASSED at ${reason.at}` };
    case 'archived':
      return {
        headline: 'Resolved',
        because: `the record was archived at ${reason.at}: the resource is gone`,
      };
    case 'resolved':
      return {
        headline: 'Resolved',
        because: `${reason.via ? `resolved from ${reason.via}` : 'set to RESOLVED in Security Hub'}${byWhom(reason)} at ${reason.at}`,
      };
    case 'suppressed':
      return {
        headline: 'Suppressed',
        because: `${reason.via ? `suppressed from ${reason.via}` : 'set to SUPPRESSED in Security Hub'}${byWhom(reason)} at ${reason.at}${reason.until ? ` until ${reason.until}` : ''}`,
      };
  }
}

function byWhom(reason: CloseReason): string {
  return reason.by ? ` by ${reason.by}` : '';
}

/**
 * The word a group's closing progress is counted in: a vulnerability group's CVEs are `fixed`
 * (unless suppressed), a storm's findings `resolved` or `suppressed`.
 */
export function progressWord(reason: CloseReason, groupKind?: 'vulnerability'): string {
  if (groupKind === 'vulnerability' && reason.kind !== 'suppressed') return 'fixed';
  return describeClose(reason).headline.toLowerCase();
}

/** The Backlog resolution a close sets: Won't Fix for a suppression, Fixed otherwise. */
export function resolutionFor(reason: CloseReason): 'Fixed' | "Won't Fix" {
  return reason.kind === 'suppressed' ? "Won't Fix" : 'Fixed';
}

/** How far a storm group's closing has come: `closed` of `total` findings. */
export interface CloseProgress {
  closed: number;
  total: number;
}

/** The group closes with its last open finding. */
export function groupCloses(progress: CloseProgress): boolean {
  return progress.total > 0 && progress.closed >= progress.total;
}
