import { describe, expect, it } from 'vitest';
import { LEDGER_ATTRIBUTES } from '../../src/domain/delivery/ledger-items.js';
import { allStates, loadDefinition } from '../helpers/state-machine.js';

const definition = loadDefinition();
const known = new Set<string>(Object.values(LEDGER_ATTRIBUTES));
const KEYWORDS = new Set(['SET', 'REMOVE', 'ADD', 'DELETE', 'if_not_exists', 'list_append']);

/** The attribute names an update expression writes or removes (placeholders resolved). */
function attributesOf(expression: string, names: Record<string, string> = {}): string[] {
  const withoutValues = expression.replace(/:[A-Za-z0-9_]+/g, ' ');
  return (withoutValues.match(/#?[A-Za-z_][A-Za-z0-9_]*/g) ?? [])
    .filter((token) => !KEYWORDS.has(token))
    .map((token) => (token.startsWith('#') ? (names[token] ?? token) : token));
}

const ledgerTasks = allStates(definition).filter(
  ({ state }) => state.Type === 'Task' && String(state.Resource).startsWith('arn:aws:states:::dynamodb:'),
);

describe('the ledger attributes and the state machine ledger tasks', () => {
  it('finds the ledger tasks', () => {
    expect(ledgerTasks.map((task) => task.name)).toContain('RecordDeliveryFailure');
  });

  it.each(ledgerTasks.map((task) => [task.name, task.state] as const))(
    '%s keys the item by the ledger key and writes only declared attributes',
    (_name, state) => {
      const parameters = state.Parameters as {
        Key: Record<string, unknown>;
        UpdateExpression: string;
        ExpressionAttributeNames?: Record<string, string>;
        ConditionExpression?: string;
      };
      expect(Object.keys(parameters.Key)).toEqual([LEDGER_ATTRIBUTES.key]);
      const names = parameters.ExpressionAttributeNames ?? {};
      const written = [
        ...attributesOf(parameters.UpdateExpression, names),
        ...attributesOf(parameters.ConditionExpression ?? '', names).filter(
          (token) => !['attribute_exists', 'attribute_not_exists', 'AND', 'OR', 'NOT'].includes(token),
        ),
      ];
      expect(written.length).toBeGreaterThan(0);
      expect(written.filter((name) => !known.has(name))).toEqual([]);
    },
  );

  it('reads the expression names it is given (a check of the check)', () => {
    expect(attributesOf('SET #s = :v, lastError = :e REMOVE issueClaim', { '#s': 'status' })).toEqual([
      'status',
      'lastError',
      'issueClaim',
    ]);
  });
});
