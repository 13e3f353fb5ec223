import { describe, expect, it } from 'vitest';
import { parseImportedEvent } from '../../src/domain/finding/imported-event.js';
import { normalizeFinding } from '../../src/domain/finding/normalize-asff.js';
import { FindingValidationError } from '../../src/domain/finding/validation-error.js';
import { loadEvent, loadThirdParty, withFinding } from '../helpers/events.js';

const context = { eventId: 'evt-1', path: 'detail.findings[0]', homeRegion: 'ap-northeast-1' };

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
      Compliance: 'odd',
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
  ])('rejects a finding whose %s is %j, naming the event and the field', (field, value, path) => {
    const raw = { ...(loadEvent('fsbp-cloudtrail-2.json').detail.findings[0] as object), [field]: value };

    const attempt = () => normalizeFinding(raw, context);

    expect(attempt).toThrow(FindingValidationError);
    expect(attempt).toThrow(`event evt-1: ${path}`);
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
