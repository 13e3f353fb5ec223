'use strict';
/**
 * Serverless Framework variable resolver: which Security Hub's events the stack listens to.
 *
 *   ${file(./deploy/security-hubs.cjs):asff}   State of the rules for Security Hub CSPM (ASFF)
 *   ${file(./deploy/security-hubs.cjs):ocsf}   State of the rules for the new Security Hub (OCSF)
 *
 * The stage param `securityHubs` is `both` (the default), `cspm` or `new`. A rule for a product
 * that is not enabled costs nothing (it never matches), so `both` is right while migrating; a team
 * that runs both but wants to be notified from one only names it. Anything else stops the package.
 */
const STATES = {
  both: { asff: 'ENABLED', ocsf: 'ENABLED' },
  cspm: { asff: 'ENABLED', ocsf: 'DISABLED' },
  new: { asff: 'DISABLED', ocsf: 'ENABLED' },
};

async function statesFor(resolveVariable) {
  const value = String((await resolveVariable("param:securityHubs, 'both'")) ?? 'both');
  const states = STATES[value];
  if (!states) {
    const failure = new Error(
      `the stage param securityHubs must be one of ${Object.keys(STATES).join(', ')}; got ${JSON.stringify(value)}`,
    );
    failure.stack = failure.message;
    throw failure;
  }
  return states;
}

module.exports = {
  STATES,
  asff: async ({ resolveVariable }) => (await statesFor(resolveVariable)).asff,
  ocsf: async ({ resolveVariable }) => (await statesFor(resolveVariable)).ocsf,
};
