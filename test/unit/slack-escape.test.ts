import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPHASIS_LOOKALIKES,
  escapeAndTruncate,
  escapeSlackCode,
  escapeSlackText,
  truncateEscaped,
} from '../../src/domain/slack/escape.js';
import { DIRECTION_MARKS } from '../../src/domain/text/sanitize.js';
import { ELLIPSIS } from '../../src/domain/text/truncate.js';
import { EMPHASIS_FRAGMENTS, SLACK_CONTROLS } from '../helpers/hostile.js';
import {
  DIRECTION_MARK,
  LONE_SURROGATE,
  UNESCAPED as RAW_CONTROL,
  withoutEmphasis,
} from '../helpers/markup.js';

const fragment = fc.constantFrom(
  ...SLACK_CONTROLS,
  ...EMPHASIS_FRAGMENTS,
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
  ...DIRECTION_MARKS,
);
/** Look-alikes back to the delimiters they stand for. */
function plainDelimiters(text: string): string {
  const back: Record<string, string> = Object.fromEntries(
    Object.entries(EMPHASIS_LOOKALIKES).map(([char, lookalike]) => [lookalike, char]),
  );
  return text.replace(/[\u2217\u02CD\u223C\u02CB]/g, (char) => back[char] ?? char);
}

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

  it('shows emphasis delimiters literally, as look-alikes Slack does not parse', () => {
    // Arrange
    const input = '*bold* _italic_ ~strike~ `code` ```block``` a*b* _x';

    // Act
    const escaped = escapeSlackText(input);

    // Assert
    expect(escaped).toBe('∗bold∗ ˍitalicˍ ∼strike∼ ˋcodeˋ ˋˋˋblockˋˋˋ a*b∗ ˍx');
    expect(escaped).toHaveLength(input.length);
  });

  it('keeps *, _ and ~ inside a word of ASCII letters and digits, where Slack does not read them', () => {
    // Act
    const escaped = escapeSlackText('NETWORK_CONNECTION 2*3 a~b 日本_語 x_ _y');

    // Assert
    expect(escaped).toBe('NETWORK_CONNECTION 2*3 a~b 日本ˍ語 xˍ ˍy');
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

  it('never leaves a raw control character, a lone surrogate, a direction mark or emphasis (property)', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const escaped = escapeSlackText(input);
        expect(escaped).not.toMatch(RAW_CONTROL);
        expect(escaped).not.toMatch(LONE_SURROGATE);
        expect(escaped).not.toMatch(DIRECTION_MARK);
        expect(escaped.replace(/[A-Za-z0-9][*_~](?=[A-Za-z0-9])/g, '')).not.toMatch(/[*_~`]/);
        expect(escaped).toHaveLength(escapeSlackText(withoutEmphasis(input)).length);
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
        // A delimiter kept inside a word may be replaced once the cut ends the word.
        if (result !== full)
          expect(plainDelimiters(full).startsWith(plainDelimiters(result.slice(0, -1)))).toBe(true);
      }),
    );
  });

  it('replaces a delimiter the cut leaves at the end, even one kept inside a word before', () => {
    // Act
    const results = [escapeAndTruncate('a_bc', 3), escapeAndTruncate('a_bc', 4)];

    // Assert
    expect(results).toEqual([`aˍ${ELLIPSIS}`, 'a_bc']);
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

  it('keeps *, _ and ~ inside the code span, where Slack parses nothing', () => {
    // Act
    const result = escapeSlackCode('arn:aws:s3:::*_bucket_/~x*', 100);

    // Assert
    expect(result).toBe('`arn:aws:s3:::*_bucket_/~x*`');
  });

  it('neutralises emphasis when there is no room for the backticks', () => {
    // Act
    const result = escapeSlackCode('*_', 2);

    // Assert
    expect(result).toBe('∗ˍ');
  });

  it('keeps the backticks within the limit', () => {
    // Act
    const result = escapeSlackCode('a'.repeat(50), 10);

    // Assert
    expect(result).toBe(`\`aaaaaaa${ELLIPSIS}\``);
    expect(result.length).toBe(10);
  });
});
