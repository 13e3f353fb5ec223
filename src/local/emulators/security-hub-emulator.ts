import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, readBody, sendJson, sleep, startHttpServer } from './http-server.js';
import { matchesOcsfFilters, OcsfFilterError, type OcsfFilters } from './ocsf-filters.js';
import {
  type InsightOperation,
  type InsightsApi,
  InsightsApiError,
  startInsights,
} from './security-hub-insights.js';

export interface FindingIdentifier {
  Id: string;
  ProductArn: string;
}

/** A finding as stored: the imported ASFF document plus what BatchUpdateFindings changed. */
export type StoredFinding = FindingIdentifier & Record<string, unknown>;

export interface BatchUpdateRecord {
  FindingIdentifiers: FindingIdentifier[];
  Workflow?: { Status?: string };
  Note?: { Text?: string; UpdatedBy?: string };
  [field: string]: unknown;
}

export type UnprocessedErrorCode = 'ConcurrentUpdateError' | 'InternalFailure' | 'FindingNotFound';
/** BatchUpdateFindingsV2's error codes for findings it could not update. */
export type UnprocessedV2ErrorCode =
  | 'ResourceNotFoundException'
  | 'ValidationException'
  | 'InternalServerException'
  | 'ConflictException';

/** What a BatchUpdateFindingsV2 request asked. */
export interface BatchUpdateV2Record {
  MetadataUids: string[];
  StatusId?: number;
  Comment?: string;
}

/** The new Security Hub's status names by id (OCSF). */
const OCSF_STATUSES: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'New',
  2: 'In Progress',
  3: 'Suppressed',
  4: 'Resolved',
  5: 'Archived',
  99: 'Other',
};

export interface SecurityHubEmulatorOptions {
  /** Unknown identifiers come back unprocessed (`FindingNotFound`) instead of being created. */
  strict?: boolean;
  findings?: Array<Record<string, unknown>>;
  /** Whether the new Security Hub is enabled (DescribeSecurityHubV2, GetFindingStatisticsV2); default not. */
  securityHubV2?: boolean;
  /** The home region (`DescribeHub`, the aggregator, imported events); default us-east-1. */
  region?: string;
}

/** The cross-region finding aggregator, as GetFindingAggregator describes it. */
export interface FindingAggregator {
  region: string;
  mode: 'ALL_REGIONS' | 'ALL_REGIONS_EXCEPT_SPECIFIED' | 'SPECIFIED_REGIONS' | 'NO_REGIONS';
  regions?: string[];
}

export type SecurityHubFault = (
  | { status: 429; code?: 'TooManyRequestsException' | 'LimitExceededException' }
  | { status: 500; code?: 'InternalException' }
  | { status: 400 | 401 | 403; code: string; message?: string }
) & { delayMs?: number; operation?: SecurityHubOperation };

export type SecurityHubOperation =
  | 'BatchUpdateFindings'
  | 'BatchUpdateFindingsV2'
  | 'BatchImportFindings'
  | 'GetFindings'
  | 'GetFindingsV2'
  | InsightOperation
  | 'DescribeHub'
  | 'ListFindingAggregators'
  | 'GetFindingAggregator';

export interface SecurityHubEmulator {
  /** The client's `endpoint` (or AWS_ENDPOINT_URL_SECURITYHUB): `http://127.0.0.1:PORT`. */
  url: string;
  findings: Map<string, StoredFinding>;
  /** Every accepted BatchUpdateFindings request, in order. */
  batchUpdates: BatchUpdateRecord[];
  /** Every request; `operation` is `BatchUpdateFindings` etc. (or `METHOD /path` if unknown). */
  calls: Array<{ operation: string; body: unknown }>;
  /** Stores findings as BatchImportFindings does (a new finding starts NEW). */
  importFindings(findings: Array<Record<string, unknown>>): void;
  workflowStatusOf(id: string, productArn: string): string | undefined;
  /** Identifiers whose Workflow.Status is NOTIFIED. */
  notified(): FindingIdentifier[];
  /** The new Security Hub's OCSF findings, by `metadata.uid`. */
  findingsV2: Map<string, Record<string, unknown>>;
  /** Every accepted BatchUpdateFindingsV2 request, in order. */
  batchUpdatesV2: BatchUpdateV2Record[];
  /** Stores OCSF findings as the new Security Hub holds them. */
  importFindingsV2(findings: Array<Record<string, unknown>>): void;
  /** The status id of an OCSF finding (2: In Progress, the notifier's "notified"). */
  statusIdOf(metadataUid: string): number | undefined;
  /** The next `times` BatchUpdateFindingsV2 leave these uids (all, if omitted) unprocessed. */
  unprocessedV2Next(errorCode: UnprocessedV2ErrorCode, uids?: string[], times?: number): void;
  /** The next `times` requests (of `fault.operation`, if set) fail. */
  failNext(fault: SecurityHubFault, times?: number): void;
  /** The next `times` BatchUpdateFindings leave these ids (all, if omitted) unprocessed. */
  unprocessedNext(errorCode: UnprocessedErrorCode, ids?: string[], times?: number): void;
  /** Insights and the new Security Hub's statistics (security-hub-insights.ts). */
  insights: InsightsApi;
  /**
   * Every finding BatchImportFindings stores (created or updated) becomes a "Security Hub Findings -
   * Imported" event handed to `listener`, as Security Hub sends one to EventBridge.
   */
  onImported(listener: (event: Record<string, unknown>) => void): void;
  /** Security Hub enabled in the region or not (`DescribeHub`; BatchImportFindings refused when not). */
  setEnabled(enabled: boolean): void;
  /** The finding aggregator (`undefined`: none). */
  setAggregator(aggregator: FindingAggregator | undefined): void;
  close(): Promise<void>;
}

const WORKFLOW_STATUSES = new Set(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']);
const REOPENING_COMPLIANCE = new Set(['FAILED', 'WARNING', 'NOT_AVAILABLE']);
const CUSTOMER_FIELDS = ['Workflow', 'WorkflowState', 'Note', 'UserDefinedFields', 'VerificationState'];
const REQUIRED_FIELDS = [
  'Id',
  'ProductArn',
  'AwsAccountId',
  'GeneratorId',
  'Title',
  'Description',
  'Resources',
];

const ROUTES: Record<string, SecurityHubOperation> = {
  'PATCH /findings/batchupdate': 'BatchUpdateFindings',
  'PATCH /findingsv2/batchupdatev2': 'BatchUpdateFindingsV2',
  'POST /findingsv2': 'GetFindingsV2',
  'POST /findings/import': 'BatchImportFindings',
  'POST /findings': 'GetFindings',
  'GET /accounts': 'DescribeHub',
  'GET /findingAggregator/list': 'ListFindingAggregators',
  'GET /findingAggregator/get': 'GetFindingAggregator',
};

const keyOf = (identifier: FindingIdentifier) => `${identifier.ProductArn}|${identifier.Id}`;
const now = () => new Date().toISOString();

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const invalidInput = (message: string) => new AwsError(400, 'InvalidInputException', message);

export async function startSecurityHubEmulator(
  options: SecurityHubEmulatorOptions = {},
): Promise<SecurityHubEmulator> {
  const findings = new Map<string, StoredFinding>();
  const batchUpdates: BatchUpdateRecord[] = [];
  const calls: Array<{ operation: string; body: unknown }> = [];
  const faults = new FaultQueue<SecurityHubOperation | undefined, SecurityHubFault>();
  const unprocessed = new FaultQueue<string, { errorCode: UnprocessedErrorCode; ids?: string[] }>();
  const findingsV2 = new Map<string, Record<string, unknown>>();
  const batchUpdatesV2: BatchUpdateV2Record[] = [];
  const unprocessedV2 = new FaultQueue<string, { errorCode: UnprocessedV2ErrorCode; uids?: string[] }>();
  const uidOf = (finding: Record<string, unknown>) =>
    String((finding.metadata as { uid?: unknown } | undefined)?.uid ?? '');
  const region = options.region ?? 'us-east-1';
  const importListeners: Array<(event: Record<string, unknown>) => void> = [];
  let enabled = true;
  let aggregator: FindingAggregator | undefined;
  const aggregatorArn = `arn:aws:securityhub:${region}:000000000000:finding-aggregator/local`;
  const emitImported = (stored: StoredFinding) => {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      account: String(stored.AwsAccountId ?? '000000000000'),
      time: now(),
      region,
      resources: [`${stored.ProductArn}/finding/${stored.Id}`],
      detail: { findings: [structuredClone(stored)] },
    };
    for (const listener of importListeners) listener(event);
  };

  const importOne = (finding: Record<string, unknown>): string | undefined => {
    const missing = REQUIRED_FIELDS.find((field) => finding[field] === undefined || finding[field] === '');
    if (missing) return `Finding is missing the required field ${missing}`;
    const stored: StoredFinding = {
      ...finding,
      Id: String(finding.Id),
      ProductArn: String(finding.ProductArn),
    };
    const previous = findings.get(keyOf(stored));
    if (!previous) {
      findings.set(keyOf(stored), {
        RecordState: 'ACTIVE',
        Workflow: { Status: 'NEW' },
        WorkflowState: 'NEW',
        ...stored,
      });
      return undefined;
    }
    // A provider update keeps what customers own (Workflow, Note, ...), except that Security Hub
    // reopens a NOTIFIED/RESOLVED finding when its record is re-activated or its control fails again.
    const owned = CUSTOMER_FIELDS.filter((field) => previous[field] !== undefined);
    const merged: StoredFinding = {
      ...stored,
      ...Object.fromEntries(owned.map((field) => [field, previous[field]])),
    };
    if (reopens(previous, merged)) {
      merged.Workflow = { Status: 'NEW' };
      merged.WorkflowState = 'NEW';
    }
    findings.set(keyOf(stored), merged);
    return undefined;
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    'POST /findings/import': (body) => {
      const input = asArray(body.Findings, 'Findings', 1, 100);
      if (!enabled)
        throw new AwsError(401, 'InvalidAccessException', 'Account is not subscribed to AWS Security Hub');
      const failed = input.flatMap((finding) => {
        const problem = importOne(finding as Record<string, unknown>);
        const id = String((finding as Record<string, unknown>).Id ?? '');
        const stored = problem ? undefined : findings.get(keyOf(finding as FindingIdentifier));
        if (stored) emitImported(stored);
        return problem ? [{ Id: id, ErrorCode: 'InvalidInput', ErrorMessage: problem }] : [];
      });
      return {
        FailedCount: failed.length,
        SuccessCount: input.length - failed.length,
        FailedFindings: failed,
      };
    },
    'PATCH /findings/batchupdate': (body) => {
      const identifiers = asArray(body.FindingIdentifiers, 'FindingIdentifiers', 1, 100).map(toIdentifier);
      const update = body as unknown as BatchUpdateRecord;
      validateUpdate(update);
      batchUpdates.push(structuredClone({ ...update, FindingIdentifiers: identifiers }));
      const injected = unprocessed.take('batchupdate');
      const processed: FindingIdentifier[] = [];
      const failed: Array<{ FindingIdentifier: FindingIdentifier; ErrorCode: string; ErrorMessage: string }> =
        [];
      for (const identifier of identifiers) {
        if (injected && (!injected.ids || injected.ids.includes(identifier.Id))) {
          failed.push({ FindingIdentifier: identifier, ...unprocessedError(injected.errorCode) });
          continue;
        }
        const existing = findings.get(keyOf(identifier));
        if (!existing && options.strict) {
          failed.push({ FindingIdentifier: identifier, ...unprocessedError('FindingNotFound') });
          continue;
        }
        findings.set(keyOf(identifier), applyUpdate(existing ?? { ...identifier }, update));
        processed.push(identifier);
      }
      return { ProcessedFindings: processed, UnprocessedFindings: failed };
    },
    'PATCH /findingsv2/batchupdatev2': (body) => {
      const uids = asArray(body.MetadataUids, 'MetadataUids', 1, 100).map(String);
      const statusId = body.StatusId === undefined ? undefined : Number(body.StatusId);
      if (statusId !== undefined && OCSF_STATUSES[statusId] === undefined) {
        throw new AwsError(
          400,
          'ValidationException',
          `StatusId ${statusId} is not one of 0, 1, 2, 3, 4, 5, 99`,
        );
      }
      const comment = body.Comment === undefined ? undefined : String(body.Comment);
      if (comment !== undefined && (comment.length < 1 || comment.length > 512)) {
        throw new AwsError(400, 'ValidationException', 'Comment must be 1 to 512 characters');
      }
      batchUpdatesV2.push({
        MetadataUids: uids,
        ...(statusId !== undefined ? { StatusId: statusId } : {}),
        ...(comment ? { Comment: comment } : {}),
      });
      const injected = unprocessedV2.take('batchupdatev2');
      const processed: Array<{ MetadataUid: string }> = [];
      const failed: Array<{ MetadataUid: string; ErrorCode: string; ErrorMessage: string }> = [];
      for (const uid of uids) {
        if (injected && (!injected.uids || injected.uids.includes(uid))) {
          failed.push({
            MetadataUid: uid,
            ErrorCode: injected.errorCode,
            ErrorMessage: `injected ${injected.errorCode}`,
          });
          continue;
        }
        const existing = findingsV2.get(uid);
        if (!existing && options.strict) {
          failed.push({
            MetadataUid: uid,
            ErrorCode: 'ResourceNotFoundException',
            ErrorMessage: 'Finding not found',
          });
          continue;
        }
        const updated: Record<string, unknown> = { ...(existing ?? { metadata: { uid } }) };
        if (statusId !== undefined)
          Object.assign(updated, { status_id: statusId, status: OCSF_STATUSES[statusId] });
        if (comment !== undefined) updated.comment = comment;
        findingsV2.set(uid, updated);
        processed.push({ MetadataUid: uid });
      }
      return { ProcessedFindings: processed, UnprocessedFindings: failed };
    },
    'GET /accounts': () => {
      if (!enabled) {
        throw new AwsError(
          401,
          'InvalidAccessException',
          'Account 000000000000 is not subscribed to AWS Security Hub',
        );
      }
      return {
        HubArn: `arn:aws:securityhub:${region}:000000000000:hub/default`,
        SubscribedAt: '2024-01-01T00:00:00.000Z',
      };
    },
    'GET /findingAggregator/list': () => ({
      FindingAggregators: aggregator ? [{ FindingAggregatorArn: aggregatorArn }] : [],
    }),
    'GET /findingAggregator/get': () => {
      if (!aggregator) throw new AwsError(404, 'ResourceNotFoundException', 'Finding aggregator not found');
      return {
        FindingAggregatorArn: aggregatorArn,
        FindingAggregationRegion: aggregator.region,
        RegionLinkingMode: aggregator.mode,
        ...(aggregator.regions ? { Regions: aggregator.regions } : {}),
      };
    },
    'POST /findingsv2': (body) => {
      const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
      const start = Number(body.NextToken ?? 0);
      let all: unknown[];
      try {
        const filters = body.Filters as OcsfFilters | undefined;
        all = [...findingsV2.values()].filter((finding) => matchesOcsfFilters(finding, filters));
      } catch (error) {
        if (!(error instanceof OcsfFilterError)) throw error;
        throw new AwsError(400, 'ValidationException', error.message);
      }
      const page = all.slice(start, start + max);
      return { Findings: page, ...(start + max < all.length ? { NextToken: String(start + max) } : {}) };
    },
    'POST /findings': (body) => {
      const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
      const start = Number(body.NextToken ?? 0);
      const filters = (body.Filters ?? {}) as Record<string, StringFilter[]>;
      // As documented: at most 10 attributes, at most 20 values each.
      const crowded = Object.keys(filters).filter((name) => (filters[name]?.length ?? 0) > 20);
      if (crowded.length > 0 || Object.keys(filters).length > 10) {
        throw invalidInput(`Filters: at most 10 attributes of at most 20 values each (${crowded})`);
      }
      const matching = [...findings.values()].filter((finding) => matchesFilters(finding, filters));
      const page = matching.slice(start, start + max);
      const next = start + max < matching.length ? { NextToken: String(start + max) } : {};
      return { Findings: page, ...next };
    },
  };

  const insights = startInsights({
    findings,
    findingsV2,
    matchesFilters,
    filterAttributes: Object.keys(FILTER_FIELDS),
    securityHubV2: options.securityHubV2 ?? false,
  });
  Object.assign(operations, insights.operations);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawPath = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    // GetFindingAggregator carries the aggregator's ARN in its path.
    const path = rawPath.startsWith('/findingAggregator/get/') ? '/findingAggregator/get' : rawPath;
    const routed = insights.route(req.method ?? '', path);
    const operation = routed?.key ?? `${req.method} ${path}`;
    const body = { ...((await readBody(req)) as Record<string, unknown>), ...routed?.params };
    calls.push({ operation: ROUTES[operation] ?? routed?.operation ?? operation, body });
    const requestId = randomUUID();
    const fail = (error: AwsError) =>
      sendJson(
        res,
        error.status,
        { Code: error.code, Message: error.message, message: error.message },
        {
          'x-amzn-errortype': `${error.code}:http://internal.amazon.com/coral/com.amazon.securityhub/`,
          'x-amzn-requestid': requestId,
        },
      );

    const fault = faults.take(ROUTES[operation] ?? routed?.operation);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault) {
      const code = fault.code ?? (fault.status === 429 ? 'TooManyRequestsException' : 'InternalException');
      const message =
        'message' in fault && fault.message
          ? fault.message
          : fault.status === 429
            ? 'Rate exceeded'
            : 'Internal failure';
      return fail(new AwsError(fault.status, code, message));
    }
    if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) {
      return fail(new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'));
    }
    const run = operations[operation];
    if (!run) return fail(new AwsError(404, 'UnknownOperationException', `No operation for ${operation}`));
    try {
      sendJson(res, 200, run(body), { 'x-amzn-requestid': requestId });
    } catch (error) {
      if (!(error instanceof AwsError) && !(error instanceof InsightsApiError)) throw error;
      fail(error);
    }
  };

  const server = await startHttpServer(handle);
  const importFindings = (input: Array<Record<string, unknown>>) => {
    for (const finding of input) {
      const problem = importOne(finding);
      if (problem) throw new Error(problem);
    }
  };
  importFindings(options.findings ?? []);
  return {
    url: server.origin,
    findings,
    batchUpdates,
    calls,
    importFindings,
    workflowStatusOf: (id, productArn) => workflowOf(findings.get(keyOf({ Id: id, ProductArn: productArn }))),
    findingsV2,
    batchUpdatesV2,
    importFindingsV2: (input) => {
      for (const finding of input) findingsV2.set(uidOf(finding), structuredClone(finding));
    },
    statusIdOf: (uid) => {
      const status = findingsV2.get(uid)?.status_id;
      return typeof status === 'number' ? status : undefined;
    },
    unprocessedV2Next: (errorCode, uids, times = 1) =>
      unprocessedV2.add(() => true, { errorCode, ...(uids && { uids }) }, times),
    notified: () =>
      [...findings.values()]
        .filter((finding) => workflowOf(finding) === 'NOTIFIED')
        .map(({ Id, ProductArn }) => ({ Id, ProductArn })),
    failNext: (fault, times = 1) =>
      faults.add((operation) => fault.operation === undefined || fault.operation === operation, fault, times),
    unprocessedNext: (errorCode, ids, times = 1) =>
      unprocessed.add(() => true, { errorCode, ...(ids && { ids }) }, times),
    insights,
    onImported: (listener) => {
      importListeners.push(listener);
    },
    setEnabled: (value) => {
      enabled = value;
    },
    setAggregator: (value) => {
      aggregator = value;
    },
    close: server.close,
  };
}

function asArray(value: unknown, name: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw invalidInput(`${name} must contain between ${min} and ${max} items`);
  }
  return value;
}

function toIdentifier(value: unknown): FindingIdentifier {
  const { Id, ProductArn } = (value ?? {}) as Partial<FindingIdentifier>;
  if (typeof Id !== 'string' || !Id || typeof ProductArn !== 'string' || !ProductArn) {
    throw invalidInput('Each FindingIdentifier requires Id and ProductArn');
  }
  return { Id, ProductArn };
}

function validateUpdate(update: BatchUpdateRecord): void {
  const status = update.Workflow?.Status;
  if (update.Workflow && (status === undefined || !WORKFLOW_STATUSES.has(status))) {
    throw invalidInput(`Workflow.Status must be one of ${[...WORKFLOW_STATUSES].join(', ')}`);
  }
  const note = update.Note;
  if (note && (!note.Text || note.Text.length > 512 || !note.UpdatedBy || note.UpdatedBy.length > 128)) {
    throw invalidInput('Note requires Text (at most 512 characters) and UpdatedBy (at most 128 characters)');
  }
}

function applyUpdate(finding: StoredFinding, update: BatchUpdateRecord): StoredFinding {
  const { FindingIdentifiers: _, Workflow, Note, ...rest } = update;
  const updatedAt = now();
  return {
    ...finding,
    ...structuredClone(rest),
    ...(Workflow?.Status && { Workflow: { Status: Workflow.Status }, WorkflowState: Workflow.Status }),
    ...(Note && { Note: { Text: Note.Text, UpdatedBy: Note.UpdatedBy, UpdatedAt: updatedAt } }),
    UpdatedAt: updatedAt,
  };
}

function unprocessedError(errorCode: UnprocessedErrorCode): { ErrorCode: string; ErrorMessage: string } {
  const messages: Record<UnprocessedErrorCode, string> = {
    ConcurrentUpdateError: 'Finding was updated concurrently, please retry',
    InternalFailure: 'Internal service failure',
    FindingNotFound: 'Finding not found',
  };
  return { ErrorCode: errorCode, ErrorMessage: messages[errorCode] };
}

function workflowOf(finding: StoredFinding | undefined): string | undefined {
  return (finding?.Workflow as { Status?: string } | undefined)?.Status;
}

function reopens(previous: StoredFinding, next: StoredFinding): boolean {
  if (!['NOTIFIED', 'RESOLVED'].includes(workflowOf(previous) ?? '')) return false;
  const compliance = (finding: StoredFinding) =>
    (finding.Compliance as { Status?: string } | undefined)?.Status;
  const reactivated = previous.RecordState === 'ARCHIVED' && next.RecordState === 'ACTIVE';
  const failsAgain = compliance(previous) === 'PASSED' && REOPENING_COMPLIANCE.has(compliance(next) ?? '');
  return reactivated || failsAgain;
}

interface StringFilter {
  Value?: string;
  Comparison?: 'EQUALS' | 'PREFIX' | 'NOT_EQUALS' | 'PREFIX_NOT_EQUALS' | 'CONTAINS' | 'NOT_CONTAINS';
}

/** The string filters GetFindings is used with here; other filter kinds are ignored. */
const FILTER_FIELDS: Record<string, (finding: StoredFinding) => unknown> = {
  Id: (f) => f.Id,
  ProductArn: (f) => f.ProductArn,
  AwsAccountId: (f) => f.AwsAccountId,
  GeneratorId: (f) => f.GeneratorId,
  Title: (f) => f.Title,
  RecordState: (f) => f.RecordState,
  WorkflowStatus: (f) => workflowOf(f),
  SeverityLabel: (f) => (f.Severity as { Label?: string } | undefined)?.Label,
  ComplianceStatus: (f) => (f.Compliance as { Status?: string } | undefined)?.Status,
  ProductName: (f) => f.ProductName,
  Region: (f) => f.Region,
};

function matchesFilters(finding: StoredFinding, filters: Record<string, StringFilter[]>): boolean {
  return Object.entries(filters).every(([name, conditions]) => {
    const read = FILTER_FIELDS[name];
    if (!read || !Array.isArray(conditions)) return true;
    const value = String(read(finding) ?? '');
    const test = ({ Value = '', Comparison = 'EQUALS' }: StringFilter) => {
      if (Comparison === 'EQUALS') return value === Value;
      if (Comparison === 'PREFIX') return value.startsWith(Value);
      if (Comparison === 'CONTAINS') return value.includes(Value);
      if (Comparison === 'NOT_EQUALS') return value !== Value;
      if (Comparison === 'PREFIX_NOT_EQUALS') return !value.startsWith(Value);
      return !value.includes(Value);
    };
    // As in Security Hub: positive comparisons are OR'ed, negative ones AND'ed.
    const positive = conditions.filter((c) => !/NOT_/.test(c.Comparison ?? 'EQUALS'));
    const negative = conditions.filter((c) => /NOT_/.test(c.Comparison ?? 'EQUALS'));
    return (positive.length === 0 || positive.some(test)) && negative.every(test);
  });
}
