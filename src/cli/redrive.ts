import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

const USAGE = `usage: npm run redrive -- [--dry-run] [--max N] [--queue-url URL --dlq-url URL]
       npm run redrive -- [--dry-run] [--max N] --file <dead-letter.jsonl>

Moves messages from the dead-letter queue back to the buffer queue (default: BUFFER_QUEUE_URL and
DEAD_LETTER_QUEUE_URL from the environment; AWS_ENDPOINT_URL_SQS points it at an emulator), or, with
--file, replays a dead-letter file written by \`npm run replay\` through the local sandbox.
--dry-run lists what would move, and moves nothing.`;

/** The one method of SQSClient used here: tests inject a fake. */
export interface SqsSender {
  send: SQSClient['send'];
}

export interface RedriveOptions {
  queueUrl: string;
  dlqUrl: string;
  /** At most this many messages are moved (or listed). */
  max: number;
  dryRun: boolean;
  print: (line: string) => void;
  /** How long a received message stays hidden while it is moved (seconds). */
  visibilityTimeout?: number;
}

export interface RedriveResult {
  moved: number;
  listed: number;
  failed: number;
}

/** One line per message: the event id and the finding ids it carries, and why it was rejected. */
export function describeMessage(message: Message): string {
  let summary = `${(message.Body ?? '').length} bytes`;
  try {
    const event = JSON.parse(message.Body ?? '') as {
      id?: unknown;
      detail?: { findings?: Array<{ Id?: unknown }> };
    };
    const ids = (event.detail?.findings ?? []).map((finding) => String(finding?.Id));
    summary = `event ${String(event.id ?? '(no id)')}: ${ids.length} finding(s) ${ids.join(', ')}`.trimEnd();
  } catch {
    summary = `not JSON (${summary})`;
  }
  const reason = message.MessageAttributes?.rejectedReason?.StringValue;
  const field = message.MessageAttributes?.rejectedField?.StringValue;
  return reason ? `${summary} [rejected: ${field ?? '?'}: ${reason}]` : summary;
}

/**
 * Move messages from the dead-letter queue to the buffer queue: receive, send, then delete (a message
 * is deleted only once its copy was sent, so a failure leaves it in the dead-letter queue). A dry run
 * receives and lists, then makes the messages visible again at once.
 */
export async function redriveQueue(sqs: SqsSender, options: RedriveOptions): Promise<RedriveResult> {
  const result: RedriveResult = { moved: 0, listed: 0, failed: 0 };
  const hidden: Array<{ Id: string; ReceiptHandle: string }> = [];
  try {
    while (result.listed < options.max) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.dlqUrl,
          MaxNumberOfMessages: Math.min(10, options.max - result.listed),
          MessageAttributeNames: ['All'],
          VisibilityTimeout: options.visibilityTimeout ?? 60,
          WaitTimeSeconds: 1,
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        result.listed += 1;
        const line = `${message.MessageId}  ${describeMessage(message)}`;
        if (options.dryRun) {
          options.print(`would move  ${line}`);
          if (message.ReceiptHandle)
            hidden.push({ Id: String(hidden.length), ReceiptHandle: message.ReceiptHandle });
          continue;
        }
        try {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: message.Body ?? '' }),
          );
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: options.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          result.moved += 1;
          options.print(`moved       ${line}`);
        } catch (error) {
          result.failed += 1;
          options.print(`failed      ${line}: ${(error as Error).name}: ${(error as Error).message}`);
        }
      }
    }
  } finally {
    // A dry run leaves the queue as it found it: what it received is visible again at once.
    for (let start = 0; start < hidden.length; start += 10) {
      const entries = hidden.slice(start, start + 10).map((entry) => ({ ...entry, VisibilityTimeout: 0 }));
      await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: options.dlqUrl, Entries: entries }));
    }
  }
  const verb = options.dryRun ? 'would move' : 'moved';
  const count = options.dryRun ? result.listed : result.moved;
  options.print(`summary: ${verb} ${count} message(s)${result.failed ? `, ${result.failed} failed` : ''}`);
  return result;
}

/** Replay a dead-letter file written by `npm run replay` (JSON Lines of events) through the sandbox. */
async function redriveFile(file: string, max: number, dryRun: boolean, print: (line: string) => void) {
  const { createReplayer, readEventFiles } = await import('../local/replayer.js');
  const read = await readEventFiles([file]);
  const events = read.events.slice(0, max);
  if (dryRun) {
    for (const event of events) print(`would replay  ${describeMessage({ Body: JSON.stringify(event) })}`);
    print(`summary: would replay ${events.length} event(s) from ${file}`);
    return 0;
  }
  const replayer = await createReplayer({ print });
  try {
    return (await replayer.replay(events, read.unreadable)).exitCode;
  } finally {
    await replayer.close();
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: {
    'dry-run'?: boolean;
    file?: string;
    'queue-url'?: string;
    'dlq-url'?: string;
    max?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'dry-run': { type: 'boolean' },
        file: { type: 'string' },
        'queue-url': { type: 'string' },
        'dlq-url': { type: 'string' },
        max: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const max = values.max === undefined ? Number.POSITIVE_INFINITY : Number(values.max);
  if (!(Number.isInteger(max) || max === Number.POSITIVE_INFINITY) || max < 1) {
    console.error(`--max must be a positive integer\n${USAGE}`);
    return 2;
  }
  const dryRun = values['dry-run'] ?? false;
  const print = (line: string) => console.log(line);
  if (values.file) return redriveFile(values.file, max, dryRun, print);

  const queueUrl = values['queue-url'] ?? env.BUFFER_QUEUE_URL;
  const dlqUrl = values['dlq-url'] ?? env.DEAD_LETTER_QUEUE_URL;
  if (!queueUrl || !dlqUrl) {
    console.error(`the buffer queue and the dead-letter queue are both required\n${USAGE}`);
    return 2;
  }
  const endpoint = env.AWS_ENDPOINT_URL_SQS;
  const sqs = new SQSClient(endpoint ? { endpoint } : {});
  try {
    const result = await redriveQueue(sqs, { queueUrl, dlqUrl, max, dryRun, print });
    return result.failed > 0 ? 1 : 0;
  } finally {
    sqs.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`redrive failed: ${(error as Error).name}: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
