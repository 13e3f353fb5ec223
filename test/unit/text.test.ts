import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_NAME_MAX, accountLabel, UNKNOWN_ACCOUNT } from '../../src/domain/text/account-label.js';
import { asText, DIRECTION_MARKS, sanitizeText, singleLine } from '../../src/domain/text/sanitize.js';
import { ELLIPSIS, graphemes, truncate } from '../../src/domain/text/truncate.js';
import {
  isKnownHost,
  KNOWN_HOSTS,
  MAX_URL_LENGTH,
  safeUrl,
  urlForDisplay,
} from '../../src/domain/text/url.js';
import { LONE_SURROGATE } from '../helpers/markup.js';

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Text that stresses sanitising and cutting: emoji sequences, flags, combining marks, Japanese, controls, every direction mark. */
const fragment = fc.constantFrom(
  '🚨',
  '👨‍👩‍👧',
  '🇯🇵',
  'é',
  'e\u0301',
  'ก่',
  '日本語の説明。',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '\u2028',
  'word',
  '\uD800',
  '\uDC00',
  '\u0000',
  '\u0085',
  '\u200B',
  ...DIRECTION_MARKS,
);
const hostile = fc.oneof(
  fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);

const DIRECTION_MARK = new RegExp(`[${DIRECTION_MARKS.join('')}]`);
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_EXCEPT_TAB_LF = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

// ---------------------------------------------------------------------------------------------
// sanitize

describe('sanitizeText', () => {
  it('turns non-strings into empty text instead of throwing', () => {
    // Act
    const results = [sanitizeText(undefined), sanitizeText(null), sanitizeText({}), asText(42), asText(true)];

    // Assert
    expect(results).toEqual(['', '', '', '42', 'true']);
  });

  it('repairs lone surrogates, unifies line breaks, drops controls except tab and LF', () => {
    // Arrange
    const input = 'a\uD800b\uDC00c\r\nd\re\u2028f\u2029g\th\u0000i\u0007j\u000Bk\u000Cl\u007Fm\u0085n\u009Fo';

    // Act
    const result = sanitizeText(input);

    // Assert
    expect(result).toBe('a\uFFFDb\uFFFDc\nd\ne\nf\ng\thijklmno');
  });

  it('keeps a well-formed surrogate pair and an emoji sequence', () => {
    // Act
    const result = sanitizeText('😀👨‍👩‍👧🇯🇵');

    // Assert
    expect(result).toBe('😀👨‍👩‍👧🇯🇵');
  });

  it.each(DIRECTION_MARKS.map((mark) => [`U+${mark.charCodeAt(0).toString(16).toUpperCase()}`, mark]))(
    'removes the direction mark %s',
    (_name, mark) => {
      // Act
      const result = sanitizeText(`a${mark}b${mark}`);

      // Assert
      expect(result).toBe('ab');
    },
  );

  it('strips every direction mark, leaves no lone surrogate or control, and is idempotent (property)', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const result = sanitizeText(input);
        expect(result).not.toMatch(DIRECTION_MARK);
        expect(result).not.toMatch(LONE_SURROGATE);
        expect(result).not.toMatch(CONTROL_EXCEPT_TAB_LF);
        expect(result).not.toMatch(/[\r\u2028\u2029]/);
        expect(sanitizeText(result)).toBe(result);
      }),
      { numRuns: 500 },
    );
  });
});

describe('singleLine', () => {
  it('collapses whitespace onto one line', () => {
    // Act
    const line = singleLine('  a\n\n b\u2028c\t d  ');

    // Assert
    expect(line).toBe('a b c d');
  });

  it('is one sanitised, trimmed line without double spaces (property)', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const line = singleLine(input);
        expect(line).not.toMatch(/[\n\t]|\s\s|^\s|\s$/);
        expect(line).not.toMatch(DIRECTION_MARK);
        expect(line).not.toMatch(LONE_SURROGATE);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// truncate

describe('truncate', () => {
  it('returns text that fits unchanged', () => {
    // Act
    const result = truncate('短いタイトル', 6);

    // Assert
    expect(result).toBe('短いタイトル');
  });

  it('cuts with an ellipsis inside the limit', () => {
    // Act
    const result = truncate('abcdefghij', 5);

    // Assert
    expect(result).toBe(`abcd${ELLIPSIS}`);
  });

  it('never splits a surrogate pair or an emoji sequence', () => {
    // Arrange
    const family = '👨‍👩‍👧'; // 8 UTF-16 code units

    // Act
    const emoji = truncate('😀😀😀😀', 6);
    const sequence = truncate(`${family}${family}`, 12);

    // Assert
    expect(emoji).toBe(`😀😀${ELLIPSIS}`);
    expect(sequence).toBe(`${family}${ELLIPSIS}`);
  });

  it('prefers a whole word when asked', () => {
    // Act
    const result = truncate('the quick brown fox jumps', 18, { wholeWords: true });

    // Assert
    expect(result).toBe(`the quick brown${ELLIPSIS}`);
  });

  it('cuts Japanese after punctuation when asked for whole words', () => {
    // Act
    const result = truncate('バケットが公開されています。誰でも読めます。', 18, { wholeWords: true });

    // Assert
    expect(result).toBe(`バケットが公開されています。${ELLIPSIS}`);
  });

  it('handles degenerate limits', () => {
    // Act
    const results = [
      truncate('abc', 0),
      truncate('abc', 1),
      truncate('abc', Number.NaN),
      truncate('abc', -3),
    ];

    // Assert
    expect(results).toEqual(['', ELLIPSIS, '', '']);
  });

  it('keeps to the limit and yields a prefix of the input (property)', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 120 }), fc.boolean(), (input, max, wholeWords) => {
        const result = truncate(input, max, { wholeWords });
        expect(result.length).toBeLessThanOrEqual(max);
        const body = result.endsWith(ELLIPSIS) && result !== input ? result.slice(0, -1) : result;
        expect(input.startsWith(body)).toBe(true);
        if (!LONE_SURROGATE.test(input)) expect(result).not.toMatch(LONE_SURROGATE);
      }),
    );
  });
});

describe('truncate: properties', () => {
  it('respects max and never splits a grapheme: the kept part is whole leading graphemes of the input', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 120 }), fc.boolean(), (input, max, wholeWords) => {
        const result = truncate(input, max, { wholeWords });
        expect(result.length).toBeLessThanOrEqual(max);
        if (result === input) return;
        expect(result.endsWith(ELLIPSIS) || result === '').toBe(true);
        const kept = [...graphemes(result.slice(0, -1))];
        const leading = [...graphemes(input)].slice(0, kept.length);
        expect(kept).toEqual(leading);
      }),
      { numRuns: 500 },
    );
  });

  it('counts the encoded length with `encode`, and never cuts inside one character’s encoding', () => {
    // Arrange
    const encode = (text: string) => text.replace(/&/g, '&amp;');

    // Act
    const results = [6, 7, 8, 12, 13].map((max) => truncate('a&b&c', max, { encode }));

    // Assert
    expect(results).toEqual([
      `a${ELLIPSIS}`,
      `a&amp;${ELLIPSIS}`,
      `a&amp;b${ELLIPSIS}`,
      `a&amp;b${ELLIPSIS}`,
      'a&amp;b&amp;c',
    ]);
  });

  it('keeps an encoded result within max (property)', () => {
    const encode = (text: string) => text.replace(/[<>&]/g, (char) => `&#${char.charCodeAt(0)};`);
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 120 }), (input, max) => {
        const result = truncate(input, max, { encode });
        expect(result.length).toBeLessThanOrEqual(max);
        expect(result).not.toMatch(/&#?\d*$/);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// url

describe('safeUrl', () => {
  it('keeps absolute http and https links, normalised', () => {
    // Act
    const results = [
      safeUrl('https://docs.aws.amazon.com/securityhub/'),
      safeUrl('  HTTP://Example.COM/a b?x=<1>  '),
    ];

    // Assert
    expect(results).toEqual([
      'https://docs.aws.amazon.com/securityhub/',
      'http://example.com/a%20b?x=%3C1%3E',
    ]);
  });

  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: in capitals', 'JaVaScRiPt:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['vbscript:', 'vbscript:msgbox(1)'],
    ['file:', 'file:///etc/passwd'],
    ['ftp:', 'ftp://x.example/'],
    ['mailto:', 'mailto:a@x.example'],
    ['a relative path', '/securityhub/home'],
    ['a protocol-relative URL', '//evil.example/x'],
    ['a bare host', 'evil.example/x'],
    ['a Slack link', '<https://evil.example|click>'],
    ['blank text', '   '],
    ['not a URL', 'not a url'],
  ])('refuses %s', (_name, value) => {
    // Act
    const result = safeUrl(value);

    // Assert
    expect(result).toBeUndefined();
  });

  it('refuses what is not a string', () => {
    // Act
    const results = [undefined, null, 42, {}, ['https://x.example/']].map((value) => safeUrl(value));

    // Assert
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses a link longer than the limit instead of cutting it', () => {
    // Arrange
    const base = 'https://docs.aws.amazon.com/';
    const fits = `${base}${'a'.repeat(MAX_URL_LENGTH - base.length)}`;

    // Act
    const results = [
      safeUrl(fits),
      safeUrl(`${fits}a`),
      safeUrl(base, base.length),
      safeUrl(base, base.length - 1),
    ];

    // Assert
    expect(results).toEqual([fits, undefined, base, undefined]);
  });

  it('keeps a web URL exactly when it is within max once normalised, and only http(s) (property)', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.integer({ min: 1, max: 200 }),
        (url, max) => {
          const href = new URL(url).href;
          const result = safeUrl(url, max);
          expect(result).toBe(href.length <= max ? href : undefined);
          if (result !== undefined) expect(result).toMatch(/^https?:\/\//);
        },
      ),
    );
  });

  it('never keeps anything that is not an absolute http(s) URL (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .constantFrom('javascript', 'data', 'vbscript', 'file', 'about', 'blob')
            .chain((scheme) => fc.string().map((rest) => `${scheme}:${rest}`)),
        ),
        (value) => {
          const result = safeUrl(value);
          if (result !== undefined) expect(new URL(result).protocol).toMatch(/^https?:$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('isKnownHost', () => {
  it.each([
    'https://console.aws.amazon.com/securityhub/home',
    'https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?fId=1',
    'https://eu-west-1.console.aws.amazon.com/macie/home',
    'https://ap-northeast-1.console.aws.amazon.com/inspector/v2/home',
    'https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html',
    'https://aws.amazon.com/security/',
    'https://alas.aws.amazon.com/AL2/ALAS-2023-1.html',
    'https://phd.aws.amazon.com/phd/home',
    'https://DOCS.AWS.AMAZON.COM/x',
    'https://docs.aws.amazon.com./x',
    'https://console.amazonaws-us-gov.com/securityhub/home',
    'https://us-gov-west-1.console.amazonaws-us-gov.com/guardduty/home',
    'https://console.amazonaws.cn/securityhub/home',
    'https://cn-north-1.console.amazonaws.cn/guardduty/home',
    'https://docs.amazonaws.cn/en_us/securityhub/',
  ])('knows %s', (url) => {
    // Act
    const known = isKnownHost(url);

    // Assert
    expect(known).toBe(true);
  });

  it.each([
    ['another host', 'https://evil.example/x'],
    ['a look-alike suffix', 'https://console.aws.amazon.com.evil.example/x'],
    ['a look-alike prefix', 'https://evilaws.amazon.com/x'],
    ['a look-alike domain', 'https://aws-amazon.com/x'],
    ['an S3 bucket', 'https://my-bucket.s3.amazonaws.com/login.html'],
    ['an S3 path', 'https://s3.amazonaws.com/my-bucket/login.html'],
    ['an S3 website', 'http://my-bucket.s3-website-us-east-1.amazonaws.com/'],
    ['an EC2 public name', 'https://ec2-203-0-113-1.compute-1.amazonaws.com/'],
    ['an API Gateway endpoint', 'https://abc123.execute-api.us-east-1.amazonaws.com/prod'],
    ['a CloudFront distribution', 'https://d111111abcdef8.cloudfront.net/x'],
    ['amazon.com retail', 'https://www.amazon.com/'],
    ['plain http', 'http://docs.aws.amazon.com/x'],
    ['credentials', 'https://user:pass@docs.aws.amazon.com/x'],
    ['a user name hiding the host', 'https://docs.aws.amazon.com@evil.example/x'],
    ['an explicit port', 'https://docs.aws.amazon.com:8443/x'],
    ['an IP address', 'https://165.225.242.111/x'],
    ['javascript:', 'javascript:alert(1)//docs.aws.amazon.com'],
    ['a relative link', '/docs.aws.amazon.com/x'],
    ['not a URL', 'docs.aws.amazon.com'],
  ])('does not know %s', (_name, url) => {
    // Act
    const known = isKnownHost(url);

    // Assert
    expect(known).toBe(false);
  });

  it('knows only https links whose host is a known one or below it (property)', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const known = isKnownHost(url);
        const host = new URL(url).hostname.replace(/\.$/, '');
        const expected =
          url.startsWith('https://') &&
          new URL(url).port === '' &&
          KNOWN_HOSTS.some((name) => host === name || host.endsWith(`.${name}`));
        expect(known).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('urlForDisplay', () => {
  it('names the host and shows the URL without its scheme', () => {
    // Act
    const shown = [
      urlForDisplay('https://Evil.Example/x?login=1#top'),
      urlForDisplay('http://evil.example:8080/'),
      urlForDisplay('https://bücher.example/a b'),
    ];

    // Assert
    expect(shown).toEqual([
      { host: 'evil.example', text: 'evil.example/x?login=1#top' },
      { host: 'evil.example', text: 'evil.example:8080/' },
      { host: 'xn--bcher-kva.example', text: 'xn--bcher-kva.example/a%20b' },
    ]);
  });

  it('shows nothing for what is not a safe URL', () => {
    // Act
    const shown = ['javascript:alert(1)', 'data:,x', '/x', 42].map((value) => urlForDisplay(value));

    // Assert
    expect(shown).toEqual([undefined, undefined, undefined, undefined]);
  });
});

// ---------------------------------------------------------------------------------------------
// account-label

describe('accountLabel', () => {
  it('names an account by its name and id', () => {
    // Act
    const label = accountLabel('123456789012', '  prod\tpayments ');

    // Assert
    expect(label).toEqual({
      name: 'prod payments',
      id: '123456789012',
      short: 'prod payments',
      full: 'prod payments (123456789012)',
    });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['blank', ' \n\t '],
    ['direction marks only', '\u200E\u202E\u2066'],
    ['controls only', '\u0000\u0007'],
    ['not a string', { name: 'x' }],
  ])('falls back to the id when the name is %s', (_name, accountName) => {
    // Act
    const label = accountLabel('123456789012', accountName);

    // Assert
    expect(label).toEqual({
      name: undefined,
      id: '123456789012',
      short: '123456789012',
      full: '123456789012',
    });
  });

  it('says "unknown account" when there is neither a name nor a 12-digit id', () => {
    // Act
    const labels = [accountLabel(undefined), accountLabel('12345'), accountLabel('<!channel>', ' ')];

    // Assert
    for (const label of labels) {
      expect(label).toEqual({
        name: undefined,
        id: undefined,
        short: UNKNOWN_ACCOUNT,
        full: UNKNOWN_ACCOUNT,
      });
    }
  });

  it('keeps the name without an id', () => {
    // Act
    const label = accountLabel('not-an-id', 'prod');

    // Assert
    expect(label).toEqual({ name: 'prod', id: undefined, short: 'prod', full: 'prod' });
  });

  it('cuts a long name to ACCOUNT_NAME_MAX without splitting a character', () => {
    // Act
    const label = accountLabel('123456789012', '本番🏭'.repeat(40));

    // Assert
    expect(label.name?.length).toBeLessThanOrEqual(ACCOUNT_NAME_MAX);
    expect(label.name?.endsWith(ELLIPSIS)).toBe(true);
    expect(label.name).not.toMatch(LONE_SURROGATE);
    expect(label.full).toBe(`${label.name} (123456789012)`);
  });

  it('is sanitised, on one line and within its limits, whatever the name (property)', () => {
    fc.assert(
      fc.property(hostile, (accountName) => {
        const label = accountLabel('123456789012', accountName);
        expect(label.id).toBe('123456789012');
        expect(label.name === undefined || label.name.length > 0).toBe(true);
        expect((label.name ?? '').length).toBeLessThanOrEqual(ACCOUNT_NAME_MAX);
        expect(label.full).not.toMatch(/[\n\t]/);
        expect(label.full).not.toMatch(DIRECTION_MARK);
        expect(label.full).not.toMatch(LONE_SURROGATE);
        expect(label.short).toBe(label.name ?? '123456789012');
      }),
      { numRuns: 300 },
    );
  });
});
