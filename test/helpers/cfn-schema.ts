import { createRequire } from 'node:module';
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Json, Template } from './template.js';

/**
 * Checks a CloudFormation template's resources against AWS's resource specification, as
 * `@aws-cdk/aws-service-spec` ships it (the CloudFormation registry schemas, one database).
 *
 * Per resource: the type exists; every property, recursively through nested property types, lists
 * and maps, is one the schema names, of the type it says; required properties are present. An
 * intrinsic function (`{ Ref }`, `{ 'Fn::GetAtt' }`, `{ 'Fn::Sub' }` …) stands for a value of any
 * type; the two branches of an `Fn::If` are each checked (`{ Ref: 'AWS::NoValue' }` as absent).
 *
 * Scalars are accepted as CloudFormation accepts them: a number or boolean where a string is
 * expected, a numeric string where a number is, `"true"`/`"false"` where a boolean is.
 */

export interface Problem {
  /** The resource's logical id. */
  resource: string;
  /** Where in the resource: `Type`, `Properties.X.Y[0].Z`, or a resource attribute. */
  path: string;
  problem: string;
}

/** The property types of the spec (`@aws-cdk/service-spec-types`), as far as this check reads them. */
type SpecType =
  | { type: 'string'; allowedValues?: string[] }
  | { type: 'integer'; allowedValues?: number[] }
  | { type: 'number' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] };
interface SpecProperty {
  type: SpecType;
  required?: boolean;
}
type SpecProperties = Record<string, SpecProperty>;

export interface Spec {
  /** `@aws-cdk/aws-service-spec` version. */
  version: string;
  /** Wall time to load and index the database, milliseconds. */
  loadMs: number;
  /** The resource types it knows (`AWS::SQS::Queue` …). */
  resourceTypes: string[];
  /** A resource type's properties, or undefined when the spec has no such type. */
  resourceProperties(type: string): SpecProperties | undefined;
  /** A nested property type: its name and properties. */
  typeDefinition(id: string): { name: string; properties: SpecProperties };
}

let loaded: Spec | undefined;

/** The spec, loaded once per process (about half a second). */
export function loadSpec(): Spec {
  if (loaded) return loaded;
  const started = performance.now();
  const db = loadAwsServiceSpecSync();
  const loadMs = performance.now() - started;
  const { version } = createRequire(import.meta.url)('@aws-cdk/aws-service-spec/package.json') as {
    version: string;
  };
  loaded = {
    version,
    loadMs,
    resourceTypes: db.all('resource').map((resource) => resource.cloudFormationType),
    resourceProperties(type) {
      const [found] = db.lookup('resource', 'cloudFormationType', 'equals', type);
      return found?.properties as SpecProperties | undefined;
    },
    typeDefinition(id) {
      const definition = db.get('typeDefinition', id);
      return { name: definition.name, properties: definition.properties as SpecProperties };
    },
  };
  return loaded;
}

/** The keys a resource may have besides `Type` and `Properties`. */
const RESOURCE_ATTRIBUTES = new Set([
  'Condition',
  'CreationPolicy',
  'DeletionPolicy',
  'DependsOn',
  'Metadata',
  'UpdatePolicy',
  'UpdateReplacePolicy',
]);
const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'];

/** Every problem in the template's resources; empty when all match their schemas. */
export function checkTemplate(template: Template): Problem[] {
  const spec = loadSpec();
  const problems: Problem[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const report = (path: string, problem: string) => problems.push({ resource: logicalId, path, problem });
    checkResource(spec, resource as unknown as Record<string, Json>, report);
  }
  return problems;
}

/** A problem as one line: `BufferQueue Properties.VisibiltyTimeout: unknown property …`. */
export function formatProblem({ resource, path, problem }: Problem): string {
  return `${resource} ${path}: ${problem}`;
}

type Report = (path: string, problem: string) => void;

function checkResource(spec: Spec, resource: Record<string, Json>, report: Report): void {
  const { Type: type, Properties: properties } = resource;
  for (const key of Object.keys(resource)) {
    if (key !== 'Type' && key !== 'Properties' && !RESOURCE_ATTRIBUTES.has(key))
      report(
        key,
        `unknown resource attribute${suggest(key, ['Type', 'Properties', ...RESOURCE_ATTRIBUTES])}`,
      );
  }
  for (const key of ['DeletionPolicy', 'UpdateReplacePolicy']) {
    const value = resource[key];
    if (value !== undefined && !isIntrinsic(value) && !DELETION_POLICIES.includes(value as string))
      report(key, `${show(value)} is not one of ${DELETION_POLICIES.join(', ')}`);
  }
  if (typeof type !== 'string') {
    report('Type', 'missing resource type');
    return;
  }
  if (properties !== undefined && !isObject(properties)) {
    report('Properties', `expected an object, got ${show(properties)}`);
    return;
  }
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
    // A custom resource takes any properties; CloudFormation needs only the provider's token.
    if (properties?.ServiceToken === undefined)
      report('Properties.ServiceToken', 'required property missing');
    return;
  }
  const schema = spec.resourceProperties(type);
  if (!schema) {
    report('Type', `unknown resource type ${type}${suggestType(spec, type)}`);
    return;
  }
  checkProperties(spec, type, schema, properties ?? {}, 'Properties', report);
}

function checkProperties(
  spec: Spec,
  owner: string,
  schema: SpecProperties,
  value: Record<string, Json>,
  path: string,
  report: Report,
): void {
  for (const [name, property] of Object.entries(value)) {
    const where = `${path}.${name}`;
    const definition = schema[name];
    if (!definition) {
      report(where, `unknown property of ${owner}${suggest(name, Object.keys(schema))}`);
      continue;
    }
    checkValue(spec, definition.type, property, where, report);
  }
  for (const [name, definition] of Object.entries(schema)) {
    if (definition.required && (value[name] === undefined || isNoValue(value[name])))
      report(`${path}.${name}`, `required property of ${owner} missing`);
  }
}

function checkValue(spec: Spec, type: SpecType, value: Json, path: string, report: Report): void {
  if (isIntrinsic(value)) {
    const [[fn, args]] = Object.entries(value) as [[string, Json]];
    // Fn::If picks one of two values: each must fit (or be AWS::NoValue). Others stand for any type.
    if (fn === 'Fn::If' && Array.isArray(args) && args.length === 3) {
      for (const branch of [1, 2]) {
        if (!isNoValue(args[branch]))
          checkValue(spec, type, args[branch], `${path}.Fn::If[${branch}]`, report);
      }
    }
    return;
  }
  switch (type.type) {
    case 'tag':
      checkObject(spec, 'Tag', TAG, value, path, report);
      break;
    case 'ref': {
      const definition = spec.typeDefinition(type.reference.$ref);
      checkObject(spec, definition.name, definition.properties, value, path, report);
      break;
    }
    case 'array':
      if (!Array.isArray(value)) report(path, `expected a list, got ${show(value)}`);
      else
        value.forEach((element, index) => {
          if (!isNoValue(element)) checkValue(spec, type.element, element, `${path}[${index}]`, report);
        });
      break;
    case 'map':
      if (!isObject(value)) report(path, `expected a map, got ${show(value)}`);
      else
        for (const [key, element] of Object.entries(value))
          checkValue(spec, type.element, element, `${path}${pathKey(key)}`, report);
      break;
    case 'union':
      checkUnion(spec, type.types, value, path, report);
      break;
    default: {
      const problem = scalarProblem(type, value);
      if (problem) report(path, problem);
    }
  }
}

/** Fits when one member fits; otherwise the problems of the closest member. */
function checkUnion(spec: Spec, members: SpecType[], value: Json, path: string, report: Report): void {
  let closest: Array<[string, string]> | undefined;
  for (const member of members) {
    const found: Array<[string, string]> = [];
    checkValue(spec, member, value, path, (where, problem) => found.push([where, problem]));
    if (found.length === 0) return;
    if (!closest || rank(found, path) < rank(closest, path)) closest = found;
  }
  if (!closest || closest.every(([where]) => where === path))
    report(path, `expected ${members.map(describe).join(' or ')}, got ${show(value)}`);
  else for (const [where, problem] of closest) report(where, problem);
}

/** What is wrong with a value where the spec wants a string, number, boolean, JSON or null. */
function scalarProblem(type: SpecType, value: Json): string | undefined {
  const allowed = (values: unknown[] | undefined, actual: unknown) =>
    values && !values.includes(actual)
      ? `${JSON.stringify(value)} is not one of ${values.join(', ')}`
      : undefined;
  switch (type.type) {
    case 'string':
    case 'date-time':
      if (typeof value === 'number' || typeof value === 'boolean') return undefined;
      if (typeof value !== 'string') return `expected a string, got ${show(value)}`;
      return allowed('allowedValues' in type ? type.allowedValues : undefined, value);
    case 'integer':
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || Number.isNaN(number))
        return `expected ${describe(type)}, got ${show(value)}`;
      if (type.type === 'integer' && !Number.isInteger(number))
        return `expected an integer, got ${show(value)}`;
      return allowed('allowedValues' in type ? type.allowedValues : undefined, number);
    }
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? undefined
        : `expected a boolean, got ${show(value)}`;
    case 'null':
      return value === null ? undefined : `expected null, got ${show(value)}`;
    case 'json':
      // A JSON document is an object; a string only where the spec allows one too (a union).
      return isObject(value) ? undefined : `expected a JSON object, got ${show(value)}`;
    default:
      return `unexpected spec type ${type.type}`;
  }
}

const TAG: SpecProperties = {
  Key: { type: { type: 'string' }, required: true },
  Value: { type: { type: 'string' }, required: true },
};

function checkObject(
  spec: Spec,
  name: string,
  schema: SpecProperties,
  value: Json,
  path: string,
  report: Report,
): void {
  if (isObject(value)) checkProperties(spec, name, schema, value, path, report);
  else report(path, `expected ${name} (an object), got ${show(value)}`);
}

/** A union member whose problems are all about the value itself fits worse than one that got inside. */
function rank(problems: Array<[string, string]>, path: string): number {
  return problems.every(([where]) => where === path) ? Number.POSITIVE_INFINITY : problems.length;
}

function describe(type: SpecType): string {
  switch (type.type) {
    case 'ref':
      return 'an object';
    case 'json':
      return 'a JSON object';
    case 'array':
      return 'a list';
    case 'map':
      return 'a map';
    case 'union':
      return type.types.map(describe).join(' or ');
    default:
      return article(type.type);
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

/** `{ Ref }` or `{ 'Fn::…' }`: a value CloudFormation computes. */
function isIntrinsic(value: Json): value is Record<string, Json> {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::') === true);
}

function isNoValue(value: Json): boolean {
  return isObject(value) && Object.keys(value).length === 1 && value.Ref === 'AWS::NoValue';
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathKey(key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function show(value: Json): string {
  if (Array.isArray(value)) return 'a list';
  if (isObject(value)) return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** ` (did you mean X?)` for the closest name within a few edits, else ''. */
function suggest(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function suggestType(spec: Spec, type: string): string {
  const service = `${type.split('::').slice(0, 2).join('::')}::`;
  const sameService = spec.resourceTypes.filter((known) => known.startsWith(service));
  const hint = suggest(type, sameService.length > 0 ? sameService : spec.resourceTypes);
  return hint || ` (not in @aws-cdk/aws-service-spec ${spec.version})`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
