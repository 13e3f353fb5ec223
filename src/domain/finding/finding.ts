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
}

/** One Security Hub finding, normalised: what every later step works from. */
export interface Finding {
  /** Stable key: ProductArn + Id. */
  key: string;
  identifier: FindingIdentifier;
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
