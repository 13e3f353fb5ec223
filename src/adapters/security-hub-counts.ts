import {
  CreateInsightCommand,
  DescribeSecurityHubV2Command,
  GetFindingStatisticsV2Command,
  type GetFindingStatisticsV2Request,
  GetInsightResultsCommand,
  type GetInsightResultsCommandOutput,
  GetInsightsCommand,
  type Insight,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import {
  SecurityHubAccessError,
  SecurityHubInsightError,
  SecurityHubRateLimitError,
  SecurityHubRequestError,
} from '../app/errors.js';
import type { FindingCounter } from '../app/ports.js';
import { chunk } from '../domain/delivery/delivery.js';
import {
  type CountsSnapshot,
  countsFromGroups,
  INSIGHT_GROUP_BY,
  INSIGHT_SUBJECTS,
  type InsightSpec,
  type InsightSubject,
  insightSpecs,
  MAX_RULES_PER_CALL,
  MAX_STATISTIC_RESULTS,
  type SeverityGroups,
  statisticsRules,
} from '../domain/digest/counts.js';

/** Where the counts come from: `auto` asks DescribeSecurityHubV2 whether the new Security Hub is on. */
export type CountsMode = 'auto' | 'insights' | 'statistics-v2';

export interface SecurityHubCounterOptions {
  mode: CountsMode;
  /**
   * The insights' ARNs (the stack creates them and passes them in). Absent (a local run): the
   * insights are found by name, and created when missing, on first use.
   */
  insightArns?: Partial<Record<InsightSubject, string>>;
  /** The insights' name prefix when they are found or created by name. */
  insightPrefix?: string;
}

const ACCESS_ERRORS = new Set(['AccessDeniedException', 'InvalidAccessException']);
const THROTTLING = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException']);
const UNREADABLE = new Set(['ResourceNotFoundException', 'InvalidInputException', 'ValidationException']);

/**
 * Security Hub's own aggregation for the digest: six insights grouped by account (Security Hub
 * CSPM), or GetFindingStatisticsV2 (the new Security Hub): 6 or 2 calls whatever the number of
 * findings, 1 more to ask which Security Hub it is. Errors name what to fix: an insight that cannot
 * be read (SecurityHubInsightError), a permission the role lacks (SecurityHubAccessError).
 */
export class SecurityHubCounter implements FindingCounter {
  private found: Record<InsightSubject, string> | undefined;

  constructor(
    private readonly client: Pick<SecurityHubClient, 'send'>,
    private readonly options: SecurityHubCounterOptions,
  ) {}

  async read(): Promise<CountsSnapshot> {
    return (await this.source()) === 'statistics-v2' ? this.readStatistics() : this.readInsights();
  }

  private async source(): Promise<'insights' | 'statistics-v2'> {
    if (this.options.mode !== 'auto') return this.options.mode;
    try {
      const hub = await this.client.send(new DescribeSecurityHubV2Command({}));
      return hub.HubV2Arn ? 'statistics-v2' : 'insights';
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return 'insights';
      throw translate(error, 'DescribeSecurityHubV2', 'securityhub:DescribeSecurityHubV2');
    }
  }

  private async readInsights(): Promise<CountsSnapshot> {
    const arns = await this.insightArns();
    const results = await Promise.all(
      INSIGHT_SUBJECTS.map((subject) => this.results(subject, arns[subject])),
    );
    const groups = results.filter((result) => result.severity !== 'SUPPRESSED') as SeverityGroups[];
    const suppressed = results.find((result) => result.severity === 'SUPPRESSED')?.values ?? [];
    return {
      source: 'insights',
      byAccount: countsFromGroups(groups),
      suppressed: new Map(suppressed.map(({ value, count }) => [value, count])),
    };
  }

  private async results(subject: InsightSubject, arn: string) {
    const configured = this.options.insightArns?.[subject] !== undefined;
    const fix = configured
      ? 'the stack creates the digest insights (DigestInsight* in functions/digest.yml): redeploy it, or correct DIGEST_INSIGHT_ARNS'
      : `it was found by its name; delete it in Security Hub and run the digest again to recreate it`;
    let answer: GetInsightResultsCommandOutput;
    try {
      answer = await this.client.send(new GetInsightResultsCommand({ InsightArn: arn }));
    } catch (error) {
      const name = (error as Error).name;
      if (UNREADABLE.has(name)) {
        throw new SecurityHubInsightError(
          `the digest's ${subject} insight ${arn} cannot be read (${name}: ${(error as Error).message}): ${fix}`,
          { cause: error },
        );
      }
      throw translate(error, `GetInsightResults on ${arn}`, 'securityhub:GetInsightResults');
    }
    const results = answer.InsightResults;
    if (results?.GroupByAttribute !== INSIGHT_GROUP_BY) {
      throw new SecurityHubInsightError(
        `the digest's ${subject} insight ${arn} groups by ${results?.GroupByAttribute ?? 'nothing'}, not ${INSIGHT_GROUP_BY}: ${fix}`,
      );
    }
    return {
      severity: subject,
      values: (results.ResultValues ?? []).map((v) => ({
        value: v.GroupByAttributeValue ?? '',
        count: Number(v.Count ?? 0),
      })),
    };
  }

  /** The configured ARNs, or the insights found by name (created when missing), once per process. */
  private async insightArns(): Promise<Record<InsightSubject, string>> {
    const configured = this.options.insightArns ?? {};
    if (INSIGHT_SUBJECTS.every((subject) => configured[subject])) {
      return configured as Record<InsightSubject, string>;
    }
    this.found ??= await this.findOrCreate(insightSpecs(this.options.insightPrefix));
    return { ...this.found, ...configured };
  }

  private async findOrCreate(specs: InsightSpec[]): Promise<Record<InsightSubject, string>> {
    const existing: Insight[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('GetInsights', 'securityhub:GetInsights', () =>
        this.client.send(new GetInsightsCommand({ MaxResults: 100, ...(token ? { NextToken: token } : {}) })),
      );
      existing.push(...(page.Insights ?? []));
      token = page.NextToken || undefined;
    } while (token);
    const arns: Partial<Record<InsightSubject, string>> = {};
    for (const spec of specs) {
      const same = existing.find((insight) => insight.Name === spec.Name && insight.InsightArn);
      if (same?.InsightArn) {
        arns[spec.subject] = same.InsightArn;
        continue;
      }
      const created = await this.call('CreateInsight', 'securityhub:CreateInsight', () =>
        this.client.send(
          new CreateInsightCommand({
            Name: spec.Name,
            Filters: spec.Filters,
            GroupByAttribute: spec.GroupByAttribute,
          }),
        ),
      );
      if (!created.InsightArn)
        throw new SecurityHubRequestError(`CreateInsight ${spec.Name} answered no ARN`);
      arns[spec.subject] = created.InsightArn;
    }
    return arns as Record<InsightSubject, string>;
  }

  private async readStatistics(): Promise<CountsSnapshot> {
    const answers: SeverityGroups[] = [];
    let suppressed: SeverityGroups['values'] = [];
    let truncated = false;
    for (const rules of chunk(statisticsRules(), MAX_RULES_PER_CALL)) {
      const request = {
        GroupByRules: rules.map(({ subject: _, ...rule }) => rule),
        MaxStatisticResults: MAX_STATISTIC_RESULTS,
      } as unknown as GetFindingStatisticsV2Request;
      const answer = await this.call('GetFindingStatisticsV2', 'securityhub:GetAdhocInsightResults', () =>
        this.client.send(new GetFindingStatisticsV2Command(request)),
      );
      for (const [index, rule] of rules.entries()) {
        const values = (answer.GroupByResults?.[index]?.GroupByValues ?? []).map((v) => ({
          value: v.FieldValue ?? '',
          count: Number(v.Count ?? 0),
        }));
        truncated ||= values.length >= MAX_STATISTIC_RESULTS;
        if (rule.subject === 'SUPPRESSED') suppressed = values;
        else answers.push({ severity: rule.subject, values });
      }
    }
    return {
      source: 'statistics-v2',
      byAccount: countsFromGroups(answers),
      suppressed: new Map(suppressed.map(({ value, count }) => [value, count])),
      ...(truncated ? { truncated } : {}),
    };
  }

  private async call<T>(operation: string, action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error, operation, action);
    }
  }
}

/** An SDK error as the catalogue's, naming the operation and, when refused, the IAM action to allow. */
function translate(error: unknown, operation: string, action: string): Error {
  const name = (error as Error).name;
  const detail = `${operation} failed: ${name}: ${(error as Error).message}`;
  if (ACCESS_ERRORS.has(name)) {
    return new SecurityHubAccessError(`${detail} (the role needs ${action})`, { cause: error });
  }
  if (THROTTLING.has(name)) return new SecurityHubRateLimitError(detail, { cause: error });
  if (UNREADABLE.has(name)) return new SecurityHubAccessError(detail, { cause: error });
  return new SecurityHubRequestError(detail, { cause: error });
}
