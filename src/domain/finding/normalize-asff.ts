import * as z from 'zod';
import { safeUrl } from '../text/url.js';
import {
  type ControlInfo,
  type Finding,
  type FindingResource,
  findingKey,
  type GuardDutyInfo,
  MAX_RESOURCES,
  type Product,
  type VulnerabilityInfo,
} from './finding.js';
import { at, isRecord, str } from './json.js';
import { isSeverityLabel, type SeverityLabel, severityFromNormalized } from './severity.js';
import { describeValue, FindingValidationError, formatPath, identifierText } from './validation-error.js';

export interface NormalizeContext {
  /** The EventBridge event id, named in every error. */
  eventId: string;
  /** Where in the event the finding sits, e.g. `detail.findings[0]`. */
  path: string;
  /** The event's region, the fallback when the finding names none. */
  eventRegion?: string;
  /** The Security Hub home (aggregation) region, for the console link. */
  homeRegion?: string;
  /** Names for accounts whose findings carry no `AwsAccountName`. */
  accountNames?: Readonly<Record<string, string>>;
}

/**
 * The ASFF timestamp profile of ISO 8601 / RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`,
 * with at most nine fraction digits (the most ASFF documents). `Date.parse` alone is not enough:
 * it takes `"1"` or `"Tuesday 1 March"` and rolls 30 February over into March. Every shape in the
 * real-product corpus fits (`Z`, `.mmmZ`, nanoseconds with `Z`, microseconds with `+00:00` or
 * `-05:00`); RFC 3339's lowercase `t`/`z`, a space for `T`, missing seconds and leap second 60 (which
 * `Date.parse` turns into NaN, and later steps compare `updatedAt` with it) are not accepted: no
 * product in the corpus emits them.
 */
const ASFF_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;
const TIMESTAMP_REASON = 'not an ISO 8601 date-time (YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM))';

function isAsffTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ASFF_TIMESTAMP.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHour = Number(match[7] ?? 0);
  const offsetMinute = Number(match[8] ?? 0);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59 &&
    Number.isFinite(Date.parse(value))
  );
}

const isoTimestamp = z.string().refine(isAsffTimestamp, TIMESTAMP_REASON);

/** The fields this tool cannot work without. Everything else is read leniently below. */
const requiredFinding = z.object({
  Id: identifierText,
  ProductArn: identifierText,
  AwsAccountId: z.string().regex(/^\d{12}$/, 'not a 12-digit account id'),
  Title: z.string().min(1),
  Severity: z
    .object({ Label: z.string().optional(), Normalized: z.number().min(0).max(100).optional() })
    .refine((s) => s.Label !== undefined || s.Normalized !== undefined, 'needs Label or Normalized')
    .refine((s) => s.Label === undefined || isSeverityLabel(s.Label), {
      message: 'not one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL',
      path: ['Label'],
    }),
  CreatedAt: isoTimestamp,
  UpdatedAt: isoTimestamp,
});

type Json = Record<string, unknown>;

const PRODUCTS: ReadonlyArray<{ product: Product; arnSuffix: string; name: string }> = [
  { product: 'GuardDuty', arnSuffix: '/aws/guardduty', name: 'GuardDuty' },
  { product: 'SecurityHub', arnSuffix: '/aws/securityhub', name: 'Security Hub' },
  { product: 'Inspector', arnSuffix: '/aws/inspector', name: 'Inspector' },
  { product: 'Macie', arnSuffix: '/aws/macie', name: 'Macie' },
];

function detectProduct(raw: Json): { product: Product; productName: string } {
  const productArn = String(raw.ProductArn);
  const declared = str(raw.ProductName) ?? str(at(raw, 'ProductFields', 'aws/securityhub/ProductName'));
  const known = PRODUCTS.find(
    (entry) => productArn.endsWith(entry.arnSuffix) || productArn.includes(`${entry.arnSuffix}/`),
  );
  if (known) return { product: known.product, productName: known.name };
  const providerName = str(at(raw, 'ProductFields', 'ProviderName'));
  const fromArn = /product\/([^/]+)\/([^/]+)/.exec(productArn);
  return { product: 'Other', productName: declared ?? providerName ?? fromArn?.[2] ?? 'Unknown product' };
}

function readRegion(raw: Json, resources: FindingResource[], eventRegion?: string): string {
  const fromArn = /^arn:[^:]*:securityhub:([^:]+):/.exec(String(raw.ProductArn))?.[1];
  return str(raw.Region) ?? resources[0]?.region ?? fromArn ?? eventRegion ?? 'unknown';
}

function readTags(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of Object.entries(value)) {
    if (typeof tagValue === 'string') tags[key] = tagValue;
  }
  return tags;
}

function readResources(value: unknown): { resources: FindingResource[]; resourceCount: number } {
  const list = Array.isArray(value) ? value.filter(isRecord) : [];
  const resources = list.slice(0, MAX_RESOURCES).map((resource) => {
    const entry: FindingResource = {
      type: str(resource.Type) ?? 'Other',
      id: str(resource.Id) ?? '(no id)',
      tags: readTags(resource.Tags),
    };
    const region = str(resource.Region);
    const partition = str(resource.Partition);
    if (region) entry.region = region;
    if (partition) entry.partition = partition;
    return entry;
  });
  return { resources, resourceCount: list.length };
}

function readControl(raw: Json): ControlInfo | undefined {
  const id =
    str(at(raw, 'Compliance', 'SecurityControlId')) ??
    str(at(raw, 'ProductFields', 'ControlId')) ??
    str(at(raw, 'ProductFields', 'RuleId')) ??
    /^security-control\/(.+)$/.exec(str(raw.GeneratorId) ?? '')?.[1];
  if (!id) return undefined;
  const control: ControlInfo = { id };
  const standardsArn = str(at(raw, 'ProductFields', 'StandardsArn'));
  if (standardsArn) control.standardsArn = standardsArn;
  return control;
}

const GD = 'aws/guardduty/service/action/';

function readGuardDuty(raw: Json, types: string[]): GuardDutyInfo | undefined {
  const fields = isRecord(raw.ProductFields) ? raw.ProductFields : {};
  const field = (name: string) => str(fields[name]);
  const firstOf = (...names: string[]) => names.map(field).find((value) => value !== undefined);
  const lastSegment = types[0]?.split('/').pop();
  const info: GuardDutyInfo = { type: lastSegment ?? 'Unknown' };
  const count = Number.parseInt(field('aws/guardduty/service/count') ?? '', 10);
  if (Number.isFinite(count)) info.count = count;
  const kinds = ['networkConnectionAction', 'awsApiCallAction', 'portProbeAction', 'dnsRequestAction'];
  const remoteIp = firstOf(...kinds.map((kind) => `${GD}${kind}/remoteIpDetails/ipAddressV4`));
  const remotePort = firstOf(`${GD}networkConnectionAction/remotePortDetails/port`);
  const remoteCountry = firstOf(...kinds.map((kind) => `${GD}${kind}/remoteIpDetails/country/countryName`));
  const remoteOrganization = firstOf(...kinds.map((kind) => `${GD}${kind}/remoteIpDetails/organization/org`));
  const actor = firstOf(`${GD}awsApiCallAction/api`, `${GD}dnsRequestAction/domain`);
  const actionType = field(`${GD}actionType`);
  if (remoteIp) info.remoteIp = remoteIp;
  if (remotePort) info.remotePort = remotePort;
  if (remoteCountry) info.remoteCountry = remoteCountry;
  if (remoteOrganization) info.remoteOrganization = remoteOrganization;
  if (actor) info.actor = actor;
  if (actionType) info.actionType = actionType;
  return info;
}

function readVulnerabilities(value: unknown): VulnerabilityInfo[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list = value.filter(isRecord).flatMap((vulnerability): VulnerabilityInfo[] => {
    const id = str(vulnerability.Id);
    if (!id) return [];
    const packages = (Array.isArray(vulnerability.VulnerablePackages) ? vulnerability.VulnerablePackages : [])
      .filter(isRecord)
      .flatMap((pkg) => {
        const name = str(pkg.Name);
        if (!name) return [];
        const entry: VulnerabilityInfo['packages'][number] = { name };
        const version = str(pkg.Version);
        const fixedVersion = str(pkg.FixedInVersion);
        if (version) entry.version = version;
        if (fixedVersion) entry.fixedVersion = fixedVersion;
        return [entry];
      });
    const info: VulnerabilityInfo = { id, packages };
    const exploit = str(vulnerability.ExploitAvailable);
    if (exploit === 'YES' || exploit === 'NO') info.exploitAvailable = exploit === 'YES';
    return [info];
  });
  return list.length > 0 ? list : undefined;
}

/**
 * Trivy's ASFF template carries no `Vulnerabilities[]`: the CVE and the package are in the first
 * resource's `Details.Other` (`CVE ID`, `PkgName`, `Installed Package`, `Patched Package`).
 */
function readTrivyVulnerability(resources: unknown): VulnerabilityInfo[] | undefined {
  const [first] = Array.isArray(resources) ? resources : [];
  const other = at(first, 'Details', 'Other');
  const id = str(at(other, 'CVE ID'));
  if (!id) return undefined;
  const name = str(at(other, 'PkgName'));
  if (!name) return [{ id, packages: [] }];
  const entry: VulnerabilityInfo['packages'][number] = { name };
  const version = str(at(other, 'Installed Package'));
  const fixedVersion = str(at(other, 'Patched Package'));
  if (version) entry.version = version;
  if (fixedVersion) entry.fixedVersion = fixedVersion;
  return [{ id, packages: [entry] }];
}

/**
 * The finding in the Security Hub console. Aggregated findings open in the home region; the
 * filter value is encoded twice, as the console itself writes it.
 */
export function buildConsoleUrl(id: string, homeRegion: string): string {
  const filter = `Id=${encodeURIComponent(`\\operator\\:EQUALS\\:${id}`)}`;
  return `https://${homeRegion}.console.aws.amazon.com/securityhub/home?region=${homeRegion}#/findings?search=${encodeURIComponent(filter)}`;
}

const WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'] as const;
const RECORD_STATES = ['ACTIVE', 'ARCHIVED'] as const;
const COMPLIANCE_STATUSES = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'] as const;

/**
 * The optional fields that decide whether a finding is notified. Absent (`undefined`) is fine and
 * takes the defaults; present but of the wrong type or outside the documented values rejects the
 * finding naming the field, instead of letting it be filtered (or notified) for the wrong reason.
 * `null` counts as present: Security Hub never emits it.
 */
function checkOptionalFields(raw: Json, context: NormalizeContext): void {
  const reject = (field: string, reason: string): never => {
    throw new FindingValidationError(context.eventId, `${context.path}.${field}`, reason);
  };
  const oneOf = (field: string, value: unknown, allowed: readonly string[]) => {
    if (value !== undefined && !(typeof value === 'string' && allowed.includes(value)))
      reject(field, `is ${describeValue(value)}, not one of ${allowed.join(', ')}`);
  };
  const objectOrAbsent = (field: string, value: unknown) => {
    if (value !== undefined && !isRecord(value)) reject(field, `is ${describeValue(value)}, not an object`);
  };

  objectOrAbsent('Workflow', raw.Workflow);
  oneOf('Workflow.Status', at(raw, 'Workflow', 'Status'), WORKFLOW_STATUSES);
  // The deprecated field: any string is passed on as today (the corpus holds NEW and NOTIFIED, the
  // latter not among its documented values), only a non-string is malformed.
  if (raw.WorkflowState !== undefined && typeof raw.WorkflowState !== 'string')
    reject('WorkflowState', `is ${describeValue(raw.WorkflowState)}, not a string`);
  oneOf('RecordState', raw.RecordState, RECORD_STATES);
  objectOrAbsent('Compliance', raw.Compliance);
  oneOf('Compliance.Status', at(raw, 'Compliance', 'Status'), COMPLIANCE_STATUSES);
  for (const field of ['FirstObservedAt', 'LastObservedAt'] as const) {
    if (raw[field] !== undefined && !isAsffTimestamp(raw[field]))
      reject(field, `is ${describeValue(raw[field])}, ${TIMESTAMP_REASON}`);
  }
}

function readSeverity(severity: {
  Label?: string | undefined;
  Normalized?: number | undefined;
}): SeverityLabel {
  if (isSeverityLabel(severity.Label)) return severity.Label;
  return severityFromNormalized(severity.Normalized ?? 0);
}

/**
 * Normalise one ASFF finding. Throws `FindingValidationError` naming the event and the field when
 * a field this tool relies on is missing or malformed; optional fields that are missing or odd are
 * left out, never fatal.
 */
export function normalizeFinding(raw: unknown, context: NormalizeContext): Finding {
  if (!isRecord(raw)) {
    throw new FindingValidationError(context.eventId, context.path, 'is not an object');
  }
  const parsed = requiredFinding.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `${context.path}${formatPath(issue?.path ?? [])}`;
    throw new FindingValidationError(context.eventId, field, issue?.message ?? 'invalid');
  }
  const required = parsed.data;
  checkOptionalFields(raw, context);
  const identifier = { Id: required.Id, ProductArn: required.ProductArn };
  const { product, productName } = detectProduct(raw);
  const { resources, resourceCount } = readResources(raw.Resources);
  const region = readRegion(raw, resources, context.eventRegion);
  const types = Array.isArray(raw.Types)
    ? raw.Types.filter((type): type is string => typeof type === 'string')
    : [];

  const finding: Finding = {
    key: findingKey(identifier),
    identifier,
    product,
    productName,
    accountId: required.AwsAccountId,
    region,
    severity: readSeverity(required.Severity),
    title: required.Title,
    description: str(raw.Description) ?? '',
    types,
    resources,
    resourceCount,
    workflowStatus: str(at(raw, 'Workflow', 'Status')) ?? str(raw.WorkflowState) ?? 'NEW',
    recordState: str(raw.RecordState) ?? 'ACTIVE',
    consoleUrl: buildConsoleUrl(required.Id, context.homeRegion ?? region),
    createdAt: required.CreatedAt,
    updatedAt: required.UpdatedAt,
  };

  const accountName = str(raw.AwsAccountName) ?? context.accountNames?.[required.AwsAccountId];
  if (accountName) finding.accountName = accountName;
  const control = readControl(raw);
  if (control) finding.control = control;
  const complianceStatus = str(at(raw, 'Compliance', 'Status'));
  if (complianceStatus) finding.complianceStatus = complianceStatus;
  if (product === 'GuardDuty') finding.guardDuty = readGuardDuty(raw, types);
  const vulnerabilities = readVulnerabilities(raw.Vulnerabilities) ?? readTrivyVulnerability(raw.Resources);
  if (vulnerabilities) finding.vulnerabilities = vulnerabilities;
  const remediationText = str(at(raw, 'Remediation', 'Recommendation', 'Text'));
  if (remediationText) finding.remediationText = remediationText;
  const remediationUrl = safeUrl(at(raw, 'Remediation', 'Recommendation', 'Url'));
  if (remediationUrl) finding.remediationUrl = remediationUrl;
  const sourceUrl = safeUrl(raw.SourceUrl);
  if (sourceUrl) finding.sourceUrl = sourceUrl;
  const firstObservedAt = str(raw.FirstObservedAt);
  const lastObservedAt = str(raw.LastObservedAt);
  if (firstObservedAt) finding.firstObservedAt = firstObservedAt;
  if (lastObservedAt) finding.lastObservedAt = lastObservedAt;
  const noteText = str(at(raw, 'Note', 'Text'));
  if (noteText) {
    finding.note = { text: noteText };
    const updatedBy = str(at(raw, 'Note', 'UpdatedBy'));
    const noteUpdatedAt = str(at(raw, 'Note', 'UpdatedAt'));
    if (updatedBy) finding.note.updatedBy = updatedBy;
    if (noteUpdatedAt) finding.note.updatedAt = noteUpdatedAt;
  }
  return finding;
}
