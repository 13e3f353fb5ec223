import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesEventPattern } from '../../domain/finding/event-pattern.js';
import { readText, sendJson, startHttpServer } from './http-server.js';

/** A rule on the default bus: its pattern, whether it is enabled, and where it delivers locally. */
export interface LocalRule {
  name: string;
  pattern: Record<string, unknown>;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  /** Where a matching event goes (the local pipeline); none: the event is only counted. */
  target?: (event: unknown) => void;
}

export interface EventBridgeEmulator {
  /** The client's `endpoint` (or AWS_ENDPOINT_URL_EVENTBRIDGE): `http://127.0.0.1:PORT`. */
  url: string;
  rules: Map<string, LocalRule>;
  /** Every API request, by operation (`DescribeRule`, `ListRules`, ...). */
  calls: Array<{ operation: string; body: unknown }>;
  /** Create or replace a rule (a changed pattern, a state); its target is kept unless given. */
  putRule(rule: Omit<LocalRule, 'target'> & { target?: LocalRule['target'] }): void;
  /** An event on the bus: delivered to every enabled rule it matches; how many matched. */
  publish(event: unknown): number;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * EventBridge on 127.0.0.1: the API a workstation reads rules with (AWS JSON 1.1: `ListRules`,
 * `DescribeRule`, `EnableRule`, `DisableRule`), and the bus itself in process: `publish` delivers an
 * event to the target of every enabled rule whose pattern matches (the domain's pattern matcher).
 */
export async function startEventBridgeEmulator(
  options: { rules?: LocalRule[]; region?: string } = {},
): Promise<EventBridgeEmulator> {
  const region = options.region ?? 'us-east-1';
  const rules = new Map<string, LocalRule>((options.rules ?? []).map((rule) => [rule.name, rule]));
  const calls: Array<{ operation: string; body: unknown }> = [];
  const arnOf = (name: string) => `arn:aws:events:${region}:${ACCOUNT}:rule/${name}`;
  const wire = (rule: LocalRule) => ({
    Name: rule.name,
    Arn: arnOf(rule.name),
    EventPattern: JSON.stringify(rule.pattern),
    State: rule.state,
    ...(rule.description ? { Description: rule.description } : {}),
    EventBusName: 'default',
  });
  const named = (body: Record<string, unknown>) => {
    const rule = rules.get(String(body.Name ?? ''));
    if (!rule) throw new AwsError('ResourceNotFoundException', `Rule ${String(body.Name)} does not exist.`);
    return rule;
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    DescribeRule: (body) => wire(named(body)),
    ListRules: (body) => {
      const prefix = typeof body.NamePrefix === 'string' ? body.NamePrefix : '';
      const matching = [...rules.values()].filter((rule) => rule.name.startsWith(prefix));
      return { Rules: matching.map(wire) };
    },
    EnableRule: (body) => {
      named(body).state = 'ENABLED';
      return {};
    },
    DisableRule: (body) => {
      named(body).state = 'DISABLED';
      return {};
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AWSEvents\./, '');
    const text = await readText(req);
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    calls.push({ operation, body });
    const fail = (error: AwsError, status = 400) =>
      sendJson(
        res,
        status,
        { __type: error.code, message: error.message },
        { 'x-amzn-errortype': error.code },
      );
    if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) {
      return fail(new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token'), 403);
    }
    const run = operations[operation];
    if (!run) return fail(new AwsError('UnknownOperationException', `No operation ${operation}`));
    try {
      sendJson(res, 200, run(body), { 'content-type': 'application/x-amz-json-1.1' });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      fail(error);
    }
  };

  const server = await startHttpServer(handle);
  return {
    url: server.origin,
    rules,
    calls,
    putRule: (rule) => {
      const target = rule.target ?? rules.get(rule.name)?.target;
      rules.set(rule.name, { ...rule, ...(target ? { target } : {}) });
    },
    publish: (event) => {
      const delivered = { ...(event as Record<string, unknown>) };
      delivered.id ??= randomUUID();
      let matched = 0;
      for (const rule of rules.values()) {
        if (rule.state !== 'ENABLED' || !matchesEventPattern(delivered, rule.pattern)) continue;
        matched += 1;
        rule.target?.(delivered);
      }
      return matched;
    },
    close: server.close,
  };
}
