import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { WorkflowInput, WorkflowStarter } from '../app/ports.js';

/** The statuses under which an execution of the same name means the batch is handled. */
const HANDLED = new Set(['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE']);

/**
 * Starts the notify-findings state machine. The same name started twice is one execution (SQS
 * redelivering a batch); an execution of that name that failed, timed out or was aborted (a
 * redrive after a fix) is started again under a new name.
 */
export class StepFunctionsStarter implements WorkflowStarter {
  constructor(
    private readonly client: Pick<SFNClient, 'send'>,
    private readonly stateMachineArn: string,
    private readonly now: () => number = Date.now,
  ) {}

  async start(input: WorkflowInput, name: string): Promise<void> {
    try {
      await this.startAs(name, input);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      if (status && HANDLED.has(status)) return;
      await this.startAs(`${name.slice(0, 60)}-${this.now()}`, input);
    }
  }

  private async startAs(name: string, input: WorkflowInput): Promise<void> {
    await this.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name,
        input: JSON.stringify(input),
      }),
    );
  }
}

function isAlreadyExists(error: unknown): boolean {
  return error instanceof ExecutionAlreadyExists || (error as Error)?.name === 'ExecutionAlreadyExists';
}
