import { describe, expect, it } from 'vitest';
import * as dispatch from '../../src/handlers/dispatch.js';
import * as fileBacklogIssue from '../../src/handlers/file-backlog-issue.js';
import * as postSlackMessage from '../../src/handlers/post-slack-message.js';

const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as never;
const BASE = {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_REGION: 'ap-northeast-1',
  AWS_LAMBDA_FUNCTION_NAME: 'under-test',
};
const DISPATCH = {
  ...BASE,
  STATE_MACHINE_ARN: 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:shn-dev-notify-findings',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/123456789012/shn-dlq',
  SLACK_CHANNEL: '#sec',
  BACKLOG_PROJECT_KEY: 'SEC',
  BACKLOG_ISSUE_TYPE: 'Task',
};

describe('handlers validate their configuration at cold start, before any work', () => {
  it.each(['STATE_MACHINE_ARN', 'DEAD_LETTER_QUEUE_URL'])(
    'dispatch fails naming %s when it is missing',
    async (name) => {
      const env = { ...DISPATCH, [name]: undefined };
      const handler = dispatch.makeHandler(dispatch.defaultDeps(env));

      await expect(handler({ Records: [] }, context)).rejects.toThrow(new RegExp(`${name}: `));
    },
  );

  it('dispatch fails naming a malformed state machine ARN', async () => {
    const handler = dispatch.makeHandler(
      dispatch.defaultDeps({ ...DISPATCH, STATE_MACHINE_ARN: 'notify-findings' }),
    );

    await expect(handler({ Records: [] }, context)).rejects.toThrow(
      /STATE_MACHINE_ARN: must be a state machine ARN/,
    );
  });

  it('dispatch with an empty batch and a sound configuration does nothing and succeeds', async () => {
    const handler = dispatch.makeHandler(dispatch.defaultDeps(DISPATCH));

    await expect(handler({ Records: [] }, context)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('fileBacklogIssue fails naming its secret parameter before reading its input', async () => {
    const env = {
      ...BASE,
      BACKLOG_HOST: 'x.backlog.com',
      BACKLOG_PROJECT_KEY: 'SEC',
      BACKLOG_ISSUE_TYPE: 'Task',
    };
    const handler = fileBacklogIssue.makeHandler(fileBacklogIssue.defaultDeps(env));

    await expect(handler({ not: 'an input' }, context)).rejects.toThrow(
      /BACKLOG_API_KEY_PARAMETER: required/,
    );
  });

  it('postSlackMessage refuses a plaintext token inside Lambda, naming it', async () => {
    const env = { ...BASE, SLACK_CHANNEL: '#sec', SLACK_BOT_TOKEN: 'xoxb-plain' };
    const handler = postSlackMessage.makeHandler(postSlackMessage.defaultDeps(env));

    await expect(handler({}, context)).rejects.toThrow(/SLACK_BOT_TOKEN: a plaintext secret is not allowed/);
  });
});

describe('AWS endpoint overrides', () => {
  it('are refused inside Lambda at cold start, naming the setting', () => {
    expect(() =>
      dispatch.defaultDeps({ ...DISPATCH, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' }),
    ).toThrow(/AWS_ENDPOINT_URL_DYNAMODB: an endpoint override is not allowed in a Lambda environment/);
  });
});
