/**
 * Values the deployed stack and the local replay share. serverless.yml repeats them (it cannot
 * import TypeScript); the template tests hold the two equal.
 */
/** Large enough that a storm lands in few batches (grouped, not one message each); SQS also stops at 6 MB. */
export const DISPATCH_BATCH_SIZE = 500;
export const DISPATCH_BATCHING_WINDOW_SECONDS = 5;
export const STATE_MACHINE_FILE = 'statemachines/notify-findings.asl.yml';
export const DEFAULT_LEDGER_TABLE = 'securityhub-notifier-ledger';
/** Where the policy is read from when nothing else is configured (relative to the service). */
export const DEFAULT_POLICY_FILE = 'policy/notification-policy.yml';
/** The threshold when neither the policy nor NOTIFY_MIN_SEVERITY sets one. */
export const DEFAULT_MIN_SEVERITY = 'HIGH' as const;
