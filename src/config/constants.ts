/**
 * Values the deployed stack and the local replay share. serverless.yml repeats them (it cannot
 * import TypeScript); the template tests hold the two equal.
 */
export const DISPATCH_BATCH_SIZE = 10;
export const DISPATCH_BATCHING_WINDOW_SECONDS = 5;
export const STATE_MACHINE_FILE = 'statemachines/notify-findings.asl.yml';
export const DEFAULT_LEDGER_TABLE = 'securityhub-notifier-ledger';
