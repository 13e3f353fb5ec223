import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, errorsOfClass, type RetryClass } from '../../src/app/errors.js';
import { lambdaTasks, loadDefinition, type RetryEntry } from '../helpers/state-machine.js';

const definition = loadDefinition();
const tasks = lambdaTasks(definition);
const catalogued = new Set<string>(Object.keys(ERROR_CATALOGUE));
const retryOf = (state: Record<string, unknown>) => (state.Retry ?? []) as RetryEntry[];
const catchOf = (state: Record<string, unknown>) => (state.Catch ?? []) as Array<{ ErrorEquals: string[] }>;

/** The Retry entry a class maps to: the first that lists one of the class's errors. */
function entryFor(retry: RetryEntry[], retryClass: RetryClass): RetryEntry | undefined {
  const names = errorsOfClass(retryClass);
  return retry.find((entry) => entry.ErrorEquals.some((name) => (names as string[]).includes(name)));
}

describe('the error catalogue and the workflow Retry/Catch lists', () => {
  it('finds the Lambda task states', () => {
    expect(tasks.map((task) => task.name).sort()).toEqual([
      'ArchiveFailedHeartbeat',
      'CheckBacklog',
      'CheckSlack',
      'CompleteHeartbeat',
      'FileBacklogIssue',
      'MarkFindings',
      'PostSlackMessage',
    ]);
  });

  it.each(tasks.map((task) => [task.name, task.state] as const))(
    '%s names only catalogued errors (or those Step Functions and Lambda define)',
    (_name, state) => {
      const named = [...retryOf(state), ...catchOf(state)].flatMap((entry) => entry.ErrorEquals);
      const unknown = named.filter(
        (name) => !/^(States|Sandbox|Lambda)\./.test(name) && !catalogued.has(name),
      );
      expect(unknown).toEqual([]);
    },
  );

  it.each(tasks.map((task) => [task.name, task.state] as const))(
    '%s lists each retry class in one entry, exactly as the catalogue has it',
    (_name, state) => {
      const retry = retryOf(state);
      for (const retryClass of ['fatal', 'claim-wait', 'rate-limited', 'transient'] as const) {
        const entry = entryFor(retry, retryClass);
        expect(entry?.ErrorEquals, retryClass).toEqual(errorsOfClass(retryClass));
      }
      expect(entryFor(retry, 'fatal')?.MaxAttempts).toBe(0);
      for (const retryClass of ['claim-wait', 'rate-limited', 'transient'] as const) {
        expect(entryFor(retry, retryClass)?.MaxAttempts ?? 3, retryClass).toBeGreaterThan(0);
      }
      expect(retry.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
    },
  );

  it.each(tasks.map((task) => [task.name, task.state] as const))(
    '%s catches every error after its retries, so a failure is recorded, never lost',
    (_name, state) => {
      expect(catchOf(state).map((entry) => entry.ErrorEquals)).toContainEqual(['States.ALL']);
    },
  );

  it('gives each catalogued error the name its class declares (the name the workflow matches)', () => {
    for (const [name, { type }] of Object.entries(ERROR_CATALOGUE)) {
      expect((Reflect.construct(type, ['x', 'y', 'z']) as Error).name).toBe(name);
    }
  });

  it('fails a secret that cannot be read at once, naming it', () => {
    expect(ERROR_CATALOGUE.SecretError.retry).toBe('fatal');
  });
});
