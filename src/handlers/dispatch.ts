/** Composition root of the dispatch function: SQS batch → the dispatch-batch use case. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClientConfig, type Env } from '../adapters/aws-config.js';
import { SqsDeadLetterSink } from '../adapters/dead-letter-queue.js';
import { Ledger } from '../adapters/ledger.js';
import { StepFunctionsStarter } from '../adapters/step-functions.js';
import { type DispatchPorts, type DispatchReport, dispatchBatch } from '../app/dispatch-batch.js';
import { type DeadLetterSink, systemClock, type WorkflowStarter } from '../app/ports.js';
import { loadPolicyFile, policyDefaultsFromEnv } from '../config/policy-file.js';
import { loadDispatchOutlets, loadDispatchSettings } from '../config/settings.js';
import { lambda, makeLogger, once } from './runtime.js';

export interface DispatchDeps {
  logger: Logger;
  /** The use case's ports, built once at cold start (the settings validated first). */
  ports: () => DispatchPorts;
  onReport?: (report: DispatchReport) => void;
}

/** Where dispatch starts the workflow and keeps rejected findings. */
export type Outlets = () => { workflow: WorkflowStarter; deadLetter: DeadLetterSink };

export function makeHandler(deps: DispatchDeps) {
  return lambda<SQSEvent, SQSBatchResponse>(
    deps.logger,
    async (event) => {
      const report = await dispatchBatch(event.Records, deps.ports());
      for (const { eventId, field, reason } of report.rejected) {
        deps.logger.warn('finding rejected and dead-lettered', { eventId, field, reason });
      }
      const { outcomes, rejected, executions } = report;
      deps.logger.info('batch dispatched', {
        records: event.Records.length,
        outcomes: outcomes.length,
        rejected: rejected.length,
        executions,
      });
      deps.onReport?.(report);
      return { batchItemFailures: report.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
    },
    deps.ports,
  );
}

/** The deployed stack's outlets: the state machine and the dead-letter queue named by the environment. */
export function awsOutlets(env: Env): Outlets {
  const sfn = new SFNClient(awsClientConfig(env, 'SFN'));
  const sqs = new SQSClient(awsClientConfig(env, 'SQS'));
  return () => {
    const { stateMachineArn, deadLetterQueueUrl } = loadDispatchOutlets(env);
    return {
      workflow: new StepFunctionsStarter(sfn, stateMachineArn),
      deadLetter: new SqsDeadLetterSink(sqs, deadLetterQueueUrl),
    };
  };
}

export function defaultDeps(env: Env = process.env, outlets: Outlets = awsOutlets(env)): DispatchDeps {
  const logger = makeLogger(env);
  const dynamo = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  return {
    logger,
    ports: once(() => {
      const settings = loadDispatchSettings(env);
      return {
        settings,
        policy: loadPolicyFile(settings.policyFile, policyDefaultsFromEnv(env)),
        ledger: new Ledger(dynamo, settings.ledgerTable),
        ...outlets(),
        clock: systemClock,
        log: logger,
      };
    }),
  };
}

export const handler = makeHandler(defaultDeps());
