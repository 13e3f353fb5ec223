/** A JSON object (not null, not an array): what untrusted input is checked against before reading. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The value at a path of object keys, undefined where the path leaves objects. */
export function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * `JSON.stringify` without recursion: the same text for any JSON value, however deeply nested
 * (JSON.stringify overflows the stack at a few thousand levels, and a rejected event must still be
 * kept). Values JSON cannot hold (undefined, functions) are left out as JSON.stringify does.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const out: string[] = [];
  type Frame = { kind: 'value'; value: unknown } | { kind: 'text'; text: string };
  const stack: Frame[] = [{ kind: 'value', value }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    if (frame.kind === 'text') {
      out.push(frame.text);
      continue;
    }
    const current = frame.value;
    if (Array.isArray(current)) {
      const frames: Frame[] = [{ kind: 'text', text: '[' }];
      current.forEach((item, index) => {
        if (index > 0) frames.push({ kind: 'text', text: ',' });
        frames.push({ kind: 'value', value: item === undefined ? null : item });
      });
      frames.push({ kind: 'text', text: ']' });
      stack.push(...frames.reverse());
    } else if (isRecord(current)) {
      const entries = Object.entries(current).filter(
        ([, item]) => item !== undefined && typeof item !== 'function',
      );
      const frames: Frame[] = [{ kind: 'text', text: '{' }];
      entries.forEach(([key, item], index) => {
        frames.push({ kind: 'text', text: `${index > 0 ? ',' : ''}${JSON.stringify(key)}:` });
        frames.push({ kind: 'value', value: item });
      });
      frames.push({ kind: 'text', text: '}' });
      stack.push(...frames.reverse());
    } else {
      out.push(JSON.stringify(current) ?? 'null');
    }
  }
  return out.join('');
}
