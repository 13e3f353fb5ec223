import { Backlog, Error as BacklogErrors } from 'backlog-js';
import {
  BacklogAuthError,
  BacklogConfigError,
  BacklogInvalidError,
  BacklogIssueGoneError,
  BacklogRateLimitError,
  BacklogRequestError,
} from '../app/errors.js';
import type { TrackerInspector } from '../app/health-ports.js';
import type {
  IssueClose,
  IssueContent,
  IssueHandle,
  IssueTarget,
  IssueTracker,
  SlackActionTracker,
  TrackedIssue,
  TrackerProject,
  TrackerUser,
} from '../app/ports.js';
import { markerLine } from '../domain/backlog/marker.js';
import { makeBacklogFetch } from './backlog-fetch.js';

export interface BacklogProject extends TrackerProject {
  projectId: number;
  issueTypeIds: ReadonlyMap<string, number>;
  categoryIds: ReadonlyMap<string, number>;
}

export interface BacklogTrackerOptions {
  host: string;
  /** Replaces `https://<host>` (local emulator); unset in production. */
  apiUrl?: string;
  getApiKey: () => Promise<string>;
  apiKeySource: string;
  fetch?: typeof fetch;
  /** Every request is abandoned after this long (default 5 s, far below the task's budget). */
  timeoutMs?: number;
  now?: () => number;
}

export const DEFAULT_BACKLOG_TIMEOUT_MS = 5_000;

/** Default status ids of every Backlog project: 1 Open, 2 In Progress, 3 Resolved, 4 Closed. */
const OPEN_STATUS_ID = 1;
const IN_PROGRESS_STATUS_ID = 2;
const USERS_TTL_MS = 5 * 60_000;
const DONE_STATUS_IDS = new Set([3, 4]);
/** Backlog's built-in resolution ids, whatever the space's language names them. */
const BUILT_IN_RESOLUTIONS: Readonly<Record<string, number>> = {
  Fixed: 0,
  "Won't Fix": 1,
  Invalid: 2,
  Duplication: 3,
  'Cannot Reproduce': 4,
};

/** `SEC` of `SEC-12`. */
function projectKeyOf(issueKey: string): string {
  return issueKey.replace(/-\d+$/, '');
}

/**
 * Backlog API v2 through backlog-js. The project, issue type and formatting rule are resolved once
 * and cached. Every request has a timeout; a 429 becomes BacklogRateLimitError carrying the wait
 * until `X-RateLimit-Reset` (the workflow waits it out), a 400 BacklogInvalidError with Backlog's
 * message (not retried).
 */
export class BacklogTracker implements IssueTracker, SlackActionTracker, TrackerInspector {
  private client: Backlog | undefined;
  private clientKey: string | undefined;
  private readonly projects = new Map<string, Promise<BacklogProject>>();
  private readonly statuses = new Map<string, Promise<Array<{ id: number; name: string }>>>();
  private resolutions: Promise<Array<{ id: number; name: string }>> | undefined;
  private myself: Promise<{ id: number; name: string }> | undefined;
  private readonly users = new Map<string, { users: TrackerUser[]; expires: number }>();
  private readonly now: () => number;

  constructor(private readonly options: BacklogTrackerOptions) {
    this.now = options.now ?? Date.now;
  }

  issueUrl(key: string): string {
    return `https://${this.options.host}/view/${encodeURIComponent(key)}`;
  }

  /** A project, its formatting rule, issue types and categories: resolved on first use, then cached. */
  project(projectKey: string): Promise<BacklogProject> {
    let pending = this.projects.get(projectKey);
    if (!pending) {
      pending = this.resolveProject(projectKey).catch((error) => {
        this.projects.delete(projectKey);
        throw error;
      });
      this.projects.set(projectKey, pending);
    }
    return pending;
  }

  /** Resolve a target's names to ids, failing with the setting's name when one does not exist. */
  async resolveTarget(
    target: IssueTarget,
  ): Promise<{ project: BacklogProject; params: Record<string, unknown> }> {
    const project = await this.project(target.projectKey);
    const issueTypeId = project.issueTypeIds.get(target.issueTypeName);
    if (issueTypeId === undefined) {
      throw new BacklogConfigError(
        `BACKLOG_ISSUE_TYPE: no issue type named "${target.issueTypeName}" in ${target.projectKey} (has: ${[...project.issueTypeIds.keys()].join(', ')})`,
      );
    }
    const params: Record<string, unknown> = {
      projectId: project.projectId,
      issueTypeId,
      ...target.customFields,
    };
    if (target.categoryName) {
      const categoryId = project.categoryIds.get(target.categoryName);
      if (categoryId === undefined) {
        throw new BacklogConfigError(
          `BACKLOG_CATEGORY: no category named "${target.categoryName}" in ${target.projectKey} (has: ${[...project.categoryIds.keys()].join(', ') || 'none'})`,
        );
      }
      params.categoryId = [categoryId];
    }
    if (target.assigneeId !== undefined) params.assigneeId = target.assigneeId;
    return { project, params };
  }

  async createIssue(target: IssueTarget, content: IssueContent): Promise<IssueHandle> {
    const { params } = await this.resolveTarget(target);
    const issue = await this.call('create issue', (client) =>
      client.postIssue({
        ...params,
        summary: content.summary,
        description: content.description,
        priorityId: content.priorityId,
        ...(content.dueDate ? { dueDate: content.dueDate } : {}),
      } as Parameters<Backlog['postIssue']>[0]),
    );
    return { id: issue.id, key: issue.issueKey, url: this.issueUrl(issue.issueKey) };
  }

  async setDueDate(issueKey: string, dueDate: string): Promise<void> {
    await this.call(
      'set due date',
      (client) => client.patchIssue(issueKey, { dueDate }),
      this.gone(issueKey),
    );
  }

  /** The issue whose text holds `marker`, if an earlier attempt filed one without recording it. */
  async findByMarker(projectKey: string, marker: string): Promise<IssueHandle | undefined> {
    const project = await this.project(projectKey);
    const issues = await this.call('search issues', (client) =>
      client.getIssues({ projectId: [project.projectId], keyword: marker, count: 20 }),
    );
    // The exact marker line the builder writes: finding text is defanged, so it cannot forge one.
    const match = issues.find((issue) => (issue.description ?? '').includes(markerLine(marker)));
    return match ? { id: match.id, key: match.issueKey, url: this.issueUrl(match.issueKey) } : undefined;
  }

  async close(issueKey: string, close: IssueClose): Promise<{ closed: boolean }> {
    const issue = await this.call('get issue', (client) => client.getIssue(issueKey), this.gone(issueKey));
    if (DONE_STATUS_IDS.has(issue.status.id) || issue.status.name === close.status) return { closed: false };
    const project = await this.project(projectKeyOf(issueKey));
    const statusId = await this.statusId(project, close.status);
    const resolutionId = await this.resolutionId(close.resolution);
    const content = `${close.comment}\n\n${markerLine(close.marker)}`;
    await this.call(
      'close issue',
      (client) => client.patchIssue(issueKey, { statusId, resolutionId, comment: content }),
      this.gone(issueKey),
    );
    return { closed: true };
  }

  async read(issueKey: string): Promise<TrackedIssue> {
    const issue = await this.call('get issue', (client) => client.getIssue(issueKey), this.gone(issueKey));
    const [latest] = await this.call(
      'list comments',
      (client) => client.getIssueComments(issueKey, { count: 1, order: 'desc' }),
      this.gone(issueKey),
    );
    const tracked: TrackedIssue = {
      key: issue.issueKey,
      projectKey: projectKeyOf(issue.issueKey),
      status: { id: issue.status.id, name: issue.status.name },
    };
    if (issue.resolution) tracked.resolution = { id: issue.resolution.id, name: issue.resolution.name };
    if (latest?.content)
      tracked.latestComment = { author: latest.createdUser?.name ?? '', text: latest.content };
    if (issue.updatedUser) tracked.updatedBy = { id: issue.updatedUser.id, name: issue.updatedUser.name };
    return tracked;
  }

  async self(): Promise<{ id: number; name: string }> {
    this.myself ??= this.call('get myself', (client) => client.getMyself()).then((user) => ({
      id: user.id,
      name: user.name,
    }));
    return this.myself.catch((error) => {
      this.myself = undefined;
      throw error;
    });
  }

  /** The key's user and role (`GET /users/myself`): a refused key is BacklogAuthError naming its source. */
  async identity(): Promise<{ id: number; name: string; roleType: number }> {
    const user = await this.call('get myself', (client) => client.getMyself());
    return { id: user.id, name: user.name, roleType: Number(user.roleType) };
  }

  /** A project as the key's user sees it, its issue types and members; nothing cached, nothing written. */
  async projectAccess(
    projectKey: string,
  ): Promise<{ found: false } | { found: true; issueTypes: string[]; memberIds: number[] }> {
    const missing = { notFound: () => new BacklogConfigError(`no project ${projectKey}`) };
    try {
      const project = await this.call(`get project ${projectKey}`, (c) => c.getProject(projectKey), missing);
      const types = await this.call('list issue types', (client) => client.getIssueTypes(project.id));
      const users = await this.call('list project users', (client) => client.getProjectUsers(project.id));
      return { found: true, issueTypes: types.map((type) => type.name), memberIds: users.map((u) => u.id) };
    } catch (error) {
      if (error instanceof BacklogConfigError) return { found: false };
      throw error;
    }
  }

  /** A status of the project by name (statuses are per project and can be renamed). */
  private async statusId(project: BacklogProject, name: string): Promise<number> {
    let pending = this.statuses.get(project.projectKey);
    if (!pending) {
      pending = this.call('list statuses', (client) => client.getProjectStatuses(project.projectId));
      this.statuses.set(project.projectKey, pending);
    }
    const statuses = await pending.catch((error) => {
      this.statuses.delete(project.projectKey);
      throw error;
    });
    const found = statuses.find((status) => status.name === name);
    if (!found) {
      throw new BacklogConfigError(
        `closedStatus: no status named "${name}" in ${project.projectKey} (has: ${statuses.map((s) => s.name).join(', ')})`,
      );
    }
    return found.id;
  }

  /** A resolution by name; Backlog's built-in ids (0 Fixed, 1 Won't Fix, 2 Invalid, 3 Duplication) when renamed. */
  private async resolutionId(name: string): Promise<number> {
    this.resolutions ??= this.call('list resolutions', (client) => client.getResolutions());
    const resolutions = await this.resolutions.catch((error) => {
      this.resolutions = undefined;
      throw error;
    });
    const found = resolutions.find((resolution) => resolution.name === name);
    if (found) return found.id;
    const builtIn = BUILT_IN_RESOLUTIONS[name];
    if (builtIn !== undefined) return builtIn;
    throw new BacklogConfigError(
      `no resolution named "${name}" (has: ${resolutions.map((r) => r.name).join(', ')})`,
    );
  }

  /** A 404 on an issue: it was deleted. */
  private gone(issueKey: string) {
    return { notFound: () => new BacklogIssueGoneError(`Backlog issue ${issueKey} is gone (deleted)`) };
  }

  /** Whether a comment ending with `marker`'s line is among the issue's latest 100 comments. */
  async hasComment(issueKey: string, marker: string): Promise<boolean> {
    const line = markerLine(marker);
    const recent = await this.call(
      'list comments',
      (client) => client.getIssueComments(issueKey, { count: 100, order: 'desc' }),
      this.gone(issueKey),
    );
    return recent.some((existing) => (existing.content ?? '').includes(line));
  }

  /**
   * Comment on an issue, the comment ending with `marker`'s line, and set it back to Open in the
   * same write if it was resolved or closed.
   */
  async comment(issueKey: string, comment: string, marker: string): Promise<{ reopened: boolean }> {
    const content = `${comment}\n\n${markerLine(marker)}`;
    const issue = await this.call('get issue', (client) => client.getIssue(issueKey), this.gone(issueKey));
    if (DONE_STATUS_IDS.has(issue.status.id)) {
      await this.call(
        'reopen issue',
        (client) => client.patchIssue(issueKey, { statusId: OPEN_STATUS_ID, comment: content }),
        this.gone(issueKey),
      );
      return { reopened: true };
    }
    await this.call(
      'comment on issue',
      (client) => client.postIssueComments(issueKey, { content }),
      this.gone(issueKey),
    );
    return { reopened: false };
  }

  // --- acting from Slack -------------------------------------------------------------------------

  /** In Progress (unless the issue is resolved or closed), the assignee if given, and the comment: one write. */
  async startProgress(
    issueKey: string,
    change: { assigneeId?: number; comment: string; marker: string },
  ): Promise<void> {
    const issue = await this.call('get issue', (client) => client.getIssue(issueKey), this.gone(issueKey));
    const content = `${change.comment}\n\n${markerLine(change.marker)}`;
    const status = DONE_STATUS_IDS.has(issue.status.id) ? {} : { statusId: IN_PROGRESS_STATUS_ID };
    const assignee = change.assigneeId !== undefined ? { assigneeId: change.assigneeId } : {};
    await this.call(
      'start progress on issue',
      (client) => client.patchIssue(issueKey, { ...status, ...assignee, comment: content }),
      this.gone(issueKey),
    );
  }

  /** A comment that changes nothing else (not even a closed issue's status). */
  async remark(issueKey: string, comment: string, marker: string): Promise<void> {
    const content = `${comment}\n\n${markerLine(marker)}`;
    await this.call(
      'comment on issue',
      (client) => client.postIssueComments(issueKey, { content }),
      this.gone(issueKey),
    );
  }

  /** The project's users with their mail addresses, cached for five minutes. */
  async projectUsers(projectKey: string): Promise<TrackerUser[]> {
    const cached = this.users.get(projectKey);
    if (cached && cached.expires > this.now()) return cached.users;
    const users = await this.call('list project users', (client) => client.getProjectUsers(projectKey));
    const listed = users.map((user) => ({
      id: user.id,
      name: user.name,
      ...(user.mailAddress ? { mailAddress: user.mailAddress } : {}),
    }));
    this.users.set(projectKey, { users: listed, expires: this.now() + USERS_TTL_MS });
    return listed;
  }

  private async resolveProject(projectKey: string): Promise<BacklogProject> {
    const project = await this.call(`get project ${projectKey}`, (client) => client.getProject(projectKey), {
      notFound: () =>
        new BacklogConfigError(`BACKLOG_PROJECT_KEY: no project ${projectKey} on ${this.options.host}`),
    });
    const issueTypes = await this.call('list issue types', (client) => client.getIssueTypes(project.id));
    const categories = await this.call('list categories', (client) => client.getCategories(project.id));
    const rule = (project as { textFormattingRule?: string }).textFormattingRule;
    return {
      projectId: project.id,
      projectKey: project.projectKey,
      textFormattingRule: rule === 'backlog' ? 'backlog' : 'markdown',
      issueTypeIds: new Map(issueTypes.map((type) => [type.name, type.id])),
      categoryIds: new Map(categories.map((category) => [category.name, category.id])),
    };
  }

  private async backlog(): Promise<Backlog> {
    const apiKey = await this.options.getApiKey();
    if (!this.client || apiKey !== this.clientKey) {
      const timeoutMs = this.options.timeoutMs ?? DEFAULT_BACKLOG_TIMEOUT_MS;
      this.client = new Backlog({
        host: this.options.host,
        apiKey,
        fetch: withTimeout(makeBacklogFetch(this.options.apiUrl, this.options.fetch), timeoutMs),
      });
      this.clientKey = apiKey;
    }
    return this.client;
  }

  private async call<T>(
    what: string,
    request: (client: Backlog) => Promise<T>,
    handlers: { notFound?: () => Error } = {},
  ): Promise<T> {
    const client = await this.backlog();
    try {
      return await request(client);
    } catch (error) {
      throw this.translate(error, what, handlers);
    }
  }

  private translate(error: unknown, what: string, handlers: { notFound?: () => Error }): Error {
    if (error instanceof BacklogErrors.BacklogAuthError) {
      return new BacklogAuthError(
        `Backlog rejected the API key from ${this.options.apiKeySource} (${what})`,
        {
          cause: error,
        },
      );
    }
    if (error instanceof BacklogErrors.BacklogError) {
      if (error.status === 404 && handlers.notFound) return handlers.notFound();
      if (error.status === 429) {
        const seconds = this.rateLimitWaitSeconds(error.response);
        return new BacklogRateLimitError(`Backlog rate limit on ${what}; resets in ${seconds}s`, seconds, {
          cause: error,
        });
      }
      const messages = (error.body?.errors ?? []).map((e) => e.message).join('; ');
      const detail = `HTTP ${error.status}${messages ? `: ${messages}` : ''}`;
      if (error.status === 400) {
        return new BacklogInvalidError(`Backlog refused to ${what} as invalid (${detail})`, { cause: error });
      }
      return new BacklogRequestError(`Backlog ${what} failed: ${detail}`, { cause: error });
    }
    const cause = error as Error;
    const timedOut = cause?.name === 'TimeoutError' || cause?.name === 'AbortError';
    const detail = timedOut
      ? `no answer within ${this.options.timeoutMs ?? DEFAULT_BACKLOG_TIMEOUT_MS} ms`
      : String(cause);
    return new BacklogRequestError(`Backlog ${what} failed: ${detail}`, { cause: error });
  }

  /** Seconds until `X-RateLimit-Reset` (epoch seconds), at least 1; 60 when the header is missing. */
  private rateLimitWaitSeconds(response: Response): number {
    const reset = Number(response.headers.get('X-RateLimit-Reset'));
    if (!Number.isFinite(reset) || reset <= 0) return 60;
    return Math.max(1, Math.ceil(reset - this.now() / 1000));
  }
}

/** Every request abandoned after `timeoutMs` (combined with the caller's own signal, if any). */
function withTimeout(base: typeof fetch, timeoutMs: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return base(input, { ...init, signal });
  };
}
