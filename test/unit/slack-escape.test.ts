import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeAndTruncate,
  escapeSlackCode,
  escapeSlackText,
  truncateEscaped,
} from '../../src/domain/slack/escape.js';
import { ELLIPSIS } from '../../src/domain/text/truncate.js';
import { SLACK_CONTROLS } from '../helpers/hostile.js';
import { LONE_SURROGATE, UNESCAPED as RAW_CONTROL } from '../helpers/markup.js';

const fragment = fc.constantFrom(
  ...SLACK_CONTROLS,
  '<!subteam^S1>',
  '&lt;',
  '🚨',
  '👨‍👩‍👧',
  '🇯🇵',
  'é',
  '日本語の説明。',
  ' ',
  '\n',
  'word',
  '\uD800',
);
const hostile = fc.oneof(
  fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('escapeSlackText', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here>', '&lt;!here&gt;'],
    ['<!everyone>', '&lt;!everyone&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<#C1>', '&lt;#C1&gt;'],
    ['<!subteam^X>', '&lt;!subteam^X&gt;'],
    ['<https://x|y>', '&lt;https://x|y&gt;'],
    ['AT&T', 'AT&amp;T'],
  ])('makes %s inert', (input, expected) => {
    // Act
    const escaped = escapeSlackText(input);

    // Assert
    expect(escaped).toBe(expected);
  });

  it('takes its input literally: an entity in a finding is shown as typed', () => {
    // Arrange
    const input = 'use &amp; and &lt;';

    // Act
    const escaped = escapeSlackText(input);

    // Assert
    expect(escaped).toBe('use &amp;amp; and &amp;lt;');
  });

  it('leaves Japanese, emoji and mrkdwn-neutral punctuation readable', () => {
    // Arrange
    const input = '本番アカウント 🚨👨‍👩‍👧 (prod) #ops "quoted"';

    // Act
    const escaped = escapeSlackText(input);

    // Assert
    expect(escaped).toBe(input);
  });

  it('breaks bare broadcast mentions with an invisible word joiner', () => {
    // Arrange
    const input = 'ping @here, @Channel and @everyone but not @heresy';

    // Act
    const escaped = escapeSlackText(input);

    // Assert
    expect(escaped).toBe('ping @\u2060here, @\u2060Channel and @\u2060everyone but not @heresy');
  });

  it('removes bidi overrides and control characters and repairs lone surrogates', () => {
    // Arrange
    const input = 'a\u202Eb\u0000c\u0007d\r\ne\uD800f\tg';

    // Act
    const escaped = escapeSlackText(input);

    // Assert
    expect(escaped).toBe('abcd\ne\uFFFDf g');
  });

  it('never leaves a raw control character or a lone surrogate (property)', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const escaped = escapeSlackText(input);
        expect(escaped).not.toMatch(RAW_CONTROL);
        expect(escaped).not.toMatch(LONE_SURROGATE);
      }),
    );
  });
});

describe('escapeAndTruncate', () => {
  it('counts the escaped length, so escaping cannot push the text past the limit', () => {
    // Act
    const result = escapeAndTruncate('&&&&', 12);

    // Assert
    expect(result).toBe(`&amp;&amp;${ELLIPSIS}`);
  });

  it('never cuts inside an entity', () => {
    // Act
    const results = [1, 2, 3, 4, 5, 6, 7, 8].map((max) => escapeAndTruncate('a<b>c', max));

    // Assert
    for (const result of results) expect(result).not.toMatch(RAW_CONTROL);
    expect(results[6]).toBe(`a&lt;b${ELLIPSIS}`);
  });

  it('keeps to the limit, stays escaped and yields a prefix of the escaped text (property)', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 200 }), fc.boolean(), (input, max, wholeWords) => {
        const result = escapeAndTruncate(input, max, { wholeWords });
        const full = escapeSlackText(input);
        expect(result.length).toBeLessThanOrEqual(max);
        expect(result).not.toMatch(RAW_CONTROL);
        expect(result).not.toMatch(LONE_SURROGATE);
        if (result !== full) expect(full.startsWith(result.slice(0, -1))).toBe(true);
      }),
    );
  });

  it('copes with very long input', () => {
    // Arrange
    const input = '<!channel>'.repeat(100_000);

    // Act
    const result = escapeAndTruncate(input, 3000);

    // Assert
    expect(result.length).toBeLessThanOrEqual(3000);
    expect(result).not.toMatch(RAW_CONTROL);
  });
});

describe('truncateEscaped', () => {
  it('drops a half entity at the cut', () => {
    // Act
    const results = [
      truncateEscaped('a&amp;b', 4),
      truncateEscaped('ab&lt;', 5),
      truncateEscaped('x&gt;y', 6),
    ];

    // Assert
    expect(results).toEqual([`a${ELLIPSIS}`, `ab${ELLIPSIS}`, `x&gt;y`]);
  });

  it('keeps escaped text escaped at every length (property)', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 200 }), (input, max) => {
        const result = truncateEscaped(escapeSlackText(input), max);
        expect(result.length).toBeLessThanOrEqual(max);
        expect(result).not.toMatch(RAW_CONTROL);
      }),
    );
  });
});

describe('escapeSlackCode', () => {
  it('wraps an identifier in inline code it cannot break out of', () => {
    // Act
    const result = escapeSlackCode('arn:`x`<!here>\nnext', 100);

    // Assert
    expect(result).toBe('`arn:ˋxˋ&lt;!here&gt; next`');
  });

  it('keeps the backticks within the limit', () => {
    // Act
    const result = escapeSlackCode('a'.repeat(50), 10);

    // Assert
    expect(result).toBe(`\`aaaaaaa${ELLIPSIS}\``);
    expect(result.length).toBe(10);
  });
});
