/**
 * One external effect (an issue created, a message posted, a comment) done exactly once, whatever
 * the faults: lost answers, answers slower than the client's timeout, 5xx after the effect, task
 * retries, racing executions.
 *
 * 1. The effect is claimed for this attempt in the ledger (a claim item): one live attempt at a time.
 * 2. When an earlier attempt acted and its outcome is unknown, its effect may still land: wait (in
 *    the workflow) until it certainly has or has not, then look for it (`find`) and adopt it.
 * 3. Otherwise the attempt is recorded, then the effect done (`act`), then completed with its result.
 * Any failure gives the claim back; a later attempt then sees the recorded attempt and looks first.
 */
import { ClaimHeldError, OutcomePendingError } from './errors.js';
import type { Clock, EffectLedger, Timing } from './ports.js';

export interface Effect<T> {
  /** Stable for the effect: every attempt and execution that may do it computes the same id. */
  id: string;
  /** Names the effect in errors and logs. */
  what: string;
  /** The effect an earlier attempt (which acted at `attemptedAt`) may have done without recording it. */
  find: (attemptedAt: Date) => Promise<T | undefined>;
  act: () => Promise<T>;
  encode: (result: T) => Record<string, string>;
  decode: (result: Record<string, string>) => T;
}

export interface EffectContext {
  ledger: EffectLedger;
  /** This attempt: execution, delivery and Lambda request. */
  token: string;
  timing: Timing;
  clock: Clock;
}

export async function exactlyOnce<T>(
  effect: Effect<T>,
  context: EffectContext,
): Promise<{ result: T; done: 'now' | 'before' | 'found' }> {
  const { ledger, token } = context;
  const claim = await ledger.claimEffect(effect.id, token);
  if (claim.state === 'done') return { result: effect.decode(claim.result), done: 'before' };
  if (claim.state === 'held') throw new ClaimHeldError(`${effect.what}: another attempt is at it right now`);
  try {
    if (claim.attemptedAt) {
      waitUntilSettled(claim.attemptedAt, effect.what, context);
      const found = await effect.find(new Date(Date.parse(claim.attemptedAt)));
      if (found !== undefined) {
        await ledger.completeEffect(effect.id, effect.encode(found));
        return { result: found, done: 'found' };
      }
    }
    await ledger.recordEffectAttempt(effect.id, token);
    const result = await effect.act();
    await ledger.completeEffect(effect.id, effect.encode(result));
    return { result, done: 'now' };
  } catch (error) {
    await ledger.releaseEffect(effect.id, token).catch(() => undefined);
    throw error;
  }
}

/** Until the settle time has passed since the earlier attempt, its effect may still land: wait. */
function waitUntilSettled(attemptedAt: string, what: string, { timing, clock }: EffectContext): void {
  const left = Date.parse(attemptedAt) + timing.settleMs - clock.now().getTime();
  if (Number.isFinite(left) && left > 0) {
    throw new OutcomePendingError(
      `${what}: an earlier attempt acted at ${attemptedAt} and lost the answer; it may still land`,
      Math.ceil(left / 1000),
    );
  }
}
