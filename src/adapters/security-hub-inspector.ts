import {
  DescribeHubCommand,
  GetFindingAggregatorCommand,
  ListFindingAggregatorsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { SecurityHubInspector } from '../app/health-ports.js';
import { securityHubError } from './security-hub.js';

/** Security Hub's own configuration in the client's region: enabled or not, and its aggregator. */
export class SecurityHubConfigInspector implements SecurityHubInspector {
  constructor(private readonly client: Pick<SecurityHubClient, 'send'>) {}

  async hub(): Promise<{ enabled: true; hubArn: string } | { enabled: false; reason: string }> {
    try {
      const result = await this.client.send(new DescribeHubCommand({}));
      return { enabled: true, hubArn: result.HubArn ?? '' };
    } catch (error) {
      const name = (error as Error).name;
      // Not subscribed: InvalidAccessException; no hub resource: ResourceNotFoundException.
      if (name === 'InvalidAccessException' || name === 'ResourceNotFoundException') {
        return { enabled: false, reason: `${name}: ${(error as Error).message}` };
      }
      throw securityHubError('DescribeHub', error);
    }
  }

  async aggregator(): Promise<{ arn: string; region: string; mode: string; regions: string[] } | undefined> {
    const send = async <T>(operation: string, call: () => Promise<T>) => {
      try {
        return await call();
      } catch (error) {
        throw securityHubError(operation, error);
      }
    };
    const listed = await send('ListFindingAggregators', () =>
      this.client.send(new ListFindingAggregatorsCommand({})),
    );
    const arn = listed.FindingAggregators?.[0]?.FindingAggregatorArn;
    if (!arn) return undefined;
    const found = await send('GetFindingAggregator', () =>
      this.client.send(new GetFindingAggregatorCommand({ FindingAggregatorArn: arn })),
    );
    return {
      arn,
      region: found.FindingAggregationRegion ?? '',
      mode: found.RegionLinkingMode ?? '',
      regions: found.Regions ?? [],
    };
  }
}
