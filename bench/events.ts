import { type ImportedEvent, loadEvent, stormEvents, withFinding } from '../test/helpers/events.js';

export { stormEvents };

/** The storm shape of test/integration/storm.test.ts: 3 controls x 2 accounts. */
export const STORM_CONTROLS = ['S3.8', 'S3.2', 'EC2.19'];
export const STORM_ACCOUNTS = ['111111111111', '222222222222'];

export function storm(count: number): ImportedEvent[] {
  return stormEvents(count, STORM_CONTROLS, STORM_ACCOUNTS);
}

/**
 * `count` GuardDuty findings that nothing can group or consolidate: each has its own finding type
 * (the GuardDuty group label), its own id and instance, spread over the two storm accounts; each is
 * its own event, as Security Hub sends them.
 */
export function distinct(count: number): ImportedEvent[] {
  const base = loadEvent('guardduty-ssh-bruteforce.json');
  return Array.from({ length: count }, (_, index) => {
    const account = STORM_ACCOUNTS[index % STORM_ACCOUNTS.length] as string;
    const suffix = index.toString().padStart(6, '0');
    const event = withFinding(
      base,
      (finding) => {
        finding.Id = `arn:aws:guardduty:us-east-1:${account}:detector/d4b040365221be2b54a6264dc9a4bc64/finding/bench${suffix}`;
        finding.AwsAccountId = account;
        finding.GeneratorId = `arn:aws:guardduty:us-east-1:${account}:detector/d4b040365221be2b54a6264dc9a4bc64`;
        finding.Types = [`TTPs/Initial Access/UnauthorizedAccess:EC2-Bench${suffix}`];
        finding.Title = `Bench finding ${suffix}: 198.51.100.${index % 256} probes i-${suffix}`;
        finding.Severity = { Label: 'HIGH', Normalized: 70 };
        finding.Resources = [
          {
            Type: 'AwsEc2Instance',
            Id: `arn:aws:ec2:us-east-1:${account}:instance/i-bench${suffix}`,
            Partition: 'aws',
            Region: 'us-east-1',
          },
        ];
      },
      `distinct-event-${index}`,
    );
    event.account = account;
    return event;
  });
}
