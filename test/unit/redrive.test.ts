import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { describeMessage, redriveQueue, type SqsSender } from '../../src/cli/redrive.js';

const BUFFER = 'http://sqs.local/000000000000/buffer';
const DLQ = 'http://sqs.local/000000000000/dead-letter';

interface Stored {
  id: string;
  body: string;
  attributes?: Message['MessageAttributes'];
  hidden: boolean;
  handle?: string;
}

/** An in-memory SQS with the four calls redrive makes; `failSend` makes SendMessage throw. */
function fakeSqs(bodies: string[], options: { failSend?: (body: string) => boolean } = {}) {
  const queues = new Map<string, Stored[]>([
    [BUFFER, []],
    [DLQ, bodies.map((body, i) => ({ id: `m${i}`, body, hidden: false }))],
  ]);
  const calls: string[] = [];
  let handles = 0;
  const queue = (url: string | undefined) => {
    const found = queues.get(url ?? '');
    if (!found) throw new Error(`no queue ${url}`);
    return found;
  };
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof ReceiveMessageCommand) {
      calls.push('receive');
      const { QueueUrl, MaxNumberOfMessages = 1 } = command.input;
      const visible = queue(QueueUrl)
        .filter((m) => !m.hidden)
        .slice(0, MaxNumberOfMessages);
      for (const m of visible) {
        m.hidden = true;
        handles += 1;
        m.handle = `h${handles}`;
      }
      return {
        Messages: visible.map((m) => ({
          MessageId: m.id,
          Body: m.body,
          ReceiptHandle: m.handle,
          MessageAttributes: m.attributes,
        })),
      };
    }
    if (command instanceof SendMessageCommand) {
      calls.push('send');
      const body = command.input.MessageBody ?? '';
      if (options.failSend?.(body))
        throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      queue(command.input.QueueUrl).push({ id: `b${calls.length}`, body, hidden: false });
      return {};
    }
    if (command instanceof DeleteMessageCommand) {
      calls.push('delete');
      const q = queue(command.input.QueueUrl);
      const index = q.findIndex((m) => m.handle === command.input.ReceiptHandle);
      if (index < 0) throw new Error('ReceiptHandleIsInvalid');
      q.splice(index, 1);
      return {};
    }
    if (command instanceof ChangeMessageVisibilityBatchCommand) {
      calls.push('change-visibility');
      const q = queue(command.input.QueueUrl);
      for (const entry of command.input.Entries ?? []) {
        const m = q.find((s) => s.handle === entry.ReceiptHandle);
        if (m && entry.VisibilityTimeout === 0) m.hidden = false;
      }
      return {};
    }
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  };
  return {
    sqs: { send } as unknown as SqsSender,
    queues,
    calls,
    bodies: (url: string) => queue(url).map((m) => m.body),
  };
}

const event = (id: string) => JSON.stringify({ id, detail: { findings: [{ Id: `finding-${id}` }] } });

describe('redriveQueue', () => {
  it('moves every dead-lettered message to the buffer queue, body unchanged, and deletes it', async () => {
    const bodies = Array.from({ length: 23 }, (_, i) => event(`e${i}`));
    const fake = fakeSqs(bodies);
    const lines: string[] = [];
    const result = await redriveQueue(fake.sqs, {
      queueUrl: BUFFER,
      dlqUrl: DLQ,
      max: Number.POSITIVE_INFINITY,
      dryRun: false,
      print: (line) => lines.push(line),
    });
    expect(result).toEqual({ moved: 23, listed: 23, failed: 0 });
    expect(fake.bodies(BUFFER)).toEqual(bodies);
    expect(fake.bodies(DLQ)).toEqual([]);
    expect(lines.at(-1)).toBe('summary: moved 23 message(s)');
  });

  it('stops at --max', async () => {
    const fake = fakeSqs(Array.from({ length: 15 }, (_, i) => event(`e${i}`)));
    const result = await redriveQueue(fake.sqs, {
      queueUrl: BUFFER,
      dlqUrl: DLQ,
      max: 12,
      dryRun: false,
      print: () => {},
    });
    expect(result.moved).toBe(12);
    expect(fake.bodies(BUFFER)).toHaveLength(12);
    expect(fake.bodies(DLQ)).toHaveLength(3);
  });

  it('lists without moving on a dry run, and leaves the messages visible', async () => {
    const fake = fakeSqs([event('a'), event('b')]);
    const lines: string[] = [];
    const result = await redriveQueue(fake.sqs, {
      queueUrl: BUFFER,
      dlqUrl: DLQ,
      max: Number.POSITIVE_INFINITY,
      dryRun: true,
      print: (line) => lines.push(line),
    });
    expect(result).toEqual({ moved: 0, listed: 2, failed: 0 });
    expect(fake.calls).not.toContain('send');
    expect(fake.calls).not.toContain('delete');
    expect(fake.bodies(BUFFER)).toEqual([]);
    expect(fake.queues.get(DLQ)?.every((m) => !m.hidden)).toBe(true);
    expect(lines).toContain('would move  m0  event a: 1 finding(s) finding-a');
    expect(lines.at(-1)).toBe('summary: would move 2 message(s)');
  });

  it('keeps a message in the dead-letter queue when sending its copy fails', async () => {
    const fake = fakeSqs([event('ok'), event('bad')], { failSend: (body) => body.includes('"bad"') });
    const result = await redriveQueue(fake.sqs, {
      queueUrl: BUFFER,
      dlqUrl: DLQ,
      max: Number.POSITIVE_INFINITY,
      dryRun: false,
      print: () => {},
    });
    expect(result).toEqual({ moved: 1, listed: 2, failed: 1 });
    expect(fake.bodies(BUFFER)).toEqual([event('ok')]);
    expect(fake.bodies(DLQ)).toEqual([event('bad')]);
  });
});

describe('describeMessage', () => {
  it('names the event, its findings and why dispatch rejected it', () => {
    const line = describeMessage({
      Body: event('x'),
      MessageAttributes: {
        rejectedField: { DataType: 'String', StringValue: 'findings[0].Severity' },
        rejectedReason: { DataType: 'String', StringValue: 'missing' },
      },
    });
    expect(line).toBe('event x: 1 finding(s) finding-x [rejected: findings[0].Severity: missing]');
  });

  it('copes with a body that is not JSON', () => {
    expect(describeMessage({ Body: 'oops' })).toBe('not JSON (4 bytes)');
  });
});
