import type { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { SqsDeadLetterSink } from '../../../src/adapters/dead-letter-queue.js';
import type { Rejection } from '../../../src/app/ports.js';
import { stringifyJson } from '../../../src/domain/finding/json.js';
import { defaultPolicy } from '../../../src/domain/policy/policy.js';
import { makeHandler } from '../../../src/handlers/dispatch.js';
import { makeLogger } from '../../../src/handlers/runtime.js';

const QUEUE = 'https://sqs.ap-northeast-1.amazonaws.com/123456789012/shn-dlq';

function rejection(index: number, bytes = 10): Rejection {
  return {
    eventId: `e${index}`,
    field: 'detail.findings[0].AwsAccountId',
    reason: 'not a 12-digit account id',
    event: { id: `e${index}`, pad: 'x'.repeat(bytes) },
    messageId: `m${index}`,
  };
}

function stubSqs(fail: (entryId: string, call: number) => boolean = () => false) {
  const batches: Array<NonNullable<SendMessageBatchCommand['input']['Entries']>> = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      batches.push(entries);
      const failed = entries.filter((entry) => fail(entry.Id ?? '', batches.length));
      return {
        Successful: entries.filter((e) => !failed.includes(e)).map((e) => ({ Id: e.Id })),
        Failed: failed.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
      };
    },
  };
  return { client: client as never, batches };
}

describe('SqsDeadLetterSink', () => {
  it('keeps each rejected event with why it was rejected, at most 10 a batch', async () => {
    const { client, batches } = stubSqs();

    await new SqsDeadLetterSink(client, QUEUE).send(Array.from({ length: 12 }, (_, i) => rejection(i)));

    expect(batches.map((b) => b.length)).toEqual([10, 2]);
    expect(batches[0]?.[0]).toEqual({
      Id: '0',
      MessageBody: JSON.stringify(rejection(0).event),
      MessageAttributes: {
        rejectedField: { DataType: 'String', StringValue: 'detail.findings[0].AwsAccountId' },
        rejectedReason: { DataType: 'String', StringValue: 'not a 12-digit account id' },
        eventId: { DataType: 'String', StringValue: 'e0' },
      },
    });
  });

  it('keeps a batch under the SQS size limit', async () => {
    const { client, batches } = stubSqs();

    await new SqsDeadLetterSink(client, QUEUE).send(
      Array.from({ length: 4 }, (_, i) => rejection(i, 100_000)),
    );

    expect(batches.map((b) => b.length)).toEqual([2, 2]);
  });

  it('fails when SQS does not take a message, naming how many', async () => {
    const { client } = stubSqs((id) => id === '1');

    await expect(new SqsDeadLetterSink(client, QUEUE).send([rejection(0), rejection(1)])).rejects.toThrow(
      /1 message\(s\) not sent \(InternalError\)/,
    );
  });

  it('sends a failed dead letter back to the queue through dispatch (nothing lost)', async () => {
    const { client } = stubSqs(() => true);
    const logger = makeLogger({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const handler = makeHandler({
      logger,
      ports: () => ({
        settings: { accountNames: {} },
        policy: defaultPolicy({
          minSeverity: 'HIGH',
          slackChannel: '#s',
          backlogProjectKey: 'S',
          backlogIssueType: 'T',
        }),
        ledger: {
          getMany: async () => new Map(),
          getGroups: async () => new Map(),
          openGroup: async () => true,
          retakeGroup: async () => true,
        },
        workflow: { start: async () => undefined },
        deadLetter: new SqsDeadLetterSink(client, QUEUE),
        clock: { now: () => new Date() },
        log: logger,
      }),
    });
    const records = [{ messageId: 'bad-1', body: '{not json' }] as SQSRecord[];

    const response = await handler({ Records: records }, { getRemainingTimeInMillis: () => 1000 } as never);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-1' }] });
  });
});

describe('a rejected event nested absurdly deep', () => {
  it('is kept whole, as received', async () => {
    const { client, batches } = stubSqs();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = { deeper: deep };
    const body = stringifyJson({ id: 'deep', detail: deep });

    await new SqsDeadLetterSink(client, QUEUE).send([
      {
        eventId: 'deep',
        field: 'detail',
        reason: 'nested deeper than 64 levels',
        event: body,
        messageId: 'm1',
      },
      { ...rejection(1), event: { id: 'also-deep', detail: deep } },
    ]);

    expect(batches.flat().map((entry) => entry.MessageBody)).toEqual([
      body,
      stringifyJson({ id: 'also-deep', detail: deep }),
    ]);
    expect(batches.flat()[1]?.MessageBody?.length).toBeGreaterThan(200_000);
  });
});
