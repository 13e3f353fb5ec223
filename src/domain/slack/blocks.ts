import { accountLabel, UNKNOWN_ACCOUNT } from '../text/account-label.js';
import { sanitizeText, singleLine } from '../text/sanitize.js';
import { truncate } from '../text/truncate.js';
import { isKnownHost, safeUrl, urlForDisplay } from '../text/url.js';
import { escapeAndTruncate, escapeSlackCode, truncateEscaped } from './escape.js';

// ---------------------------------------------------------------------------------------------
// Block Kit, the part of it the messages use.

/** Shown literally by Slack: no mentions, links or formatting are parsed in it. */
export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

/** Parsed by Slack: every value from a finding in it is escaped. */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
  /** true: Slack does not auto-link URLs, channel names or mentions in the plain parts. */
  verbatim?: boolean;
}

export interface HeaderBlock {
  type: 'header';
  text: PlainText;
}

export interface SectionBlock {
  type: 'section';
  text?: MrkdwnText;
  fields?: MrkdwnText[];
}

export interface ContextBlock {
  type: 'context';
  elements: MrkdwnText[];
}

/** A link button: its `url` is not mrkdwn, Slack never parses it. */
export interface ButtonElement {
  type: 'button';
  text: PlainText;
  url: string;
  action_id: string;
  style?: 'primary' | 'danger';
}

export interface ActionsBlock {
  type: 'actions';
  elements: ButtonElement[];
}

/** A confirmation dialog Slack shows before it sends a button's click. */
export interface ConfirmDialog {
  title: PlainText;
  text: PlainText;
  confirm: PlainText;
  deny: PlainText;
  style?: 'primary' | 'danger';
}

/**
 * An interactive button: Slack sends its `action_id` and `value` to the notifier's endpoint
 * (src/domain/slack/actions.ts); it has no `url`.
 */
export interface ActionButtonElement {
  type: 'button';
  text: PlainText;
  action_id: string;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: ConfirmDialog;
}

/** The block of interactive buttons, named by its `block_id` (link buttons' blocks have none). */
export interface InteractiveActionsBlock {
  type: 'actions';
  block_id: string;
  elements: ActionButtonElement[];
}

export type Block = HeaderBlock | SectionBlock | ContextBlock | ActionsBlock | InteractiveActionsBlock;

export interface SlackAttachment {
  color: string;
  blocks: Block[];
  fallback?: string;
}

export interface SlackMessage {
  /** The notification / fallback text: mrkdwn, escaped. */
  text: string;
  blocks: Block[];
  attachments: SlackAttachment[];
  unfurl_links: false;
  unfurl_media: false;
}

/** Slack's documented Block Kit limits (`SLACK_LIMITS` adds the messages' own budgets). */
export const SLACK_BLOCK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  blocks: 50,
  buttonText: 75,
  buttonUrl: 3000,
  contextText: 3000,
} as const;

// ---------------------------------------------------------------------------------------------
// Text helpers: every value from a finding goes through `esc` or `code` exactly once.

/** An untrusted value as escaped mrkdwn on one line, at most `max` characters. */
export function esc(value: unknown, max: number): string {
  return escapeAndTruncate(singleLine(value), max);
}

/** An untrusted identifier as escaped inline code, backticks included in `max`. */
export function code(value: unknown, max: number): string {
  return escapeSlackCode(singleLine(value), max);
}

/** Prose from a finding: blank lines kept (at most one in a row), shortened at a word, escaped. */
export function prose(value: unknown, max: number): string {
  const text = sanitizeText(value)
    .replace(/[ \u00A0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return escapeAndTruncate(text, max, { wholeWords: true });
}

/** An account as `name (id)`, the name or id alone, or `unknown account` (`accountLabel`), escaped. */
export function accountText(accountId: unknown, accountName: unknown): string {
  return esc(accountLabel(accountId, accountName).full, SLACK_BLOCK_LIMITS.sectionText);
}

/** An account as a field value: its name over its id as inline code, or the id (or `unknown account`) alone. */
export function accountValue(accountId: unknown, accountName: unknown): string {
  const { name, id } = accountLabel(accountId, accountName);
  const idText = id === undefined ? UNKNOWN_ACCOUNT : code(id, 24);
  return name === undefined ? idText : `${esc(name, SLACK_BLOCK_LIMITS.fieldText)}\n${idText}`;
}

/** A link Slack can open: `safeUrl` within the button url limit. */
export function linkUrl(value: unknown): string | undefined {
  return safeUrl(value, SLACK_BLOCK_LIMITS.buttonUrl);
}

/** How a link from a finding is shown: a button, a line of text naming its host, or nothing. */
export interface FindingLink {
  button?: ButtonElement;
  /** Escaped mrkdwn for a context block. */
  notice?: string;
}

/**
 * A link from a finding that a trusted label would vouch for ("Open in GuardDuty",
 * "Remediation"). To a known host (`isKnownHost`: AWS consoles and docs) it is a button with
 * `label`; to any other host it is only a line `What (unverified host `evil.example`):
 * `evil.example/path``, the URL without its scheme as inline code, which Slack neither links nor
 * formats. A link that is not http(s), or a known one longer than a button takes, is left out.
 */
export function findingLink(
  value: unknown,
  what: string,
  label: string,
  actionId: string,
  primary = false,
): FindingLink {
  const url = safeUrl(value);
  if (url === undefined) return {};
  if (isKnownHost(url)) {
    const fits = linkUrl(url);
    return fits === undefined ? {} : { button: button(label, fits, actionId, primary) };
  }
  const shown = urlForDisplay(url);
  if (shown === undefined) return {};
  return { notice: `${what} (unverified host ${code(shown.host, 120)}): ${code(shown.text, 400)}` };
}

/**
 * The links of a message, in order: a context block with the lines of the links shown as text
 * (if any), then the actions block of the buttons (if any), which stays last.
 */
export function linkBlocks(links: FindingLink[]): Block[] {
  const notices = links.map((link) => link.notice).filter(defined);
  const buttons = links.map((link) => link.button);
  return [notices.length > 0 ? context(notices.join('\n')) : undefined, actions(buttons)].filter(defined);
}

// ---------------------------------------------------------------------------------------------
// Block builders: their text is trusted or already escaped.

/** Escaped mrkdwn, shortened to `max` without cutting an entity, never empty, not auto-linked. */
export function mrkdwn(text: string, max: number): MrkdwnText {
  return { type: 'mrkdwn', text: truncateEscaped(text, max) || ' ', verbatim: true };
}

/** A section field `*label*` over `value` (`—` when empty); `label` is trusted or already escaped. */
export function field(label: string, value: string): MrkdwnText {
  return mrkdwn(`*${label}*\n${value || '—'}`, SLACK_BLOCK_LIMITS.fieldText);
}

/** Plain text on one line, at most `max` characters, `fallback` when empty. */
export function plain(text: string, max: number, fallback: string): PlainText {
  return { type: 'plain_text', text: truncate(singleLine(text), max) || fallback, emoji: true };
}

/** A context block of one mrkdwn element. */
export function context(text: string): ContextBlock {
  return { type: 'context', elements: [mrkdwn(text, SLACK_BLOCK_LIMITS.contextText)] };
}

/** A section of mrkdwn text; none for empty text. */
export function textSection(text: string): SectionBlock | undefined {
  return text ? { type: 'section', text: mrkdwn(text, SLACK_BLOCK_LIMITS.sectionText) } : undefined;
}

/** A link button to `url` (already checked by `linkUrl`). */
export function button(label: string, url: string, actionId: string, primary = false): ButtonElement {
  const element: ButtonElement = {
    type: 'button',
    text: plain(label, SLACK_BLOCK_LIMITS.buttonText, 'Open'),
    url,
    action_id: actionId,
  };
  if (primary) element.style = 'primary';
  return element;
}

/** An actions block of the buttons present; none when there are none. */
export function actions(elements: Array<ButtonElement | undefined>): ActionsBlock | undefined {
  const present = elements.filter((element): element is ButtonElement => element !== undefined);
  return present.length > 0 ? { type: 'actions', elements: present } : undefined;
}

/** A type guard for `filter`: drops the blocks (or anything) a builder left out. */
export function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

/** `attachment` kept within the total block limit beside `top`: the links (last) survive. */
export function capBlocks(top: Block[], attachment: Block[]): Block[] {
  const room = SLACK_BLOCK_LIMITS.blocks - top.length;
  if (attachment.length <= room) return attachment;
  const last = attachment[attachment.length - 1];
  const keepLast = last !== undefined && last.type === 'actions' && room > 0;
  return [...attachment.slice(0, Math.max(0, keepLast ? room - 1 : room)), ...(keepLast ? [last] : [])];
}

/** The message: `top` blocks, then `details` (capped) in one attachment with a colour bar. */
export function slackMessage(text: string, top: Block[], details: Block[], color: string): SlackMessage {
  return {
    text,
    blocks: top,
    attachments: [{ color, blocks: capBlocks(top, details), fallback: text }],
    unfurl_links: false,
    unfurl_media: false,
  };
}
