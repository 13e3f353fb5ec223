import type { SeverityLabel } from './severity.js';

/** Which product raised a finding; everything not AWS-native listed here is `Other`. */
export type Product = 'GuardDuty' | 'SecurityHub' | 'Inspector' | 'Macie' | 'Other';

/** The pair that identifies a finding to BatchUpdateFindings. */
export interface FindingIdentifier {
  Id: string;
  ProductArn: string;
}

export interface FindingResource {
  type: string;
  id: string;
  region?: string;
  partition?: string;
  tags: Record<string, string>;
}

export interface ControlInfo {
  /** e.g. `CloudTrail.2`. */
  id: string;
  standardsArn?: string;
}

export interface GuardDutyInfo {
  /** e.g. `UnauthorizedAccess:EC2-SSHBruteForce`. */
  type: string;
  /** `aws/guardduty/service/count`: how often GuardDuty saw this same activity. */
  count?: number;
  remoteIp?: string;
  remotePort?: string;
  remoteCountry?: string;
  remoteOrganization?: string;
  /** The API called or the principal acting, when GuardDuty reports one. */
  actor?: string;
  actionType?: string;
}

export interface VulnerabilityInfo {
  /** e.g. `CVE-2017-9735`. */
  id: string;
  packages: Array<{ name: string; version?: string; fixedVersion?: string }>;
  /** The product says an exploit is known (ASFF `ExploitAvailable: YES`, OCSF `is_exploit_available`). */
  exploitAvailable?: boolean;
}

/** Which Security Hub a finding came from: CSPM's ASFF or the new Security Hub's OCSF. */
export type FindingFormat = 'asff' | 'ocsf';

/** What marking an OCSF finding with `BatchUpdateFindingsV2` needs. */
export interface OcsfFindingInfo {
  /** `metadata.uid`, the finding's id to `BatchUpdateFindingsV2` (`MetadataUids`). */
  metadataUid: string;
  /** `status_id` as received (0 Unknown, 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 5 Archived, 6 Deleted, 99 Other). */
  statusId: number;
  /** `class_uid`: 2002 Vulnerability, 2003 Compliance, 2004 Detection, 2006 Data Security, ... */
  classUid: number;
}

/** One Security Hub finding, normalised: what every later step works from. */
export interface Finding {
  /** Stable key: ProductArn + Id. */
  key: string;
  /**
   * ASFF: the finding's `Id` and `ProductArn`. OCSF: `finding_info.uid` and `metadata.product.uid`
   * (a `productv2` ARN), so `key` differs from the ASFF key of the same finding: see `underlyingKey`.
   */
  identifier: FindingIdentifier;
  /** Absent means `asff`. */
  format?: FindingFormat;
  /** OCSF findings only. */
  ocsf?: OcsfFindingInfo;
  product: Product;
  /** The product's display name (`GuardDuty`, `Security Hub`, `Prowler`, ...). */
  productName: string;
  accountId: string;
  accountName?: string;
  region: string;
  severity: SeverityLabel;
  title: string;
  description: string;
  types: string[];
  /** The first resources (at most `MAX_RESOURCES`); `resourceCount` is the total. */
  resources: FindingResource[];
  resourceCount: number;
  control?: ControlInfo;
  complianceStatus?: string;
  workflowStatus: string;
  recordState: string;
  guardDuty?: GuardDutyInfo;
  vulnerabilities?: VulnerabilityInfo[];
  remediationText?: string;
  remediationUrl?: string;
  sourceUrl?: string;
  /** The finding in the Security Hub console of the home (aggregation) region. */
  consoleUrl: string;
  createdAt: string;
  updatedAt: string;
  firstObservedAt?: string;
  lastObservedAt?: string;
  /** The finding's note: who last set the workflow status (a person, or this notifier) and why. */
  note?: FindingNote;
  /**
   * The same finding as the other Security Hub reported it in the same batch (CSPM's ASFF copy of
   * an OCSF finding, or the reverse): filed once, every copy marked.
   */
  twins?: Array<{ identifier: FindingIdentifier; ocsf?: { metadataUid: string } }>;
}

export const MAX_RESOURCES = 10;

/** ASFF `Note` (OCSF: the latest comment): untrusted text. */
export interface FindingNote {
  text: string;
  updatedBy?: string;
  updatedAt?: string;
}

/** The separator is not a character an ARN or a finding Id can carry unescaped in practice. */
export function findingKey(identifier: FindingIdentifier): string {
  return `${identifier.ProductArn}|${identifier.Id}`;
}

/**
 * The ASFF product ARN of an OCSF `metadata.product.uid`:
 * `arn:aws:securityhub:<region>::productv2/aws/guardduty` → `arn:aws:securityhub:<region>::product/aws/guardduty`.
 * Anything else is returned as it is.
 */
export function asffProductArn(productUid: string): string {
  return productUid.replace(/^(arn:[^:]*:securityhub:[^:]*:[^:]*:)productv2\//, '$1product/');
}

/**
 * The key one underlying finding has in both formats, so a finding reported by both Security Hubs
 * is filed once. ASFF: `findingKey`. OCSF: the ASFF form of the product ARN (`asffProductArn`) with
 * `finding_info.uid`, combined as `findingKey` combines them.
 *
 * It holds where `finding_info.uid` is the ASFF `Id`, which DESIGN.md ("Two Security Hubs") takes
 * to be so for AWS services. No published capture pairs one finding in both formats, so this is
 * checked against the shape of the ten OCSF samples, not against a pair:
 * - GuardDuty (`arn:aws:guardduty:...:detector/<d>/finding/<f>`) and Inspector
 *   (`arn:aws:inspector2:...:finding/<f>`): the uid is the ARN ASFF uses as `Id`.
 * - CSPM control findings: the uid has the ASFF `Id` form, consolidated
 *   (`...:security-control/SSM.1/finding/<uuid>`) or standard-specific
 *   (`...:subscription/cis-aws-foundations-benchmark/v/1.2.0/2.5/finding/<uuid>`). That the uuid is
 *   the same in both is assumed; and a control that one hub reports consolidated and the other
 *   standard-specific gets two keys.
 *
 * It does not hold, or is not known to, for:
 * - Security Hub Coverage (`productv2/aws/securityhub-coverage`): a bare 64-hex uid, and no ASFF
 *   counterpart at all.
 * - Macie: AWS's Automated Security Response solution treats its OCSF uid as a bare hash, not an
 *   ARN; whether that is the ASFF `Id` is unknown (there is no real Macie sample in either format).
 * - Third-party products: whether `productv2/<company>/<product>` and its uid match the ASFF
 *   `ProductArn` and `Id` is up to each product; nothing published shows it.
 */
export function underlyingKey(finding: Pick<Finding, 'identifier' | 'format'>): string {
  if (finding.format !== 'ocsf') return findingKey(finding.identifier);
  return findingKey({
    Id: finding.identifier.Id,
    ProductArn: asffProductArn(finding.identifier.ProductArn),
  });
}
