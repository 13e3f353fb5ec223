import { AsyncLocalStorage } from 'node:async_hooks';
import { readFile } from 'node:fs/promises';
import { StateMachine } from 'aws-local-stepfunctions';
import { parse } from 'yaml';
import { STATE_MACHINE_FILE } from '../config/constants.js';

/**
 * The function a local invocation runs as (its name in serverless.yml), for whatever it calls: the
 * tests attribute each AWS request to the function whose role must allow it.
 */
export const invokedFunction = new AsyncLocalStorage<string>();

/** A local stand-in for one Task state's resource: takes the state's input, returns its result. */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface WorkflowRun {
  name: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  /**
   * State transitions as Standard workflows bill them: every state entered, at any depth, plus
   * every retry of a state (`StateEntered` + `StateRetried` events), in total and by state name.
   */
  transitions?: { total: number; byState: Record<string, number> };
}

export interface IntrinsicValues {
  region: string;
  accountId: string;
  /** Logical id → value, for `Ref`. */
  refs: Record<string, string>;
}

type Json = unknown;

const LOCAL_FUNCTION_PREFIX = 'local-';

/** Resolve the CloudFormation intrinsics the definition uses, as CloudFormation would on deploy. */
function resolveIntrinsics(node: Json, values: IntrinsicValues): Json {
  if (Array.isArray(node)) return node.map((item) => resolveIntrinsics(item, values));
  if (typeof node !== 'object' || node === null) return node;
  const record = node as Record<string, Json>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [logicalId] = record['Fn::GetAtt'] as [string, string];
    return `arn:aws:lambda:${values.region}:${values.accountId}:function:${LOCAL_FUNCTION_PREFIX}${logicalId}`;
  }
  if (keys.length === 1 && keys[0] === 'Ref') {
    const name = record.Ref as string;
    const value = values.refs[name];
    if (value === undefined) throw new Error(`${STATE_MACHINE_FILE}: no local value for Ref ${name}`);
    return value;
  }
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, resolveIntrinsics(value, values)]),
  );
}

export async function loadWorkflowDefinition(
  values: IntrinsicValues,
  file = STATE_MACHINE_FILE,
): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8');
  return resolveIntrinsics(parse(text), values) as Record<string, unknown>;
}

/** Every state, at any depth: the Task states with their resources, those with Retry, the Waits. */
function collectStates(
  definition: Json,
  found = {
    tasks: [] as Array<{ name: string; resource: string }>,
    retry: [] as string[],
    wait: [] as string[],
  },
) {
  const states = (definition as { States?: Record<string, Record<string, Json>> }).States ?? {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') found.tasks.push({ name, resource: String(state.Resource) });
    if (state.Retry) found.retry.push(name);
    // Fixed waits only: a wait the task asked for (SecondsPath: a rate limit, an attempt settling) is real.
    if (state.Type === 'Wait' && state.Seconds !== undefined) found.wait.push(name);
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested) collectStates(nested, found);
    for (const branch of (state.Branches as Json[] | undefined) ?? []) collectStates(branch, found);
  }
  return found;
}

/**
 * The key a Task state is bound by: the function key for a Lambda task (`fileBacklogIssue`), the
 * integration ARN for the others (`arn:aws:states:::aws-sdk:securityhub:batchUpdateFindings`).
 */
export function bindingKey(resource: string): string {
  const lambda = new RegExp(`:function:${LOCAL_FUNCTION_PREFIX}(.+)$`).exec(resource);
  return lambda?.[1] ?? resource;
}

export interface RunWorkflowOptions {
  name: string;
  /** Local handlers by binding key; a Task state without one is an error, never a call to AWS. */
  resources: Record<string, TaskHandler>;
  /** Tests: retry and wait in milliseconds instead of the definition's seconds. */
  fastRetries?: boolean;
}

/**
 * The definition with every Task's `TimeoutSeconds` set to `seconds` (tests run the functions with
 * short timeouts; the state's must stay longer than the function's, as deployed).
 */
export function withTaskTimeouts(
  definition: Record<string, unknown>,
  seconds: number,
): Record<string, unknown> {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== 'object' || node === null) return node;
    const record = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, visit(value)]));
    if (record.Type === 'Task' && record.TimeoutSeconds !== undefined) record.TimeoutSeconds = seconds;
    return record;
  };
  return visit(definition) as Record<string, unknown>;
}

/**
 * One interpreter per definition (by its text, so that every replayer of a process shares it):
 * validating it (asl-validator, ajv) costs more than a short run. A few definitions at most.
 */
const machines = new Map<string, StateMachine>();
const MAX_MACHINES = 16;
function machineFor(definition: Record<string, unknown>): StateMachine {
  const text = JSON.stringify(definition);
  let machine = machines.get(text);
  if (!machine) {
    machine = new StateMachine(JSON.parse(text) as never, { validationOptions: { checkPaths: true } });
    if (machines.size >= MAX_MACHINES) machines.delete(machines.keys().next().value as string);
    machines.set(text, machine);
  }
  return machine;
}

/**
 * Run the real state machine definition in aws-local-stepfunctions, every Task state bound by name
 * to a local handler (the real Lambda handler, or the real AWS SDK client for SDK integrations).
 */
export async function runWorkflow(
  definition: Record<string, unknown>,
  input: unknown,
  options: RunWorkflowOptions,
): Promise<WorkflowRun> {
  const machine = machineFor(definition);
  const states = collectStates(definition);
  const taskHandlers: Record<string, TaskHandler> = {};
  for (const task of states.tasks) {
    const handler = options.resources[bindingKey(task.resource)];
    if (!handler) throw new Error(`no local binding for Task state ${task.name} (${task.resource})`);
    taskHandlers[task.name] = handler;
  }
  const overrides = {
    taskResourceLocalHandlers: taskHandlers,
    ...(options.fastRetries
      ? {
          retryIntervalOverrides: Object.fromEntries(states.retry.map((name) => [name, 5])),
          waitTimeOverrides: Object.fromEntries(states.wait.map((name) => [name, 5])),
        }
      : {}),
  };
  const startTime = new Date().toISOString();
  const execution = machine.run(input as never, {
    overrides: overrides as never,
    context: {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:notifyFindings:${options.name}`,
        Name: options.name,
        Input: input,
        StartTime: startTime,
      },
    } as never,
  });
  try {
    const output = await execution.result;
    return {
      name: options.name,
      status: 'SUCCEEDED',
      output,
      transitions: await countTransitions(execution),
    };
  } catch (error) {
    const failure = (error as Error & { cause?: Error & { cause?: string } }).cause ?? (error as Error);
    return {
      name: options.name,
      status: 'FAILED',
      error: failure.name,
      cause: failure.message,
      transitions: await countTransitions(execution),
    };
  }
}

/** Drains a finished execution's event log (it holds every event until read). */
async function countTransitions(execution: {
  eventLogs: AsyncGenerator<{ type: string; state?: { name: string } }>;
}): Promise<NonNullable<WorkflowRun['transitions']>> {
  const byState: Record<string, number> = {};
  let total = 0;
  for await (const event of execution.eventLogs) {
    if ((event.type === 'StateEntered' || event.type === 'StateRetried') && event.state) {
      byState[event.state.name] = (byState[event.state.name] ?? 0) + 1;
      total += 1;
    }
  }
  return { total, byState };
}

/** What Lambda calls a function that ran past its timeout (the error Step Functions sees). */
export const LAMBDA_TIMEOUT_ERROR = 'Sandbox.Timedout';

/**
 * Bind a Lambda handler as a Task: input and result go through JSON, as Lambda's do, and the
 * invocation has the function's own timeout (its context's remaining time counts down from it).
 * Past it the task fails with `Sandbox.Timedout`, as on Lambda, whatever the handler still does.
 */
export function lambdaTask(
  handler: (event: unknown, context: never) => Promise<unknown>,
  functionName: string,
  timeoutMs = 30_000,
): TaskHandler {
  let invocation = 0;
  return async (input) => {
    invocation += 1;
    const deadline = Date.now() + timeoutMs;
    const context = {
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
      memoryLimitInMB: '256',
      awsRequestId: `${functionName}-${process.pid}-${invocation}-${Date.now().toString(36)}`,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
        error.name = LAMBDA_TIMEOUT_ERROR;
        reject(error);
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([
        invokedFunction.run(functionName, () => handler(JSON.parse(JSON.stringify(input)), context as never)),
        timedOut,
      ]);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Bind an `aws-sdk:` / optimised integration Task to a real SDK call. Errors are renamed
 * `<Service>.<Exception>` as Step Functions names them, so the definition's Retry/Catch match.
 */
export function sdkTask(
  service: string,
  call: (parameters: Record<string, unknown>) => Promise<unknown>,
): TaskHandler {
  return async (input) => {
    try {
      const result = (await call(input as Record<string, unknown>)) as Record<string, unknown>;
      const { $metadata: _metadata, ...rest } = result ?? {};
      return JSON.parse(JSON.stringify(rest));
    } catch (error) {
      const renamed = new Error((error as Error).message, { cause: error });
      renamed.name = `${service}.${(error as Error).name}`;
      throw renamed;
    }
  };
}
