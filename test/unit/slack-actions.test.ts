import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicy } from '../../src/config/policy-file.js';
import { buildDelivery, type Route } from '../../src/domain/delivery/delivery.js';
import { expiredNote, suppressedNote } from '../../src/domain/delivery/slack-action-audit.js';
import type { Finding } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { DEFAULT_SLACK_ACTIONS, slackActionsOf } from '../../src/domain/policy/slack-actions.js';
import {
  ACKNOWLEDGED_BLOCK_ID,
  ACTIONS_BLOCK_ID,
  LINK_ACTION_IDS,
  REASON_BLOCK_ID,
  withAcknowledgement,
  withFindingActions,
  withSlackClose,
} from '../../src/domain/slack/actions.js';
import type { SlackMessage } from '../../src/domain/slack/blocks.js';
import { buildSlackDeliveryMessage } from '../../src/domain/slack/delivery-message.js';
import { parseInteraction, readSuppressForm } from '../../src/domain/slack/interaction.js';
import { withLifecycleLook } from '../../src/domain/slack/lifecycle-message.js';
import { loadEvent } from '../helpers/events.js';
import { loadFixture } from '../helpers/fixtures.js';
import { controlFindings, groupDelivery } from '../helpers/groups.js';
import { UNESCAPED } from '../helpers/markup.js';
import { actionButtons, buttons, expectWithinSlackLimits, mrkdwnTexts } from '../helpers/slack.js';

const NORMALIZE = { eventId: 'test', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };
const CONTROL = normalizeFinding(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0], NORMALIZE);
const GUARDDUTY = normalizeFinding(loadEvent('guardduty-ssh-bruteforce.json').detail.findings[0], NORMALIZE);
const HOSTILE = normalizeFinding(loadFixture<unknown>('findings/hostile.json'), NORMALIZE);
const ON_CALL: Route = {
  name: 'prod',
  slackChannel: '#sec-prod',
  slackMentions: ['U0ALICE', 'S0ONCALL'],
  backlog: { projectKey: 'SEC', issueTypeName: 'Task' },
};
/** Every live mention or link (`<@…>`, `<!…>`, `<#…>`, `<http…>`) in the message's mrkdwn. */
const liveMarkup = (message: SlackMessage) =>
  mrkdwnTexts(message).flatMap((text) => [...text.matchAll(/<[^>]*>/g)].map((match) => match[0]));

describe('the action buttons', () => {
  it('go on every top-level message: acknowledge and suppress, resolve only without a compliance check', () => {
    const control = buildSlackDeliveryMessage(buildDelivery(CONTROL, 'new'), {});
    const guardDuty = buildSlackDeliveryMessage(buildDelivery(GUARDDUTY, 'new'), {});
    const group = groupDelivery(controlFindings(3));

    expect(actionButtons(control).map((b) => [b.action_id, b.value])).toEqual([
      ['finding.acknowledge', CONTROL.key],
      ['finding.suppress', CONTROL.key],
    ]);
    expect(actionButtons(guardDuty).map((b) => b.action_id)).toEqual([
      'finding.acknowledge',
      'finding.suppress',
      'finding.resolve',
    ]);
    expect(actionButtons(guardDuty).at(-1)?.confirm?.title.text).toBe('Resolve the finding?');
    expect(actionButtons(buildSlackDeliveryMessage(group, {})).map((b) => b.value)).toEqual([
      'group|123456789012|CloudTrail.2',
      'group|123456789012|CloudTrail.2',
    ]);
    for (const message of [control, guardDuty]) {
      expect(message.blocks.at(-1)).toMatchObject({ type: 'actions', block_id: ACTIONS_BLOCK_ID });
      expectWithinSlackLimits(message);
    }
  });

  it('go on no reply (a reopen, a storm append) and on no delivery whose key is longer than a button value', () => {
    const reopen = buildSlackDeliveryMessage(buildDelivery(CONTROL, 'reopen'), {});
    const append = buildSlackDeliveryMessage(
      groupDelivery(controlFindings(2), 'append', { previousCount: 3 }),
      {},
    );
    const long = buildDelivery(
      { ...GUARDDUTY, key: `${GUARDDUTY.key}${'x'.repeat(2000)}` } as Finding,
      'new',
    );

    expect(actionButtons(reopen)).toEqual([]);
    expect(actionButtons(append)).toEqual([]);
    expect(actionButtons(buildSlackDeliveryMessage(long, {}))).toEqual([]);
  });

  it('keep the message within 50 blocks, the links last in the attachment', () => {
    const many = groupDelivery(controlFindings(60));
    const message = withFindingActions(buildSlackDeliveryMessage({ ...many, mode: 'append' }, {}), {
      ...many,
      mode: 'new',
    });
    expectWithinSlackLimits(message);
  });

  it('leave every link button answerable: its action_id is one the endpoint knows (200, nothing done)', () => {
    const corpus = Object.values(
      loadFixture<Record<string, { finding?: Finding }>>('findings/corpus-normalized.json'),
    )
      .map((entry) => entry.finding)
      .filter((finding) => finding !== undefined);
    expect(corpus.length).toBeGreaterThan(100);
    const ids = new Set(
      corpus.flatMap((finding) =>
        buttons(
          buildSlackDeliveryMessage(buildDelivery(finding, 'new'), {
            issue: { key: 'SEC-1', url: 'https://example.backlog.com/view/SEC-1' },
          }),
        ).map((b) => b.action_id),
      ),
    );
    expect(ids.size).toBeGreaterThan(2);
    for (const id of ids) expect(LINK_ACTION_IDS.has(id), id).toBe(true);
  });
});

describe('on-call mentions', () => {
  it("mention the route's users and user groups on a CRITICAL finding: the only live mentions, the finding's text escaped", () => {
    const critical = buildSlackDeliveryMessage(buildDelivery(HOSTILE, 'new', { route: ON_CALL }), {});

    expect(HOSTILE.severity).toBe('CRITICAL');
    expect(liveMarkup(critical)).toEqual(['<@U0ALICE>', '<!subteam^S0ONCALL>']);
    const others = mrkdwnTexts(critical).filter((text) => !text.startsWith('🚨 *On call*'));
    for (const text of others) expect(text).not.toMatch(UNESCAPED);
    expect(JSON.stringify(critical)).toContain('&lt;!channel&gt;');
  });

  it('mention nobody below CRITICAL, nor when the route names nobody', () => {
    const high = buildSlackDeliveryMessage(buildDelivery(GUARDDUTY, 'new', { route: ON_CALL }), {});
    const unnamed = buildSlackDeliveryMessage(
      buildDelivery(HOSTILE, 'new', { route: { ...ON_CALL, slackMentions: [] } }),
      {},
    );
    expect(liveMarkup(high)).toEqual([]);
    expect(liveMarkup(unnamed)).toEqual([]);
  });
});

describe('the lines a message gains', () => {
  const message = () => buildSlackDeliveryMessage(buildDelivery(CONTROL, 'new'), {});

  it('acknowledged: one line (replaced by the next acknowledgement), right before the buttons, escaped', () => {
    const once = withAcknowledgement(message(), { by: '<!channel> *Mallory*', at: '2030-01-06T00:00:00Z' });
    const twice = withAcknowledgement(once, {
      by: 'Alice',
      at: '2030-01-07T00:00:00Z',
      assignee: 'Alice <b>',
    });

    const lines = (twice.blocks ?? []).filter(
      (b) => (b as { block_id?: string }).block_id === ACKNOWLEDGED_BLOCK_ID,
    );
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).toContain(
      '👀 *Acknowledged* by Alice at 2030-01-07T00:00:00Z; assigned to Alice &lt;b&gt; in Backlog',
    );
    expect(JSON.stringify(once)).toContain('&lt;!channel&gt; ∗Mallory∗');
    expect((twice.blocks ?? []).at(-1)).toMatchObject({ block_id: ACTIONS_BLOCK_ID });
  });

  it('suppressed from Slack: the lifecycle look and the reason, both gone when the finding reopens', () => {
    const reason = {
      kind: 'suppressed' as const,
      at: '2030-01-06T00:00:00Z',
      by: 'Alice',
      via: 'Slack',
      note: '<!here> accepted',
      until: '2030-02-01',
    };
    const closed = withSlackClose(message(), reason);
    const reopened = withLifecycleLook(closed, undefined, '#E0481F');

    expect(closed.text).toMatch(/^🔕 Suppressed: /);
    const texts = JSON.stringify(closed.blocks);
    expect(texts).toContain('suppressed from Slack by Alice at 2030-01-06T00:00:00Z until 2030-02-01');
    expect(texts).toContain('*Reason* (Alice): &lt;!here&gt; accepted');
    expect(JSON.stringify(reopened.blocks)).not.toContain(REASON_BLOCK_ID);
    expect(JSON.stringify(reopened.blocks)).not.toContain('Suppressed');
    expect(reopened.blocks).toEqual(message().blocks);
  });
});

describe('interaction payloads', () => {
  const body = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const click = (action: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    body({
      type: 'block_actions',
      user: { id: 'U0ALICE', name: 'alice' },
      trigger_id: '1.2.a',
      container: { type: 'message', message_ts: '1.000100', channel_id: 'C0SEC' },
      actions: [{ type: 'button', action_ts: '2.5', ...action }],
      ...extra,
    });

  it('reads a click on a finding button, a link button, and names what is wrong with anything else', () => {
    expect(parseInteraction(click({ action_id: 'finding.suppress', value: 'k' }))).toEqual({
      ok: true,
      interaction: {
        kind: 'button',
        action: 'suppress',
        user: { id: 'U0ALICE', name: 'alice' },
        target: { ledgerKey: 'k', channel: 'C0SEC', messageTs: '1.000100' },
        actionTs: '2.5',
        triggerId: '1.2.a',
      },
    });
    expect(parseInteraction(click({ action_id: 'open-security-hub' }))).toEqual({
      ok: true,
      interaction: { kind: 'link', actionId: 'open-security-hub' },
    });
    const problems = [
      click({ action_id: 'finding.delete', value: 'k' }),
      click({ action_id: 'finding.resolve' }),
      click({ action_id: 'finding.resolve', value: 'k' }, { container: { type: 'view', view_id: 'V1' } }),
      click({ action_id: 'finding.resolve', value: 'k' }, { user: { id: 'not-a-user' } }),
      body({ type: 'message_action' }),
      'payload=%7B',
      'nothing=here',
    ].map((text) => {
      const parsed = parseInteraction(text);
      return parsed.ok ? 'accepted' : parsed.problem;
    });
    expect(problems).toEqual([
      'unknown action "finding.delete"',
      'action finding.resolve: not a button of a channel message',
      'action finding.resolve: not a button of a channel message',
      'payload.user.id: not a Slack user id',
      'payload.type: "message_action" is not handled',
      'payload: not JSON',
      'body: no payload field',
    ]);
  });

  it('reads the suppress modal submission; another callback or a forged metadata is refused', () => {
    const submission = (callback: string, metadata: string) =>
      body({
        type: 'view_submission',
        user: { id: 'U0ALICE', name: 'alice' },
        view: {
          id: 'V0000001',
          callback_id: callback,
          private_metadata: metadata,
          state: {
            values: {
              reason: { reason: { type: 'plain_text_input', value: 'why' } },
              until: { until: { type: 'datepicker', selected_date: null } },
            },
          },
        },
      });
    const metadata = JSON.stringify({ k: 'arn:x|1', c: 'C0SEC', t: '1.000100' });

    expect(parseInteraction(submission('finding.suppress', metadata))).toMatchObject({
      ok: true,
      interaction: {
        kind: 'submission',
        viewId: 'V0000001',
        target: { ledgerKey: 'arn:x|1', channel: 'C0SEC', messageTs: '1.000100' },
        values: { reason: { reason: 'why' }, until: { until: undefined } },
      },
    });
    expect(parseInteraction(submission('finding.other', metadata))).toEqual({
      ok: false,
      problem: 'unknown callback "finding.other"',
    });
    expect(parseInteraction(submission('finding.suppress', '{"k":"x"}'))).toMatchObject({ ok: false });
  });

  it('checks the suppress form: a reason, an expiry after today and within a year', () => {
    const form = (reason: string | undefined, until?: string) =>
      readSuppressForm({ reason: { reason }, until: { until } }, '2030-01-06');

    expect(form(' accepted ', '2030-01-07')).toEqual({ ok: true, reason: 'accepted', until: '2030-01-07' });
    expect(form('accepted')).toEqual({ ok: true, reason: 'accepted' });
    expect(form('  ')).toEqual({ ok: false, errors: { reason: 'Say why the findings are suppressed.' } });
    expect(form('x'.repeat(501))).toMatchObject({ ok: false, errors: { reason: 'At most 500 characters.' } });
    expect(form('a', '2030-01-06')).toEqual({ ok: false, errors: { until: 'Choose a day after today.' } });
    expect(form('a', '2030-02-30')).toEqual({ ok: false, errors: { until: 'Not a date.' } });
    expect(form('a', '2031-01-08')).toEqual({ ok: false, errors: { until: 'At most 366 days from today.' } });
  });
});

describe('the notes', () => {
  it('keep "Suppressed from Slack by …: reason (until …)" within 512 characters, the expiry kept', () => {
    const note = suppressedNote('Alice\u202E', `${'long reason '.repeat(80)}\nend`, '2030-02-01');
    expect(note.length).toBeLessThanOrEqual(512);
    expect(note).toMatch(/^Suppressed from Slack by Alice: long reason .*… \(until 2030-02-01\)$/);
    expect(suppressedNote('Bob', 'short')).toBe('Suppressed from Slack by Bob: short');
    expect(expiredNote('2030-02-01', 'Alice')).toBe(
      'The suppression from Slack by Alice expired on 2030-02-01: set back to NEW by securityhub-notifier.',
    );
  });
});

describe('the policy: who may act from Slack, and on-call mentions', () => {
  const DEFAULTS = {
    minSeverity: 'HIGH',
    slackChannel: '#sec',
    backlogProjectKey: 'SEC',
    backlogIssueType: 'Task',
  } as const;
  const parse = (yaml: string) => parsePolicy(`version: 1\n${yaml}`, 'policy.yml', DEFAULTS);
  const problems = (yaml: string) => {
    try {
      parse(yaml);
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      return (error as PolicyError).message.split('\n');
    }
    throw new Error('expected the policy to be rejected');
  };

  it('lets anyone acknowledge and nobody suppress or resolve unless it says otherwise', () => {
    expect(slackActionsOf(parse(''))).toEqual(DEFAULT_SLACK_ACTIONS);
    const policy = parse(
      [
        'slackActions:',
        '  acknowledge: { userGroups: [S0SECOPS] }',
        '  suppress: { users: [U0ALICE], userGroups: [S0SECOPS] }',
        '  resolve: anyone',
        '  backlogUsers: { U0BOB: 12345 }',
        'routes:',
        '  - name: prod',
        '    match: { account: "111111111111" }',
        '    slack: { channel: "#sec-prod", onCall: [U0ALICE, S0ONCALL] }',
        'default:',
        '  slack: { onCall: W0ENTERPRISE }',
      ].join('\n'),
    );
    expect(slackActionsOf(policy)).toEqual({
      rules: {
        acknowledge: { anyone: false, users: [], userGroups: ['S0SECOPS'] },
        suppress: { anyone: false, users: ['U0ALICE'], userGroups: ['S0SECOPS'] },
        resolve: { anyone: true, users: [], userGroups: [] },
      },
      backlogUsers: { U0BOB: 12345 },
    });
    expect(policy.routes[0]?.route.slackMentions).toEqual(['U0ALICE', 'S0ONCALL']);
    expect(policy.defaultRoute.slackMentions).toEqual(['W0ENTERPRISE']);
  });

  it('names each wrong setting: an id that is not a user or user group, an empty rule, an unknown action', () => {
    expect(
      problems(
        [
          'slackActions:',
          '  suppress: { users: [alice] }',
          '  resolve: {}',
          '  delete: anyone',
          'default:',
          '  slack: { onCall: ["<!channel>"] }',
        ].join('\n'),
      ),
    ).toEqual([
      expect.stringMatching(
        /^policy\.yml:3:23: slackActions\.suppress\.users\[0\]: a Slack user id \(U0123ABCD\)/,
      ),
      expect.stringMatching(/^policy\.yml:4:12: slackActions\.resolve: /),
      expect.stringMatching(/^policy\.yml:5:3: slackActions\.delete: unknown setting "delete"/),
      expect.stringMatching(
        /^policy\.yml:7:21: default\.slack\.onCall\[0\]: a Slack user id \(U0123ABCD\) or user group id/,
      ),
    ]);
  });
});
