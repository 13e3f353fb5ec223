/**
 * The Slack emulator's checks of `attachments[].blocks`, registered by slack-emulator.ts: the
 * blocks an attachment holds are checked as the message's own are (`validateBlocks`), and a
 * `table` block, which Slack takes only there, within its documented limits
 * (https://docs.slack.dev/reference/block-kit/blocks/table-block): at most 100 rows, at most 20
 * cells a row, each cell `raw_text` (at least one character) or `rich_text`, at most 20
 * `column_settings` (align left, center or right; is_wrapped a boolean; null skips a column); one
 * table a message (`only_one_table_allowed`).
 */

export const TABLE_LIMITS = { rows: 100, cells: 20, columnSettings: 20, blockId: 255 } as const;

type ValidateBlocks = (blocks: unknown[], options: { maxBlocks?: number; pointer?: string }) => string[];

const RICH_TEXT_CONTAINERS = new Set([
  'rich_text_section',
  'rich_text_list',
  'rich_text_quote',
  'rich_text_preformatted',
]);
const RICH_TEXT_ELEMENTS = new Set([
  'text',
  'link',
  'emoji',
  'user',
  'usergroup',
  'channel',
  'broadcast',
  'date',
  'color',
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A rich_text block's elements: containers of elements; a text needs its text, a link its url. */
function richTextProblems(cell: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  if (!Array.isArray(cell.elements) || cell.elements.length === 0) {
    return [`must provide at least 1 item [json-pointer:${at}/elements]`];
  }
  for (const [i, container] of cell.elements.entries()) {
    const where = `${at}/elements/${i}`;
    if (!isObject(container) || !RICH_TEXT_CONTAINERS.has(String(container.type))) {
      problems.push(`must be a valid enum value [json-pointer:${where}/type]`);
      continue;
    }
    for (const [j, element] of (Array.isArray(container.elements) ? container.elements : []).entries()) {
      const inner = `${where}/elements/${j}`;
      if (!isObject(element) || !RICH_TEXT_ELEMENTS.has(String(element.type))) {
        problems.push(`must be a valid enum value [json-pointer:${inner}/type]`);
      } else if (element.type === 'text' && (typeof element.text !== 'string' || element.text === '')) {
        problems.push(`must be more than 0 characters [json-pointer:${inner}/text]`);
      } else if (
        element.type === 'link' &&
        (typeof element.url !== 'string' || !/^https?:\/\//.test(element.url))
      ) {
        problems.push(`must be a valid URL [json-pointer:${inner}/url]`);
      }
    }
  }
  return problems;
}

export function tableProblems(block: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  if (typeof block.block_id === 'string' && block.block_id.length > TABLE_LIMITS.blockId) {
    problems.push(`must be less than 256 characters [json-pointer:${at}/block_id]`);
  }
  const rows = block.rows;
  if (!Array.isArray(rows) || rows.length === 0)
    return [...problems, `must provide at least 1 item [json-pointer:${at}/rows]`];
  if (rows.length > TABLE_LIMITS.rows)
    problems.push(`no more than ${TABLE_LIMITS.rows} items allowed [json-pointer:${at}/rows]`);
  for (const [r, row] of rows.entries()) {
    const rowAt = `${at}/rows/${r}`;
    if (!Array.isArray(row) || row.length === 0) {
      problems.push(`must provide at least 1 item [json-pointer:${rowAt}]`);
      continue;
    }
    if (row.length > TABLE_LIMITS.cells)
      problems.push(`no more than ${TABLE_LIMITS.cells} items allowed [json-pointer:${rowAt}]`);
    for (const [c, cell] of row.entries()) {
      const cellAt = `${rowAt}/${c}`;
      if (isObject(cell) && cell.type === 'raw_text') {
        if (typeof cell.text !== 'string' || cell.text.length === 0) {
          problems.push(`must be more than 0 characters [json-pointer:${cellAt}/text]`);
        }
      } else if (isObject(cell) && cell.type === 'rich_text') {
        problems.push(...richTextProblems(cell, cellAt));
      } else {
        problems.push(`must be a raw_text or rich_text element [json-pointer:${cellAt}]`);
      }
    }
  }
  const settings = block.column_settings;
  if (settings !== undefined) {
    if (!Array.isArray(settings)) problems.push(`must provide an array [json-pointer:${at}/column_settings]`);
    else {
      if (settings.length > TABLE_LIMITS.columnSettings) {
        problems.push(
          `no more than ${TABLE_LIMITS.columnSettings} items allowed [json-pointer:${at}/column_settings]`,
        );
      }
      for (const [i, setting] of settings.entries()) {
        if (setting === null) continue;
        const where = `${at}/column_settings/${i}`;
        if (!isObject(setting)) problems.push(`must provide an object [json-pointer:${where}]`);
        else if (
          setting.align !== undefined &&
          !['left', 'center', 'right'].includes(String(setting.align))
        ) {
          problems.push(`must be a valid enum value [json-pointer:${where}/align]`);
        } else if (setting.is_wrapped !== undefined && typeof setting.is_wrapped !== 'boolean') {
          problems.push(`must be a boolean [json-pointer:${where}/is_wrapped]`);
        }
      }
    }
  }
  return problems;
}

/**
 * Problems with a message's attachments' blocks, and Slack's error for them: `invalid_attachments`
 * (a bad block or table, or more than one table in the message).
 */
export function attachmentProblems(
  attachments: unknown[],
  topBlocks: unknown[],
  validateBlocks: ValidateBlocks,
): string[] {
  const problems: string[] = [];
  let tables = topBlocks.filter((block) => isObject(block) && block.type === 'table').length;
  for (const [i, attachment] of attachments.entries()) {
    if (!isObject(attachment) || attachment.blocks === undefined) continue;
    const pointer = `/attachments/${i}/blocks`;
    if (!Array.isArray(attachment.blocks)) {
      problems.push(`must provide an array [json-pointer:${pointer}]`);
      continue;
    }
    // Tables are checked here; everything else as the message's blocks are (a table's place held).
    const others = attachment.blocks.map((block) =>
      isObject(block) && block.type === 'table' ? { type: 'divider' } : block,
    );
    problems.push(...validateBlocks(others, { pointer }));
    for (const [b, block] of attachment.blocks.entries()) {
      if (!isObject(block) || block.type !== 'table') continue;
      tables += 1;
      problems.push(...tableProblems(block, `${pointer}/${b}`));
    }
  }
  const attached = attachments.flatMap((a) => (isObject(a) && Array.isArray(a.blocks) ? a.blocks : []));
  if (topBlocks.length + attached.length > 50) {
    problems.push(
      'no more than 50 blocks in a message, its attachments included [json-pointer:/attachments]',
    );
  }
  if (tables > 1) problems.push('only_one_table_allowed');
  return problems;
}
