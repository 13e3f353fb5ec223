import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ActivityQueue } from '../app/ports.js';
import type { BacklogActivity } from '../domain/backlog/activity.js';

/**
 * The Backlog activity queue: the webhook sends each accepted activity (compact JSON, as
 * `parseQueuedActivity` reads it back); the worker consumes it, retried on failure, then kept in its
 * dead-letter queue. A send that fails fails the webhook's answer (5xx), so Backlog sends it again.
 */
export class SqsActivityQueue implements ActivityQueue {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(activity: BacklogActivity): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(activity),
        MessageAttributes: { activityId: { DataType: 'Number', StringValue: String(activity.id) } },
      }),
    );
  }
}
