/**
 * A filed finding's lifecycle in Slack: the thread reply when it closes ("Resolved: compliance
 * PASSED at …", or a storm's "7 of 12 resolved"), and the look of the original message, changed so
 * the channel shows at a glance what is still open (marker, colour and a "Resolved at … because …"
 * line; links kept), and changed back when the finding reopens.
 */
import type { Delivery } from '../delivery/delivery.js';
import {
  type CloseProgress,
  type CloseReason,
  describeClose,
  groupCloses,
  progressWord,
} from '../delivery/lifecycle.js';
import { type ContextBlock, context, esc, type SlackMessage } from './blocks.js';

/** The colours and markers of a message whose finding closed. */
export const LIFECYCLE_LOOK = {
  closed: { color: '#2EB67D', marker: '✅ Resolved: ' },
  suppressed: { color: '#9E9E9E', marker: '🔕 Suppressed: ' },
} as const;

/** The block the notifier adds to a closed message; found again by its id when the finding reopens. */
export const LIFECYCLE_BLOCK_ID = 'shn-lifecycle';

const NOTE_MAX = 300;

/** The thread reply of a close. */
export function buildCloseReply(
  delivery: Delivery,
  reason: CloseReason,
  progress?: CloseProgress,
): SlackMessage {
  const { headline, because } = describeClose(reason);
  const word = progressWord(reason, delivery.group?.kind);
  const marker = reason.kind === 'suppressed' ? '🔕' : '✅';
  const title = !progress
    ? `*${headline}*`
    : groupCloses(progress)
      ? `*All ${progress.total} ${word}*`
      : `*${progress.closed} of ${progress.total} ${word}*`;
  const note = reason.note ? `\n>${esc(reason.note, NOTE_MAX)}` : '';
  const text = `${marker} ${title}: ${esc(because, 500)}${note}`;
  const summary = `${marker} ${progress ? title.replace(/\*/g, '') : headline}: ${esc(because, 200)}`;
  return {
    text: summary,
    blocks: [context(text)],
    attachments: [],
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** The line a closed message carries. */
function lifecycleLine(reason: CloseReason): ContextBlock {
  const { headline, because } = describeClose(reason);
  const block = context(
    `${reason.kind === 'suppressed' ? '🔕' : '✅'} *${headline}* at ${esc(reason.at, 40)} because ${esc(because, 500)}`,
  );
  return { ...block, block_id: LIFECYCLE_BLOCK_ID } as ContextBlock;
}

export interface PostedMessage {
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

type Json = Record<string, unknown>;

/** The header text without a lifecycle marker this notifier added. */
function plainHeader(text: string): string {
  let result = text;
  for (const { marker } of Object.values(LIFECYCLE_LOOK)) {
    result = result.replace(marker, '');
  }
  return result;
}

function withHeader(blocks: unknown[], change: (text: string) => string): unknown[] {
  return blocks.map((block) => {
    const record = block as Json;
    if (record.type !== 'header') return block;
    const text = record.text as Json;
    return { ...record, text: { ...text, text: change(String(text.text ?? '')).slice(0, 150) } };
  });
}

/**
 * The message as it looks once its finding closed (or, `reason` undefined, open again with its
 * severity's `openColor`): the header's marker, the colour bar, the lifecycle line; the rest kept.
 */
export function withLifecycleLook(
  message: PostedMessage,
  reason: CloseReason | undefined,
  openColor: string,
): PostedMessage {
  const look = reason ? LIFECYCLE_LOOK[reason.kind === 'suppressed' ? 'suppressed' : 'closed'] : undefined;
  // The lifecycle line and the lines that go with it (`shn-lifecycle-…`: a Slack action's reason).
  const kept = (message.blocks ?? []).filter(
    (block) => !String((block as Json).block_id ?? '').startsWith(LIFECYCLE_BLOCK_ID),
  );
  const headed = withHeader(kept, (text) => `${look?.marker ?? ''}${plainHeader(text)}`);
  const blocks = reason
    ? [headed[0], lifecycleLine(reason), ...headed.slice(1)].filter((b) => b !== undefined)
    : headed;
  const attachments = (message.attachments ?? []).map((attachment, index) =>
    index === 0 ? { ...(attachment as Json), color: look?.color ?? openColor } : attachment,
  );
  const text = `${look?.marker ?? ''}${plainHeader(message.text)}`;
  return { text, blocks: blocks.slice(0, 50), ...(attachments.length > 0 ? { attachments } : {}) };
}
