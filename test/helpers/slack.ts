import { expect } from 'vitest';
import type { ActionButtonElement } from '../../src/domain/slack/blocks.js';
import {
  type Block,
  type ButtonElement,
  type MrkdwnText,
  SLACK_LIMITS,
  type SlackMessage,
} from '../../src/domain/slack/finding-message.js';
import { emphasisFromValues, LONE_SURROGATE, UNESCAPED } from './markup.js';

// ---------------------------------------------------------------------------------------------
// Reading a built Slack message.

/** The top-level blocks, then the attachments'. */
export function allBlocks(message: SlackMessage): Block[] {
  return [...message.blocks, ...message.attachments.flatMap((attachment) => attachment.blocks)];
}

/** The header block's text, or empty. */
export function header(message: SlackMessage): string {
  const block = message.blocks.find((b) => b.type === 'header');
  return block?.type === 'header' ? block.text.text : '';
}

/** Every text Slack parses as mrkdwn, plus the notification text and the fallbacks. */
export function mrkdwnTexts(message: SlackMessage): string[] {
  const texts: string[] = [message.text];
  for (const attachment of message.attachments) if (attachment.fallback) texts.push(attachment.fallback);
  for (const block of allBlocks(message)) {
    if (block.type === 'section') {
      if (block.text) texts.push(block.text.text);
      for (const field of block.fields ?? []) texts.push(field.text);
    }
    if (block.type === 'context') texts.push(...block.elements.map((element) => element.text));
  }
  return texts;
}

/** Every section field. */
export function fieldTexts(message: SlackMessage): MrkdwnText[] {
  return allBlocks(message).flatMap((block) => (block.type === 'section' ? (block.fields ?? []) : []));
}

/** Field label → value, from `*Label*\nvalue`. */
export function fields(message: SlackMessage): Record<string, string> {
  const result: Record<string, string> = {};
  for (const field of fieldTexts(message)) {
    const match = /^\*([^\n]*)\*\n([\s\S]*)$/.exec(field.text);
    if (match?.[1] !== undefined && match[2] !== undefined) result[match[1]] = match[2];
  }
  return result;
}

/** The text of every section that has one. */
export function sectionTexts(message: SlackMessage): string[] {
  return allBlocks(message).flatMap((block) =>
    block.type === 'section' && block.text ? [block.text.text] : [],
  );
}

/** Every link button of every actions block. */
export function buttons(message: SlackMessage): ButtonElement[] {
  return allBlocks(message).flatMap((block) =>
    block.type === 'actions' && !('block_id' in block) ? block.elements : [],
  );
}

/** Every interactive button (acknowledge, suppress, resolve): `action_id` and `value`, no URL. */
export function actionButtons(message: SlackMessage): ActionButtonElement[] {
  return allBlocks(message).flatMap((block) =>
    block.type === 'actions' && 'block_id' in block ? block.elements : [],
  );
}

// ---------------------------------------------------------------------------------------------
// Checks both message builders keep.

/** No raw `<`, `>` or `&` and no lone surrogate in any mrkdwn, the notification text or a fallback. */
export function expectSafe(message: SlackMessage): void {
  for (const text of mrkdwnTexts(message)) {
    expect(text).not.toMatch(UNESCAPED);
    expect(text).not.toMatch(LONE_SURROGATE);
  }
}

/**
 * `message` differs from `reference` (the same built from values whose emphasis delimiters were
 * replaced) only in those values: no emphasis from a value reaches mrkdwn, only the builder's own.
 */
export function expectNoEmphasisFromValues(message: SlackMessage, reference: SlackMessage): void {
  const texts = mrkdwnTexts(message);
  const references = mrkdwnTexts(reference);
  expect(texts.length).toBe(references.length);
  texts.forEach((text, index) => {
    const other = references[index] ?? '';
    expect(text.length).toBe(other.length);
    expect(emphasisFromValues(text, other)).toEqual([]);
  });
}

/** The limits every message keeps: text, blocks, header, sections, fields, context, buttons. */
export function expectWithinSlackLimits(message: SlackMessage): void {
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
  expect(message.unfurl_links).toBe(false);
  expect(message.unfurl_media).toBe(false);
  expect(allBlocks(message).length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  expect(header(message).length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
  for (const block of allBlocks(message)) {
    if (block.type === 'section') {
      expect(block.text !== undefined || (block.fields?.length ?? 0) > 0).toBe(true);
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
      for (const field of block.fields ?? []) {
        expect(field.text.length).toBeGreaterThan(0);
        expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      }
    }
    if (block.type === 'context') {
      for (const element of block.elements)
        expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
    }
    if (block.type === 'actions') {
      for (const element of block.elements) {
        if ('url' in element) expect(element.url).toMatch(/^https?:\/\//);
        else expect(element.value.length).toBeLessThanOrEqual(2000);
        expect(element.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
      }
      expect(new Set(block.elements.map((element) => element.action_id)).size).toBe(block.elements.length);
    }
  }
}
