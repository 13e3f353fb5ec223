import { type Logger, LogLevel, type WebAPICallResult, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../src/app/accept-slack-action.js';
import { type BacklogEmulator, startBacklogEmulator } from '../../src/local/emulators/backlog-emulator.js';
import {
  type SlackEmulator,
  signSlackRequest,
  startSlackEmulator,
} from '../../src/local/emulators/slack-emulator.js';

/**
 * What acting from Slack needs of the emulators, through the real clients: Block Kit's limits on
 * buttons, inputs and modals as Slack enforces them, interactions built from what was posted (as
 * Slack sends them to an app), Slack's request signature, and Backlog's users and assignees.
 */

const noop = () => {};
const silent: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  setLevel: noop,
  getLevel: () => LogLevel.ERROR,
  setName: noop,
};
const USERS = [
  { id: 'U0ALICE', name: 'alice', real_name: 'Alice', profile: { email: 'alice@example.com' } },
  { id: 'U0BOB', name: 'bob', real_name: 'Bob' },
];
const button = (actionId: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  text: { type: 'plain_text', text: 'Go' },
  action_id: actionId,
  value: 'v',
  ...extra,
});

let slack: SlackEmulator;
let client: WebClient;
let backlog: BacklogEmulator;
beforeAll(async () => {
  slack = await startSlackEmulator({ users: USERS, members: { '#security-alerts': ['U0ALICE'] } });
  client = new WebClient(slack.token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    logger: silent,
  });
  backlog = await startBacklogEmulator({
    users: [
      { id: 2, userId: 'alice', name: 'Alice', mailAddress: 'alice@example.com' },
      { id: 3, userId: 'carol', name: 'Carol' },
    ],
  });
});
afterAll(async () => {
  await slack.close();
  await backlog.close();
});

async function slackError(promise: Promise<unknown>): Promise<WebAPICallResult> {
  try {
    await promise;
  } catch (error) {
    return (error as { data: WebAPICallResult }).data;
  }
  throw new Error('expected Slack to refuse');
}

describe('Block Kit as Slack enforces it', () => {
  it('refuses a button value over 2000, a confirm title over 100, two buttons of one action_id, two blocks of one block_id', async () => {
    const post = (blocks: unknown[]) =>
      client.chat.postMessage({ channel: '#security-alerts', text: 'x', blocks: blocks as never });
    const errors = await Promise.all([
      slackError(post([{ type: 'actions', elements: [button('a', { value: 'v'.repeat(2001) })] }])),
      slackError(
        post([
          {
            type: 'actions',
            elements: [
              button('a', {
                confirm: {
                  title: { type: 'plain_text', text: 't'.repeat(101) },
                  text: { type: 'plain_text', text: 'sure?' },
                  confirm: { type: 'plain_text', text: 'Yes' },
                  deny: { type: 'plain_text', text: 'No' },
                },
              }),
            ],
          },
        ]),
      ),
      slackError(post([{ type: 'actions', elements: [button('a'), button('a')] }])),
      slackError(
        post([
          { type: 'actions', block_id: 'same', elements: [button('a')] },
          { type: 'actions', block_id: 'same', elements: [button('b')] },
        ]),
      ),
    ]);

    expect(errors.map((e) => e.error)).toEqual([
      'invalid_blocks',
      'invalid_blocks',
      'invalid_blocks',
      'invalid_blocks',
    ]);
    expect(errors.map((e) => ((e as { errors?: string[] }).errors ?? [])[0])).toEqual([
      'must be a string of at most 2000 characters [json-pointer:/blocks/0/elements/0/value]',
      'must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]',
      'must be unique within the block [json-pointer:/blocks/0/elements/1/action_id]',
      'must be unique within the message [json-pointer:/blocks/1/block_id]',
    ]);
  });

  it('refuses a modal with an input but no submit button, and an input of an unknown element', async () => {
    const view = (blocks: unknown[], submit = true) => ({
      type: 'modal',
      title: { type: 'plain_text', text: 'Suppress' },
      ...(submit ? { submit: { type: 'plain_text', text: 'Go' } } : {}),
      blocks,
    });
    const input = (element: Record<string, unknown>) => ({
      type: 'input',
      block_id: 'reason',
      label: { type: 'plain_text', text: 'Why' },
      element,
    });
    const errors = await Promise.all([
      slackError(
        client.views.open({
          trigger_id: slack.issueTriggerId(),
          view: view([input({ type: 'plain_text_input', action_id: 'r' })], false) as never,
        }),
      ),
      slackError(
        client.views.open({
          trigger_id: slack.issueTriggerId(),
          view: view([input({ type: 'magic', action_id: 'r' })]) as never,
        }),
      ),
    ]);
    expect(errors.map((e) => e.response_metadata?.messages)).toEqual([
      [
        '[ERROR] must provide a submit property when any input blocks are present [json-pointer:/view/submit]',
      ],
      ['[ERROR] must be a valid enum value [json-pointer:/view/blocks/0/element/type]'],
    ]);
  });
});

describe('interactions, as Slack sends them', () => {
  it('builds a click from a posted message: the button, who, where, a trigger views.open accepts once', async () => {
    const posted = await client.chat.postMessage({
      channel: '#security-alerts',
      text: 'finding',
      blocks: [
        {
          type: 'actions',
          block_id: 'shn-actions',
          elements: [button('finding.acknowledge', { value: 'arn:x|1' })],
        },
      ] as never,
    });

    const click = slack.clickButton({
      channel: '#security-alerts',
      ts: posted.ts as string,
      actionId: 'finding.acknowledge',
      user: 'U0ALICE',
    });

    expect(click.payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice' },
      container: { type: 'message', message_ts: posted.ts, channel_id: posted.channel },
      channel: { id: posted.channel, name: 'security-alerts' },
      actions: [
        { action_id: 'finding.acknowledge', block_id: 'shn-actions', value: 'arn:x|1', type: 'button' },
      ],
    });
    expect(click.body).toBe(new URLSearchParams({ payload: JSON.stringify(click.payload) }).toString());
    const view = { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } as never;
    await client.views.open({ trigger_id: click.payload.trigger_id as string, view });
    expect(
      (await slackError(client.views.open({ trigger_id: click.payload.trigger_id as string, view }))).error,
    ).toBe('exchanged_trigger_id');
    expect(() =>
      slack.clickButton({
        channel: '#security-alerts',
        ts: posted.ts as string,
        actionId: 'finding.acknowledge',
        user: 'U0BOB',
      }),
    ).toThrow(/U0BOB is not in security-alerts/);
    expect(() =>
      slack.clickButton({
        channel: '#security-alerts',
        ts: posted.ts as string,
        actionId: 'nope',
        user: 'U0ALICE',
      }),
    ).toThrow(/has no button nope/);
  });

  it('builds a submission from an opened modal (text and date inputs), refusing an empty required input', async () => {
    const opened = await client.views.open({
      trigger_id: slack.issueTriggerId(),
      view: {
        type: 'modal',
        callback_id: 'finding.suppress',
        private_metadata: 'meta',
        title: { type: 'plain_text', text: 'Suppress' },
        submit: { type: 'plain_text', text: 'Go' },
        blocks: [
          {
            type: 'input',
            block_id: 'reason',
            label: { type: 'plain_text', text: 'Why' },
            element: { type: 'plain_text_input', action_id: 'reason' },
          },
          {
            type: 'input',
            block_id: 'until',
            optional: true,
            label: { type: 'plain_text', text: 'Until' },
            element: { type: 'datepicker', action_id: 'until' },
          },
        ],
      } as never,
    });
    const id = opened.view?.id as string;

    const submitted = slack.submitView(id, {
      user: 'U0ALICE',
      values: { reason: 'accepted', until: '2030-02-01' },
    });

    expect(submitted.payload).toMatchObject({
      type: 'view_submission',
      user: { id: 'U0ALICE' },
      view: {
        id,
        callback_id: 'finding.suppress',
        private_metadata: 'meta',
        state: {
          values: {
            reason: { reason: { type: 'plain_text_input', value: 'accepted' } },
            until: { until: { type: 'datepicker', selected_date: '2030-02-01' } },
          },
        },
      },
    });
    expect(() => slack.submitView(id, { user: 'U0ALICE', values: { until: '2030-02-01' } })).toThrow(
      /the required input reason is empty/,
    );
  });

  it('signs a request as Slack does: the endpoint verifies it, and not a changed one', () => {
    const body = 'payload=%7B%7D';
    const headers = signSlackRequest(body, 'secret-0123456789abcdef', 1_893_931_200);
    const now = new Date(1_893_931_200_000);
    expect(verifySlackSignature(headers, body, 'secret-0123456789abcdef', now)).toBe(true);
    expect(verifySlackSignature(headers, `${body} `, 'secret-0123456789abcdef', now)).toBe(false);
  });
});

describe("Backlog's users", () => {
  const api = (path: string, init?: RequestInit) =>
    fetch(`${backlog.url}/api/v2${path}?apiKey=${backlog.apiKey}`, init);

  it("lists a project's users with their mail addresses, and assigns an issue to any of them, not to a stranger", async () => {
    const users = (await (await api('/projects/SEC/users')).json()) as Array<{
      id: number;
      mailAddress?: string;
    }>;
    expect(users.map((user) => [user.id, user.mailAddress])).toEqual([
      [1, 'securityhub-notifier@example.com'],
      [2, 'alice@example.com'],
      [3, undefined],
    ]);
    const project = backlog.projects[0];
    const created = await api('/issues', {
      method: 'POST',
      body: new URLSearchParams({
        projectId: String(project?.id),
        summary: 's',
        issueTypeId: String(project?.issueTypes[0]?.id),
        priorityId: '3',
      }),
    });
    const { issueKey } = (await created.json()) as { issueKey: string };
    const assign = (assigneeId: number) =>
      api(`/issues/${issueKey}`, {
        method: 'PATCH',
        body: new URLSearchParams({ assigneeId: String(assigneeId), statusId: '2' }),
      });

    const assigned = (await (await assign(2)).json()) as {
      assignee: { name: string };
      status: { name: string };
    };
    expect([assigned.assignee.name, assigned.status.name]).toEqual(['Alice', 'In Progress']);
    expect((await assign(99)).status).toBe(400);
  });
});
