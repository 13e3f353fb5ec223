import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AcceptSlackActionPorts,
  acceptSlackAction,
  MAX_CLOCK_SKEW_SECONDS,
  type SlackRequest,
  verifySlackSignature,
} from '../../src/app/accept-slack-action.js';
import { DEFAULT_SLACK_ACTIONS } from '../../src/domain/policy/slack-actions.js';
import type { QueuedSlackAction } from '../../src/domain/slack/interaction.js';
import * as slackActions from '../../src/handlers/slack-actions.js';
import { functionUrlEvent } from '../../src/local/server.js';

/**
 * The Slack endpoint's gate: nothing reaches the use case (the queue, the modal, an ephemeral
 * message, a user group lookup) unless Slack signed the request, whatever its body and headers.
 */

const SECRET = 'the-signing-secret-0123456789abcdef';
const NOW = new Date('2030-01-06T12:00:00Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const logger = new Logger({ logLevel: 'SILENT' });
const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as never;

const payload = {
  type: 'block_actions',
  user: { id: 'U0ALICE', username: 'alice', name: 'alice' },
  trigger_id: '1.2.abc',
  container: { type: 'message', message_ts: '1893931200.000100', channel_id: 'C0SECURITY' },
  channel: { id: 'C0SECURITY' },
  actions: [
    {
      action_id: 'finding.acknowledge',
      value: 'arn:aws:securityhub:x|f-1',
      type: 'button',
      action_ts: '1893931201.5',
    },
  ],
};
const BODY = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

function sign(body: string, timestamp: number, secret = SECRET) {
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${digest}` };
}

/** Ports that record every use: only the secret, the clock and the log may be touched before the signature holds. */
function recordingPorts() {
  const reached: string[] = [];
  const queued: QueuedSlackAction[] = [];
  const ports: AcceptSlackActionPorts = {
    signingSecret: async () => SECRET,
    policy: DEFAULT_SLACK_ACTIONS,
    directory: {
      userGroupMembers: async () => {
        reached.push('usergroups');
        return [];
      },
    },
    slack: {
      openView: async () => {
        reached.push('views.open');
        return { opened: true };
      },
      postEphemeral: async () => void reached.push('chat.postEphemeral'),
    },
    queue: {
      send: async (action) => {
        reached.push('queue');
        queued.push(action);
      },
    },
    clock: { now: () => NOW },
    log: logger,
  };
  return { ports, reached, queued };
}

const request = (headers: Record<string, string>, body = BODY): SlackRequest => ({
  method: 'POST',
  path: '/slack/actions',
  headers,
  body,
});

describe('verifySlackSignature', () => {
  it('accepts what Slack signed, within 300 s either way, and nothing else', () => {
    for (const skew of [0, -MAX_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS]) {
      expect(verifySlackSignature(sign(BODY, NOW_SECONDS + skew), BODY, SECRET, NOW), `skew ${skew}`).toBe(
        true,
      );
    }
    for (const skew of [-360, 360, -MAX_CLOCK_SKEW_SECONDS - 1, MAX_CLOCK_SKEW_SECONDS + 1]) {
      expect(verifySlackSignature(sign(BODY, NOW_SECONDS + skew), BODY, SECRET, NOW), `skew ${skew}`).toBe(
        false,
      );
    }
    expect(verifySlackSignature(sign(BODY, NOW_SECONDS, 'another-secret'), BODY, SECRET, NOW)).toBe(false);
    expect(verifySlackSignature(sign(BODY, NOW_SECONDS), `${BODY}&x=1`, SECRET, NOW)).toBe(false);
    const { 'x-slack-signature': signature } = sign(BODY, NOW_SECONDS);
    expect(
      verifySlackSignature(
        { 'x-slack-request-timestamp': `${NOW_SECONDS}.0`, 'x-slack-signature': signature },
        BODY,
        SECRET,
        NOW,
      ),
    ).toBe(false);
    expect(verifySlackSignature({ 'x-slack-signature': signature }, BODY, SECRET, NOW)).toBe(false);
    expect(
      verifySlackSignature({ 'x-slack-request-timestamp': String(NOW_SECONDS) }, BODY, SECRET, NOW),
    ).toBe(false);
  });
});

describe('the Slack endpoint (properties)', () => {
  it('a signed request reaches the use case (the control the properties below rely on)', async () => {
    const { ports, reached, queued } = recordingPorts();

    const answer = await acceptSlackAction(request(sign(BODY, NOW_SECONDS)), ports);

    expect(answer).toEqual({ status: 200 });
    expect(reached).toEqual(['queue']);
    expect(queued[0]).toMatchObject({ action: 'acknowledge', user: { id: 'U0ALICE' } });
  });

  it('random bodies and headers never reach the use case unsigned: 401, nothing touched', async () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const headers = fc.record(
      {
        'x-slack-request-timestamp': fc.oneof(
          fc.integer({ min: NOW_SECONDS - 400, max: NOW_SECONDS + 400 }).map(String),
          fc.string(),
        ),
        'x-slack-signature': fc.oneof(
          hex.map((h) => `v0=${h}`),
          fc.string(),
          fc.constant(''),
        ),
        'content-type': fc.constant('application/x-www-form-urlencoded'),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string(),
      fc.constant(BODY),
      fc.string().map((s) => `payload=${encodeURIComponent(s)}`),
    );
    await fc.assert(
      fc.asyncProperty(headers, body, async (given, text) => {
        const { ports, reached } = recordingPorts();
        const answer = await acceptSlackAction(request(given, text), ports);
        expect(answer.status).toBe(401);
        expect(reached).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('a signed request changed in any one character (body, signature or timestamp) is refused', async () => {
    const headers = sign(BODY, NOW_SECONDS);
    const part = fc.constantFrom('body', 'x-slack-signature', 'x-slack-request-timestamp');
    await fc.assert(
      fc.asyncProperty(part, fc.nat(), fc.integer({ min: 33, max: 126 }), async (which, at, code) => {
        const original = which === 'body' ? BODY : headers[which as keyof typeof headers];
        const index = at % original.length;
        const changed = `${original.slice(0, index)}${String.fromCharCode(code)}${original.slice(index + 1)}`;
        fc.pre(changed !== original);
        const { ports, reached } = recordingPorts();
        const answer = await acceptSlackAction(
          which === 'body' ? request(headers, changed) : request({ ...headers, [which]: changed }),
          ports,
        );
        expect(answer.status).toBe(401);
        expect(reached).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every request while the signing secret is too short, and answers 404 off its path', async () => {
    const { ports, reached } = recordingPorts();
    const short = { ...ports, signingSecret: async () => 'short' };
    expect((await acceptSlackAction(request(sign(BODY, NOW_SECONDS, 'short')), short)).status).toBe(401);
    expect(
      (await acceptSlackAction({ ...request(sign(BODY, NOW_SECONDS)), path: '/slack/other' }, ports)).status,
    ).toBe(404);
    expect(
      (await acceptSlackAction({ ...request(sign(BODY, NOW_SECONDS)), method: 'GET' }, ports)).status,
    ).toBe(404);
    expect(reached).toEqual([]);
  });
});

describe('the slackActions handler', () => {
  function urlEvent(body: string, headers: Record<string, string>, base64: boolean): LambdaFunctionURLEvent {
    const event = functionUrlEvent({
      method: 'POST',
      path: '/slack/actions',
      rawQuery: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: Buffer.from(body),
      sourceIp: '203.0.113.9',
    });
    return base64 ? { ...event, body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : event;
  }

  it('checks the signature over the body as Slack sent it, a base64 function URL body decoded first', async () => {
    const { ports, queued } = recordingPorts();
    const handler = slackActions.makeHandler({
      logger,
      ports: () => ({ ...ports, clock: { now: () => new Date() } }),
    });
    const now = Math.floor(Date.now() / 1000);

    const plain = await handler(urlEvent(BODY, sign(BODY, now), false), context);
    const base64 = await handler(urlEvent(BODY, sign(BODY, now), true), context);
    const mixedCase = await handler(
      urlEvent(
        BODY,
        {
          'X-Slack-Signature': sign(BODY, now)['x-slack-signature'],
          'X-Slack-Request-Timestamp': String(now),
        },
        true,
      ),
      context,
    );
    const unsigned = await handler(urlEvent(BODY, {}, true), context);

    expect([plain, base64, mixedCase].map((result) => (result as { statusCode: number }).statusCode)).toEqual(
      [200, 200, 200],
    );
    expect(queued).toHaveLength(3);
    expect(unsigned).toMatchObject({ statusCode: 401 });
  });

  it('fails at cold start naming a missing signing secret, and refuses a plaintext one inside Lambda', async () => {
    const env = { POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_REGION: 'ap-northeast-1', SLACK_CHANNEL: '#sec' };
    const missing = slackActions.makeHandler(
      slackActions.defaultDeps({ ...env, SLACK_BOT_TOKEN: 'xoxb-1' }, () => ({
        send: async () => undefined,
      })),
    );
    await expect(missing(urlEvent(BODY, {}, false), context)).rejects.toThrow(
      /SLACK_SIGNING_SECRET_PARAMETER: required/,
    );
    const plaintext = slackActions.makeHandler(
      slackActions.defaultDeps(
        {
          ...env,
          AWS_LAMBDA_FUNCTION_NAME: 'under-test',
          SLACK_SIGNING_SECRET: SECRET,
          SLACK_BOT_TOKEN_PARAMETER: '/p',
        },
        () => ({ send: async () => undefined }),
      ),
    );
    await expect(plaintext(urlEvent(BODY, {}, false), context)).rejects.toThrow(
      /SLACK_SIGNING_SECRET: a plaintext secret is not allowed in a Lambda environment/,
    );
  });
});
