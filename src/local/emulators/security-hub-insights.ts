/**
 * The Security Hub emulator's aggregation API, registered by security-hub-emulator.ts: custom
 * insights (CreateInsight, GetInsights, GetInsightResults, UpdateInsight, DeleteInsight) evaluated
 * over the stored ASFF findings, and the new Security Hub's DescribeSecurityHubV2 and
 * GetFindingStatisticsV2 evaluated over the stored OCSF findings. Every answer is computed from
 * the findings at the time of the call: filters are applied as Security Hub documents them and
 * the matching findings grouped and counted; a filter the emulator cannot evaluate is refused
 * (InvalidInputException / ValidationException naming it), never ignored.
 *
 * Shapes as in @aws-sdk/client-securityhub 3.1108 (`CreateInsightRequest`, `InsightResults`,
 * `GetFindingStatisticsV2Request`, `GroupByResult`).
 */
import { randomUUID } from 'node:crypto';

export type InsightOperation =
  | 'CreateInsight'
  | 'GetInsights'
  | 'GetInsightResults'
  | 'UpdateInsight'
  | 'DeleteInsight'
  | 'DescribeSecurityHubV2'
  | 'GetFindingStatisticsV2';

/** An error the emulator answers with (the same shape as the emulator's own). */
export class InsightsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalidInput = (message: string) => new InsightsApiError(400, 'InvalidInputException', message);
const validation = (message: string) => new InsightsApiError(400, 'ValidationException', message);
const notFound = (message: string) => new InsightsApiError(404, 'ResourceNotFoundException', message);

type Finding = Record<string, unknown>;
type StringFilter = { Value?: unknown; Comparison?: unknown };

export interface Insight {
  InsightArn: string;
  Name: string;
  Filters: Record<string, StringFilter[]>;
  GroupByAttribute: string;
}

export interface InsightsDeps {
  /** The emulator's ASFF findings (by key) and OCSF findings (by metadata uid). */
  findings: ReadonlyMap<string, Finding>;
  findingsV2: ReadonlyMap<string, Finding>;
  /** The emulator's ASFF string-filter evaluation and the attributes it reads. */
  matchesFilters: (finding: never, filters: never) => boolean;
  filterAttributes: readonly string[];
  /** Whether DescribeSecurityHubV2 reports the new Security Hub enabled (default: not). */
  securityHubV2?: boolean;
  region?: string;
  accountId?: string;
}

export interface InsightsApi {
  /** Custom insights by ARN, in creation order. */
  insights: Map<string, Insight>;
  /** Turn the new Security Hub on or off (DescribeSecurityHubV2, GetFindingStatisticsV2). */
  setSecurityHubV2(enabled: boolean): void;
  /** The route of a request this module answers: the emulator's operation key and path parameters. */
  route(
    method: string,
    path: string,
  ): { key: string; operation: InsightOperation; params: Record<string, string> } | undefined;
  operations: Record<string, (body: Record<string, unknown>) => unknown>;
}

const ROUTES: Array<{ method: string; pattern: RegExp; key: string; operation: InsightOperation }> = [
  { method: 'POST', pattern: /^\/insights$/, key: 'POST /insights', operation: 'CreateInsight' },
  { method: 'POST', pattern: /^\/insights\/get$/, key: 'POST /insights/get', operation: 'GetInsights' },
  {
    method: 'GET',
    pattern: /^\/insights\/results\/(?<arn>.+)$/,
    key: 'GET /insights/results/{InsightArn}',
    operation: 'GetInsightResults',
  },
  {
    method: 'PATCH',
    pattern: /^\/insights\/(?<arn>.+)$/,
    key: 'PATCH /insights/{InsightArn}',
    operation: 'UpdateInsight',
  },
  {
    method: 'DELETE',
    pattern: /^\/insights\/(?<arn>.+)$/,
    key: 'DELETE /insights/{InsightArn}',
    operation: 'DeleteInsight',
  },
  { method: 'GET', pattern: /^\/hubv2$/, key: 'GET /hubv2', operation: 'DescribeSecurityHubV2' },
  {
    method: 'POST',
    pattern: /^\/findingsv2\/statistics$/,
    key: 'POST /findingsv2/statistics',
    operation: 'GetFindingStatisticsV2',
  },
];

/** What an insight may be grouped by, and how each is read from an ASFF finding (several values: each counts). */
const GROUP_BY: Record<string, (finding: Finding) => unknown[]> = {
  AwsAccountId: (f) => [f.AwsAccountId],
  AwsAccountName: (f) => [f.AwsAccountName],
  CompanyName: (f) => [f.CompanyName],
  ComplianceStatus: (f) => [(f.Compliance as Finding | undefined)?.Status],
  GeneratorId: (f) => [f.GeneratorId],
  ProductArn: (f) => [f.ProductArn],
  ProductName: (f) => [f.ProductName],
  RecordState: (f) => [f.RecordState],
  Region: (f) => [f.Region],
  ResourceId: (f) => resources(f).map((r) => r.Id),
  ResourceType: (f) => resources(f).map((r) => r.Type),
  SeverityLabel: (f) => [(f.Severity as Finding | undefined)?.Label],
  Title: (f) => [f.Title],
  Type: (f) => (Array.isArray(f.Types) ? f.Types : []),
  WorkflowStatus: (f) => [(f.Workflow as Finding | undefined)?.Status],
};
const resources = (f: Finding) => (Array.isArray(f.Resources) ? (f.Resources as Finding[]) : []);

const STRING_COMPARISONS = new Set([
  'EQUALS',
  'PREFIX',
  'NOT_EQUALS',
  'PREFIX_NOT_EQUALS',
  'CONTAINS',
  'NOT_CONTAINS',
  'CONTAINS_WORD',
]);

/** Two managed insights, as GetInsights lists them besides the custom ones (ARNs of Security Hub's own). */
const MANAGED_INSIGHTS: Insight[] = [
  {
    InsightArn: 'arn:aws:securityhub:::insight/securityhub/default/1',
    Name: 'AWS resources with the most findings',
    Filters: { RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }] },
    GroupByAttribute: 'ResourceId',
  },
  {
    InsightArn: 'arn:aws:securityhub:::insight/securityhub/default/10',
    Name: 'AWS accounts with the most findings (by severity)',
    Filters: { RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }] },
    GroupByAttribute: 'AwsAccountId',
  },
];

export function startInsights(deps: InsightsDeps): InsightsApi {
  const region = deps.region ?? 'us-east-1';
  const account = deps.accountId ?? '123456789012';
  const insights = new Map<string, Insight>();
  let v2Enabled = deps.securityHubV2 ?? false;
  const matches = deps.matchesFilters as (
    finding: Finding,
    filters: Record<string, StringFilter[]>,
  ) => boolean;
  const known = new Set(deps.filterAttributes);

  const checkFilters = (value: unknown): Record<string, StringFilter[]> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalidInput('Filters must be an object of finding attributes');
    }
    const filters = value as Record<string, unknown>;
    if (Object.keys(filters).length > 10) throw invalidInput('Filters: at most 10 attributes');
    for (const [name, conditions] of Object.entries(filters)) {
      if (!known.has(name))
        throw invalidInput(`Filters.${name}: the emulator does not evaluate this attribute`);
      if (!Array.isArray(conditions) || conditions.length < 1 || conditions.length > 20) {
        throw invalidInput(`Filters.${name}: between 1 and 20 filter values`);
      }
      for (const condition of conditions as StringFilter[]) {
        if (
          typeof condition?.Value !== 'string' ||
          !STRING_COMPARISONS.has(String(condition.Comparison ?? ''))
        ) {
          throw invalidInput(`Filters.${name}: a string filter needs Value and a Comparison`);
        }
        if (condition.Comparison === 'CONTAINS_WORD') {
          throw invalidInput(`Filters.${name}: CONTAINS_WORD works only in the V2 APIs`);
        }
      }
    }
    return structuredClone(filters) as Record<string, StringFilter[]>;
  };
  const checkGroupBy = (value: unknown): string => {
    if (typeof value !== 'string' || !(value in GROUP_BY)) {
      throw invalidInput(`GroupByAttribute ${String(value)} is not one the emulator groups by`);
    }
    return value;
  };
  const insightOf = (arn: string) => {
    const found = insights.get(arn) ?? MANAGED_INSIGHTS.find((insight) => insight.InsightArn === arn);
    if (!found) throw notFound(`Insight ${arn} not found`);
    return found;
  };
  const requireV2 = () => {
    if (!v2Enabled) throw notFound('Security Hub is not enabled in this account and Region');
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    'POST /insights': (body) => {
      const name = typeof body.Name === 'string' ? body.Name.trim() : '';
      if (!name) throw invalidInput('Name is required');
      const insight: Insight = {
        InsightArn: `arn:aws:securityhub:${region}:${account}:insight/${account}/custom/${randomUUID()}`,
        Name: name,
        Filters: checkFilters(body.Filters),
        GroupByAttribute: checkGroupBy(body.GroupByAttribute),
      };
      insights.set(insight.InsightArn, insight);
      return { InsightArn: insight.InsightArn };
    },
    'POST /insights/get': (body) => {
      const max = body.MaxResults === undefined ? 100 : Number(body.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidInput('MaxResults must be 1 to 100');
      const arns = Array.isArray(body.InsightArns) ? body.InsightArns.map(String) : undefined;
      const all = arns ? arns.map(insightOf) : [...MANAGED_INSIGHTS, ...insights.values()];
      const start = Number(body.NextToken ?? 0);
      const next = start + max < all.length ? { NextToken: String(start + max) } : {};
      return { Insights: structuredClone(all.slice(start, start + max)), ...next };
    },
    'PATCH /insights/{InsightArn}': (body) => {
      const insight = insights.get(String(body.InsightArn));
      if (!insight) throw notFound(`Insight ${String(body.InsightArn)} not found`);
      if (body.Name !== undefined) insight.Name = String(body.Name);
      if (body.Filters !== undefined) insight.Filters = checkFilters(body.Filters);
      if (body.GroupByAttribute !== undefined) insight.GroupByAttribute = checkGroupBy(body.GroupByAttribute);
      return {};
    },
    'DELETE /insights/{InsightArn}': (body) => {
      const arn = String(body.InsightArn);
      if (!insights.delete(arn)) throw notFound(`Insight ${arn} not found`);
      return { InsightArn: arn };
    },
    'GET /insights/results/{InsightArn}': (body) => {
      const insight = insightOf(String(body.InsightArn));
      const counts = new Map<string, number>();
      const read = GROUP_BY[insight.GroupByAttribute] as (finding: Finding) => unknown[];
      for (const finding of deps.findings.values()) {
        if (!matches(finding, insight.Filters)) continue;
        for (const value of new Set(read(finding).filter((v) => typeof v === 'string' && v !== ''))) {
          counts.set(value as string, (counts.get(value as string) ?? 0) + 1);
        }
      }
      const values = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      return {
        InsightResults: {
          InsightArn: insight.InsightArn,
          GroupByAttribute: insight.GroupByAttribute,
          ResultValues: values.map(([GroupByAttributeValue, Count]) => ({ GroupByAttributeValue, Count })),
        },
      };
    },
    'GET /hubv2': () => {
      requireV2();
      return {
        HubV2Arn: `arn:aws:securityhub:${region}:${account}:hubv2/default`,
        SubscribedAt: '2025-12-01T00:00:00Z',
      };
    },
    'POST /findingsv2/statistics': (body) => {
      requireV2();
      return statistics(body, [...deps.findingsV2.values()]);
    },
  };

  return {
    insights,
    setSecurityHubV2: (enabled) => {
      v2Enabled = enabled;
    },
    route(method, path) {
      for (const route of ROUTES) {
        const match = route.method === method ? route.pattern.exec(path) : null;
        if (!match) continue;
        const arn = match.groups?.arn;
        return {
          key: route.key,
          operation: route.operation,
          params: (arn === undefined ? {} : { InsightArn: decodeURIComponent(arn) }) as Record<
            string,
            string
          >,
        };
      }
      return undefined;
    },
    operations,
  };
}

// --- GetFindingStatisticsV2 ---------------------------------------------------------------------

/** The `GroupByField` values of the API (`GroupByField` in the SDK). */
const GROUP_BY_FIELDS = new Set([
  'activity_name',
  'class_name',
  'cloud.account.name',
  'cloud.account.uid',
  'cloud.provider',
  'cloud.region',
  'compliance.assessments.name',
  'compliance.control',
  'compliance.standards',
  'compliance.status',
  'finding_info.analytic.name',
  'finding_info.related_events.traits.category',
  'finding_info.title',
  'finding_info.types',
  'metadata.product.name',
  'metadata.product.uid',
  'metadata.product.vendor_name',
  'resources.cloud_partition',
  'resources.name',
  'resources.owner.account.name',
  'resources.owner.account.uid',
  'resources.owner.org.uid',
  'resources.provider',
  'resources.region',
  'resources.type',
  'resources.uid',
  'severity',
  'status',
  'vendor_attributes.severity',
  'vulnerabilities.affected_packages.name',
  'vulnerabilities.fix_coverage',
]);

/** Every value at a dotted path; arrays on the way are walked (`resources.uid`: each resource's). */
export function valuesAt(value: unknown, path: string): unknown[] {
  let parts = PATHS.get(path);
  if (!parts) {
    parts = path.split('.');
    PATHS.set(path, parts);
  }
  const found: unknown[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth);
      return;
    }
    if (depth === parts.length) {
      if (node !== undefined && node !== null) found.push(node);
      return;
    }
    if (typeof node === 'object' && node !== null) walk((node as Finding)[parts[depth] as string], depth + 1);
  };
  walk(value, 0);
  return found;
}
const PATHS = new Map<string, string[]>();

const operatorOf = (value: unknown, where: string): 'AND' | 'OR' => {
  if (value === undefined) return 'AND';
  if (value === 'AND' || value === 'OR') return value;
  throw validation(`${where}: the operator must be AND or OR`);
};

type Predicate = (finding: Finding) => boolean;
const list = (value: unknown) => (Array.isArray(value) ? (value as Array<Record<string, unknown>>) : []);
const combine = (tests: Predicate[], operator: 'AND' | 'OR'): Predicate => {
  if (tests.length === 0) return () => true;
  return operator === 'OR' ? (f) => tests.some((test) => test(f)) : (f) => tests.every((test) => test(f));
};

/** A string filter as a test of a finding; checked once, when the request is read. */
function stringTest(field: string, filter: StringFilter, where: string): Predicate {
  const expected = filter.Value;
  const comparison = String(filter.Comparison ?? '');
  if (typeof expected !== 'string' || !STRING_COMPARISONS.has(comparison)) {
    throw validation(`${where}: a string filter needs a Value and a Comparison`);
  }
  const one = (text: string): boolean => {
    if (comparison === 'EQUALS' || comparison === 'NOT_EQUALS') return text === expected;
    if (comparison === 'PREFIX' || comparison === 'PREFIX_NOT_EQUALS') return text.startsWith(expected);
    if (comparison === 'CONTAINS_WORD') return text.split(/[^\p{L}\p{N}_]+/u).includes(expected);
    return text.includes(expected);
  };
  const any = (finding: Finding) => valuesAt(finding, field).some((value) => one(String(value)));
  // A negative comparison holds when no value matches (a missing field included).
  return comparison.includes('NOT_') ? (finding) => !any(finding) : any;
}

function numberTest(field: string, filter: Record<string, unknown>, where: string): Predicate {
  const bounds = ['Eq', 'Gt', 'Gte', 'Lt', 'Lte']
    .filter((key) => filter[key] !== undefined)
    .map((key) => [key, Number(filter[key])] as const);
  if (bounds.length === 0) throw validation(`${where}: a number filter needs Eq, Gt, Gte, Lt or Lte`);
  const holds = (n: number) =>
    bounds.every(([key, bound]) => {
      if (key === 'Eq') return n === bound;
      if (key === 'Gt') return n > bound;
      if (key === 'Gte') return n >= bound;
      if (key === 'Lt') return n < bound;
      return n <= bound;
    });
  return (finding) =>
    valuesAt(finding, field).some((raw) => Number.isFinite(Number(raw)) && holds(Number(raw)));
}

/** A composite filter (and its nested ones, three layers at most) compiled into one test. */
function compileComposite(composite: Record<string, unknown>, where: string, depth: number): Predicate {
  for (const unsupported of ['DateFilters', 'MapFilters', 'IpFilters'] as const) {
    if (list(composite[unsupported]).length > 0) {
      throw validation(`${where}.${unsupported}: the emulator does not evaluate these filters`);
    }
  }
  const tests: Predicate[] = [
    ...list(composite.StringFilters).map((entry, i) =>
      stringTest(
        String(entry.FieldName ?? ''),
        (entry.Filter ?? {}) as StringFilter,
        `${where}.StringFilters[${i}]`,
      ),
    ),
    ...list(composite.NumberFilters).map((entry, i) =>
      numberTest(
        String(entry.FieldName ?? ''),
        (entry.Filter ?? {}) as Record<string, unknown>,
        `${where}.NumberFilters[${i}]`,
      ),
    ),
    ...list(composite.BooleanFilters).map((entry): Predicate => {
      const expected = (entry.Filter as { Value?: unknown } | undefined)?.Value;
      const field = String(entry.FieldName ?? '');
      return (finding) => valuesAt(finding, field).some((value) => value === expected);
    }),
  ];
  const nested = list(composite.NestedCompositeFilters);
  if (nested.length > 0 && depth >= 2) throw validation(`${where}: filters nest at most three layers`);
  tests.push(
    ...nested.map((child, i) => compileComposite(child, `${where}.NestedCompositeFilters[${i}]`, depth + 1)),
  );
  return combine(tests, operatorOf(composite.Operator, where));
}

/** `OcsfFindingFilters` compiled into a test (absent: every finding). */
function compileFilters(filters: unknown, where: string): Predicate {
  if (filters === undefined) return () => true;
  const { CompositeFilters, CompositeOperator } = filters as {
    CompositeFilters?: unknown;
    CompositeOperator?: unknown;
  };
  const composites = list(CompositeFilters).map((c, i) =>
    compileComposite(c, `${where}.CompositeFilters[${i}]`, 1),
  );
  return combine(composites, operatorOf(CompositeOperator, where));
}

function statistics(body: Record<string, unknown>, findings: Finding[]) {
  const rules = body.GroupByRules;
  if (!Array.isArray(rules) || rules.length < 1 || rules.length > 5) {
    throw validation('GroupByRules must contain between 1 and 5 items');
  }
  const max = body.MaxStatisticResults === undefined ? 100 : Number(body.MaxStatisticResults);
  if (!Number.isInteger(max) || max < 1 || max > 400)
    throw validation('MaxStatisticResults must be 1 to 400');
  const order = body.SortOrder ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw validation('SortOrder must be asc or desc');
  return {
    GroupByResults: (rules as Array<Record<string, unknown>>).map((rule, index) => {
      const field = String(rule.GroupByField ?? '');
      if (!GROUP_BY_FIELDS.has(field))
        throw validation(`GroupByRules[${index}].GroupByField ${field} is not valid`);
      // Checked when the request is read, whether or not any finding is there to match them.
      const matches = compileFilters(rule.Filters, `GroupByRules[${index}].Filters`);
      const counts = new Map<string, number>();
      for (const finding of findings) {
        if (!matches(finding)) continue;
        for (const value of new Set(valuesAt(finding, field).map(String)))
          counts.set(value, (counts.get(value) ?? 0) + 1);
      }
      const sorted = [...counts].sort(
        (a, b) => (order === 'asc' ? a[1] - b[1] : b[1] - a[1]) || a[0].localeCompare(b[0]),
      );
      return {
        GroupByField: field,
        GroupByValues: sorted.slice(0, max).map(([FieldValue, Count]) => ({ FieldValue, Count })),
      };
    }),
  };
}
