import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { STATE_MACHINE_FILE } from '../../src/config/constants.js';
import { ROOT } from './template.js';

export type State = Record<string, unknown> & { Type: string };
export interface RetryEntry {
  ErrorEquals: string[];
  MaxAttempts?: number;
}

/** The state machine definition as the repository holds it (YAML anchors resolved). */
export function loadDefinition(file = STATE_MACHINE_FILE): Record<string, unknown> {
  return parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
}

/** Every state at any depth (Map item processors, Parallel branches), with its name. */
export function allStates(definition: unknown): Array<{ name: string; state: State }> {
  const found: Array<{ name: string; state: State }> = [];
  const visit = (node: unknown) => {
    const states = (node as { States?: Record<string, State> }).States ?? {};
    for (const [name, state] of Object.entries(states)) {
      found.push({ name, state });
      const nested = (state.ItemProcessor ?? state.Iterator) as unknown;
      if (nested) visit(nested);
      for (const branch of (state.Branches as unknown[] | undefined) ?? []) visit(branch);
    }
  };
  visit(definition);
  return found;
}

/** Task states that invoke one of the stack's Lambda functions (`Fn::GetAtt: [fn, Arn]`). */
export function lambdaTasks(definition: unknown): Array<{ name: string; state: State }> {
  return allStates(definition).filter(
    ({ state }) => state.Type === 'Task' && typeof state.Resource === 'object' && state.Resource !== null,
  );
}
