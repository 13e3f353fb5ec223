/**
 * The new Security Hub's OCSF finding filters (`GetFindingsV2` `Filters`), evaluated over stored
 * findings as the API documents them: composite filters of string filters on a dotted field path
 * (`metadata.uid`, `finding_info.uid`, `resources.type`: arrays on the path match any element),
 * combined with each filter's `Operator` (AND by default), the composites with `CompositeOperator`;
 * at most 10 composite filters of at most 20 filters of each type.
 */

type Json = Record<string, unknown>;

interface StringFilter {
  FieldName?: string;
  Filter?: { Value?: string; Comparison?: string };
}
interface CompositeFilter {
  StringFilters?: StringFilter[];
  NestedCompositeFilters?: CompositeFilter[];
  Operator?: 'AND' | 'OR';
}
export interface OcsfFilters {
  CompositeFilters?: CompositeFilter[];
  CompositeOperator?: 'AND' | 'OR';
}

export class OcsfFilterError extends Error {}

/** Every value at a dotted path, arrays on the way flattened. */
export function valuesAt(finding: unknown, path: string): unknown[] {
  let nodes: unknown[] = [finding];
  for (const key of path.split('.')) {
    nodes = nodes.flatMap((node) => {
      const value =
        node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Json)[key] : undefined;
      return Array.isArray(value) ? value : value === undefined ? [] : [value];
    });
  }
  return nodes;
}

function matchesString(finding: unknown, filter: StringFilter): boolean {
  const { FieldName, Filter } = filter;
  if (!FieldName || Filter?.Value === undefined || !Filter.Comparison) {
    throw new OcsfFilterError('StringFilters: FieldName, Filter.Value and Filter.Comparison are required');
  }
  const wanted = Filter.Value;
  const values = valuesAt(finding, FieldName).map(String);
  switch (Filter.Comparison) {
    case 'EQUALS':
      return values.includes(wanted);
    case 'PREFIX':
      return values.some((value) => value.startsWith(wanted));
    case 'CONTAINS':
      return values.some((value) => value.includes(wanted));
    case 'NOT_EQUALS':
      return !values.includes(wanted);
    case 'PREFIX_NOT_EQUALS':
      return !values.some((value) => value.startsWith(wanted));
    case 'NOT_CONTAINS':
      return !values.some((value) => value.includes(wanted));
    default:
      throw new OcsfFilterError(`StringFilters: unknown Comparison ${Filter.Comparison}`);
  }
}

function matchesComposite(finding: unknown, composite: CompositeFilter): boolean {
  const strings = composite.StringFilters ?? [];
  if (strings.length > 20) throw new OcsfFilterError('StringFilters: at most 20 filters a composite filter');
  const results = [
    ...strings.map((filter) => matchesString(finding, filter)),
    ...(composite.NestedCompositeFilters ?? []).map((nested) => matchesComposite(finding, nested)),
  ];
  if (results.length === 0) return true;
  return composite.Operator === 'OR' ? results.some(Boolean) : results.every(Boolean);
}

/** Whether a finding passes the filters (no filters: every finding). */
export function matchesOcsfFilters(finding: unknown, filters: OcsfFilters | undefined): boolean {
  const composites = filters?.CompositeFilters ?? [];
  if (composites.length > 10) throw new OcsfFilterError('CompositeFilters: at most 10');
  if (composites.length === 0) return true;
  const results = composites.map((composite) => matchesComposite(finding, composite));
  return filters?.CompositeOperator === 'OR' ? results.some(Boolean) : results.every(Boolean);
}
