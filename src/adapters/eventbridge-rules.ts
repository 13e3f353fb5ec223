import { DescribeRuleCommand, type EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import type { RuleInspector } from '../app/health-ports.js';

/**
 * The stack's findings rule on the default bus. CloudFormation names it `<stack>-FindingsRule-<suffix>`
 * (the template gives it no name), so it is found by that prefix, then described.
 */
export class EventBridgeRules implements RuleInspector {
  constructor(private readonly client: Pick<EventBridgeClient, 'send'>) {}

  async findingsRule(stack: string): Promise<{ name: string; state: string; pattern: unknown } | undefined> {
    const listed = await this.client.send(
      new ListRulesCommand({ NamePrefix: `${stack}-FindingsRule-`, EventBusName: 'default' }),
    );
    const name = listed.Rules?.[0]?.Name;
    if (!name) return undefined;
    const rule = await this.client.send(new DescribeRuleCommand({ Name: name, EventBusName: 'default' }));
    return {
      name,
      state: rule.State ?? 'UNKNOWN',
      pattern: rule.EventPattern ? (JSON.parse(rule.EventPattern) as unknown) : undefined,
    };
  }
}
