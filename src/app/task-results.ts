/**
 * What a workflow task answers besides its result: "wait this long, then call me again". The
 * workflow waits in a Wait state (not in a Lambda) and counts the waits, so a rate limit or an
 * unsettled earlier attempt costs no Lambda time and cannot wait forever.
 */
import { retryAfterOf } from './errors.js';
import type { Timing } from './ports.js';

export interface WaitResult {
  waitSeconds: number;
  /** Why, for the execution history: the error's name and message. */
  reason: string;
}

export function isWait(value: unknown): value is WaitResult {
  return typeof (value as WaitResult | undefined)?.waitSeconds === 'number';
}

/**
 * Run a task; an error that says how long to wait (within `maxWaitSeconds`) becomes a wait result.
 * Any other error, or a wait too long, reaches the workflow as it is.
 */
export async function orWait<T>(
  run: () => Promise<T>,
  timing: Pick<Timing, 'maxWaitSeconds'>,
): Promise<T | WaitResult> {
  try {
    return await run();
  } catch (error) {
    const seconds = retryAfterOf(error);
    if (seconds === undefined || seconds > timing.maxWaitSeconds) throw error;
    const { name, message } = error as Error;
    return { waitSeconds: Math.max(1, Math.ceil(seconds)), reason: `${name}: ${message}`.slice(0, 500) };
  }
}
