import fc from 'fast-check';
import { findingMarker } from '../../src/domain/backlog/marker.js';
import { DIRECTION_MARKS } from '../../src/domain/text/sanitize.js';

// ---------------------------------------------------------------------------------------------
// Slack: mrkdwn control sequences and text that stresses escaping and truncation.

/** Slack's control sequences (mentions, links, entities) and the characters they are made of. */
export const SLACK_CONTROLS = [
  '<!channel>',
  '<!here>',
  '<@U1>',
  '<#C1>',
  '<https://evil.example|click>',
  '&',
  '&amp;',
  '<',
  '>',
  '|',
  '@here',
] as const;

/** Slack mrkdwn emphasis, strike-through and code, whole and as lone delimiters, at and inside words. */
export const EMPHASIS_FRAGMENTS: readonly string[] = [
  '*bold*',
  '_italic_',
  '~strike~',
  '`code`',
  '```block```',
  '*',
  '_',
  '~',
  'a_b',
  '2*3',
];

/**
 * The controls plus mrkdwn emphasis, emoji, Japanese, every direction mark and bidi control, and
 * a lone surrogate.
 */
export const SLACK_FRAGMENTS: readonly string[] = [
  ...SLACK_CONTROLS,
  ...EMPHASIS_FRAGMENTS,
  ...DIRECTION_MARKS,
  '&lt',
  '🚨',
  '👨‍👩‍👧',
  '日本語',
  '\n',
  '\uDC00',
  ' ',
  'x',
];

/**
 * Emphasis over Slack fragments only (no binary strings), so `withoutEmphasis` changes nothing but
 * the delimiters; now and then one emphasis fragment repeated 100 to `maxRepeat` times.
 */
export function emphasisText(maxRepeat: number): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.array(fc.constantFrom(...SLACK_FRAGMENTS), { maxLength: 30 }).map((p) => p.join('')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...EMPHASIS_FRAGMENTS), fc.integer({ min: 100, max: maxRepeat }))
        .map(([part, n]) => part.repeat(n)),
    },
  );
}

/**
 * Hostile text for a Slack message builder: fragments joined, binary strings, or one fragment
 * repeated 100 to `maxRepeat` times (past Slack's limits).
 */
export function slackHostile(fragments: readonly string[], maxRepeat: number): fc.Arbitrary<string> {
  const fragment = fc.constantFrom(...fragments);
  return fc.oneof(
    { weight: 5, arbitrary: fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join('')) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fragment, fc.integer({ min: 100, max: maxRepeat }))
        .map(([part, n]) => part.repeat(n)),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Backlog: what Markdown or Backlog notation could act on.

/**
 * Links, bare URLs, HTML, code fences, headings, list and table starts, emphasis, line breaks,
 * every direction mark and bidi control, a marker.
 */
export const MARKUP_FRAGMENTS: readonly string[] = [
  '[[x>javascript:alert(1)]]',
  '[x](javascript:alert(1))',
  '<script>alert(1)</script>',
  'https://evil.example/a_b',
  'www.evil.example',
  '{code}',
  '{/code}',
  '`',
  '```',
  "''",
  '%%',
  '&br;',
  '# ',
  '* ',
  '- ',
  '> ',
  '|',
  '1. ',
  '**bold**',
  '\\',
  '\n',
  '\r\n',
  '\u2028',
  ...DIRECTION_MARKS,
  '_x_',
  '~x~',
  'http://x.example/y',
  '@channel',
  findingMarker('someone else'),
  'x',
  ' ',
  '日本語',
];

/**
 * Hostile text for a Backlog builder: up to `maxParts` parts, mostly `fragments`, some random
 * strings, and with `binary` some binary ones (control characters, lone surrogates).
 */
export function markupHostile(
  fragments: readonly string[],
  { maxParts, binary = false }: { maxParts: number; binary?: boolean },
): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...fragments) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
        ...(binary ? [{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) }] : []),
      ),
      { maxLength: maxParts },
    )
    .map((parts) => parts.join(''));
}
