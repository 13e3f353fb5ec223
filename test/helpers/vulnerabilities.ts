import { latestByKey } from '../../src/app/dispatch-batch.js';
import type { Delivery } from '../../src/domain/delivery/delivery.js';
import { DEFAULT_GROUPING, planDeliveries } from '../../src/domain/delivery/grouping.js';
import { parseImportedEvent } from '../../src/domain/finding/imported-event.js';
import { DEFAULT_SLA_DAYS } from '../../src/domain/policy/sla.js';
import { type ImportedEvent, wrapFindings } from './events.js';
import { loadFixture } from './fixtures.js';

/** A raw ASFF finding, as a product imports it. */
export type RawFinding = Record<string, unknown> & { Resources: Array<Record<string, unknown>> };

/** The image of the real Trivy export (heimdall2, 44 findings, 23 distinct Ids). */
export const TRIVY_IMAGE = 'golang:1.12-alpine (alpine 3.11.3)';

/**
 * The 44 findings of the real Trivy export of `golang:1.12-alpine`: 23 distinct Ids (the same
 * CVE in two packages has one Id), 22 of them MEDIUM or above. As Security Hub sends them once
 * imported: it adds `Workflow.Status` NEW (the export, as Trivy imports it, has none).
 */
export function trivyFindings(): RawFinding[] {
  return loadFixture<{ Findings: RawFinding[] }>(
    'third-party/corpus/heimdall2-trivy-golang-alpine-44-findings.json',
  ).Findings.map((raw) => ({
    ...raw,
    Workflow: { Status: 'NEW' },
    RecordState: raw.RecordState ?? 'ACTIVE',
  }));
}

/** The findings in one Imported event, as one batch carries them. */
export function trivyEvent(findings: RawFinding[], id = 'trivy-golang-alpine'): ImportedEvent {
  return wrapFindings(findings, id);
}

/** The same findings on another image (its own Ids, resource and image name). */
export function onImage(findings: readonly RawFinding[], image: string): RawFinding[] {
  return findings.map((raw) => {
    const copy = structuredClone(raw);
    copy.Id = String(raw.Id).replace(TRIVY_IMAGE, image);
    copy.Title = String(raw.Title).replace(TRIVY_IMAGE, image);
    const [resource] = copy.Resources;
    if (resource) {
      resource.Id = image;
      resource.Details = { ...(resource.Details as object), Container: { ImageName: image } };
    }
    return copy;
  });
}

/**
 * `count` more CVEs Trivy reports later on the image of `template` (a copy of it with another CVE
 * id, package and severity each, observed `at`).
 */
export function laterCves(template: RawFinding, count: number, at: string, severity = 'HIGH'): RawFinding[] {
  return Array.from({ length: count }, (_, index) => {
    const copy = structuredClone(template);
    const cve = `CVE-2022-${(40_000 + index).toString()}`;
    const image = String(copy.Resources[0]?.Id);
    copy.Id = `${image}/${cve}`;
    copy.Title = `Trivy found a vulnerability to ${cve} in container ${image}`;
    copy.Severity = { Label: severity };
    copy.CreatedAt = at;
    copy.UpdatedAt = at;
    const [resource] = copy.Resources;
    const details = (resource?.Details ?? {}) as Record<string, Record<string, unknown>>;
    details.Other = {
      ...details.Other,
      'CVE ID': cve,
      PkgName: `zlib-${index}`,
      'Installed Package': '1.2.11-r3',
      'Patched Package': '1.2.12-r0',
    };
    return copy;
  });
}

/** The same finding as Security Hub sends it once Trivy no longer reports it: archived, resolved. */
export function fixed(raw: RawFinding, at: string): RawFinding {
  const copy = structuredClone(raw);
  copy.RecordState = 'ARCHIVED';
  copy.Workflow = { Status: 'RESOLVED' };
  copy.UpdatedAt = at;
  return copy;
}

/** The real Inspector ECR findings (DefectDojo's GetFindings export, 7 images, one CVE each). */
export function inspectorEcrFindings(): RawFinding[] {
  return loadFixture<{ Findings: RawFinding[] }>(
    'third-party/corpus/defectdojo-inspector-ecr-seven-findings-getfindings.json',
  ).Findings;
}

const SEVERITIES = ['CRITICAL', 'HIGH', 'HIGH', 'MEDIUM', 'MEDIUM'] as const;

/**
 * A vulnerability storm: `count` Inspector findings on `images` ECR images spread over
 * `accounts` (round-robin over the images, each image in one account), each a CVE of its own,
 * each its own event, as Security Hub sends them.
 */
export function vulnerabilityStormEvents(count: number, images: number, accounts: string[]): ImportedEvent[] {
  const [template] = inspectorEcrFindings();
  if (!template) throw new Error('fixture');
  return Array.from({ length: count }, (_, index) => {
    const image = index % images;
    const account = accounts[image % accounts.length] as string;
    const digest = image.toString(16).padStart(64, '0');
    const cve = `CVE-2024-${(10_000 + index).toString()}`;
    const raw = structuredClone(template);
    raw.Id = `arn:aws:inspector2:eu-central-1:${account}:finding/storm${index.toString().padStart(28, '0')}`;
    raw.AwsAccountId = account;
    raw.Title = `${cve} - openssl`;
    raw.Severity = { Label: SEVERITIES[index % SEVERITIES.length] };
    const [resource] = raw.Resources;
    if (resource)
      resource.Id = `arn:aws:ecr:eu-central-1:${account}:repository/repo-${image}/sha256:${digest}`;
    const [vulnerability] = raw.Vulnerabilities as Array<Record<string, unknown>>;
    if (vulnerability) vulnerability.Id = cve;
    const event = wrapFindings([raw], `vulnerability-storm-${index}`);
    event.account = account;
    return event;
  });
}

/**
 * The vulnerability group delivery of raw findings (MEDIUM and above), as dispatch plans it at
 * `now`: at most 100 findings an event, as Security Hub sends them; `open`, a group already open.
 */
export function planVulnerabilityGroup(
  raw: RawFinding[],
  now: Date,
  open?: { key: string; memberCount: number },
): Delivery {
  const events = Array.from({ length: Math.ceil(raw.length / 100) }, (_, i) =>
    raw.slice(i * 100, i * 100 + 100),
  );
  const parsed = events.flatMap((part) => parseImportedEvent(trivyEvent(part)).findings);
  const findings = latestByKey(parsed.map((finding) => ({ finding })))
    .map(({ finding }) => finding)
    .filter((finding) => finding.severity !== 'LOW');
  const at = new Date(now.getTime() - 60_000).toISOString();
  const groups = open
    ? new Map([[open.key, { ...open, lastActivityAt: at, openedAt: at, delivered: true }]])
    : new Map();
  const plan = planDeliveries(
    findings.map((finding) => ({ finding, mode: 'new', destinations: { slack: true, backlog: true } })),
    groups,
    DEFAULT_GROUPING,
    now,
    { sla: DEFAULT_SLA_DAYS },
  );
  const [delivery] = plan.deliveries;
  if (!delivery || plan.deliveries.length !== 1) throw new Error('expected one delivery');
  return delivery;
}
