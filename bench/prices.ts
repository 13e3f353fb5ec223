/**
 * AWS list prices used by the cost estimate: us-east-1, on-demand, no free tier, as published on
 * the services' pricing pages (aws.amazon.com/<service>/pricing) and checked in 2024-2025:
 * Step Functions Standard, Lambda (arm64), SQS standard queues, DynamoDB on-demand (after the
 * November 2024 price cut). EventBridge: Security Hub events on the default bus are free.
 * Update the figures here, and only here, when the prices change.
 */
export const PRICES = {
  region: 'us-east-1',
  source:
    'aws.amazon.com/{step-functions,lambda,sqs,dynamodb,eventbridge}/pricing, list prices as of 2024-2025',
  stepFunctionsStandardPerTransition: 0.025 / 1_000,
  lambdaPerRequest: 0.2 / 1_000_000,
  lambdaArm64PerGbSecond: 0.0000133334,
  sqsPerRequest: 0.4 / 1_000_000,
  dynamoDbPerWriteRequestUnit: 0.625 / 1_000_000,
  dynamoDbPerReadRequestUnit: 0.125 / 1_000_000,
  eventBridgeDefaultBusAwsServiceEvent: 0,
} as const;

/** The published form of each price, for the report. */
export const PRICE_TABLE: Array<[string, string]> = [
  ['Step Functions Standard', '$0.025 per 1,000 state transitions'],
  ['Lambda requests', '$0.20 per 1M requests'],
  ['Lambda duration (arm64)', '$0.0000133334 per GB-second'],
  ['SQS (standard)', '$0.40 per 1M requests (64 KB chunks)'],
  ['DynamoDB on-demand writes', '$0.625 per 1M write request units'],
  ['DynamoDB on-demand reads', '$0.125 per 1M read request units'],
  ['EventBridge', 'Security Hub events on the default bus: free'],
];
