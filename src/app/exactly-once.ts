/**
 * One external effect (an issue created, a message posted, a comment) done exactly once, whatever
 * the faults: lost answers, answers slower than the client's timeout, 5xx after the effect, task
 * retries, racing executions.
 *
 * 1. The effect is claimed for this attempt in the ledger (a claim item): one live attempt at a time.
 * 2. When an earlier attempt acted and its outcome is unknown, its effect may still land: wait (in
 *    the workflow) until it certainly has or has not, then look for it (`find`) and adopt it.
 * 3. Otherwise the attempt is recorded (by the claim itself for a first attempt), then the effect
 *    done (`act`), then completed with its result: in the claim, or where the caller keeps it
 *    (`record`: the delivery's item, read before any claim).
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
  /**
   * Where the caller keeps the result, which every later attempt reads before it claims (the
   * delivery's own item): written instead of completing the claim, one write less. If it fails,
   * the claim is completed with the result after all, for the retry to record it (and if that
   * fails too, the claim is given back: the retry looks for the effect and adopts it).
   */
  record?: (result: T) => Promise<void>;
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
  if (claim.state === 'done') {
    const result = effect.decode(claim.result);
    await effect.record?.(result);
    return { result, done: 'before' };
  }
  if (claim.state === 'held') throw new ClaimHeldError(`${effect.what}: another attempt is at it right now`);
  const complete = async (result: T) => {
    if (!effect.record) return ledger.completeEffect(effect.id, effect.encode(result));
    try {
      await effect.record(result);
    } catch (error) {
      // Not recorded where it is read first: kept in the claim, for the retry to record it.
      await ledger.completeEffect(effect.id, effect.encode(result)).catch(() => undefined);
      throw error;
    }
  };
  try {
    if (claim.attemptedAt) {
      waitUntilSettled(claim.attemptedAt, effect.what, context);
      const found = await effect.find(new Date(Date.parse(claim.attemptedAt)));
      if (found !== undefined) {
        await complete(found);
        return { result: found, done: 'found' };
      }
      // Not found: this attempt acts now (a first attempt was recorded by its claim).
      await ledger.recordEffectAttempt(effect.id, token);
    }
    const result = await effect.act();
    await complete(result);
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
