/**
 * A deployed stage's settings, as `serverless deploy` resolved them: serverless.yml's
 * `params.default`, then `params.<stage>`, then `--param name=value` (the same order), with
 * `${sls:stage}` and `${self:service}` resolved. `npm run doctor` reads the stage this way, so it
 * checks what the stage was deployed with (pass the same `--param`s). Validated with zod; a bad
 * value fails naming the param.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { ConfigError } from '../app/errors.js';
import { SEVERITY_LABELS } from '../domain/finding/severity.js';

type Params = Record<string, string>;

function resolveParams(file: string, stage: string, overrides: Params): { service: string; params: Params } {
  let document: { service?: unknown; params?: Record<string, Record<string, unknown>> };
  try {
    document = parseYaml(readFileSync(file, 'utf8')) as typeof document;
  } catch (error) {
    throw new ConfigError(`${file}: cannot be read as YAML: ${(error as Error).message}`);
  }
  const service = typeof document.service === 'string' ? document.service : '';
  if (!service) throw new ConfigError(`${file}: no service name`);
  const merged = { ...document.params?.default, ...document.params?.[stage], ...overrides };
  const params: Params = {};
  for (const [name, value] of Object.entries(merged)) {
    const text = String(value ?? '')
      .replaceAll('${sls:stage}', stage)
      .replaceAll('${self:service}', service);
    const unresolved = /\$\{[^}]*\}/.exec(text);
    if (unresolved) {
      throw new ConfigError(
        `param ${name}: cannot resolve ${unresolved[0]} here; pass --param ${name}=<value>`,
      );
    }
    params[name] = text;
  }
  return { service, params };
}

const nonEmpty = z.string().trim().min(1);
const schema = z.object({
  homeRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'),
  slackChannel: nonEmpty,
  backlogHost: nonEmpty,
  backlogProjectKey: nonEmpty,
  backlogIssueType: nonEmpty,
  minSeverity: z.enum(SEVERITY_LABELS),
  slackTokenParameter: nonEmpty,
  backlogApiKeyParameter: nonEmpty,
  backlogWebhookTokenParameter: nonEmpty,
  policyFile: nonEmpty,
  heartbeatIntervalHours: z.coerce.number().int().min(1).max(84).default(6),
  linkedRegions: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((region) => region.trim())
        .filter(Boolean),
    ),
});

/** The stage's settings; `file` is serverless.yml. */
export function loadStageSettings(file: string, stage: string, overrides: Params = {}) {
  if (!/^[A-Za-z0-9-]+$/.test(stage)) throw new ConfigError(`--stage: not a stage name: ${stage}`);
  const { service, params } = resolveParams(file, stage, overrides);
  const result = schema.safeParse(params);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `param ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid stage settings: ${problems.join('; ')}`);
  }
  const stack = `${service}-${stage}`;
  return { stage, service, stack, ledgerTable: `${stack}-ledger`, ...result.data };
}
export type StageSettings = ReturnType<typeof loadStageSettings>;
