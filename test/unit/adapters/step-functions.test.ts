import {
  type DescribeExecutionCommand,
  ExecutionAlreadyExists,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { StepFunctionsStarter } from '../../../src/adapters/step-functions.js';
import type { WorkflowInput } from '../../../src/app/ports.js';

const ARN = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:shn-dev-notify-findings';
const INPUT: WorkflowInput = { batchId: 'b1', deliveries: [] };

/** A stubbed SFN client: `existing` maps execution names to their status. */
function stubClient(existing: Record<string, string> = {}) {
  const calls: Array<{ command: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: StartExecutionCommand | DescribeExecutionCommand) => {
      const input = command.input as unknown as Record<string, unknown>;
      calls.push({ command: command.constructor.name, input });
      if (command instanceof StartExecutionCommand) {
        const name = String(input.name);
        if (existing[name]) {
          throw new ExecutionAlreadyExists({ message: `Execution Already Exists: ${name}`, $metadata: {} });
        }
        existing[name] = 'RUNNING';
        return { executionArn: `${ARN}:${name}` };
      }
      const name = String(input.executionArn).split(':').at(-1) ?? '';
      return { status: existing[name] };
    },
  };
  return { client: client as never, calls, existing };
}

describe('StepFunctionsStarter', () => {
  it('starts a new name once, with the input as JSON', async () => {
    const { client, calls } = stubClient();

    await new StepFunctionsStarter(client, ARN).start(INPUT, 'batch-1');

    expect(calls).toEqual([
      {
        command: 'StartExecutionCommand',
        input: { stateMachineArn: ARN, name: 'batch-1', input: JSON.stringify(INPUT) },
      },
    ]);
  });

  it.each(['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE'])(
    'does nothing more when the name exists and is %s (the same batch redelivered)',
    async (status) => {
      const { client, calls } = stubClient({ 'batch-1': status });

      await new StepFunctionsStarter(client, ARN).start(INPUT, 'batch-1');

      expect(calls.map((c) => c.command)).toEqual(['StartExecutionCommand', 'DescribeExecutionCommand']);
      expect(calls[1]?.input.executionArn).toBe(`${ARN.replace(':stateMachine:', ':execution:')}:batch-1`);
    },
  );

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])(
    'starts again under a new name when the name exists and is %s (a redrive after a fix)',
    async (status) => {
      const { client, calls } = stubClient({ 'batch-1': status });

      await new StepFunctionsStarter(client, ARN, () => 1234).start(INPUT, 'batch-1');

      expect(calls.map((c) => c.command)).toEqual([
        'StartExecutionCommand',
        'DescribeExecutionCommand',
        'StartExecutionCommand',
      ]);
      expect(calls[2]?.input.name).toBe('batch-1-1234');
    },
  );

  it('lets any other start failure reach dispatch (the batch goes back to the queue)', async () => {
    const client = {
      send: async () =>
        Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })),
    };

    await expect(new StepFunctionsStarter(client as never, ARN).start(INPUT, 'batch-1')).rejects.toThrow(
      'slow down',
    );
  });
});
