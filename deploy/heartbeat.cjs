'use strict';
/**
 * Serverless Framework variable resolver: the heartbeat's schedule and its alarm's period, from the
 * one stage param `heartbeatIntervalHours` (default 6):
 *
 *   ${file(./deploy/heartbeat.cjs):schedule}        `rate(6 hours)` (`rate(1 hour)` for 1)
 *   ${file(./deploy/heartbeat.cjs):periodSeconds}   the interval in seconds: the alarm's period
 *
 * The alarm fires when no heartbeat passed in two periods; CloudWatch takes at most 7 days of
 * evaluation (Period x EvaluationPeriods <= 604,800 s for periods of an hour or more), so the
 * interval is a whole number of hours from 1 to 84. Anything else fails the resolution (and so
 * `serverless package` / `deploy`) naming the param. osls calls an exported function with
 * `{ resolveVariable }` and awaits it.
 */

const DEFAULT_HOURS = 6;
const MAX_HOURS = 84;

async function intervalHours(resolveVariable) {
  const value = await resolveVariable(`param:heartbeatIntervalHours, '${DEFAULT_HOURS}'`);
  const text = value === null || value === undefined ? String(DEFAULT_HOURS) : String(value).trim();
  const hours = Number(text);
  if (!/^\d+$/.test(text) || hours < 1 || hours > MAX_HOURS) {
    const error = new Error(
      `heartbeatIntervalHours: must be a whole number of hours from 1 to ${MAX_HOURS} (two periods of the alarm fit CloudWatch's 7 days), not "${text}"`,
    );
    error.stack = error.message;
    throw error;
  }
  return hours;
}

module.exports = {
  schedule: async ({ resolveVariable }) => {
    const hours = await intervalHours(resolveVariable);
    return `rate(${hours} ${hours === 1 ? 'hour' : 'hours'})`;
  },
  periodSeconds: async ({ resolveVariable }) => (await intervalHours(resolveVariable)) * 3600,
};
