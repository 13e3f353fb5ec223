import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SlackActionQueue } from '../app/ports.js';
import type { QueuedSlackAction } from '../domain/slack/interaction.js';

/**
 * The Slack action queue: the endpoint sends each accepted action (compact JSON, as
 * `parseQueuedSlackAction` reads it back); the worker consumes it, retried on failure, then kept in
 * its dead-letter queue. A send that fails fails the endpoint's answer (5xx): Slack shows the
 * person an error and nothing was done.
 */
export class SqsSlackActionQueue implements SlackActionQueue {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(action: QueuedSlackAction): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(action),
        MessageAttributes: { action: { DataType: 'String', StringValue: action.action } },
      }),
    );
  }
}
