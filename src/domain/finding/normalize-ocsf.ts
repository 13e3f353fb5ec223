import * as z from 'zod';
import { safeUrl } from '../text/url.js';
import {
  type ControlInfo,
  type Finding,
  type FindingResource,
  type GuardDutyInfo,
  MAX_RESOURCES,
  type Product,
  underlyingKey,
  type VulnerabilityInfo,
} from './finding.js';
import { at, isRecord, str } from './json.js';
import type { NormalizeContext } from './normalize-asff.js';
import { toAsffResourceType } from './resource-type.js';
import type { SeverityLabel } from './severity.js';
import { describeValue, FindingValidationError, formatPath, identifierText } from './validation-error.js';

/**
 * The OCSF finding of the new Security Hub (`Findings Imported V2`, `detail.findings[0]`), normalised
 * into the same `Finding` the ASFF normaliser produces. One reader for every class: Vulnerability
 * (2002, Inspector), Compliance (2003, CSPM controls, Security Hub Coverage), Detection (2004,
 * GuardDuty), Data Security (2006, Macie) and any other, which gets the fields common to all.
 * `metadata.version` is not looked at: 1.5.0, 1.6.0 and 1.9.0 are all seen.
 */

type Json = Record<string, unknown>;

function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

// ---------------------------------------------------------------------------------------------
// What this tool cannot work without.

/**
 * The identity (`finding_info.uid` + `metadata.product.uid` + `cloud.account.uid`, and `metadata.uid`
 * for `BatchUpdateFindingsV2`), the class and the title. Publishers mask `metadata.uid` and the
 * account inside `finding_info.uid` unevenly, so neither format nor agreement is checked.
 */
const requiredFinding = z.object({
  class_uid: z.int(),
  metadata: z.object({ uid: identifierText, product: z.object({ uid: identifierText }) }),
  finding_info: z.object({ uid: identifierText, title: z.string().min(1) }),
  cloud: z.object({ account: z.object({ uid: z.string().regex(/^\d{12}$/, 'not a 12-digit account id') }) }),
});

type Reject = (field: string, reason: string) => never;

// ---------------------------------------------------------------------------------------------
// Status, severity, compliance: the mappings to the ASFF vocabulary.

/**
 * OCSF `status_id` → ASFF workflow status and record state. `In Progress` is what this tool sets
 * when it has notified (there is no NOTIFIED in OCSF), so it reads back as NOTIFIED. Archived and
 * Deleted findings are ARCHIVED records (their workflow is not known: NEW, as an archived ASFF
 * finding nobody touched). Unknown and Other are NEW: nothing says the finding was handled.
 */
export const OCSF_STATUS: Readonly<
  Record<number, { name: string; workflowStatus: string; recordState?: 'ARCHIVED' }>
> = {
  0: { name: 'Unknown', workflowStatus: 'NEW' },
  1: { name: 'New', workflowStatus: 'NEW' },
  2: { name: 'In Progress', workflowStatus: 'NOTIFIED' },
  3: { name: 'Suppressed', workflowStatus: 'SUPPRESSED' },
  4: { name: 'Resolved', workflowStatus: 'RESOLVED' },
  5: { name: 'Archived', workflowStatus: 'NEW', recordState: 'ARCHIVED' },
  6: { name: 'Deleted', workflowStatus: 'NEW', recordState: 'ARCHIVED' },
  99: { name: 'Other', workflowStatus: 'NEW' },
};

/** OCSF `severity` (Title case, read case-insensitively) → ASFF label. Unknown and Other are not here. */
export const OCSF_SEVERITY: Readonly<Record<string, SeverityLabel>> = {
  informational: 'INFORMATIONAL',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  critical: 'CRITICAL',
  fatal: 'CRITICAL',
};

/** OCSF `severity_id` → ASFF label; 0 Unknown and 99 Other are INFORMATIONAL. */
export const OCSF_SEVERITY_ID: Readonly<Record<number, SeverityLabel>> = {
  0: 'INFORMATIONAL',
  1: 'INFORMATIONAL',
  2: 'LOW',
  3: 'MEDIUM',
  4: 'HIGH',
  5: 'CRITICAL',
  6: 'CRITICAL',
  99: 'INFORMATIONAL',
};

/** OCSF `compliance.status` (read case-insensitively) → ASFF `Compliance.Status`. */
export const OCSF_COMPLIANCE: Readonly<Record<string, string>> = {
  pass: 'PASSED',
  warning: 'WARNING',
  fail: 'FAILED',
  unknown: 'NOT_AVAILABLE',
  other: 'NOT_AVAILABLE',
};

/** OCSF `compliance.status_id` → ASFF `Compliance.Status`. */
export const OCSF_COMPLIANCE_ID: Readonly<Record<number, string>> = {
  0: 'NOT_AVAILABLE',
  1: 'PASSED',
  2: 'WARNING',
  3: 'FAILED',
  99: 'NOT_AVAILABLE',
};

function knownId<T>(table: Readonly<Record<number, T>>, value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && Object.hasOwn(table, value);
}

function checkId(reject: Reject, field: string, value: unknown, table: Readonly<Record<number, unknown>>) {
  if (value !== undefined && !knownId(table, value))
    reject(field, `is ${describeValue(value)}, not one of ${Object.keys(table).join(', ')}`);
}

function checkString(reject: Reject, field: string, value: unknown) {
  if (value !== undefined && typeof value !== 'string')
    reject(field, `is ${describeValue(value)}, not a string`);
}

/** The status id: `status_id`, else the id `status` names, else 0 Unknown. */
function readStatusId(raw: Json, reject: Reject): number {
  checkId(reject, 'status_id', raw.status_id, OCSF_STATUS);
  if (knownId(OCSF_STATUS, raw.status_id)) return raw.status_id;
  checkString(reject, 'status', raw.status);
  if (typeof raw.status !== 'string') return 0;
  const name = raw.status.toLowerCase();
  const found = Object.entries(OCSF_STATUS).find(([, entry]) => entry.name.toLowerCase() === name);
  if (!found)
    reject(
      'status',
      `is ${describeValue(raw.status)}, not one of ${Object.values(OCSF_STATUS)
        .map((entry) => entry.name)
        .join(', ')}`,
    );
  return Number(found?.[0]);
}

/**
 * `activity_id` 3 (or, without one, `activity_name` "Close"): Security Hub counts the finding as
 * closed whatever its status, as ASFF counts an ARCHIVED record.
 */
function isClosed(raw: Json, reject: Reject): boolean {
  if (raw.activity_id !== undefined) {
    if (typeof raw.activity_id !== 'number' || !Number.isInteger(raw.activity_id))
      reject('activity_id', `is ${describeValue(raw.activity_id)}, not an integer`);
    return raw.activity_id === 3;
  }
  checkString(reject, 'activity_name', raw.activity_name);
  return typeof raw.activity_name === 'string' && raw.activity_name.toLowerCase() === 'close';
}

/** `severity` when it names a level; when it is Unknown, Other or absent, `severity_id`. */
function readSeverity(raw: Json, reject: Reject): SeverityLabel {
  checkId(reject, 'severity_id', raw.severity_id, OCSF_SEVERITY_ID);
  checkString(reject, 'severity', raw.severity);
  const name = typeof raw.severity === 'string' ? raw.severity.toLowerCase() : undefined;
  const named = name !== undefined && Object.hasOwn(OCSF_SEVERITY, name) ? OCSF_SEVERITY[name] : undefined;
  if (named) return named;
  if (knownId(OCSF_SEVERITY_ID, raw.severity_id)) return OCSF_SEVERITY_ID[raw.severity_id] as SeverityLabel;
  if (name !== undefined && name !== 'unknown' && name !== 'other')
    reject(
      'severity',
      `is ${describeValue(raw.severity)}, not one of Informational, Low, Medium, High, Critical, Fatal`,
    );
  if (name === undefined) reject('severity_id', 'is missing, and so is severity');
  return 'INFORMATIONAL';
}

/** `compliance.status` when it names one; else `compliance.status_id`; undefined without either. */
function readComplianceStatus(raw: Json, reject: Reject): string | undefined {
  if (raw.compliance === undefined) return undefined;
  if (!isRecord(raw.compliance)) reject('compliance', `is ${describeValue(raw.compliance)}, not an object`);
  const compliance = raw.compliance as Json;
  checkId(reject, 'compliance.status_id', compliance.status_id, OCSF_COMPLIANCE_ID);
  checkString(reject, 'compliance.status', compliance.status);
  const name = typeof compliance.status === 'string' ? compliance.status.toLowerCase() : undefined;
  if (name !== undefined && Object.hasOwn(OCSF_COMPLIANCE, name)) return OCSF_COMPLIANCE[name];
  if (knownId(OCSF_COMPLIANCE_ID, compliance.status_id)) return OCSF_COMPLIANCE_ID[compliance.status_id];
  if (name !== undefined)
    reject(
      'compliance.status',
      `is ${describeValue(compliance.status)}, not one of Pass, Warning, Fail, Unknown, Other`,
    );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Times: epoch milliseconds and their `*_dt` ISO twins.

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;
const TIME_REASON = 'not an ISO 8601 date-time (YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM))';

function isoFromDateTime(value: string): string | undefined {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year as number, (month as number) - 1, day as number));
  const validDay = date.getUTCMonth() === (month as number) - 1 && date.getUTCDate() === day;
  const validTime = (hour as number) <= 23 && (minute as number) <= 59 && (second as number) <= 59;
  const validOffset =
    match[7] === undefined || ((offsetHour as number) <= 23 && (offsetMinute as number) <= 59);
  const parsed = Date.parse(value);
  return validDay && validTime && validOffset && Number.isFinite(parsed)
    ? new Date(parsed).toISOString()
    : undefined;
}

/** The largest time `Date` holds, in milliseconds either side of 1970. */
const MAX_EPOCH_MS = 8.64e15;

/**
 * One OCSF time as an ISO string (`toISOString`, so every time reads alike and sorts as text):
 * the `<name>_dt` string when present, else the `<name>` epoch milliseconds; undefined when neither
 * is there. A present value that is not a time rejects the finding naming it.
 */
function readTime(owner: unknown, prefix: string, name: string, reject: Reject): string | undefined {
  const dt = at(owner, `${name}_dt`);
  if (dt !== undefined) {
    const iso = typeof dt === 'string' ? isoFromDateTime(dt) : undefined;
    if (iso === undefined) reject(`${prefix}${name}_dt`, `is ${describeValue(dt)}, ${TIME_REASON}`);
    return iso;
  }
  const ms = at(owner, name);
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS)
    reject(`${prefix}${name}`, `is ${describeValue(ms)}, not a time in epoch milliseconds`);
  return new Date(ms as number).toISOString();
}

function readTimes(raw: Json, reject: Reject) {
  const info = raw.finding_info;
  const created =
    readTime(info, 'finding_info.', 'created_time', reject) ??
    readTime(info, 'finding_info.', 'first_seen_time', reject) ??
    readTime(raw, '', 'time', reject);
  if (created === undefined)
    reject('finding_info.created_time', 'is missing, and so are finding_info.first_seen_time and time');
  const updated =
    readTime(info, 'finding_info.', 'modified_time', reject) ?? readTime(raw, '', 'time', reject) ?? created;
  return {
    createdAt: created as string,
    updatedAt: updated as string,
    firstObservedAt: readTime(info, 'finding_info.', 'first_seen_time', reject),
    lastObservedAt: readTime(info, 'finding_info.', 'last_seen_time', reject),
  };
}

// ---------------------------------------------------------------------------------------------
// Product, account, region, resources.

const PRODUCTS: ReadonlyArray<{ product: Product; name: string; slug: string }> = [
  { product: 'GuardDuty', name: 'GuardDuty', slug: 'guardduty' },
  { product: 'SecurityHub', name: 'Security Hub', slug: 'securityhub' },
  { product: 'Inspector', name: 'Inspector', slug: 'inspector' },
  { product: 'Macie', name: 'Macie', slug: 'macie' },
];

/**
 * By the product ARN (`...::productv2/aws/<slug>`, or the ASFF `product/` form). Security Hub's own
 * other products (`securityhub-coverage`) count as Security Hub under their own name; another
 * company's product is `Other`, named as it names itself. Only a uid that is no product ARN at all
 * is recognised by `metadata.product.name`.
 */
function detectProduct(productUid: string, metadata: unknown): { product: Product; productName: string } {
  const declared = str(at(metadata, 'product', 'name'));
  const arn = /:product(?:v2)?\/([^/]+)\/([^/]+)/.exec(productUid);
  const known = arn
    ? PRODUCTS.find((entry) => arn[1] === 'aws' && entry.slug === arn[2])
    : PRODUCTS.find((entry) => entry.name.toLowerCase() === declared?.toLowerCase());
  if (known) return { product: known.product, productName: known.name };
  if (arn?.[1] === 'aws' && arn[2]?.startsWith('securityhub-'))
    return { product: 'SecurityHub', productName: declared ?? arn[2] };
  return { product: 'Other', productName: declared ?? arn?.[2] ?? 'Unknown product' };
}

/** `[{name, value}]` (and `{key, value}`, which some `data` blocks use) into a record of strings. */
function readTags(value: unknown): Record<string, string> {
  const entries = records(value).flatMap((tag): Array<[string, string]> => {
    const name = typeof tag.name === 'string' ? tag.name : typeof tag.key === 'string' ? tag.key : undefined;
    return name !== undefined && typeof tag.value === 'string' ? [[name, tag.value]] : [];
  });
  // fromEntries defines each key as its own property: a tag named `__proto__` stays a tag.
  return Object.fromEntries(entries);
}

/**
 * The id: an ARN when the resource has one (`uid`, else `uid_alt`), as ASFF names resources;
 * else `uid` (an instance id, a queue URL), else `name`. An account is its account id, whatever
 * `uid_alt` holds (Security Hub Coverage puts the detector it checked there).
 */
function resourceId(resource: Json, type: string): string {
  const uid = str(resource.uid);
  const alt = str(resource.uid_alt);
  if (type === 'AwsAccount' && uid) return uid;
  if (uid?.startsWith('arn:')) return uid;
  if (alt?.startsWith('arn:')) return alt;
  return uid ?? alt ?? str(resource.name) ?? '(no id)';
}

function readResources(value: unknown): { resources: FindingResource[]; resourceCount: number } {
  const list = records(value);
  const resources = list.slice(0, MAX_RESOURCES).map((resource) => {
    const type = toAsffResourceType(str(resource.type) ?? 'Other');
    const entry: FindingResource = { type, id: resourceId(resource, type), tags: readTags(resource.tags) };
    const region = str(resource.region);
    const partition = str(resource.cloud_partition);
    if (region) entry.region = region;
    if (partition) entry.partition = partition;
    return entry;
  });
  return { resources, resourceCount: list.length };
}

// ---------------------------------------------------------------------------------------------
// Class-specific facts.

/**
 * ASFF's `StandardsArn` for a standard OCSF names by its path (`standards/aws-foundational-...`,
 * `ruleset/cis-aws-foundations-benchmark/v/1.2.0`): the same path under `arn:<partition>:securityhub:::`.
 */
function standardsArn(standard: string, productUid: string): string {
  if (standard.startsWith('arn:')) return standard;
  const partition = /^arn:([^:]+):/.exec(productUid)?.[1] ?? 'aws';
  return `arn:${partition}:securityhub:::${standard}`;
}

/** `compliance.control` (`SSM.1`, `Config.1` for a CIS 2.5 finding), with its first standard. */
function readControl(raw: Json, productUid: string): ControlInfo | undefined {
  const id = str(at(raw, 'compliance', 'control'));
  if (!id) return undefined;
  const control: ControlInfo = { id };
  const standard = strings(at(raw, 'compliance', 'standards')).find((value) => value.length > 0);
  if (standard) control.standardsArn = standardsArn(standard, productUid);
  return control;
}

/**
 * GuardDuty's finding type as ASFF spells it: the `ThreatPurpose:ResourceType/ThreatName` entry of
 * `finding_info.types` with the slash made a dash (`Execution:Runtime/NewBinaryExecuted` →
 * `Execution:Runtime-NewBinaryExecuted`), so a policy's `guardDutyType` and the storm groups treat
 * one finding type alike whichever Security Hub reported it.
 */
function guardDutyType(types: readonly string[]): string {
  const native =
    types.find((type) => /^[^\s:/]+:[^\s/]+\/\S+$/.test(type)) ?? types.find((t) => t.includes(':'));
  if (native === undefined) return types.at(-1) ?? 'Unknown';
  const colon = native.indexOf(':');
  return native.slice(0, colon + 1) + native.slice(colon + 1).replaceAll('/', '-');
}

/**
 * The remote end of the activity: the destination of an outbound connection, else the source (the
 * caller of an API, the origin of an inbound connection or probe), else the destination.
 */
function remoteEndpoint(evidence: Json): Json | undefined {
  const direction = at(evidence, 'connection_info', 'direction_id');
  const src = isRecord(evidence.src_endpoint) ? evidence.src_endpoint : undefined;
  const dst = isRecord(evidence.dst_endpoint) ? evidence.dst_endpoint : undefined;
  return direction === 2 ? (dst ?? src) : (src ?? dst);
}

function readGuardDuty(raw: Json, types: readonly string[]): GuardDutyInfo {
  const info: GuardDutyInfo = { type: guardDutyType(types) };
  if (typeof raw.count === 'number' && Number.isInteger(raw.count) && raw.count >= 0) info.count = raw.count;
  const evidences = [...records(raw.evidences), raw];
  const endpoint = evidences.map(remoteEndpoint).find((candidate) => str(candidate?.ip) !== undefined);
  if (endpoint) {
    info.remoteIp = str(endpoint.ip) as string;
    const port = endpoint.port;
    if (typeof port === 'number' && Number.isInteger(port)) info.remotePort = String(port);
    const country = str(at(endpoint, 'location', 'country'));
    const organization =
      str(at(endpoint, 'autonomous_system', 'name')) ?? str(endpoint.isp_org) ?? str(endpoint.isp);
    if (country) info.remoteCountry = country;
    if (organization) info.remoteOrganization = organization;
  }
  const firstOf = (read: (evidence: Json) => unknown) =>
    evidences.map((evidence) => str(read(evidence))).find((value) => value !== undefined);
  const api = firstOf((evidence) => at(evidence, 'api', 'operation'));
  const domain = firstOf((evidence) => at(evidence, 'query', 'hostname'));
  const actor = api ?? domain ?? firstOf((evidence) => at(evidence, 'actor', 'process', 'name'));
  if (actor) info.actor = actor;
  if (api) info.actionType = 'AWS_API_CALL';
  else if (domain) info.actionType = 'DNS_REQUEST';
  return info;
}

function readVulnerabilities(value: unknown): VulnerabilityInfo[] | undefined {
  const list = records(value).flatMap((vulnerability): VulnerabilityInfo[] => {
    const id =
      str(at(vulnerability, 'cve', 'uid')) ??
      str(at(vulnerability, 'advisory', 'uid')) ??
      str(vulnerability.uid);
    if (!id) return [];
    const packages = records(vulnerability.affected_packages).flatMap((pkg) => {
      const name = str(pkg.name);
      if (!name) return [];
      const entry: VulnerabilityInfo['packages'][number] = { name };
      const version = str(pkg.version);
      const fixedVersion = str(pkg.fixed_in_version);
      if (version) entry.version = version;
      if (fixedVersion) entry.fixedVersion = fixedVersion;
      return [entry];
    });
    const info: VulnerabilityInfo = { id, packages };
    if (typeof vulnerability.is_exploit_available === 'boolean')
      info.exploitAvailable = vulnerability.is_exploit_available;
    return [info];
  });
  return list.length > 0 ? list : undefined;
}

/**
 * `remediation.desc`; Inspector has none at the top and says what to do per package
 * (`yum update kernel`), so those, each once.
 */
function readRemediationText(raw: Json): string | undefined {
  const text = str(at(raw, 'remediation', 'desc'));
  if (text) return text;
  const perPackage = records(raw.vulnerabilities).flatMap((vulnerability) =>
    records(vulnerability.affected_packages).flatMap((pkg) => {
      const desc = str(at(pkg, 'remediation', 'desc'));
      return desc ? [desc] : [];
    }),
  );
  return perPackage.length > 0 ? [...new Set(perPackage)].join('\n') : undefined;
}

// ---------------------------------------------------------------------------------------------

/**
 * The finding in the new Security Hub's console, filtered on its `finding_info.uid`: the form AWS's
 * Automated Security Response solution links to. Aggregated findings open in the home region; the
 * filter value is encoded twice, as the CSPM link (`buildConsoleUrl`) encodes it.
 */
export function buildOcsfConsoleUrl(findingInfoUid: string, homeRegion: string): string {
  const filter = `finding_info.uid=${encodeURIComponent(`\\operator\\:EQUALS\\:${findingInfoUid}`)}`;
  return `https://${homeRegion}.console.aws.amazon.com/securityhub/v2/home?region=${homeRegion}#/findings?search=${encodeURIComponent(filter)}`;
}

/**
 * Normalise one OCSF finding (`detail.findings[0]` of a `Findings Imported V2` event). Throws
 * `FindingValidationError` naming the event and the field when a field this tool relies on is
 * missing or malformed, or when a field that decides whether the finding is notified (status,
 * activity, severity, compliance status, times) is present but not one of its documented values;
 * other optional fields that are missing or odd are left out, never fatal.
 */
export function normalizeOcsfFinding(raw: unknown, context: NormalizeContext): Finding {
  if (!isRecord(raw)) throw new FindingValidationError(context.eventId, context.path, 'is not an object');
  const parsed = requiredFinding.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `${context.path}${formatPath(issue?.path ?? [])}`;
    throw new FindingValidationError(context.eventId, field, issue?.message ?? 'invalid');
  }
  const reject: Reject = (field, reason) => {
    throw new FindingValidationError(context.eventId, `${context.path}.${field}`, reason);
  };
  const required = parsed.data;
  const statusId = readStatusId(raw, reject);
  const closed = isClosed(raw, reject);
  const severity = readSeverity(raw, reject);
  const complianceStatus = readComplianceStatus(raw, reject);
  const times = readTimes(raw, reject);

  const productUid = required.metadata.product.uid;
  const identifier = { Id: required.finding_info.uid, ProductArn: productUid };
  const { product, productName } = detectProduct(productUid, raw.metadata);
  const { resources, resourceCount } = readResources(raw.resources);
  const region =
    str(at(raw, 'cloud', 'region')) ??
    resources[0]?.region ??
    /^arn:[^:]*:securityhub:([^:]+):/.exec(productUid)?.[1] ??
    context.eventRegion ??
    'unknown';
  const types = strings(at(raw, 'finding_info', 'types'));
  const status = OCSF_STATUS[statusId] as (typeof OCSF_STATUS)[number];
  const accountId = required.cloud.account.uid;

  const finding: Finding = {
    // The ledger knows a finding by its underlying key: the same for its ASFF and OCSF copies.
    key: underlyingKey({ identifier, format: 'ocsf' }),
    identifier,
    format: 'ocsf',
    ocsf: { metadataUid: required.metadata.uid, statusId, classUid: required.class_uid },
    product,
    productName,
    accountId,
    region,
    severity,
    title: required.finding_info.title,
    description: str(at(raw, 'finding_info', 'desc')) ?? '',
    types,
    resources,
    resourceCount,
    workflowStatus: status.workflowStatus,
    recordState: status.recordState ?? (closed ? 'ARCHIVED' : 'ACTIVE'),
    consoleUrl: buildOcsfConsoleUrl(identifier.Id, context.homeRegion ?? region),
    createdAt: times.createdAt,
    updatedAt: times.updatedAt,
  };

  const accountName = str(at(raw, 'cloud', 'account', 'name')) ?? context.accountNames?.[accountId];
  if (accountName) finding.accountName = accountName;
  const control = readControl(raw, productUid);
  if (control) finding.control = control;
  if (complianceStatus) finding.complianceStatus = complianceStatus;
  if (product === 'GuardDuty') finding.guardDuty = readGuardDuty(raw, types);
  const vulnerabilities = readVulnerabilities(raw.vulnerabilities);
  if (vulnerabilities) finding.vulnerabilities = vulnerabilities;
  const remediationText = readRemediationText(raw);
  if (remediationText) finding.remediationText = remediationText;
  const remediationUrl = strings(at(raw, 'remediation', 'references'))
    .map((reference) => safeUrl(reference))
    .find((url) => url !== undefined);
  if (remediationUrl) finding.remediationUrl = remediationUrl;
  const sourceUrl = safeUrl(at(raw, 'finding_info', 'src_url'));
  if (sourceUrl) finding.sourceUrl = sourceUrl;
  const comment = str(raw.comment);
  if (comment) finding.note = { text: comment };
  if (times.firstObservedAt) finding.firstObservedAt = times.firstObservedAt;
  if (times.lastObservedAt) finding.lastObservedAt = times.lastObservedAt;
  return finding;
}
