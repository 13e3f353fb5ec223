import { asffProductArn } from '../../src/domain/finding/finding.js';
import { toAsffResourceType } from '../../src/domain/finding/resource-type.js';
import type { ImportedEvent } from './events.js';
import { loadFixture } from './fixtures.js';

type Json = Record<string, unknown>;

/** An OCSF finding of the new Security Hub from `test/fixtures/third-party/ocsf/` (a whole event's first finding, or the finding). */
export function loadOcsf(name: string): Json {
  const raw = loadFixture<Json>(`third-party/ocsf/${name}`);
  const detail = raw.detail as { findings?: Json[] } | undefined;
  return structuredClone(detail?.findings?.[0] ?? raw);
}

/** The EventBridge event the new Security Hub sends for one finding ("Findings Imported V2"). */
export function ocsfEvent(finding: Json, id = `v2-${String((finding.metadata as Json).uid)}`): ImportedEvent {
  const cloud = finding.cloud as { account?: { uid?: string }; region?: string };
  return {
    version: '0',
    id,
    'detail-type': 'Findings Imported V2',
    source: 'aws.securityhub',
    account: cloud.account?.uid ?? '123456789012',
    time: String((finding.finding_info as Json).modified_time_dt ?? '2025-01-01T00:00:00Z'),
    region: cloud.region ?? 'us-east-1',
    resources: [String((finding.metadata as Json).uid)],
    detail: { findings: [finding] },
  };
}

const SEVERITY: Record<string, string> = {
  Informational: 'INFORMATIONAL',
  Low: 'LOW',
  Medium: 'MEDIUM',
  High: 'HIGH',
  Critical: 'CRITICAL',
  Fatal: 'CRITICAL',
};
const COMPLIANCE: Record<string, string> = { Pass: 'PASSED', Warning: 'WARNING', Fail: 'FAILED' };

/**
 * The same finding as Security Hub CSPM reports it (ASFF): for AWS services the `Id` is the OCSF
 * `finding_info.uid` and `product/aws/x` is `productv2/aws/x`.
 */
export function asffTwin(ocsf: Json): Json {
  const info = ocsf.finding_info as Json;
  const product = ocsf.metadata as { product: { uid: string } };
  const cloud = ocsf.cloud as { account: { uid: string }; region: string };
  const compliance = ocsf.compliance as { status?: string; control?: string } | undefined;
  const resources = ((ocsf.resources as Json[] | undefined) ?? []).map((resource) => ({
    Type: toAsffResourceType(String(resource.type ?? 'Other')),
    Id: String(resource.uid ?? resource.uid_alt ?? resource.name ?? 'unknown'),
    Region: String(resource.region ?? cloud.region),
  }));
  return {
    SchemaVersion: '2018-10-08',
    Id: info.uid,
    ProductArn: asffProductArn(product.product.uid),
    GeneratorId: String((info.analytic as Json | undefined)?.name ?? 'generator'),
    AwsAccountId: cloud.account.uid,
    Region: cloud.region,
    Types: info.types ?? [],
    CreatedAt: info.created_time_dt,
    UpdatedAt: info.modified_time_dt,
    Severity: { Label: SEVERITY[String(ocsf.severity)] ?? 'INFORMATIONAL' },
    Title: info.title,
    Description: info.desc ?? info.title,
    Resources: resources.length > 0 ? resources : [{ Type: 'Other', Id: 'unknown', Region: cloud.region }],
    ...(compliance?.status
      ? {
          Compliance: {
            Status: COMPLIANCE[compliance.status] ?? 'NOT_AVAILABLE',
            ...(compliance.control ? { SecurityControlId: compliance.control } : {}),
          },
        }
      : {}),
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
  };
}

/** An ASFF finding wrapped in CSPM's Imported event. */
export function asffEvent(finding: Json, id = `asff-${String(finding.Id).slice(-40)}`): ImportedEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: String(finding.AwsAccountId),
    time: String(finding.UpdatedAt),
    region: String(finding.Region ?? 'us-east-1'),
    resources: [],
    detail: { findings: [finding] },
  };
}
