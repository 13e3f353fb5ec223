import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterSink, Rejection } from '../app/ports.js';
import { stringifyJson } from '../domain/finding/json.js';

/** SQS takes at most 10 messages and 256 KB a SendMessageBatch (1 MiB now, 256 KB to be safe). */
const BATCH = 10;
const BATCH_BYTES = 240_000;
const MAX_REASON = 1000;

/**
 * Keeps rejected findings in the dead-letter queue: the event as received (replayable with
 * `npm run redrive`), and why it was rejected as message attributes. Any message SQS does not
 * take fails the send, so dispatch hands those records back to the buffer queue.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(rejections: readonly Rejection[]): Promise<void> {
    for (const part of batches(rejections)) {
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: part.map((rejection, index) => ({
            Id: String(index),
            MessageBody: bodyOf(rejection),
            MessageAttributes: {
              rejectedField: { DataType: 'String', StringValue: rejection.field || '(none)' },
              rejectedReason: {
                DataType: 'String',
                StringValue: rejection.reason.slice(0, MAX_REASON) || '(none)',
              },
              eventId: { DataType: 'String', StringValue: rejection.eventId || '(none)' },
            },
          })),
        }),
      );
      const failed = result.Failed ?? [];
      if (failed.length > 0) {
        const codes = [...new Set(failed.map((entry) => entry.Code))].join(', ');
        throw new Error(
          `SendMessageBatch to ${this.queueUrl}: ${failed.length} message(s) not sent (${codes})`,
        );
      }
    }
  }
}

/** Rejections in SendMessageBatch-sized parts: at most 10 and about 240 KB of bodies each. */
function batches(rejections: readonly Rejection[]): Rejection[][] {
  const parts: Rejection[][] = [];
  let current: Rejection[] = [];
  let bytes = 0;
  for (const rejection of rejections) {
    const size = Buffer.byteLength(bodyOf(rejection)) + 2_000;
    if (current.length > 0 && (current.length === BATCH || bytes + size > BATCH_BYTES)) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(rejection);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** The message body kept: the event as received (the SQS body itself when it was not parsed). */
function bodyOf(rejection: Rejection): string {
  return typeof rejection.event === 'string' ? rejection.event : stringifyJson(rejection.event);
}
