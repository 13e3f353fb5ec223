import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkEnvelope,
  MAX_EVENT_DEPTH,
  MAX_FINDINGS_PER_EVENT,
  parseImportedEvent,
} from '../../src/domain/finding/imported-event.js';
import { FindingValidationError } from '../../src/domain/finding/validation-error.js';
import { loadEvent, wrapFindings } from '../helpers/events.js';
import { loadFixture } from '../helpers/fixtures.js';

const CORPUS = 'third-party/corpus';
const CORPUS_DIR = fileURLToPath(new URL(`../fixtures/${CORPUS}/`, import.meta.url));

type Raw = Record<string, unknown>;

/**
 * The findings of one corpus file, whatever shape it was published in: a bare finding, an array,
 * a GetFindings response, DefectDojo's `{findings}`, a Custodian placebo recording, an EventBridge
 * event, or JSON Lines (see the corpus README).
 */
function corpusFindings(file: string): Raw[] {
  if (file.endsWith('.jsonl')) {
    return readFileSync(`${CORPUS_DIR}${file}`, 'utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as Raw);
  }
  const value = loadFixture<unknown>(`${CORPUS}/${file}`);
  if (Array.isArray(value)) return value as Raw[];
  const doc = value as {
    detail?: { findings?: Raw[] };
    Findings?: Raw[];
    findings?: Raw[];
    data?: { Findings?: Raw[] };
  };
  return doc.detail?.findings ?? doc.Findings ?? doc.findings ?? doc.data?.Findings ?? [value as Raw];
}

const corpusFiles = readdirSync(CORPUS_DIR)
  .filter((file) => /\.jsonl?$/.test(file))
  .sort();
const corpus = corpusFiles.flatMap((file) =>
  corpusFindings(file).map((raw, index) => ({ name: `${file}#${index}`, raw })),
);

/**
 * What the normaliser made of each corpus finding before the stricter checks: every normalised
 * finding in full, or the rejection message. Regenerated only by hand, on purpose.
 */
const golden = loadFixture<Record<string, { finding?: unknown; rejected?: string }>>(
  'findings/corpus-normalized.json',
);

/**
 * The corpus findings that were rejected already, each for a field that really is malformed or
 * missing; nothing the new rules check.
 */
const REJECTED_BEFORE = {
  'defectdojo-inspector-ec2-redacted-account-no-vulnerabilities.json#0': 'AwsAccountId', // XXXXXXXXXXXX
  'defectdojo-inspector-missing-account-id.json#0': 'AwsAccountId', // absent
  'heimdall2-saf-inspec-rhel7-huge-findings-export.json#0': 'AwsAccountId', // 11 digits
  'heimdall2-saf-inspec-rhel7-huge-findings-export.json#1': 'AwsAccountId',
  'heimdall2-saf-inspec-rhel7-huge-findings-export.json#2': 'AwsAccountId',
  'heimdall2-saf-inspec-rhel7-huge-findings-export.json#3': 'AwsAccountId',
  'heimdall2-saf-snyk-markdown-description-export.json#0': 'AwsAccountId',
  'heimdall2-saf-snyk-markdown-description-export.json#1': 'AwsAccountId',
  'jfrog-xray-license-violation-batchimport.json#0': 'Severity', // BatchImportFindings payload
  'jfrog-xray-operational-risk-batchimport.json#0': 'Severity',
  'jfrog-xray-security-violation-batchimport.json#0': 'Severity',
  'jfrog-xray-security-violation-batchimport.json#1': 'Severity',
};

describe('the real-product corpus', () => {
  it('holds 119 findings in 46 files', () => {
    expect(corpusFiles).toHaveLength(46);
    expect(corpus).toHaveLength(119);
    expect(Object.keys(golden).sort()).toEqual(corpus.map(({ name }) => name).sort());
  });

  it.each(corpus)('$name normalises exactly as before, each in its own Imported event', ({ name, raw }) => {
    const parsed = parseImportedEvent(wrapFindings([raw], `corpus ${name}`), {
      homeRegion: 'ap-northeast-1',
    });

    const expected = golden[name];
    if (expected?.finding !== undefined) {
      expect(parsed.rejected.map(({ error }) => error.message)).toEqual([]);
      expect(parsed.findings).toEqual([expected.finding]);
    } else {
      expect(parsed.findings).toEqual([]);
      expect(parsed.rejected.map(({ error }) => error.message)).toEqual([expected?.rejected]);
    }
  });

  it('rejects only the findings it rejected before, for the same missing or malformed field', () => {
    const rejected = Object.fromEntries(
      Object.entries(golden)
        .filter(([, outcome]) => outcome.rejected !== undefined)
        .map(([name, outcome]) => [name, /: detail\.findings\[0\]\.(\w+)/.exec(outcome.rejected ?? '')?.[1]]),
    );

    expect(rejected).toEqual(REJECTED_BEFORE);
  });

  it('passes the envelope check in the shape each event file was published in', () => {
    const events = corpusFiles
      .map((file) => loadFixtureOrUndefined(file))
      .filter((value): value is Raw => isEventWithFindings(value))
      .map((event) => ({ ...event, 'detail-type': 'Security Hub Findings - Imported' }));

    expect(events.length).toBeGreaterThan(10);
    for (const event of events) expect(() => checkEnvelope(event)).not.toThrow();
  });
});

function loadFixtureOrUndefined(file: string): unknown {
  return file.endsWith('.json') ? loadFixture<unknown>(`${CORPUS}/${file}`) : undefined;
}

function isEventWithFindings(value: unknown): boolean {
  const detail = (value as { detail?: { findings?: unknown } } | undefined)?.detail;
  return Array.isArray(detail?.findings);
}

/** `levels` containers, one inside the other, alternating objects and arrays; `levels` ≥ 1. */
function nested(levels: number): unknown {
  let value: unknown = levels % 2 === 0 ? [] : {};
  for (let level = levels - 1; level >= 1; level -= 1) value = level % 2 === 0 ? [value] : { inner: value };
  return value;
}

/** The sample control event with `value` as its finding's ProductFields (a container at level 5). */
function eventWithProductFields(value: unknown, id = 'deep-event') {
  const event = structuredClone(loadEvent('fsbp-cloudtrail-2.json'));
  event.id = id;
  const finding = event.detail.findings[0] as Raw;
  finding.ProductFields = value;
  return event;
}

describe('checkEnvelope: depth', () => {
  it(`accepts an event nested exactly ${MAX_EVENT_DEPTH} levels deep (the event itself is level 1)`, () => {
    // event 1, detail 2, findings 3, finding 4, ProductFields 5 … the innermost container at 64.
    const event = eventWithProductFields(nested(MAX_EVENT_DEPTH - 4));

    expect(() => checkEnvelope(event)).not.toThrow();
    expect(parseImportedEvent(event).findings).toHaveLength(1);
  });

  it.each([MAX_EVENT_DEPTH - 3, 5_000, 200_000])(
    'rejects an event whose finding nests %i more levels, naming the event and detail',
    (levels) => {
      const event = eventWithProductFields(nested(levels));

      const attempt = () => parseImportedEvent(event);

      expect(attempt).toThrow(FindingValidationError);
      expect(attempt).toThrow(
        new FindingValidationError('deep-event', 'detail', `nested deeper than ${MAX_EVENT_DEPTH} levels`),
      );
    },
  );

  it('rejects a deep event parsed from JSON text, as dispatch receives it, without exhausting the stack', () => {
    const body = JSON.stringify(eventWithProductFields('PLACEHOLDER')).replace(
      '"PLACEHOLDER"',
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    );

    expect(() => checkEnvelope(JSON.parse(body))).toThrow(/^event deep-event: detail: nested deeper than 64/);
  });

  it('names the envelope field that nests too deep when it is not detail', () => {
    const event = { ...eventWithProductFields({}), resources: nested(MAX_EVENT_DEPTH) };

    expect(() => checkEnvelope(event)).toThrow('event deep-event: resources: nested deeper than 64 levels');
  });

  it('stays cheap: the largest corpus event (a 200 KB finding) is checked in well under a millisecond each', () => {
    const [huge] = corpusFindings('heimdall2-saf-inspec-rhel7-huge-findings-export.json').sort(
      (a, b) => JSON.stringify(b).length - JSON.stringify(a).length,
    );
    const event = wrapFindings([huge as Raw]);
    expect(JSON.stringify(event).length).toBeGreaterThan(190_000);
    const runs = 200;

    const started = performance.now();
    for (let run = 0; run < runs; run += 1) checkEnvelope(event);
    const perRun = (performance.now() - started) / runs;

    // Generous bound (it takes about 0.03 ms here): only a walk gone quadratic or recursive fails it.
    expect(perRun).toBeLessThan(5);
  });
});

describe('checkEnvelope: number of findings', () => {
  const finding = loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] as Raw;

  it(`accepts ${MAX_FINDINGS_PER_EVENT} findings, the most Security Hub sends in one event`, () => {
    const event = wrapFindings(Array.from({ length: MAX_FINDINGS_PER_EVENT }, () => finding));

    expect(checkEnvelope(event).findings).toHaveLength(MAX_FINDINGS_PER_EVENT);
  });

  it.each([MAX_FINDINGS_PER_EVENT + 1, 1_000_000])('rejects %i findings naming detail.findings', (count) => {
    const event = wrapFindings(new Array(count).fill(finding), 'big-event');

    const attempt = () => parseImportedEvent(event);

    expect(attempt).toThrow(FindingValidationError);
    expect(attempt).toThrow(
      `event big-event: detail.findings: holds ${count} findings; Security Hub sends at most 100 in one event`,
    );
  });
});
