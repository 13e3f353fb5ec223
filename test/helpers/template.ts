import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVERLESS = join(ROOT, 'node_modules/serverless/bin/serverless.js');

/** Placeholder values for CloudFormation pseudo parameters when a test resolves intrinsics. */
export const PSEUDO = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'ap-northeast-1',
  'AWS::AccountId': '123456789012',
};

export type Json = unknown;
export interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
}
export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json }>;
  Conditions?: Record<string, Json>;
}

export interface PackagedStack {
  dir: string;
  template: Template;
  /** Wall time of `serverless package`, seconds. */
  seconds: number;
  /** Artifact file name → zipped size in bytes. */
  artifacts: Record<string, number>;
}

const packaged = new Map<string, Promise<PackagedStack>>();

/** What `serverless package` reads: copied for a run with params, so it cannot touch `.serverless/`. */
const SERVICE_FILES = [
  'serverless.yml',
  'functions',
  'deploy',
  'statemachines',
  'policy',
  'src',
  'package.json',
  'tsconfig.json',
];

/**
 * `serverless package --stage dev` (offline: nothing here needs AWS credentials), once per set of
 * params in this process. Without params it runs in the repository and writes `.serverless/`, like
 * `npm run package`. With params (`--param key=value`) it runs in a temporary copy of the service:
 * serverless empties `.serverless/` of the directory it packages, and serverless-esbuild works in
 * its `.esbuild/`.
 */
export function packageStack(params: Record<string, string> = {}): Promise<PackagedStack> {
  const key = JSON.stringify(Object.entries(params).sort());
  let pending = packaged.get(key);
  if (!pending) {
    pending = runPackage(params);
    packaged.set(key, pending);
  }
  return pending;
}

const copies: string[] = [];

/** Remove the temporary service copies this process packaged in (call from `afterAll`). */
export async function removeServiceCopies(): Promise<void> {
  await Promise.all(copies.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

async function serviceCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sls-service-'));
  copies.push(dir);
  for (const name of SERVICE_FILES) await cp(join(ROOT, name), join(dir, name), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

async function runPackage(params: Record<string, string>): Promise<PackagedStack> {
  const entries = Object.entries(params);
  const cwd = entries.length === 0 ? ROOT : await serviceCopy();
  const dir = join(cwd, '.serverless');
  const args = [SERVERLESS, 'package', '--stage', 'dev'];
  for (const [name, value] of entries) args.push('--param', `${name}=${value}`);
  const started = performance.now();
  try {
    await run(process.execPath, args, {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
  const seconds = (performance.now() - started) / 1000;
  const template = JSON.parse(
    await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const artifacts: Record<string, number> = {};
  for (const name of (await readdir(dir)).filter((file) => file.endsWith('.zip'))) {
    artifacts[name] = (await stat(join(dir, name))).size;
  }
  return { dir, template, seconds, artifacts };
}

export function resourcesOfType(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

export function resource(
  template: Template,
  logicalId: string,
): Resource & { Properties: Record<string, Json> } {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the template`);
  return { ...found, Properties: found.Properties ?? {} };
}

/**
 * The state machine's definition as deployed: its `DefinitionString` (a string, an `Fn::Sub` or an
 * `Fn::Join`) with the intrinsics resolved to placeholder values (a function's `Fn::GetAtt Arn` to
 * its ARN, a table's `Ref` to its name, pseudo parameters to `PSEUDO`), then parsed.
 */
export function stateMachineDefinition(template: Template, logicalId: string): Record<string, Json> {
  const definition = resource(template, logicalId).Properties.DefinitionString;
  return JSON.parse(resolveString(template, definition)) as Record<string, Json>;
}

function resolveString(template: Template, node: Json, vars: Record<string, Json> = {}): string {
  if (typeof node === 'string') return node;
  const record = node as Record<string, Json>;
  if ('Fn::Sub' in record) {
    const sub = record['Fn::Sub'];
    const [text, subVars] = Array.isArray(sub)
      ? (sub as [string, Record<string, Json>?])
      : [sub as string, {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      const value = subVars?.[name] ?? vars[name];
      if (value !== undefined) return resolveString(template, value);
      return resolveString(template, name.includes('.') ? { 'Fn::GetAtt': name.split('.') } : { Ref: name });
    });
  }
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, Json[]];
    return parts.map((part) => resolveString(template, part)).join(separator);
  }
  if ('Ref' in record) {
    const name = record.Ref as string;
    if (name in PSEUDO) return PSEUDO[name as keyof typeof PSEUDO];
    const target = resource(template, name);
    if (target.Type === 'AWS::DynamoDB::Table') return String(target.Properties.TableName ?? name);
    if (target.Type === 'AWS::Lambda::Function') return String(target.Properties.FunctionName ?? name);
    return name;
  }
  if ('Fn::GetAtt' in record) {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    const target = resource(template, id);
    if (target.Type === 'AWS::Lambda::Function' && attribute === 'Arn') {
      const name = String(target.Properties.FunctionName ?? id);
      return `arn:aws:lambda:${PSEUDO['AWS::Region']}:${PSEUDO['AWS::AccountId']}:function:${name}`;
    }
    return `${id}.${attribute}`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(node)} in a definition string`);
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
  Principal?: Json;
  Condition?: Json;
  Sid?: string;
}

/** Every policy statement in the template, labelled with where it is. */
export function policyStatements(template: Template): Array<{ where: string; statement: PolicyStatement }> {
  const found: Array<{ where: string; statement: PolicyStatement }> = [];
  const add = (where: string, document: Json) => {
    const statements = (document as { Statement?: PolicyStatement | PolicyStatement[] } | undefined)
      ?.Statement;
    for (const statement of ([] as PolicyStatement[]).concat(statements ?? []))
      found.push({ where, statement });
  };
  for (const [id, { Type, Properties = {} }] of Object.entries(template.Resources)) {
    if (Type === 'AWS::IAM::Role') {
      add(`${id} trust`, Properties.AssumeRolePolicyDocument);
      for (const policy of (Properties.Policies as Array<{ PolicyName: string; PolicyDocument: Json }>) ??
        []) {
        add(`${id} ${policy.PolicyName}`, policy.PolicyDocument);
      }
    } else if ('PolicyDocument' in Properties) {
      add(id, Properties.PolicyDocument);
    }
  }
  return found;
}

/** The actions a role's inline policies allow, each with the statements' resources. */
export function allowedActions(template: Template, roleId: string): Map<string, Json[]> {
  const actions = new Map<string, Json[]>();
  const policies = (resource(template, roleId).Properties.Policies ?? []) as Array<{ PolicyDocument: Json }>;
  for (const { PolicyDocument } of policies) {
    const statements = (PolicyDocument as { Statement: PolicyStatement[] }).Statement;
    for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
      for (const action of ([] as string[]).concat(statement.Action ?? [])) {
        actions.set(action, [...(actions.get(action) ?? []), statement.Resource]);
      }
    }
  }
  return actions;
}
