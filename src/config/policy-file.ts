import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import * as z from 'zod';
import { ConfigError } from '../app/errors.js';
import type { Route } from '../domain/delivery/delivery.js';
import { DEFAULT_GROUPING } from '../domain/delivery/grouping.js';
import {
  defaultVulnerabilityGrouping,
  VULNERABILITY_GROUP_DIMENSIONS,
  type VulnerabilityGrouping,
} from '../domain/delivery/vulnerability-group.js';
import { isSeverityLabel, SEVERITY_LABELS } from '../domain/finding/severity.js';
import {
  DEFAULT_ROUTE_NAME,
  type NotificationPolicy,
  type PolicyDefaults,
  type PolicyMatch,
} from '../domain/policy/policy.js';
import { DEFAULT_SLA_DAYS, MAX_SLA_DAYS, type SlaDays, type SlaPolicy } from '../domain/policy/sla.js';
import {
  ANYONE,
  DEFAULT_SLACK_ACTIONS,
  NOBODY,
  type SlackActionRule,
  type SlackActionsPolicy,
} from '../domain/policy/slack-actions.js';
import { SLACK_USER_GROUP_ID, SLACK_USER_ID } from '../domain/slack/actions.js';
import { DEFAULT_MIN_SEVERITY, DEFAULT_POLICY_FILE } from './constants.js';

export { DEFAULT_POLICY_FILE };

/** One problem in a policy file: where it is, which setting, what is wrong. */
export interface PolicyProblem {
  line: number;
  col: number;
  /** e.g. `routes[0].match.severity[1]`; `(yaml)` for a syntax error. */
  setting: string;
  problem: string;
}

/**
 * A policy file that cannot be used. The message holds one line per problem, each
 * `<source>:<line>:<col>: <setting>: <problem>` (the form editors and CI annotate).
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly source: string,
    readonly problems: readonly PolicyProblem[],
  ) {
    super(problems.map((p) => `${source}:${p.line}:${p.col}: ${p.setting}: ${p.problem}`).join('\n'));
  }
}

// --- schema --------------------------------------------------------------------------------------

const MATCH_FIELDS = [
  'product',
  'account',
  'region',
  'severity',
  'control',
  'resourceType',
  'resourceTag',
  'guardDutyType',
  'title',
] as const;

/** A single value is taken as a list of one. */
function listOf<T extends z.ZodType>(item: T, what: string) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z
      .array(item, {
        error: (issue) =>
          issue.code === 'invalid_type' && issue.input !== undefined
            ? `expected ${what} or a list of them, got ${describeValue(issue.input)}${quoteHint(issue.input)}`
            : undefined,
      })
      .min(1, 'must list at least one value'),
  );
}

const pattern = z.string().min(1, 'must not be empty');
const patterns = listOf(pattern, 'a pattern (a string)').optional();
const severity = z.enum(SEVERITY_LABELS);
const text = z.string().trim().min(1, 'must not be empty');
const ruleName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a name is 1-64 letters, digits, ".", "_" or "-"');

const matchSchema = z
  .strictObject({
    product: patterns,
    account: patterns,
    region: patterns,
    severity: listOf(severity, 'a severity label').optional(),
    control: patterns,
    resourceType: patterns,
    resourceTag: z
      .record(z.string().min(1), pattern)
      .refine((tags) => Object.keys(tags).length > 0, 'must name at least one tag')
      .optional(),
    guardDutyType: patterns,
    title: patterns,
  } satisfies Record<(typeof MATCH_FIELDS)[number], z.ZodType>)
  .refine((match) => Object.values(match).some((value) => value !== undefined), {
    message: `needs at least one condition (${MATCH_FIELDS.join(', ')})`,
  });

const slackUserId = z.string().regex(SLACK_USER_ID, 'a Slack user id (U0123ABCD)');
const slackGroupId = z.string().regex(SLACK_USER_GROUP_ID, 'a Slack user group id (S0123ABCD)');
const slackMention = z
  .string()
  .refine(
    (id) => SLACK_USER_ID.test(id) || SLACK_USER_GROUP_ID.test(id),
    'a Slack user id (U0123ABCD) or user group id (S0123ABCD)',
  );

const slackBlock = z.strictObject({
  channel: z
    .string()
    .regex(/^#?[^\s#,]{1,80}$/, 'a Slack channel name ("#security-alerts") or id, without spaces')
    .optional(),
  /** Mentioned on the route's CRITICAL findings: the only live mentions in any message. */
  onCall: listOf(slackMention, 'a Slack user or user group id').optional(),
});

/** `anyone`, `nobody`, or the Slack users and user groups who may. */
const slackActionRule = z.union([
  z.enum(['anyone', 'nobody']),
  z
    .strictObject({
      users: listOf(slackUserId, 'a Slack user id').optional(),
      userGroups: listOf(slackGroupId, 'a Slack user group id').optional(),
    })
    .refine((rule) => rule.users !== undefined || rule.userGroups !== undefined, {
      message: 'name users, userGroups or both (or write anyone / nobody)',
    }),
]);
const slackActionsBlock = z.strictObject({
  acknowledge: slackActionRule.optional(),
  suppress: slackActionRule.optional(),
  resolve: slackActionRule.optional(),
  backlogUsers: z.record(slackUserId, z.number().int().positive()).optional(),
});

const backlogBlock = z.strictObject({
  projectKey: z
    .string()
    .regex(/^[A-Z0-9_]+$/, 'must be a Backlog project key (A-Z, 0-9, _)')
    .optional(),
  issueType: text.optional(),
  category: text.optional(),
  assigneeId: z.number().int().positive().optional(),
  /** The statuses that mean closed in this project (a person closing the issue closes the loop). */
  closedStatuses: listOf(text, 'a status name').optional(),
});

const destinationBlocks = { slack: slackBlock.nullish(), backlog: backlogBlock.nullish() };

/** Vulnerability grouping: `grouping.vulnerabilities` (every route) or a route's `vulnerabilityGrouping`. */
const vulnerabilityGroupingBlock = z.strictObject({
  enabled: z.boolean().optional(),
  minFindings: z.number().int().min(2).max(1000).optional(),
  by: listOf(
    z.enum(['resource', ...VULNERABILITY_GROUP_DIMENSIONS]),
    'resource, account or region',
  ).optional(),
});

/** Days, or `off` (read as `null`: no due date for that severity). */
const slaDays = z.unknown().transform((value, ctx) => {
  if (value === 'off') return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SLA_DAYS)
    return value;
  ctx.addIssue({
    code: 'custom',
    message: `expected a whole number of days (0 to ${MAX_SLA_DAYS}) or off, got ${describeValue(value)}`,
    // Not fatal, so the union below reports this issue rather than "expected off or …".
    continue: true,
  });
  return z.NEVER;
});
/** `sla: off` (YAML 1.1's `false` too), or days per severity over the shipped defaults. */
const slaSchema = z.union(
  [
    z.literal('off'),
    z.literal(false),
    z.strictObject(Object.fromEntries(SEVERITY_LABELS.map((label) => [label, slaDays.optional()]))),
  ],
  { error: 'expected off, or days per severity, e.g. { CRITICAL: 3, HIGH: 14 }' },
);

const policySchema = z.strictObject({
  version: z.literal(1),
  thresholds: z.strictObject({ slack: severity.optional(), backlog: severity.optional() }).nullish(),
  accounts: z
    .record(z.string().regex(/^\d{12}$/, 'must be a 12-digit account id, in quotes ("012345678901")'), text)
    .nullish(),
  include: z
    .array(matchSchema)
    .min(1, 'an empty include list drops every finding: remove `include` to include all')
    .nullish(),
  exclude: z.array(z.strictObject({ name: ruleName, match: matchSchema })).nullish(),
  suppressions: z.array(z.strictObject({ name: ruleName, reason: text, match: matchSchema })).nullish(),
  routes: z
    .array(
      z.strictObject({
        name: ruleName,
        match: matchSchema,
        ...destinationBlocks,
        vulnerabilityGrouping: vulnerabilityGroupingBlock.nullish(),
      }),
    )
    .nullish(),
  default: z.strictObject(destinationBlocks).nullish(),
  grouping: z
    .strictObject({
      enabled: z.boolean().optional(),
      minFindings: z.number().int().min(2).max(1000).optional(),
      windowMinutes: z.number().int().min(1).max(10080).optional(),
      vulnerabilities: vulnerabilityGroupingBlock.nullish(),
    })
    .nullish(),
  slackActions: slackActionsBlock.nullish(),
  sla: slaSchema.nullish(),
});

type RawPolicy = z.output<typeof policySchema>;
type RawMatch = z.output<typeof matchSchema>;
type Path = ReadonlyArray<PropertyKey>;

type RawVulnerabilityGrouping = z.output<typeof vulnerabilityGroupingBlock>;

/** `block` over `base`: each setting it leaves out is the base's; `resource` is always grouped by. */
function vulnerabilityGrouping(
  block: RawVulnerabilityGrouping | null | undefined,
  base: VulnerabilityGrouping,
): VulnerabilityGrouping {
  return {
    enabled: block?.enabled ?? base.enabled,
    minFindings: block?.minFindings ?? base.minFindings,
    by: block?.by
      ? VULNERABILITY_GROUP_DIMENSIONS.filter((dimension) => block.by?.includes(dimension))
      : base.by,
  };
}

/**
 * Vulnerability grouping per route name, or nothing when the file configures none (every route
 * then groups as the storms do, by resource and account).
 */
function buildVulnerabilityGrouping(raw: RawPolicy, storms: { enabled: boolean; minFindings: number }) {
  const routes = raw.routes ?? [];
  if (!raw.grouping?.vulnerabilities && !routes.some((route) => route.vulnerabilityGrouping)) return {};
  const base = vulnerabilityGrouping(raw.grouping?.vulnerabilities, defaultVulnerabilityGrouping(storms));
  const byRoute: Record<string, VulnerabilityGrouping> = { [DEFAULT_ROUTE_NAME]: base };
  for (const route of routes) byRoute[route.name] = vulnerabilityGrouping(route.vulnerabilityGrouping, base);
  return { vulnerabilities: byRoute };
}

/** `off` (or `false`), or the shipped defaults with the file's days over them (`off` removes one). */
function buildSla(raw: RawPolicy['sla']): SlaPolicy {
  if (raw === 'off' || raw === false) return 'off';
  const days: Partial<Record<(typeof SEVERITY_LABELS)[number], number>> = { ...DEFAULT_SLA_DAYS };
  for (const [label, value] of Object.entries(raw ?? {})) {
    const severity = label as (typeof SEVERITY_LABELS)[number];
    if (value === null) delete days[severity];
    else if (typeof value === 'number') days[severity] = value;
  }
  return days as SlaDays;
}

// --- messages ------------------------------------------------------------------------------------

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `the ${typeof value} ${String(value)}`;
}

function quoteHint(value: unknown): string {
  return typeof value === 'number'
    ? ' (quote it: YAML reads unquoted digits as a number and drops leading zeros)'
    : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

function unknownKeys(keys: readonly string[], allowed: readonly string[]): string {
  const named = keys.map((key) => JSON.stringify(key)).join(', ');
  const [first] = keys;
  const near =
    keys.length === 1 && first !== undefined
      ? allowed.find((candidate) => editDistance(first.toLowerCase(), candidate.toLowerCase()) <= 2)
      : undefined;
  return `unknown setting${keys.length > 1 ? 's' : ''} ${named}${near ? ` (did you mean "${near}"?)` : ''}; allowed here: ${allowed.join(', ')}`;
}

/** Messages that speak of YAML values and say how to fix them. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const hint = issue.expected === 'string' ? quoteHint(issue.input) : '';
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}${hint}`;
    }
    case 'invalid_value': {
      if (issue.input === undefined) return `required (${issue.values.map(String).join(', ')})`;
      const values = issue.values.map(String);
      return values.length === 1
        ? `must be ${values[0]}, got ${describeValue(issue.input)}`
        : `must be one of ${values.join(', ')}, got ${describeValue(issue.input)}`;
    }
    case 'unrecognized_keys': {
      const allowed = issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : [];
      return unknownKeys(issue.keys, allowed);
    }
    case 'too_small':
      return issue.origin === 'number' ? `must be at least ${issue.minimum}` : undefined;
    case 'too_big':
      return issue.origin === 'number' ? `must be at most ${issue.maximum}` : undefined;
    case 'invalid_key':
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
};

// --- locating a setting in the YAML --------------------------------------------------------------

function formatPath(path: Path): string {
  if (path.length === 0) return '(policy)';
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      const key = String(part);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join('');
}

/**
 * The offset of the setting `path` names: the value when it is there, the key when the setting is
 * a key (an unknown or a malformed one), else the deepest setting that exists (a missing key is
 * reported where it belongs).
 */
function locate(doc: Document, path: Path, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = isRange(node) ? node.range[0] : 0;
  for (const [index, part] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      const keyOffset = isRange(pair.key) ? pair.key.range[0] : offset;
      const value: unknown = pair.value;
      const empty = value === null || (isScalar(value) && value.value === null);
      offset = keyOffset;
      if (empty || (last && atKey)) break;
      if (last && isRange(value)) offset = value.range[0];
      node = value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item: unknown = node.items[part];
      if (!isRange(item)) break;
      offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function isRange(node: unknown): node is { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}

// --- building the policy -------------------------------------------------------------------------

interface RawProblem {
  path: Path;
  problem: string;
  atKey?: boolean;
}

function toMatch(raw: RawMatch): PolicyMatch {
  const match: PolicyMatch = {};
  for (const field of MATCH_FIELDS) {
    const value = raw[field];
    if (value !== undefined) Object.assign(match, { [field]: value });
  }
  return match;
}

function checkUniqueNames(
  list: ReadonlyArray<{ name: string }> | null | undefined,
  section: string,
  problems: RawProblem[],
): void {
  const seen = new Map<string, number>();
  for (const [index, { name }] of (list ?? []).entries()) {
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      problems.push({
        path: [section, index, 'name'],
        problem: `duplicate name "${name}" (also ${section}[${earlier}])`,
      });
    } else {
      seen.set(name, index);
    }
  }
}

function buildBacklog(
  block: NonNullable<RawPolicy['default']>['backlog'],
  projectKey: string,
  issueTypeName: string,
): Route['backlog'] {
  const backlog: Route['backlog'] = { projectKey, issueTypeName };
  if (block?.category) backlog.categoryName = block.category;
  if (block?.assigneeId) backlog.assigneeId = block.assigneeId;
  if (block?.closedStatuses) backlog.closedStatuses = [...new Set(block.closedStatuses)];
  return backlog;
}

const REQUIRED_DESTINATION_FIELDS = [
  { block: 'slack', field: 'channel', env: 'SLACK_CHANNEL', label: 'Slack channel' },
  { block: 'backlog', field: 'projectKey', env: 'BACKLOG_PROJECT_KEY', label: 'Backlog project' },
  { block: 'backlog', field: 'issueType', env: 'BACKLOG_ISSUE_TYPE', label: 'Backlog issue type' },
] as const;

function buildPolicy(
  raw: RawPolicy,
  defaults: Partial<PolicyDefaults>,
): { policy?: NotificationPolicy; problems: RawProblem[] } {
  const problems: RawProblem[] = [];
  checkUniqueNames(raw.exclude, 'exclude', problems);
  checkUniqueNames(raw.suppressions, 'suppressions', problems);
  checkUniqueNames(raw.routes, 'routes', problems);
  for (const [index, route] of (raw.routes ?? []).entries()) {
    if (route.name === DEFAULT_ROUTE_NAME) {
      problems.push({
        path: ['routes', index, 'name'],
        problem: `"${DEFAULT_ROUTE_NAME}" is the name of the default route: write it under \`default:\``,
      });
    }
  }

  const fallback = {
    channel: raw.default?.slack?.channel ?? defaults.slackChannel,
    projectKey: raw.default?.backlog?.projectKey ?? defaults.backlogProjectKey,
    issueType: raw.default?.backlog?.issueType ?? defaults.backlogIssueType,
  };
  for (const { block, field, env, label } of REQUIRED_DESTINATION_FIELDS) {
    if (fallback[field]) continue;
    const remedy = `set default.${block}.${field} or ${env}`;
    problems.push({ path: ['default', block, field], problem: `required: no default ${label} (${remedy})` });
    for (const [index, route] of (raw.routes ?? []).entries()) {
      const routeBlock = route[block] as Record<string, unknown> | null | undefined;
      if (routeBlock?.[field] === undefined) {
        problems.push({
          path: ['routes', index, block, field],
          problem: `required: the route names no ${label} and there is no default (${remedy})`,
        });
      }
    }
  }
  if (problems.length > 0 || !fallback.channel || !fallback.projectKey || !fallback.issueType) {
    return { problems };
  }

  const defaultRoute: Route = {
    name: DEFAULT_ROUTE_NAME,
    slackChannel: fallback.channel,
    ...onCallOf(raw.default?.slack),
    backlog: buildBacklog(raw.default?.backlog, fallback.projectKey, fallback.issueType),
  };
  const minSeverity = defaults.minSeverity ?? DEFAULT_MIN_SEVERITY;
  const policy: NotificationPolicy = {
    version: 1,
    thresholds: {
      slack: raw.thresholds?.slack ?? minSeverity,
      backlog: raw.thresholds?.backlog ?? minSeverity,
    },
    accounts: { ...raw.accounts },
    exclude: (raw.exclude ?? []).map((rule) => ({ name: rule.name, match: toMatch(rule.match) })),
    suppressions: (raw.suppressions ?? []).map((rule) => ({
      name: rule.name,
      reason: rule.reason,
      match: toMatch(rule.match),
    })),
    routes: (raw.routes ?? []).map((rule) => ({
      match: toMatch(rule.match),
      route: {
        name: rule.name,
        slackChannel: rule.slack?.channel ?? defaultRoute.slackChannel,
        ...onCallOf(rule.slack),
        // A route without a `backlog` block files where the default does; one with a block is
        // completed with the default's project and issue type, never its category or assignee.
        backlog: rule.backlog
          ? buildBacklog(
              rule.backlog,
              rule.backlog.projectKey ?? defaultRoute.backlog.projectKey,
              rule.backlog.issueType ?? defaultRoute.backlog.issueTypeName,
            )
          : defaultRoute.backlog,
      },
    })),
    defaultRoute,
    grouping: {
      enabled: raw.grouping?.enabled ?? DEFAULT_GROUPING.enabled,
      minFindings: raw.grouping?.minFindings ?? DEFAULT_GROUPING.minFindings,
      windowMinutes: raw.grouping?.windowMinutes ?? DEFAULT_GROUPING.windowMinutes,
    },
    sla: buildSla(raw.sla),
  };
  Object.assign(policy.grouping, buildVulnerabilityGrouping(raw, policy.grouping));
  if (raw.include) policy.include = raw.include.map(toMatch);
  if (raw.slackActions) policy.slackActions = buildSlackActions(raw.slackActions);
  return { policy, problems };
}

/** A route's on-call mentions (its own: never inherited from the default). */
function onCallOf(block: { onCall?: string[] | undefined } | null | undefined): Pick<Route, 'slackMentions'> {
  return block?.onCall ? { slackMentions: [...new Set(block.onCall)] } : {};
}

function buildSlackActions(raw: z.output<typeof slackActionsBlock>): SlackActionsPolicy {
  const rule = (value: z.output<typeof slackActionRule> | undefined, fallback: SlackActionRule) => {
    if (value === undefined) return fallback;
    if (value === 'anyone') return ANYONE;
    if (value === 'nobody') return NOBODY;
    return { anyone: false, users: value.users ?? [], userGroups: value.userGroups ?? [] };
  };
  const { rules } = DEFAULT_SLACK_ACTIONS;
  return {
    rules: {
      acknowledge: rule(raw.acknowledge, rules.acknowledge),
      suppress: rule(raw.suppress, rules.suppress),
      resolve: rule(raw.resolve, rules.resolve),
    },
    backlogUsers: { ...raw.backlogUsers },
  };
}

// --- entry points --------------------------------------------------------------------------------

/**
 * Parse and validate a policy file's text. `source` names the file in errors; `defaults` are the
 * environment settings (NOTIFY_MIN_SEVERITY, SLACK_CHANNEL, BACKLOG_PROJECT_KEY,
 * BACKLOG_ISSUE_TYPE) the file may leave out. Throws `PolicyError` naming every problem found.
 */
export function parsePolicy(
  text: string,
  source: string,
  defaults: Partial<PolicyDefaults> = {},
): NotificationPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };

  const yamlProblems = [...doc.errors, ...doc.warnings].map(
    (error): PolicyProblem => ({ ...at(error.pos[0]), setting: '(yaml)', problem: error.message }),
  );
  if (yamlProblems.length > 0) throw new PolicyError(source, sortProblems(yamlProblems));

  const toProblem = ({ path, problem, atKey = false }: RawProblem): PolicyProblem => ({
    ...at(locate(doc, path, atKey)),
    setting: formatPath(path),
    problem,
  });

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyError(source, [
      toProblem({
        path: [],
        problem: `expected a mapping that starts with \`version: 1\`, got ${describeValue(data)}`,
      }),
    ]);
  }
  const parsed = policySchema.safeParse(data, { error: errorMap });
  if (!parsed.success) {
    // An object with an unknown key is not also reported as empty.
    const unknownAt = new Set(
      parsed.error.issues.filter((i) => i.code === 'unrecognized_keys').map((i) => formatPath(i.path)),
    );
    const issues = parsed.error.issues.filter(
      (issue) => issue.code !== 'custom' || !unknownAt.has(formatPath(issue.path)),
    );
    const problems = issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return toProblem({ path: [...issue.path, issue.keys[0] ?? ''], problem: issue.message, atKey: true });
      }
      return toProblem({ path: issue.path, problem: issue.message, atKey: issue.code === 'invalid_key' });
    });
    throw new PolicyError(source, sortProblems(problems));
  }
  const { policy, problems } = buildPolicy(parsed.data, defaults);
  if (!policy || problems.length > 0) throw new PolicyError(source, sortProblems(problems.map(toProblem)));
  return policy;
}

function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Read and parse a policy file; errors name the path as given. */
export function loadPolicyFile(path: string, defaults: Partial<PolicyDefaults> = {}): NotificationPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read the notification policy: ${(error as Error).message}`);
  }
  return parsePolicy(text, path, defaults);
}

/**
 * The policy defaults from the environment the functions already have. Unset or empty variables
 * are left out (the file must then name the setting); a malformed NOTIFY_MIN_SEVERITY is an error.
 */
export function policyDefaultsFromEnv(env: Record<string, string | undefined>): Partial<PolicyDefaults> {
  const defaults: Partial<PolicyDefaults> = {};
  const minSeverity = env.NOTIFY_MIN_SEVERITY?.trim();
  if (minSeverity) {
    if (!isSeverityLabel(minSeverity)) {
      throw new ConfigError(`NOTIFY_MIN_SEVERITY: must be one of ${SEVERITY_LABELS.join(', ')}`);
    }
    defaults.minSeverity = minSeverity;
  }
  const slackChannel = env.SLACK_CHANNEL?.trim();
  const backlogProjectKey = env.BACKLOG_PROJECT_KEY?.trim();
  const backlogIssueType = env.BACKLOG_ISSUE_TYPE?.trim();
  if (slackChannel) defaults.slackChannel = slackChannel;
  if (backlogProjectKey) defaults.backlogProjectKey = backlogProjectKey;
  if (backlogIssueType) defaults.backlogIssueType = backlogIssueType;
  return defaults;
}
