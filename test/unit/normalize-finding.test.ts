import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImportedEvent } from '../../src/domain/finding/imported-event.js';
import { isRecord } from '../../src/domain/finding/json.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { FindingValidationError } from '../../src/domain/finding/validation-error.js';
import { loadEvent, loadThirdParty, withFinding } from '../helpers/events.js';

const context = { eventId: 'evt-1', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };

/** A fresh copy of the Security Hub control sample finding. */
const base = () => structuredClone(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] ?? {});

describe('normalizeFinding', () => {
  it('normalises the AWS GuardDuty sample, arn:aws:: spelling and all', () => {
    const event = loadEvent('guardduty-ssh-bruteforce.json');

    const finding = normalizeFinding(event.detail.findings[0], context);

    expect(finding.product).toBe('GuardDuty');
    expect(finding.key).toBe(`${event.detail.findings[0]?.ProductArn}|${event.detail.findings[0]?.Id}`);
    expect(finding.identifier).toEqual({
      Id: event.detail.findings[0]?.Id,
      ProductArn: 'arn:aws::securityhub:us-east-1::product/aws/guardduty',
    });
    expect(finding.accountId).toBe('193043430472');
    expect(finding.region).toBe('us-east-1');
    expect(finding.severity).toBe('MEDIUM');
    expect(finding.guardDuty).toMatchObject({
      type: 'UnauthorizedAccess:EC2-SSHBruteForce',
      remoteIp: '199.241.229.197',
      remotePort: '46717',
      remoteCountry: 'United States',
    });
    expect(finding.resources).toEqual([
      expect.objectContaining({ type: 'AwsEc2Instance', tags: { Name: 'kubectl' } }),
    ]);
    expect(finding.sourceUrl).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/guardduty/);
    expect(finding.consoleUrl).toMatch(
      /^https:\/\/ap-northeast-1\.console\.aws\.amazon\.com\/securityhub\/home\?region=ap-northeast-1#\/findings\?search=Id%3D/,
    );
    expect(finding.workflowStatus).toBe('NEW');
    expect(finding.recordState).toBe('ACTIVE');
  });

  it('normalises a Security Hub control finding with its control id and compliance status', () => {
    const event = loadEvent('fsbp-cloudtrail-2.json');

    const finding = normalizeFinding(event.detail.findings[0], context);

    expect(finding.product).toBe('SecurityHub');
    expect(finding.productName).toBe('Security Hub');
    expect(finding.control?.id).toBe('CloudTrail.2');
    expect(finding.complianceStatus).toBe('FAILED');
    expect(finding.remediationUrl).toBe(
      'https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation',
    );
    expect(finding.region).toBe('us-east-2');
  });

  it('reads the GuardDuty count and the API actor from a real export', () => {
    const event = loadThirdParty('defectdojo-guardduty-iamuser-networkpermissions.json');

    const finding = normalizeFinding(event.detail.findings[0], context);

    expect(finding.guardDuty).toMatchObject({
      count: 2,
      actor: 'GeneratedFindingAPIName',
      remoteIp: '198.51.100.0',
    });
    expect(finding.resourceCount).toBe(2);
  });

  it('reads the CVE, package and fixed version from an Inspector finding', () => {
    const finding = normalizeFinding(
      loadThirdParty('defectdojo-inspector-one-vuln.json').detail.findings[0],
      context,
    );

    expect(finding.product).toBe('Inspector');
    expect(finding.severity).toBe('HIGH');
    expect(finding.vulnerabilities?.[0]).toMatchObject({
      id: 'CVE-2017-9735',
      packages: [
        {
          name: 'org.eclipse.jetty:jetty-server',
          version: '8.1.14.v20131031',
          fixedVersion: '9.4.6.v20170531',
        },
        {
          name: 'org.eclipse.jetty:jetty-util',
          version: '8.1.14.v20131031',
          fixedVersion: '9.4.6.v20170531',
        },
      ],
    });
  });

  it('names a third-party product and defaults a missing Workflow to NEW', () => {
    const finding = normalizeFinding(
      loadThirdParty('defectdojo-prowler-accessanalyzer.json').detail.findings[0],
      context,
    );

    expect(finding.product).toBe('Other');
    expect(finding.productName).toBe('Prowler');
    expect(finding.workflowStatus).toBe('NEW');
    expect(finding.accountName).toBeUndefined();
  });

  it('uses AwsAccountName, else the configured account map', () => {
    const raw = loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] as Record<string, unknown>;

    const named = normalizeFinding({ ...raw, AwsAccountName: 'prod-payments' }, context);
    const mapped = normalizeFinding(raw, { ...context, accountNames: { '123456789012': 'staging' } });

    expect(named.accountName).toBe('prod-payments');
    expect(mapped.accountName).toBe('staging');
  });

  it('survives odd optional fields: bad URLs, non-string tags, no resources, no description', () => {
    const raw = {
      ...(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] as Record<string, unknown>),
      SourceUrl: 'javascript:alert(1)',
      Remediation: { Recommendation: { Url: 'not a url' } },
      Resources: [{ Tags: { ok: 'yes', bad: 42 } }, 'not an object'],
      Description: undefined,
      Types: 'not-an-array',
    };

    const finding = normalizeFinding(raw, context);

    expect(finding.sourceUrl).toBeUndefined();
    expect(finding.remediationUrl).toBeUndefined();
    expect(finding.resources).toEqual([{ type: 'Other', id: '(no id)', tags: { ok: 'yes' } }]);
    expect(finding.description).toBe('');
    expect(finding.types).toEqual([]);
  });

  it('falls back to Severity.Normalized when there is no label', () => {
    const raw = {
      ...(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] as object),
      Severity: { Normalized: 91 },
    };

    expect(normalizeFinding(raw, context).severity).toBe('CRITICAL');
  });

  it.each([
    ['Id', undefined, 'detail.findings[0].Id'],
    ['Id', 'half a surrogate \uD800', 'detail.findings[0].Id'],
    ['AwsAccountId', '12345', 'detail.findings[0].AwsAccountId'],
    ['Severity', { Label: 'SEVERE' }, 'detail.findings[0].Severity.Label'],
    ['Severity', {}, 'detail.findings[0].Severity'],
    ['UpdatedAt', 'yesterday', 'detail.findings[0].UpdatedAt'],
    ['Title', 42, 'detail.findings[0].Title'],
    ['Severity', 'HIGH', 'detail.findings[0].Severity'],
    ['Severity', ['HIGH'], 'detail.findings[0].Severity'],
    ['Severity', null, 'detail.findings[0].Severity'],
    ['Severity', { Label: 'high' }, 'detail.findings[0].Severity.Label'],
    ['Severity', { Label: 4 }, 'detail.findings[0].Severity.Label'],
    ['Severity', { Label: 'HIGH', Normalized: '70' }, 'detail.findings[0].Severity.Normalized'],
    ['Severity', { Normalized: 101 }, 'detail.findings[0].Severity.Normalized'],
    ['Severity', { Normalized: -1 }, 'detail.findings[0].Severity.Normalized'],
    ['Workflow', 'NEW', 'detail.findings[0].Workflow'],
    ['Workflow', ['NEW'], 'detail.findings[0].Workflow'],
    ['Workflow', null, 'detail.findings[0].Workflow'],
    ['Workflow', { Status: 'notified' }, 'detail.findings[0].Workflow.Status'],
    ['Workflow', { Status: 'ASSIGNED' }, 'detail.findings[0].Workflow.Status'],
    ['Workflow', { Status: '' }, 'detail.findings[0].Workflow.Status'],
    ['Workflow', { Status: 1 }, 'detail.findings[0].Workflow.Status'],
    ['Workflow', { Status: { Value: 'NEW' } }, 'detail.findings[0].Workflow.Status'],
    ['WorkflowState', 0, 'detail.findings[0].WorkflowState'],
    ['WorkflowState', { State: 'NEW' }, 'detail.findings[0].WorkflowState'],
    ['RecordState', 'active', 'detail.findings[0].RecordState'],
    ['RecordState', 'DELETED', 'detail.findings[0].RecordState'],
    ['RecordState', true, 'detail.findings[0].RecordState'],
    ['RecordState', null, 'detail.findings[0].RecordState'],
    ['Compliance', 'FAILED', 'detail.findings[0].Compliance'],
    ['Compliance', [{ Status: 'FAILED' }], 'detail.findings[0].Compliance'],
    ['Compliance', { Status: 'INFOED' }, 'detail.findings[0].Compliance.Status'],
    ['Compliance', { Status: 'failed' }, 'detail.findings[0].Compliance.Status'],
    ['Compliance', { Status: ['FAILED'] }, 'detail.findings[0].Compliance.Status'],
    ['CreatedAt', '1', 'detail.findings[0].CreatedAt'],
    ['UpdatedAt', 'Tuesday 1 March', 'detail.findings[0].UpdatedAt'],
    ['FirstObservedAt', '1', 'detail.findings[0].FirstObservedAt'],
    ['LastObservedAt', 'Tuesday 1 March', 'detail.findings[0].LastObservedAt'],
    ['LastObservedAt', 1_704_067_200_000, 'detail.findings[0].LastObservedAt'],
  ])('rejects a finding whose %s is %j, naming the event and the field', (field, value, path) => {
    const raw = { ...(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] as object), [field]: value };

    const attempt = () => normalizeFinding(raw, context);

    expect(attempt).toThrow(FindingValidationError);
    expect(attempt).toThrow(`event evt-1: ${path}: `);
  });

  it('names the value it rejects and the values it would take', () => {
    const raw = { ...base(), Workflow: { Status: 'notified' } };

    expect(() => normalizeFinding(raw, context)).toThrow(
      'event evt-1: detail.findings[0].Workflow.Status: is "notified", not one of NEW, NOTIFIED, RESOLVED, SUPPRESSED',
    );
  });

  it.each([
    ['Workflow', {}],
    ['Workflow', { Status: 'NOTIFIED' }],
    ['WorkflowState', 'NOTIFIED'],
    ['WorkflowState', 'ASSIGNED'],
    ['RecordState', 'ARCHIVED'],
    ['Compliance', {}],
    ['Compliance', { Status: 'NOT_AVAILABLE' }],
    ['Severity', { Label: 'LOW', Normalized: 40 }],
    ['Severity', { Normalized: 0 }],
    ['Severity', { Normalized: 99.5 }],
  ])('accepts a well-formed %s %j', (field, value) => {
    expect(() => normalizeFinding({ ...base(), [field]: value }, context)).not.toThrow();
  });

  it('defaults missing optional fields as before: NEW (or WorkflowState), ACTIVE, no compliance status', () => {
    const raw = base();
    for (const key of ['Workflow', 'WorkflowState', 'RecordState', 'Compliance']) delete raw[key];
    delete raw.FirstObservedAt;
    delete raw.LastObservedAt;

    const finding = normalizeFinding(raw, context);
    const fromState = normalizeFinding({ ...raw, WorkflowState: 'NOTIFIED' }, context);
    const emptyWorkflow = normalizeFinding({ ...raw, Workflow: {}, WorkflowState: 'RESOLVED' }, context);

    expect(finding).toMatchObject({ workflowStatus: 'NEW', recordState: 'ACTIVE' });
    expect(finding.complianceStatus).toBeUndefined();
    expect(finding.firstObservedAt).toBeUndefined();
    expect(fromState.workflowStatus).toBe('NOTIFIED');
    expect(emptyWorkflow.workflowStatus).toBe('RESOLVED');
  });

  it.each([
    '2024-01-01T00:00:00Z',
    '2020-08-06T02:18:23.076Z',
    '2019-05-09T06:13:43.164246+00:00',
    '2021-02-24T16:22:10.123456-05:00',
    '2023-01-01T00:00:00.123456789Z',
    '2024-02-29T12:00:00+09:00',
    '2024-01-01T00:00:00-00:00',
  ])('accepts the ISO 8601 date-time %s in every timestamp field', (timestamp) => {
    const raw = {
      ...base(),
      CreatedAt: timestamp,
      UpdatedAt: timestamp,
      FirstObservedAt: timestamp,
      LastObservedAt: timestamp,
    };

    const finding = normalizeFinding(raw, context);

    expect([finding.createdAt, finding.updatedAt, finding.firstObservedAt, finding.lastObservedAt]).toEqual([
      timestamp,
      timestamp,
      timestamp,
      timestamp,
    ]);
  });

  const notIso = [
    '1',
    'Tuesday 1 March',
    '',
    '2024-01-01',
    '2024-01-01T00:00Z',
    '2024-01-01T00:00:00',
    '2024-01-01 00:00:00Z',
    '2024-01-01t00:00:00z',
    '2024-01-01T00:00:00z',
    '2023-02-29T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T00:60:00Z',
    '2024-12-31T23:59:60Z',
    '2024-01-01T00:00:00.Z',
    '2024-01-01T00:00:00.1234567890Z',
    '2024-01-01T00:00:00+0900',
    '2024-01-01T00:00:00+24:00',
    '+002024-01-01T00:00:00Z',
    ' 2024-01-01T00:00:00Z',
    '2024-01-01T00:00:00Z\n',
  ];
  it.each(
    ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt'].flatMap((field) =>
      notIso.map((value) => [field, value]),
    ),
  )('rejects %s %j: not an ISO 8601 date-time', (field, value) => {
    const attempt = () => normalizeFinding({ ...base(), [field as string]: value }, context);

    expect(attempt).toThrow(FindingValidationError);
    expect(attempt).toThrow(
      new RegExp(`^event evt-1: detail\\.findings\\[0\\]\\.${field}: .*not an ISO 8601 date-time`),
    );
  });
});

const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const WORKFLOW = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
const RECORD = ['ACTIVE', 'ARCHIVED'];
const COMPLIANCE = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'];
const CHECKED_FIELDS = [
  'Severity',
  'Workflow',
  'WorkflowState',
  'RecordState',
  'Compliance',
  'CreatedAt',
  'UpdatedAt',
  'FirstObservedAt',
  'LastObservedAt',
] as const;

/** Near-miss values as well as arbitrary JSON: the right shape with the wrong content is the hard case. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
const word = (valid: string[]) =>
  fc.oneof(
    fc.constantFrom(...valid),
    fc.constantFrom(...valid).map((value) => value.toLowerCase()),
    fc.string({ maxLength: 12 }),
    anyJson,
  );
const timestamp = fc.oneof(
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((date) => date.toISOString()),
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 61 }),
      fc.constantFrom('', '.1', '.123456', '.123456789', '.1234567891'),
      fc.constantFrom('Z', 'z', '+09:00', '-05:00', '+24:00', '+0900', ''),
    )
    .map(([y, mo, d, h, mi, s, fraction, zone]) => {
      const two = (n: number) => String(n).padStart(2, '0');
      return `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:${two(s)}${fraction}${zone}`;
    }),
  fc.string({ maxLength: 30 }),
  anyJson,
);
const fieldValue: Record<(typeof CHECKED_FIELDS)[number], fc.Arbitrary<unknown>> = {
  Severity: fc.oneof(
    fc.record(
      {
        Label: word(SEVERITY_LABELS),
        Normalized: fc.oneof(fc.integer({ min: -5, max: 105 }), fc.double(), anyJson),
        Product: anyJson,
      },
      { requiredKeys: [] },
    ),
    anyJson,
  ),
  Workflow: fc.oneof(fc.record({ Status: word(WORKFLOW) }, { requiredKeys: [] }), anyJson),
  WorkflowState: fc.oneof(word(WORKFLOW), fc.constantFrom('ASSIGNED', 'IN_PROGRESS', 'DEFERRED')),
  RecordState: word(RECORD),
  Compliance: fc.oneof(
    fc.record({ Status: word(COMPLIANCE), SecurityControlId: anyJson }, { requiredKeys: [] }),
    anyJson,
  ),
  CreatedAt: timestamp,
  UpdatedAt: timestamp,
  FirstObservedAt: timestamp,
  LastObservedAt: timestamp,
};
/** Each checked field: left as in the sample, deleted, or replaced by a generated value. */
const changes = fc.record(
  Object.fromEntries(
    CHECKED_FIELDS.map((field) => [
      field,
      fc.oneof(
        fc.constant({ kind: 'keep' as const }),
        fc.constant({ kind: 'delete' as const }),
        fieldValue[field].map((value) => ({ kind: 'set' as const, value })),
      ),
    ]),
  ) as Record<
    (typeof CHECKED_FIELDS)[number],
    fc.Arbitrary<{ kind: 'keep' } | { kind: 'delete' } | { kind: 'set'; value: unknown }>
  >,
);
const isIso = (value: unknown) =>
  typeof value === 'string' &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
  Number.isFinite(Date.parse(value));

describe('normalizeFinding on generated Severity, Workflow, RecordState, Compliance and timestamps', () => {
  it('either yields valid labels, statuses and timestamps or throws FindingValidationError naming a changed field', () => {
    fc.assert(
      fc.property(changes, (change) => {
        const raw = base();
        const changed: string[] = [];
        for (const field of CHECKED_FIELDS) {
          const step = change[field];
          if (step.kind === 'delete') delete raw[field];
          if (step.kind === 'set') raw[field] = step.value;
          if (step.kind !== 'keep') changed.push(field);
        }

        let finding: ReturnType<typeof normalizeFinding>;
        try {
          finding = normalizeFinding(raw, context);
        } catch (error) {
          expect(error).toBeInstanceOf(FindingValidationError);
          const { eventId, field } = error as FindingValidationError;
          expect(eventId).toBe('evt-1');
          expect(field.startsWith('detail.findings[0].')).toBe(true);
          const top = field.slice('detail.findings[0].'.length).split('.')[0] ?? '';
          expect(changed).toContain(top);
          return;
        }

        expect(SEVERITY_LABELS).toContain(finding.severity);
        const status = isRecord(raw.Workflow) ? raw.Workflow.Status : undefined;
        if (status !== undefined || typeof raw.WorkflowState !== 'string' || raw.WorkflowState === '') {
          expect(WORKFLOW).toContain(finding.workflowStatus);
        } else {
          // The deprecated WorkflowState is passed on as it is when it is the only status given.
          expect(finding.workflowStatus).toBe(raw.WorkflowState);
        }
        // Accepted means every present field had the documented shape, not merely that a default applied.
        for (const field of ['Workflow', 'Compliance'] as const) {
          if (raw[field] !== undefined) expect(isRecord(raw[field])).toBe(true);
        }
        if (raw.WorkflowState !== undefined) expect(typeof raw.WorkflowState).toBe('string');
        expect(RECORD).toContain(finding.recordState);
        if (finding.complianceStatus !== undefined) expect(COMPLIANCE).toContain(finding.complianceStatus);
        expect(isIso(finding.createdAt)).toBe(true);
        expect(isIso(finding.updatedAt)).toBe(true);
        if (raw.FirstObservedAt !== undefined) expect(isIso(finding.firstObservedAt)).toBe(true);
        if (raw.LastObservedAt !== undefined) expect(isIso(finding.lastObservedAt)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseImportedEvent', () => {
  it('loops over every finding, rejecting the malformed one and keeping the others', () => {
    const good = loadEvent('fsbp-cloudtrail-2.json');
    const event = structuredClone(good);
    event.id = 'evt-two';
    event.detail.findings.push({ ...good.detail.findings[0], Id: undefined });
    event.detail.findings.push({ ...good.detail.findings[0], Id: 'another-id' });

    const parsed = parseImportedEvent(event);

    expect(parsed.findings.map((f) => f.identifier.Id)).toEqual([good.detail.findings[0]?.Id, 'another-id']);
    expect(parsed.rejected).toHaveLength(1);
    expect(parsed.rejected[0]?.error.message).toBe(
      'event evt-two: detail.findings[1].Id: Invalid input: expected string, received undefined',
    );
  });

  it.each([
    [null, 'event'],
    [{ id: 'e1', source: 'aws.guardduty', 'detail-type': 'x', detail: {} }, 'source'],
    [
      { id: 'e1', source: 'aws.securityhub', 'detail-type': 'Security Hub Insight Results', detail: {} },
      'detail-type',
    ],
    [
      { id: 'e1', source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported', detail: {} },
      'detail.findings',
    ],
    [{ source: 'aws.securityhub' }, 'id'],
  ])('rejects a malformed envelope %j naming the field %s', (event, field) => {
    expect(() => parseImportedEvent(event)).toThrow(new RegExp(`: ${field.replace('.', '\\.')}: `));
  });

  it('keeps a finding valid when only the ASFF required fields are present', () => {
    const event = withFinding(loadEvent('fsbp-cloudtrail-2.json'), (finding) => {
      for (const key of Object.keys(finding)) {
        if (
          ![
            'SchemaVersion',
            'Id',
            'ProductArn',
            'GeneratorId',
            'AwsAccountId',
            'Types',
            'CreatedAt',
            'UpdatedAt',
            'Severity',
            'Title',
            'Description',
            'Resources',
          ].includes(key)
        ) {
          delete finding[key];
        }
      }
    });

    const parsed = parseImportedEvent(event);

    expect(parsed.rejected).toEqual([]);
    expect(parsed.findings[0]).toMatchObject({
      workflowStatus: 'NEW',
      recordState: 'ACTIVE',
      region: 'us-east-2',
    });
  });
});
