import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ocsfSeveritiesAtOrAbove } from '../../src/domain/finding/event-pattern.js';
import { labelsAtOrAbove, SEVERITY_LABELS } from '../../src/domain/finding/severity.js';
import { ROOT } from '../helpers/template.js';

describe('deploy/severity-labels.yml', () => {
  it('lists, for every threshold, the labels at or above it, as the domain does', () => {
    const labels = parse(readFileSync(join(ROOT, 'deploy/severity-labels.yml'), 'utf8')) as Record<
      string,
      string[]
    >;
    expect(Object.keys(labels).sort()).toEqual([...SEVERITY_LABELS].sort());
    for (const threshold of SEVERITY_LABELS)
      expect(labels[threshold], threshold).toEqual(labelsAtOrAbove(threshold));
  });
});

describe('deploy/ocsf-severity-labels.yml', () => {
  it("lists, for every threshold, the new Security Hub's severities at or above it, as the domain does", () => {
    const labels = parse(readFileSync(join(ROOT, 'deploy/ocsf-severity-labels.yml'), 'utf8')) as Record<
      string,
      string[]
    >;
    expect(Object.keys(labels).sort()).toEqual([...SEVERITY_LABELS].sort());
    for (const threshold of SEVERITY_LABELS)
      expect(labels[threshold], threshold).toEqual(ocsfSeveritiesAtOrAbove(threshold));
  });
});
