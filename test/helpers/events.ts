import { loadFixture } from './fixtures.js';

export interface ImportedEvent {
  id: string;
  source: string;
  'detail-type': string;
  region: string;
  account: string;
  time: string;
  detail: { findings: Array<Record<string, unknown>> };
  [key: string]: unknown;
}

/** Wrap bare ASFF findings (as GetFindings returns them) in an Imported EventBridge event. */
export function wrapFindings(findings: Array<Record<string, unknown>>, id = 'test-event'): ImportedEvent {
  const first = findings[0] ?? {};
  return {
    version: '0',
    id,
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: String(first.AwsAccountId ?? '123456789012'),
    time: String(first.UpdatedAt ?? '2024-01-01T00:00:00Z'),
    region: String(first.Region ?? 'us-east-1'),
    resources: [],
    detail: { findings },
  };
}

export function loadEvent(name: string): ImportedEvent {
  return loadFixture<ImportedEvent>(`events/${name}`);
}

export function loadThirdParty(name: string): ImportedEvent {
  return wrapFindings(
    loadFixture<Array<Record<string, unknown>>>(`third-party/${name}`),
    `third-party-${name}`,
  );
}

/** A deep copy with the first finding changed by `change`. */
export function withFinding(
  event: ImportedEvent,
  change: (finding: Record<string, unknown>) => void,
  id?: string,
) {
  const copy = structuredClone(event);
  if (id) copy.id = id;
  const finding = copy.detail.findings[0];
  if (finding) change(finding);
  return copy;
}

/** `count` distinct control findings (CloudTrail.2 on different trails), each its own event. */
export function controlFindingEvents(count: number, severity = 'HIGH'): ImportedEvent[] {
  const base = loadEvent('fsbp-cloudtrail-2.json');
  return Array.from({ length: count }, (_, index) =>
    withFinding(
      base,
      (finding) => {
        finding.Id = `${String(finding.Id).replace('EXAMPLE11111', '')}${index.toString().padStart(5, '0')}`;
        finding.Severity = { Label: severity };
      },
      `control-event-${index}`,
    ),
  );
}

/**
 * A storm: `count` FAILED control findings spread round-robin over `controls` × `accounts`, each
 * on its own resource, each its own event (as Security Hub sends them).
 */
export function stormEvents(count: number, controls: string[], accounts: string[]): ImportedEvent[] {
  const base = loadEvent('fsbp-cloudtrail-2.json');
  return Array.from({ length: count }, (_, index) => {
    const control = controls[index % controls.length] as string;
    const account = accounts[Math.floor(index / controls.length) % accounts.length] as string;
    return withFinding(
      base,
      (finding) => {
        const id = `arn:aws:securityhub:us-east-2:${account}:subscription/aws-foundational-security-best-practices/v/1.0.0/${control}/finding/storm-${index}`;
        finding.Id = id;
        finding.AwsAccountId = account;
        finding.GeneratorId = `aws-foundational-security-best-practices/v/1.0.0/${control}`;
        finding.Title = `${control} storm control`;
        finding.Severity = { Label: 'HIGH' };
        finding.Compliance = { Status: 'FAILED', SecurityControlId: control };
        finding.ProductFields = { ControlId: control };
        finding.Resources = [
          {
            Type: 'AwsS3Bucket',
            Id: `arn:aws:s3:::storm-bucket-${index}`,
            Partition: 'aws',
            Region: 'us-east-2',
          },
        ];
      },
      `storm-event-${index}`,
    );
  });
}
