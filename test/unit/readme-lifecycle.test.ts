import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/template.js';

/**
 * README "The lifecycle: the loop closes both ways" says what each transition does, in both
 * directions, and names the test that shows it (`file: words of its title`): every row must name a
 * test that exists, so the table cannot drift from what is tested.
 */

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

function lifecycleRows(): string[][] {
  const section = readme.split(/^## /m).find((part) => part.startsWith('The lifecycle'));
  if (!section) throw new Error('README has no "The lifecycle" section');
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| direction'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** The titles of a test file's `it(...)` cases. */
function titlesIn(file: string): string[] {
  const text = readFileSync(join(ROOT, 'test', 'integration', file), 'utf8');
  return [...text.matchAll(/\bit\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)].map((match) =>
    (match[2] ?? '').replace(/\\(.)/g, '$1'),
  );
}

describe('the README lifecycle table', () => {
  const rows = lifecycleRows();

  it('has a row for each transition of both directions, each naming its test', () => {
    expect(rows.length).toBeGreaterThanOrEqual(18);
    const directions = new Set(rows.map((row) => row[0]));
    expect([...directions].sort()).toEqual([
      'Backlog → Security Hub',
      'Security Hub → Backlog, Slack',
      'both',
    ]);
    for (const row of rows) expect(row, row.join(' | ')).toHaveLength(4);
  });

  it.each(rows.map((row) => [row[1] ?? '', row[3] ?? '']))('%s: %s exists', (_what, test) => {
    const [, file, words] = /^`([\w.-]+\.test\.ts): (.+)`$/.exec(test) ?? [];
    expect(file, test).toBeDefined();
    expect(titlesIn(file as string).some((title) => title.includes(words as string))).toBe(true);
  });
});
