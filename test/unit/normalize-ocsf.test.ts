import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupLabel } from '../../src/domain/delivery/grouping.js';
import { asffProductArn, type Finding, findingKey, underlyingKey } from '../../src/domain/finding/finding.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { normalizeOcsfFinding } from '../../src/domain/finding/normalize-ocsf.js';
import {
  sameResourceType,
  toAsffResourceType,
  toCloudFormationType,
} from '../../src/domain/finding/resource-type.js';
import { FindingValidationError } from '../../src/domain/finding/validation-error.js';
import { loadFixture } from '../helpers/fixtures.js';
import { MARKUP_FRAGMENTS, markupHostile, SLACK_FRAGMENTS, slackHostile } from '../helpers/hostile.js';

type Json = Record<string, unknown>;

const context = { eventId: 'evt-ocsf', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };

/** A real OCSF sample (test/fixtures/third-party/ocsf): the bare finding, unwrapped from the one whole event. */
function sample(name: string): Json {
  const raw = loadFixture<Json>(`third-party/ocsf/${name}.json`);
  const detail = raw.detail as { findings: Json[] } | undefined;
  return detail ? (detail.findings[0] as Json) : raw;
}

function normalize(name: string, extra: Partial<typeof context> & { accountNames?: Json } = {}): Finding {
  return normalizeOcsfFinding(sample(name), { ...context, ...extra } as typeof context);
}

/** The sample with `change` applied to a deep copy. */
function changed(name: string, change: (finding: Json) => void): Json {
  const copy = structuredClone(sample(name));
  change(copy);
  return copy;
}

const GUARDDUTY_SUPPRESSED = 'securityhub-event-guardduty-detection-suppressed';
const GUARDDUTY_NEWBINARY = 'guardduty-detection-runtime-newbinary-create';
const GUARDDUTY_HOSTMOUNT = 'guardduty-detection-runtime-hostmount-close';
const INSPECTOR_EC2 = 'inspector-vulnerability-ec2-cve-2021-47412-update';
const INSPECTOR_LAMBDA = 'inspector-vulnerability-lambda-cve-2025-47906-create';
const CIS_25 = 'securityhub-compliance-cis-2.5-critical-update';
const REDSHIFT_3 = 'securityhub-compliance-redshift3-pass-resolved-update';
const SQS_1 = 'securityhub-compliance-sqs1-fail-create';
const SSM_1 = 'securityhub-compliance-ssm1-fail-update';
const COVERAGE = 'securityhub-coverage-compliance-guardduty-update';

describe('normalizeOcsfFinding: the ten real samples', () => {
  it('GuardDuty, suppressed (the whole Sumo Logic event): type, count, actor, comment, SUPPRESSED', () => {
    const finding = normalize(GUARDDUTY_SUPPRESSED);

    expect(finding).toMatchObject({
      format: 'ocsf',
      ocsf: {
        metadataUid: '1d24e91799652d9e17025b61d94f436b20b515b6f3cd9bda788f48c1db9cf244',
        statusId: 3,
        classUid: 2004,
      },
      identifier: {
        Id: 'arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa/finding/06c95f0cfdfd3b579b977e20e9da1aa4',
        ProductArn: 'arn:aws:securityhub:us-east-1::productv2/aws/guardduty',
      },
      product: 'GuardDuty',
      productName: 'GuardDuty',
      accountId: '869728294964',
      region: 'us-east-1',
      severity: 'LOW',
      title: 'An AWS CloudTrail trail Aws-Observability-e2esumoqeui was disabled.',
      workflowStatus: 'SUPPRESSED',
      recordState: 'ACTIVE',
      guardDuty: {
        type: 'Stealth:IAMUser-CloudTrailLoggingDisabled',
        count: 264,
        actor: 'DeleteTrail',
        actionType: 'AWS_API_CALL',
      },
      note: { text: "John's testing" },
      createdAt: '2024-10-24T10:37:06.938Z',
      updatedAt: '2025-07-22T03:02:34.272Z',
      firstObservedAt: '2024-10-24T10:21:26.000Z',
      lastObservedAt: '2025-07-22T02:52:14.000Z',
      remediationUrl:
        'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html#stealth-iam-cloudtrailloggingdisabled',
    });
    expect(finding.key).toBe(underlyingKey(finding));
    expect(finding.key).not.toBe(findingKey(finding.identifier));
    expect(finding.resources).toEqual([
      { type: 'AwsIamAccessKey', id: 'ASIA4U76YS3TEOA3O', region: 'us-east-1', partition: 'aws', tags: {} },
    ]);
    expect(finding.guardDuty?.remoteIp).toBeUndefined();
  });

  it('GuardDuty Runtime Monitoring, new: the EC2 instance with its tags, the process as actor', () => {
    const finding = normalize(GUARDDUTY_NEWBINARY);

    expect(finding).toMatchObject({
      product: 'GuardDuty',
      severity: 'MEDIUM',
      workflowStatus: 'NEW',
      recordState: 'ACTIVE',
      ocsf: { statusId: 1, classUid: 2004 },
      guardDuty: { type: 'Execution:Runtime-NewBinaryExecuted', count: 1, actor: 'kubectl' },
      types: ['Threats', 'Execution:Runtime/NewBinaryExecuted'],
    });
    expect(finding.accountName).toBeUndefined();
    expect(finding.resources).toEqual([
      {
        type: 'AwsEc2Instance',
        id: 'i-0123456789abcdef0',
        region: 'us-east-1',
        partition: 'aws',
        tags: {
          Name: 'example-action-runner',
          'component-type': 'github-action-runners',
          environment: 'production',
        },
      },
    ]);
  });

  it('GuardDuty, activity Close while status is still New: an ARCHIVED record, account name, two resources', () => {
    const finding = normalize(GUARDDUTY_HOSTMOUNT);

    expect(finding).toMatchObject({
      accountName: 'core-tools',
      workflowStatus: 'NEW',
      recordState: 'ARCHIVED',
      ocsf: { statusId: 1 },
      guardDuty: { type: 'PrivilegeEscalation:Runtime-ContainerMountsHostDirectory', count: 1 },
      resourceCount: 2,
    });
    expect(finding.resources.map((r) => [r.type, r.id])).toEqual([
      ['Container', '287ae865fc4257511514453a78a03743c5c63a40ab2a2a2f81579745b1febf41'],
      ['AwsEc2Instance', 'i-0d7663df710a0f17a'],
    ]);
    expect(finding.resources[1]?.tags).toEqual({
      Name: 'runs-on-ci-runner',
      provider: 'runs-on.com',
      environment: 'production',
    });
  });

  it('Inspector on EC2: the CVE, three packages with installed and fixed versions, tags, per-package remediation', () => {
    const finding = normalize(INSPECTOR_EC2);

    expect(finding).toMatchObject({
      product: 'Inspector',
      productName: 'Inspector',
      severity: 'MEDIUM',
      region: 'us-east-2',
      ocsf: { classUid: 2002 },
      title: 'CVE-2021-47412 - kernel, kernel-devel and 1 more',
      remediationText: 'yum update kernel\nyum update kernel-devel\nyum update kernel-headers',
    });
    expect(finding.vulnerabilities).toEqual([
      {
        id: 'CVE-2021-47412',
        packages: ['kernel', 'kernel-devel', 'kernel-headers'].map((name) => ({
          name,
          version: '5.10.236',
          fixedVersion: '0:5.10.242-239.961.amzn2',
        })),
        exploitAvailable: false,
      },
    ]);
    expect(finding.resources[0]).toMatchObject({ type: 'AwsEc2Instance', id: 'i-abcd1235cdef1234' });
    expect(finding.resources[0]?.tags).toMatchObject({
      'eks:cluster-name': 'demo_prod',
      'aws:ec2launchtemplate:version': '6',
    });
    expect(Object.keys(finding.resources[0]?.tags ?? {})).toHaveLength(10);
    expect(finding.guardDuty).toBeUndefined();
    expect(finding.remediationUrl).toBeUndefined();
  });

  it('Inspector on Lambda (OCSF 1.5.0): the function ARN from uid_alt, the Go package, no remediation', () => {
    const finding = normalize(INSPECTOR_LAMBDA);

    expect(finding.vulnerabilities).toEqual([
      {
        id: 'CVE-2025-47906',
        packages: [{ name: 'go/stdlib', version: '1.24.0', fixedVersion: '1.24.6' }],
        exploitAvailable: false,
      },
    ]);
    expect(finding.resources).toEqual([
      {
        type: 'AwsLambdaFunction',
        id: 'arn:aws:lambda:us-east-2:123456789012:function:cloudtrail-test-ab-LambdaFunction-jVHJUsdbdkj6',
        region: 'us-east-2',
        partition: 'aws',
        tags: {
          'aws:cloudformation:stack-name': 'cloudtrail-test-ab',
          'aws:cloudformation:stack-id':
            'arn:aws:cloudformation:us-east-2:123456789012:stack/cloudtrail-test-ab/c3abcd12-3456-7890-abdf-c2123456abcd',
          'aws:cloudformation:logical-id': 'LambdaFunction',
        },
      },
    ]);
    expect(finding.remediationText).toBeUndefined();
  });

  it('CIS 2.5, standard-specific: the consolidated control id Config.1, FAILED, CRITICAL, the CIS ruleset', () => {
    const finding = normalize(CIS_25);

    expect(finding).toMatchObject({
      product: 'SecurityHub',
      productName: 'Security Hub',
      severity: 'CRITICAL',
      complianceStatus: 'FAILED',
      control: {
        id: 'Config.1',
        standardsArn: 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0',
      },
      workflowStatus: 'NEW',
      remediationUrl: 'https://docs.aws.amazon.com/console/securityhub/Config.1/remediation',
    });
    expect(finding.resources).toEqual([
      { type: 'AwsAccount', id: '123456789012', region: 'us-east-1', partition: 'aws', tags: {} },
    ]);
  });

  it('Redshift.3, resolved and passed: RESOLVED, PASSED, INFORMATIONAL', () => {
    const finding = normalize(REDSHIFT_3);

    expect(finding).toMatchObject({
      control: {
        id: 'Redshift.3',
        standardsArn: 'arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0',
      },
      complianceStatus: 'PASSED',
      workflowStatus: 'RESOLVED',
      recordState: 'ACTIVE',
      severity: 'INFORMATIONAL',
      ocsf: { statusId: 4, classUid: 2003 },
      region: 'us-east-2',
    });
  });

  it('SQS.1, failed: the queue named by its ARN (uid_alt), not its URL', () => {
    const finding = normalize(SQS_1);

    expect(finding).toMatchObject({
      control: { id: 'SQS.1' },
      complianceStatus: 'FAILED',
      severity: 'MEDIUM',
    });
    expect(finding.resources[0]).toMatchObject({
      type: 'AwsSqsQueue',
      id: 'arn:aws:sqs:us-east-2:123456789012:securityhubfinding',
    });
  });

  it('SSM.1, failed: the instance ARN and its ten tags', () => {
    const finding = normalize(SSM_1);

    expect(finding).toMatchObject({ control: { id: 'SSM.1' }, complianceStatus: 'FAILED' });
    expect(finding.resources[0]).toMatchObject({
      type: 'AwsEc2Instance',
      id: 'arn:aws:ec2:us-east-2:123456789012:instance/i-abcd1235cdef1234',
      tags: {
        'kubernetes.io/cluster/demo_prod': 'owned',
        'aws:ec2launchtemplate:id': 'lt-abcdefabcdef123456',
      },
    });
    expect(Object.keys(finding.resources[0]?.tags ?? {})).toHaveLength(10);
    expect(finding.updatedAt).toBe('2025-09-26T08:27:00.981Z');
  });

  it('Security Hub Coverage (OCSF 1.9.0): no control, PASSED, its own product name, an empty tag value kept', () => {
    const finding = normalize(COVERAGE, { accountNames: { '123456789012': 'payments-prod' } });

    expect(finding).toMatchObject({
      product: 'SecurityHub',
      productName: 'Security Hub Coverage',
      complianceStatus: 'PASSED',
      severity: 'INFORMATIONAL',
      accountName: 'payments-prod',
      types: ['Coverage'],
    });
    expect(finding.control).toBeUndefined();
    expect(finding.firstObservedAt).toBeUndefined();
    expect(finding.resources).toEqual([
      {
        type: 'AwsAccount',
        id: '123456789012',
        region: 'us-east-1',
        partition: 'aws',
        tags: { 'SO0111-ASR-GuardDutyFilter': '' },
      },
    ]);
  });

  it('links every sample to the new Security Hub console in the home region, filtered on finding_info.uid', () => {
    for (const name of [GUARDDUTY_SUPPRESSED, INSPECTOR_EC2, SSM_1, COVERAGE]) {
      const finding = normalize(name);
      const url = new URL(finding.consoleUrl);
      expect(url.origin).toBe('https://ap-northeast-1.console.aws.amazon.com');
      expect(url.pathname).toBe('/securityhub/v2/home');
      expect(url.searchParams.get('region')).toBe('ap-northeast-1');
      const search = new URLSearchParams(url.hash.replace(/^#\/findings\?/, '')).get('search') ?? '';
      expect(decodeURIComponent(search.replace(/^finding_info\.uid=/, ''))).toBe(
        `\\operator\\:EQUALS\\:${finding.identifier.Id}`,
      );
    }
    expect(normalizeOcsfFinding(sample(SQS_1), { eventId: 'e', path: 'p' }).consoleUrl).toMatch(
      /^https:\/\/us-east-2\.console\.aws\.amazon\.com\/securityhub\/v2\/home\?region=us-east-2#/,
    );
  });
});

describe('normalizeOcsfFinding: mappings beyond the samples', () => {
  it.each([
    [0, 'NEW', 'ACTIVE'],
    [1, 'NEW', 'ACTIVE'],
    [2, 'NOTIFIED', 'ACTIVE'],
    [3, 'SUPPRESSED', 'ACTIVE'],
    [4, 'RESOLVED', 'ACTIVE'],
    [5, 'NEW', 'ARCHIVED'],
    [6, 'NEW', 'ARCHIVED'],
    [99, 'NEW', 'ACTIVE'],
  ])('status_id %i is workflow %s, record %s', (statusId, workflowStatus, recordState) => {
    const finding = normalizeOcsfFinding(
      changed(SQS_1, (f) => {
        f.status_id = statusId;
      }),
      context,
    );
    expect(finding).toMatchObject({ workflowStatus, recordState, ocsf: { statusId } });
  });

  it('reads the status name when there is no status_id, and defaults to Unknown (NEW) without either', () => {
    const byName = changed(SQS_1, (f) => {
      delete f.status_id;
      f.status = 'In Progress';
    });
    const neither = changed(SQS_1, (f) => {
      delete f.status_id;
      delete f.status;
    });
    expect(normalizeOcsfFinding(byName, context)).toMatchObject({
      workflowStatus: 'NOTIFIED',
      ocsf: { statusId: 2 },
    });
    expect(normalizeOcsfFinding(neither, context)).toMatchObject({
      workflowStatus: 'NEW',
      ocsf: { statusId: 0 },
    });
  });

  it.each([
    ['Informational', 1, 'INFORMATIONAL'],
    ['Low', 2, 'LOW'],
    ['Medium', 3, 'MEDIUM'],
    ['High', 4, 'HIGH'],
    ['Critical', 5, 'CRITICAL'],
    ['Fatal', 6, 'CRITICAL'],
    ['Unknown', 0, 'INFORMATIONAL'],
    ['Other', 99, 'INFORMATIONAL'],
    ['Unknown', 4, 'HIGH'],
    ['Other', 5, 'CRITICAL'],
    [undefined, 4, 'HIGH'],
    ['HIGH', undefined, 'HIGH'],
  ])('severity %j with severity_id %j is %s', (severity, severityId, label) => {
    const raw = changed(SQS_1, (f) => {
      f.severity = severity;
      f.severity_id = severityId;
    });
    expect(normalizeOcsfFinding(raw, context).severity).toBe(label);
  });

  it.each([
    ['Pass', 1, 'PASSED'],
    ['Warning', 2, 'WARNING'],
    ['Fail', 3, 'FAILED'],
    ['Unknown', 0, 'NOT_AVAILABLE'],
    ['Other', 99, 'NOT_AVAILABLE'],
    [undefined, 2, 'WARNING'],
  ])('compliance status %j (id %j) is %s', (status, statusId, expected) => {
    const raw = changed(SQS_1, (f) => {
      f.compliance = { control: 'SQS.1', status, status_id: statusId };
    });
    expect(normalizeOcsfFinding(raw, context).complianceStatus).toBe(expected);
  });

  it('takes the remote end of an inbound connection from its source and of an outbound one from its destination', () => {
    const endpoint = (ip: string) => ({
      ip,
      port: 46717,
      location: { country: 'US' },
      autonomous_system: { name: 'CENTURYLINK-US-LEGACY-QWEST', number: 209 },
    });
    const withEvidence = (evidence: Json) =>
      normalizeOcsfFinding(
        changed(GUARDDUTY_NEWBINARY, (f) => {
          f.evidences = [evidence];
        }),
        context,
      ).guardDuty;

    expect(
      withEvidence({
        connection_info: { direction_id: 1 },
        src_endpoint: endpoint('199.241.229.197'),
        dst_endpoint: { ip: '172.31.43.6', port: 22 },
      }),
    ).toMatchObject({
      remoteIp: '199.241.229.197',
      remotePort: '46717',
      remoteCountry: 'US',
      remoteOrganization: 'CENTURYLINK-US-LEGACY-QWEST',
    });
    expect(
      withEvidence({
        connection_info: { direction_id: 2 },
        src_endpoint: { ip: '172.31.43.6' },
        dst_endpoint: endpoint('198.51.100.7'),
      }),
    ).toMatchObject({ remoteIp: '198.51.100.7', remotePort: '46717' });
    expect(
      withEvidence({
        api: { operation: 'ListBuckets' },
        src_endpoint: { ip: '203.0.113.9', isp_org: 'Example ISP' },
      }),
    ).toMatchObject({
      remoteIp: '203.0.113.9',
      remoteOrganization: 'Example ISP',
      actor: 'ListBuckets',
      actionType: 'AWS_API_CALL',
    });
    expect(withEvidence({ query: { hostname: 'pool.example' } })).toMatchObject({
      actor: 'pool.example',
      actionType: 'DNS_REQUEST',
    });
  });

  it('recognises Macie and another company product by the product uid; a bare uid by its name', () => {
    const macie = changed(SQS_1, (f) => {
      f.class_uid = 2006;
      f.metadata = {
        uid: 'm-1',
        product: { name: 'Macie', uid: 'arn:aws:securityhub:us-east-2::productv2/aws/macie' },
      };
      delete f.compliance;
    });
    const prowler = changed(SQS_1, (f) => {
      f.class_uid = 2003;
      f.metadata = {
        uid: 'p-1',
        product: { name: 'Prowler', uid: 'arn:aws:securityhub:us-east-2::productv2/prowler/prowler' },
      };
    });
    const bare = changed(SQS_1, (f) => {
      f.metadata = { uid: 'g-1', product: { name: 'GuardDuty', uid: 'guardduty' } };
    });

    expect(normalizeOcsfFinding(macie, context)).toMatchObject({
      product: 'Macie',
      productName: 'Macie',
      ocsf: { classUid: 2006 },
    });
    expect(normalizeOcsfFinding(macie, context).complianceStatus).toBeUndefined();
    expect(normalizeOcsfFinding(prowler, context)).toMatchObject({
      product: 'Other',
      productName: 'Prowler',
    });
    expect(normalizeOcsfFinding(bare, context).product).toBe('GuardDuty');
  });

  it('keeps only http(s) links, and takes times from epoch milliseconds when there is no *_dt twin', () => {
    const raw = changed(GUARDDUTY_NEWBINARY, (f) => {
      f.remediation = { desc: 'x', references: ['javascript:alert(1)', 'https://docs.aws.amazon.com/ok'] };
      const info = f.finding_info as Json;
      info.src_url = 'data:text/html,hi';
      delete info.created_time_dt;
      delete info.modified_time_dt;
    });

    const finding = normalizeOcsfFinding(raw, context);

    expect(finding.remediationUrl).toBe('https://docs.aws.amazon.com/ok');
    expect(finding.sourceUrl).toBeUndefined();
    expect(finding.createdAt).toBe(new Date(1759524561464).toISOString());
    expect(finding.updatedAt).toBe('2025-10-03T20:49:21.464Z');
  });

  it('survives odd optional fields: no resources, no types, non-string tags, no description', () => {
    const raw = changed(INSPECTOR_EC2, (f) => {
      f.resources = [
        { tags: [{ name: 'ok', value: 'yes' }, { name: 'bad', value: 42 }, 'x'] },
        'not an object',
      ];
      (f.finding_info as Json).types = 'not-an-array';
      delete (f.finding_info as Json).desc;
      f.vulnerabilities = [
        { affected_packages: [{ name: 'p' }] },
        { cve: { uid: 'CVE-1' }, affected_packages: 'x' },
      ];
    });

    const finding = normalizeOcsfFinding(raw, context);

    expect(finding.resources).toEqual([{ type: 'Other', id: '(no id)', tags: { ok: 'yes' } }]);
    expect(finding.resourceCount).toBe(1);
    expect(finding.types).toEqual([]);
    expect(finding.description).toBe('');
    expect(finding.vulnerabilities).toEqual([{ id: 'CVE-1', packages: [] }]);
  });
});

describe('normalizeOcsfFinding: bad input is rejected naming the event and the field', () => {
  const remove =
    (...path: string[]) =>
    (f: Json) => {
      let owner = f;
      for (const key of path.slice(0, -1)) owner = owner[key] as Json;
      delete owner[path.at(-1) as string];
    };
  const set =
    (value: unknown, ...path: string[]) =>
    (f: Json) => {
      let owner = f;
      for (const key of path.slice(0, -1)) owner = owner[key] as Json;
      owner[path.at(-1) as string] = value;
    };

  it.each([
    ['no finding_info.uid', remove('finding_info', 'uid'), 'finding_info.uid'],
    ['an empty finding_info.uid', set('', 'finding_info', 'uid'), 'finding_info.uid'],
    ['a lone surrogate in finding_info.uid', set('x\uD800', 'finding_info', 'uid'), 'finding_info.uid'],
    ['no finding_info', remove('finding_info'), 'finding_info'],
    ['no title', remove('finding_info', 'title'), 'finding_info.title'],
    ['no metadata.uid', remove('metadata', 'uid'), 'metadata.uid'],
    ['no metadata.product.uid', remove('metadata', 'product', 'uid'), 'metadata.product.uid'],
    ['a short account id', set('12345', 'cloud', 'account', 'uid'), 'cloud.account.uid'],
    ['no class_uid', remove('class_uid'), 'class_uid'],
    ['a string class_uid', set('2003', 'class_uid'), 'class_uid'],
    ['status_id 7', set(7, 'status_id'), 'status_id'],
    ['status_id "1"', set('1', 'status_id'), 'status_id'],
    [
      'an unknown status name and no id',
      (f: Json) => {
        delete f.status_id;
        f.status = 'Closed';
      },
      'status',
    ],
    ['severity_id 9', set(9, 'severity_id'), 'severity_id'],
    [
      'severity SEVERE and no id',
      (f: Json) => {
        delete f.severity_id;
        f.severity = 'SEVERE';
      },
      'severity',
    ],
    [
      'neither severity nor severity_id',
      (f: Json) => {
        delete f.severity_id;
        delete f.severity;
      },
      'severity_id',
    ],
    ['compliance "odd"', set('odd', 'compliance'), 'compliance'],
    [
      'compliance status Passed',
      (f: Json) => {
        f.compliance = { status: 'Passed' };
      },
      'compliance.status',
    ],
    ['compliance status_id 4', set(4, 'compliance', 'status_id'), 'compliance.status_id'],
    ['activity_id "3"', set('3', 'activity_id'), 'activity_id'],
    [
      'created_time_dt "yesterday"',
      set('yesterday', 'finding_info', 'created_time_dt'),
      'finding_info.created_time_dt',
    ],
    [
      'created_time_dt 30 February',
      set('2025-02-30T00:00:00Z', 'finding_info', 'created_time_dt'),
      'finding_info.created_time_dt',
    ],
    [
      'modified_time -1 without its _dt',
      (f: Json) => {
        delete (f.finding_info as Json).modified_time_dt;
        (f.finding_info as Json).modified_time = -1;
      },
      'finding_info.modified_time',
    ],
    [
      'no time at all',
      (f: Json) => {
        for (const key of ['created_time', 'created_time_dt', 'first_seen_time', 'first_seen_time_dt'])
          delete (f.finding_info as Json)[key];
        delete f.time;
        delete f.time_dt;
      },
      'finding_info.created_time',
    ],
  ])('%s', (_, change, field) => {
    const raw = changed(SQS_1, change);

    const attempt = () => normalizeOcsfFinding(raw, context);

    expect(attempt).toThrow(FindingValidationError);
    expect(attempt).toThrow(`event evt-ocsf: detail.findings[0].${field}: `);
  });

  it('rejects a finding that is not an object, naming its path', () => {
    expect(() => normalizeOcsfFinding('nope', context)).toThrow(
      'event evt-ocsf: detail.findings[0]: is not an object',
    );
  });

  it('does not validate the masked formats: a short metadata.uid, a finding_info.uid naming another account', () => {
    const raw = changed(GUARDDUTY_SUPPRESSED, (f) => {
      (f.metadata as Json).uid = 'abc';
    });
    expect(normalizeOcsfFinding(raw, context).ocsf?.metadataUid).toBe('abc');
  });
});

describe('normalizeOcsfFinding: hostile text (property)', () => {
  const text = fc.oneof(
    slackHostile(SLACK_FRAGMENTS, 300),
    markupHostile(MARKUP_FRAGMENTS, { maxParts: 20, binary: true }),
  );
  const tagName = fc.oneof(text, fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'));

  it('normalises without throwing and keeps title, description, resource names, tag names and values as they were', () => {
    fc.assert(
      fc.property(
        text.filter((value) => value.length > 0),
        text,
        text.filter((value) => value.length > 0 && !value.startsWith('arn:')),
        fc.array(fc.tuple(tagName, text), { maxLength: 6 }),
        (title, description, resourceName, tags) => {
          const raw = changed(SSM_1, (f) => {
            const info = f.finding_info as Json;
            info.title = title;
            info.desc = description;
            f.resources = [
              {
                type: 'AWS::EC2::Instance',
                name: resourceName,
                tags: tags.map(([name, value]) => ({ name, value })),
              },
            ];
          });

          const finding = normalizeOcsfFinding(raw, context);

          expect(finding.title).toBe(title);
          expect(finding.description).toBe(description);
          expect(finding.resources[0]?.id).toBe(resourceName);
          const expected = new Map(tags);
          const kept = finding.resources[0]?.tags ?? {};
          expect(Object.keys(kept).sort()).toEqual([...expected.keys()].sort());
          for (const [name, value] of expected)
            expect(Object.getOwnPropertyDescriptor(kept, name)?.value).toBe(value);
        },
      ),
    );
  });
});

describe('underlyingKey', () => {
  /**
   * The ASFF counterpart of the Sumo Logic GuardDuty sample, built by hand (no published capture has
   * one finding in both formats): what Security Hub CSPM sends for the same GuardDuty finding.
   */
  function asffCounterpart(ocsf: Json): Json {
    const info = ocsf.finding_info as Json;
    return {
      SchemaVersion: '2018-10-08',
      Id: info.uid,
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      GeneratorId: 'arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa',
      AwsAccountId: '869728294964',
      Types: ['TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled'],
      CreatedAt: '2024-10-24T10:37:06.938Z',
      UpdatedAt: '2025-07-22T03:02:34.272Z',
      Severity: { Label: 'LOW', Normalized: 20 },
      Title: info.title,
      Description: info.desc,
      ProductFields: {
        'aws/guardduty/service/count': '264',
        'aws/guardduty/service/action/awsApiCallAction/api': 'DeleteTrail',
      },
      Resources: [
        { Type: 'AwsIamAccessKey', Id: 'AWS::IAM::AccessKey:ASIA4U76YS3TEOA3O', Region: 'us-east-1' },
      ],
      Workflow: { Status: 'SUPPRESSED' },
      RecordState: 'ACTIVE',
    };
  }

  it('is the same for one GuardDuty finding reported by both Security Hubs, though their keys differ', () => {
    const ocsfRaw = sample(GUARDDUTY_SUPPRESSED);
    const ocsf = normalizeOcsfFinding(ocsfRaw, context);
    const asff = normalizeFinding(asffCounterpart(ocsfRaw), context);

    // Known by its underlying key everywhere (the ledger, grouping), its identifier its own.
    expect(ocsf.key).toBe(asff.key);
    expect(findingKey(ocsf.identifier)).not.toBe(findingKey(asff.identifier));
    expect(underlyingKey(ocsf)).toBe(underlyingKey(asff));
    expect(underlyingKey(asff)).toBe(asff.key);
    // The storm group label agrees too: GuardDuty's type as ASFF spells it.
    expect(groupLabel(ocsf)).toBe(groupLabel(asff));
    expect(ocsf.guardDuty?.count).toBe(asff.guardDuty?.count);
  });

  it('maps productv2 to product for GuardDuty, Inspector and Security Hub control findings, in any partition', () => {
    expect(underlyingKey(normalize(INSPECTOR_LAMBDA))).toBe(
      'arn:aws:securityhub:us-east-2::product/aws/inspector|arn:aws:inspector2:us-east-2:123456789012:finding/2123456789abcdefabcdef12345679',
    );
    expect(underlyingKey(normalize(SSM_1))).toBe(
      'arn:aws:securityhub:us-east-2::product/aws/securityhub|arn:aws:securityhub:us-east-2:123456789012:security-control/SSM.1/finding/cabc123e-1235-ef12-abcd-6123456abcd1',
    );
    expect(asffProductArn('arn:aws-cn:securityhub:cn-north-1::productv2/aws/guardduty')).toBe(
      'arn:aws-cn:securityhub:cn-north-1::product/aws/guardduty',
    );
    expect(asffProductArn('arn:aws:securityhub:us-east-1::product/aws/guardduty')).toBe(
      'arn:aws:securityhub:us-east-1::product/aws/guardduty',
    );
  });

  it('is findingKey for an ASFF finding without a format', () => {
    const identifier = { Id: 'id-1', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' };
    expect(underlyingKey({ identifier })).toBe(findingKey(identifier));
    expect(underlyingKey({ identifier, format: 'asff' })).toBe(findingKey(identifier));
  });
});

describe('resource types', () => {
  it.each([
    ['AWS::S3::Bucket', 'AwsS3Bucket'],
    ['AWS::EC2::Instance', 'AwsEc2Instance'],
    ['AWS::EC2::SecurityGroup', 'AwsEc2SecurityGroup'],
    ['AWS::EC2::VPC', 'AwsEc2Vpc'],
    ['AWS::EC2::VPCEndpointService', 'AwsEc2VpcEndpointService'],
    ['AWS::IAM::Role', 'AwsIamRole'],
    ['AWS::IAM::AccessKey', 'AwsIamAccessKey'],
    ['AWS::Lambda::Function', 'AwsLambdaFunction'],
    ['AWS::ECR::Repository', 'AwsEcrRepository'],
    ['AWS::ECR::ContainerImage', 'AwsEcrContainerImage'],
    ['AWS::EKS::Cluster', 'AwsEksCluster'],
    ['AWS::RDS::DBInstance', 'AwsRdsDbInstance'],
    ['AWS::RDS::DBClusterSnapshot', 'AwsRdsDbClusterSnapshot'],
    ['AWS::SQS::Queue', 'AwsSqsQueue'],
    ['AWS::DynamoDB::Table', 'AwsDynamoDbTable'],
    ['AWS::CloudTrail::Trail', 'AwsCloudTrailTrail'],
    ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AwsElbv2LoadBalancer'],
    ['AWS::ElasticLoadBalancing::LoadBalancer', 'AwsElbLoadBalancer'],
    ['AWS::WAFv2::WebACL', 'AwsWafv2WebAcl'],
    ['AWS::WAFRegional::WebACL', 'AwsWafRegionalWebAcl'],
    ['AWS::StepFunctions::StateMachine', 'AwsStepFunctionStateMachine'],
    ['AWS::AppSync::GraphQLApi', 'AwsAppSyncGraphQlApi'],
    ['AWS::AmazonMQ::Broker', 'AwsAmazonMqBroker'],
    ['AWS::ApiGatewayV2::Stage', 'AwsApiGatewayV2Stage'],
    ['AWS::Events::EventBus', 'AwsEventsEventbus'],
    ['AWS::XRay::EncryptionConfig', 'AwsXrayEncryptionConfig'],
    ['AWS::::Account', 'AwsAccount'],
    ['AWS::Container::Container', 'Container'],
  ])('%s ↔ %s', (cloudFormation, asff) => {
    expect(toAsffResourceType(cloudFormation)).toBe(asff);
    expect(toCloudFormationType(asff)).toBe(cloudFormation);
    expect(sameResourceType(cloudFormation, asff)).toBe(true);
    expect(sameResourceType(asff, cloudFormation)).toBe(true);
  });

  it('converts every ASFF type Security Hub documents with a details object to an AWS:: name and back', () => {
    // ResourceDetails in the Security Hub API reference, less AzureResource, CodeRepository, Container and Other.
    const documented =
      `AwsAmazonMqBroker AwsApiGatewayRestApi AwsApiGatewayStage AwsApiGatewayV2Api AwsApiGatewayV2Stage
      AwsAppSyncGraphQlApi AwsAthenaWorkGroup AwsAutoScalingAutoScalingGroup AwsAutoScalingLaunchConfiguration
      AwsBackupBackupPlan AwsBackupBackupVault AwsBackupRecoveryPoint AwsCertificateManagerCertificate
      AwsCloudFormationStack AwsCloudFrontDistribution AwsCloudTrailTrail AwsCloudWatchAlarm AwsCodeBuildProject
      AwsDmsEndpoint AwsDmsReplicationInstance AwsDmsReplicationTask AwsDynamoDbTable AwsEc2ClientVpnEndpoint AwsEc2Eip
      AwsEc2Instance AwsEc2LaunchTemplate AwsEc2NetworkAcl AwsEc2NetworkInterface AwsEc2RouteTable AwsEc2SecurityGroup
      AwsEc2Subnet AwsEc2TransitGateway AwsEc2Volume AwsEc2Vpc AwsEc2VpcEndpointService AwsEc2VpcPeeringConnection
      AwsEc2VpnConnection AwsEcrContainerImage AwsEcrRepository AwsEcsCluster AwsEcsContainer AwsEcsService AwsEcsTask
      AwsEcsTaskDefinition AwsEfsAccessPoint AwsEksCluster AwsElasticBeanstalkEnvironment AwsElasticsearchDomain
      AwsElbLoadBalancer AwsElbv2LoadBalancer AwsEventSchemasRegistry AwsEventsEndpoint AwsEventsEventbus
      AwsGuardDutyDetector AwsIamAccessKey AwsIamGroup AwsIamPolicy AwsIamRole AwsIamUser AwsKinesisStream AwsKmsKey
      AwsLambdaFunction AwsLambdaLayerVersion AwsMskCluster AwsNetworkFirewallFirewall AwsNetworkFirewallFirewallPolicy
      AwsNetworkFirewallRuleGroup AwsOpenSearchServiceDomain AwsRdsDbCluster AwsRdsDbClusterSnapshot AwsRdsDbInstance
      AwsRdsDbSecurityGroup AwsRdsDbSnapshot AwsRdsEventSubscription AwsRedshiftCluster AwsRoute53HostedZone
      AwsS3AccessPoint AwsS3AccountPublicAccessBlock AwsS3Bucket AwsS3Object AwsSageMakerNotebookInstance
      AwsSecretsManagerSecret AwsSnsTopic AwsSqsQueue AwsSsmPatchCompliance AwsStepFunctionStateMachine
      AwsWafRateBasedRule AwsWafRegionalRateBasedRule AwsWafRegionalRule AwsWafRegionalRuleGroup AwsWafRegionalWebAcl
      AwsWafRule AwsWafRuleGroup AwsWafv2RuleGroup AwsWafv2WebAcl AwsWafWebAcl AwsXrayEncryptionConfig`.split(
        /\s+/,
      );

    const unconverted = documented.filter((asff) => {
      const cloudFormation = toCloudFormationType(asff);
      return (
        !/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/.test(cloudFormation) ||
        toAsffResourceType(cloudFormation) !== asff
      );
    });

    expect(unconverted).toEqual([]);
    expect(toCloudFormationType('AwsSsmPatchCompliance')).toBe('AWS::SSM::PatchCompliance');
    expect(toCloudFormationType('AwsS3AccountPublicAccessBlock')).toBe('AWS::S3::AccountPublicAccessBlock');
  });

  it('leaves names it does not know as they are, and tells different types apart', () => {
    expect(toAsffResourceType('Other')).toBe('Other');
    expect(toAsffResourceType('AwsS3Bucket')).toBe('AwsS3Bucket');
    expect(toCloudFormationType('AWS::S3::Bucket')).toBe('AWS::S3::Bucket');
    expect(toCloudFormationType('Other')).toBe('Other');
    expect(toCloudFormationType('AwsNoSuchServiceThing')).toBe('AwsNoSuchServiceThing');
    expect(toAsffResourceType('AWS::NewService::Widget')).toBe('AwsNewServiceWidget');
    expect(sameResourceType('AwsS3Bucket', 'AwsS3Bucket')).toBe(true);
    expect(sameResourceType('AWS::S3::Bucket', 'AWS::S3::Bucket')).toBe(true);
    expect(sameResourceType('awss3bucket', 'AWS::S3::Bucket')).toBe(true);
    expect(sameResourceType('AwsS3Bucket', 'AWS::S3::Object')).toBe(false);
    expect(sameResourceType('AwsEcrRepository', 'AwsEcrContainerImage')).toBe(false);
  });
});
