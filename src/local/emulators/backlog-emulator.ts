import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  dropConnection,
  FaultQueue,
  type FormParams,
  first,
  list,
  parseUrl,
  readBody,
  sendJson,
  sleep,
  startHttpServer,
} from './http-server.js';

export type TextFormattingRule = 'markdown' | 'backlog';

export interface BacklogProjectOptions {
  key: string;
  name?: string;
  textFormattingRule?: TextFormattingRule;
  issueTypes?: string[];
  categories?: string[];
}

export interface BacklogEmulatorOptions {
  apiKey?: string;
  spaceKey?: string;
  projects?: BacklogProjectOptions[];
  /** The space's people besides the notifier's own user (id 1): default one, Alice (id 2). */
  users?: BacklogUser[];
}

/** A user of the space: the API key's owner (the notifier, id 1) or a person. */
export interface BacklogUser {
  id: number;
  userId: string;
  name: string;
  /** What an acknowledgement from Slack matches the Slack user's mail address against. */
  mailAddress?: string;
}

/** What a person does to an issue in the web UI (`actAs`): a status, a resolution, a comment. */
export interface BacklogUserChange {
  statusId?: number;
  resolutionId?: number;
  comment?: string;
}

export interface BacklogProjectRecord {
  id: number;
  projectKey: string;
  name: string;
  textFormattingRule: TextFormattingRule;
  issueTypes: Array<{ id: number; name: string; color: string; displayOrder: number }>;
  categories: Array<{ id: number; name: string; displayOrder: number }>;
}

export interface BacklogIssueRecord {
  id: number;
  projectId: number;
  keyId: number;
  issueKey: string;
  issueTypeId: number;
  priorityId: number;
  statusId: number;
  resolutionId?: number;
  summary: string;
  description: string;
  categoryIds: number[];
  assigneeId?: number;
  customFields: Record<string, string | string[]>;
  /** `yyyy-MM-dd`, as the API takes it. */
  dueDate?: string;
  created: string;
  updated: string;
  /** Who last changed it (absent: the notifier's own user, through the API). */
  updatedUserId?: number;
}

export interface BacklogChange {
  field: string;
  newValue: string | null;
  originalValue: string | null;
}

export interface BacklogCommentRecord {
  id: number;
  issueId: number;
  issueKey: string;
  content: string;
  changeLog: BacklogChange[];
  created: string;
  /** Who wrote it (absent: the notifier's own user, through the API). */
  createdUserId?: number;
}

export interface BacklogCall {
  method: string;
  path: string;
  query: FormParams;
  body: FormParams;
}

export interface BacklogFaultMatcher {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A RegExp tested on the path, or a path: `/api/v2/issues` or just `/issues`. */
  path: RegExp | string;
}

export type BacklogFault =
  | { status: 429; resetInSeconds?: number; delayMs?: number }
  | { status: 500 | 502 | 503; delayMs?: number }
  /** The operation is performed, then the connection is destroyed without an answer. */
  | { dropResponse: true; delayMs?: number }
  /** Answers normally, only later. */
  | { delayMs: number };

export interface BacklogEmulator {
  /** Replaces `https://<host>`: `http://127.0.0.1:PORT` (paths are `/api/v2/...`). */
  url: string;
  apiKey: string;
  projects: BacklogProjectRecord[];
  issues: BacklogIssueRecord[];
  comments: BacklogCommentRecord[];
  calls: BacklogCall[];
  failNext(matcher: BacklogFaultMatcher, fault: BacklogFault, times?: number): void;
  /** By id or key. */
  issue(issueIdOrKey: string | number): BacklogIssueRecord | undefined;
  commentsOf(issueIdOrKey: string | number): BacklogCommentRecord[];
  /** The API key's owner: the notifier's own user. */
  myself: BacklogUser;
  users: BacklogUser[];
  /**
   * A user changes an issue as in the web UI (a status, a resolution, a comment: one update), and
   * the body Backlog's webhook would send for it ("Issue updated", activity type 2) is returned.
   */
  actAs(userId: number, issueKey: string, change: BacklogUserChange): Record<string, unknown>;
  /** The API key is revoked (or expired): from now on every request answers 401. */
  revokeKey(): void;
  /** A project is deleted (or archived away from the key's user): it answers 404 from now on. */
  removeProject(projectKey: string): void;
  /** A user leaves a project (`/projects/:key/users` no longer lists them). */
  removeMember(projectKey: string, userId: number): void;
  /** The notifier's own user gets another role (`roleType` of `/users/myself`: 4 Viewer may not add issues). */
  setRoleType(roleType: number): void;
  close(): Promise<void>;
}

const PRIORITIES = [
  { id: 2, name: 'High' },
  { id: 3, name: 'Normal' },
  { id: 4, name: 'Low' },
];
const STATUSES = [
  { id: 1, name: 'Open', color: '#ed8077', displayOrder: 1000 },
  { id: 2, name: 'In Progress', color: '#4488c5', displayOrder: 2000 },
  { id: 3, name: 'Resolved', color: '#5eb5a6', displayOrder: 3000 },
  { id: 4, name: 'Closed', color: '#b0be3c', displayOrder: 4000 },
];
const RESOLUTIONS = ['Fixed', "Won't Fix", 'Invalid', 'Duplication', 'Cannot Reproduce'].map((name, id) => ({
  id,
  name,
}));
const COLORS = ['#e30000', '#990000', '#934981', '#814fbc', '#2779ca', '#007e9a', '#7ea800', '#ff9200'];
const MYSELF = {
  id: 1,
  userId: 'securityhub-notifier',
  name: 'Security Hub Notifier',
  roleType: 1,
  lang: 'en',
  nulabAccount: null,
  mailAddress: 'securityhub-notifier@example.com',
  lastLoginTime: '2024-01-01T00:00:00Z',
};
const DEFAULT_USERS: BacklogUser[] = [
  { id: 2, userId: 'alice', name: 'Alice Example', mailAddress: 'alice@example.com' },
];
const DEFAULT_PROJECT: BacklogProjectOptions = {
  key: 'SEC',
  name: 'Security',
  textFormattingRule: 'markdown',
  issueTypes: ['Bug', 'Task', 'Security'],
};

/** A Backlog error answer: `{"errors":[{"message","code","moreInfo"}]}`. */
class BacklogApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
const invalid = (message: string) => new BacklogApiError(400, 7, message);
const errorBody = (code: number, message: string) => ({ errors: [{ message, code, moreInfo: '' }] });
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Parsed {
  query: FormParams;
  body: FormParams;
}
/** A route's answer when it is not a plain 200 with a JSON body. */
class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}
type Route = [method: string, pattern: RegExp, run: (groups: string[], request: Parsed) => unknown];

export async function startBacklogEmulator(options: BacklogEmulatorOptions = {}): Promise<BacklogEmulator> {
  const apiKey = options.apiKey ?? 'local-backlog-key';
  const spaceKey = options.spaceKey ?? 'local';
  const projects = createProjects(options.projects ?? [DEFAULT_PROJECT]);
  const issues: BacklogIssueRecord[] = [];
  const comments: BacklogCommentRecord[] = [];
  const calls: BacklogCall[] = [];
  const faults = new FaultQueue<{ method: string; path: string }, BacklogFault>();
  let nextIssueId = 10_001;
  let nextCommentId = 50_001;
  let nextActivityId = 90_001;
  const users: BacklogUser[] = [MYSELF, ...(options.users ?? DEFAULT_USERS)];
  let revoked = false;
  let myRoleType = MYSELF.roleType;
  const outside = new Set<string>();
  const userById = (id: number | undefined) => {
    const user = users.find((candidate) => candidate.id === (id ?? MYSELF.id)) ?? MYSELF;
    return user === MYSELF ? MYSELF : { ...user, roleType: 2, lang: 'en', nulabAccount: null };
  };

  const project = (idOrKey: string | undefined) => {
    const found = projects.find((p) => String(p.id) === idOrKey || p.projectKey === idOrKey);
    if (!found) throw new BacklogApiError(404, 6, 'No project.');
    return found;
  };
  const findIssue = (idOrKey: string | number) =>
    issues.find((i) => String(i.id) === String(idOrKey) || i.issueKey === idOrKey);
  const issue = (idOrKey: string | undefined) => {
    const found = idOrKey === undefined ? undefined : findIssue(idOrKey);
    if (!found) throw new BacklogApiError(404, 6, 'No issue.');
    return found;
  };
  const projectOf = (record: BacklogIssueRecord) => project(String(record.projectId));

  const toWire = (record: BacklogIssueRecord) => {
    const owner = projectOf(record);
    const type = owner.issueTypes.find((t) => t.id === record.issueTypeId);
    return {
      id: record.id,
      projectId: record.projectId,
      issueKey: record.issueKey,
      keyId: record.keyId,
      issueType: { ...type, projectId: owner.id },
      summary: record.summary,
      description: record.description,
      resolution: RESOLUTIONS.find((r) => r.id === record.resolutionId) ?? null,
      priority: PRIORITIES.find((p) => p.id === record.priorityId),
      status: { ...STATUSES.find((s) => s.id === record.statusId), projectId: owner.id },
      assignee: record.assigneeId === undefined ? null : userById(record.assigneeId),
      category: owner.categories
        .filter((c) => record.categoryIds.includes(c.id))
        .map((c) => ({ ...c, projectId: owner.id })),
      versions: [],
      milestone: [],
      startDate: null,
      dueDate: record.dueDate ? `${record.dueDate}T00:00:00Z` : null,
      estimatedHours: null,
      actualHours: null,
      parentIssueId: null,
      createdUser: MYSELF,
      created: record.created,
      updatedUser: userById(record.updatedUserId),
      updated: record.updated,
      customFields: Object.entries(record.customFields).map(([key, value]) => ({
        id: Number(key.replace('customField_', '')),
        fieldTypeId: 1,
        name: key,
        value,
      })),
      attachments: [],
      sharedFiles: [],
      externalFileLinks: [],
      stars: [],
    };
  };
  const commentToWire = (comment: BacklogCommentRecord) => ({
    id: comment.id,
    projectId: issue(String(comment.issueId)).projectId,
    issueId: comment.issueId,
    content: comment.content,
    changeLog: comment.changeLog,
    createdUser: userById(comment.createdUserId),
    created: comment.created,
    updated: comment.created,
    stars: [],
    notifications: [],
  });
  const addComment = (record: BacklogIssueRecord, content: string, changeLog: BacklogChange[] = []) => {
    const comment: BacklogCommentRecord = {
      id: nextCommentId++,
      issueId: record.id,
      issueKey: record.issueKey,
      content,
      changeLog,
      created: now(),
    };
    comments.push(comment);
    return comment;
  };

  const searchIssues = (query: FormParams) => {
    const ids = (name: string) => list(query[name]).map(Number);
    const matchIds = (name: string, value: number) => ids(name).length === 0 || ids(name).includes(value);
    const keyword = first(query.keyword)?.toLowerCase();
    return issues.filter(
      (i) =>
        matchIds('projectId', i.projectId) &&
        matchIds('issueTypeId', i.issueTypeId) &&
        matchIds('statusId', i.statusId) &&
        matchIds('priorityId', i.priorityId) &&
        matchIds('id', i.id) &&
        (ids('categoryId').length === 0 || i.categoryIds.some((c) => ids('categoryId').includes(c))) &&
        (!keyword || `${i.summary}\n${i.description}`.toLowerCase().includes(keyword)),
    );
  };

  const validateChanges = (owner: BacklogProjectRecord, params: FormParams) => {
    const issueTypeId = toNumber(params.issueTypeId, 'issueTypeId');
    if (issueTypeId !== undefined && !owner.issueTypes.some((t) => t.id === issueTypeId)) {
      throw invalid('No issue type.');
    }
    const priorityId = toNumber(params.priorityId, 'priorityId');
    if (priorityId !== undefined && !PRIORITIES.some((p) => p.id === priorityId))
      throw invalid('No priority.');
    const categoryIds = list(params.categoryId).map((value) => toNumber(value, 'categoryId') as number);
    if (categoryIds.some((id) => !owner.categories.some((c) => c.id === id))) throw invalid('No category.');
    const assigneeId = toNumber(params.assigneeId, 'assigneeId');
    if (assigneeId !== undefined && !users.some((user) => user.id === assigneeId)) throw invalid('No user.');
    const summary = first(params.summary);
    if (summary !== undefined && (summary.trim() === '' || summary.length > 255)) {
      throw invalid('summary must be 1 to 255 characters.');
    }
    const customFields = Object.fromEntries(
      Object.entries(params).filter(([key]) => /^customField_\d+/.test(key)),
    );
    const dueDate = first(params.dueDate);
    if (
      dueDate !== undefined &&
      dueDate !== '' &&
      !(
        /^\d{4}-\d{2}-\d{2}$/.test(dueDate) &&
        Number.isFinite(Date.parse(`${dueDate}T00:00:00Z`)) &&
        new Date(`${dueDate}T00:00:00Z`).toISOString().startsWith(dueDate)
      )
    ) {
      throw invalid('dueDate must be yyyy-MM-dd.');
    }
    return { issueTypeId, priorityId, categoryIds, assigneeId, summary, customFields, dueDate };
  };

  const listIssues = (_: string[], { query }: Parsed) => {
    const count = toNumber(query.count, 'count') ?? 20;
    if (count < 1 || count > 100) throw invalid('count must be between 1 and 100.');
    const offset = toNumber(query.offset, 'offset') ?? 0;
    const order = first(query.order) ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order must be asc or desc.');
    const key = sortKey(first(query.sort) ?? 'updated');
    const sorted = searchIssues(query).sort((a, b) => compare(key(a), key(b)) || a.id - b.id);
    if (order === 'desc') sorted.reverse();
    return sorted.slice(offset, offset + count).map(toWire);
  };
  const createIssue = (_: string[], { body }: Parsed) => {
    for (const name of ['projectId', 'summary', 'issueTypeId', 'priorityId']) {
      if (!first(body[name])) throw invalid(`Please input the ${name}.`);
    }
    const owner = project(String(toNumber(body.projectId, 'projectId')));
    const changes = validateChanges(owner, body);
    const keyId = issues.filter((i) => i.projectId === owner.id).length + 1;
    const created = now();
    const record: BacklogIssueRecord = {
      id: nextIssueId++,
      projectId: owner.id,
      keyId,
      issueKey: `${owner.projectKey}-${keyId}`,
      issueTypeId: changes.issueTypeId as number,
      priorityId: changes.priorityId as number,
      statusId: 1,
      summary: changes.summary as string,
      description: first(body.description) ?? '',
      categoryIds: changes.categoryIds,
      ...(changes.assigneeId !== undefined && { assigneeId: changes.assigneeId }),
      customFields: changes.customFields,
      ...(changes.dueDate ? { dueDate: changes.dueDate } : {}),
      created,
      updated: created,
    };
    issues.push(record);
    const location = `https://${spaceKey}.backlog.com/view/${record.issueKey}`;
    return new Answer(201, toWire(record), { location });
  };
  const updateIssue = ([key]: string[], { body }: Parsed) => {
    const record = issue(key);
    const changes = validateChanges(projectOf(record), body);
    const statusId = toNumber(body.statusId, 'statusId');
    if (statusId !== undefined && !STATUSES.some((s) => s.id === statusId)) throw invalid('No status.');
    const resolutionId = toNumber(body.resolutionId, 'resolutionId');
    if (resolutionId !== undefined && !RESOLUTIONS.some((r) => r.id === resolutionId)) {
      throw invalid('No resolution.');
    }
    const changeLog: BacklogChange[] = [];
    const types = projectOf(record).issueTypes;
    const nameIn = (options: Array<{ id: number; name: string }>) => (id: unknown) =>
      options.find((option) => option.id === id)?.name ?? null;
    const change = <K extends keyof BacklogIssueRecord>(
      field: string,
      prop: K,
      value: BacklogIssueRecord[K] | undefined,
      label: (value: unknown) => string | null = (v) => (v === undefined ? null : String(v)),
    ) => {
      if (value === undefined || value === record[prop]) return;
      changeLog.push({ field, newValue: label(value), originalValue: label(record[prop]) });
      record[prop] = value;
    };
    change('summary', 'summary', changes.summary);
    change('description', 'description', first(body.description));
    change('status', 'statusId', statusId, nameIn(STATUSES));
    change('resolution', 'resolutionId', resolutionId, nameIn(RESOLUTIONS));
    change('issueType', 'issueTypeId', changes.issueTypeId, nameIn(types));
    change('priority', 'priorityId', changes.priorityId, nameIn(PRIORITIES));
    change('assigner', 'assigneeId', changes.assigneeId, (id) =>
      id === undefined ? null : (users.find((user) => user.id === id)?.name ?? null),
    );
    change('limitDate', 'dueDate', changes.dueDate || undefined);
    if (body.categoryId !== undefined) record.categoryIds = changes.categoryIds;
    Object.assign(record.customFields, changes.customFields);
    record.updated = now();
    delete record.updatedUserId;
    const comment = first(body.comment);
    if (comment || changeLog.length > 0) addComment(record, comment ?? '', changeLog);
    return toWire(record);
  };
  const listComments = ([key]: string[], { query }: Parsed) => {
    const record = issue(key);
    const count = toNumber(query.count, 'count') ?? 20;
    const minId = toNumber(query.minId, 'minId') ?? 0;
    const maxId = toNumber(query.maxId, 'maxId') ?? Number.MAX_SAFE_INTEGER;
    const own = comments.filter((c) => c.issueId === record.id && c.id >= minId && c.id <= maxId);
    if ((first(query.order) ?? 'desc') === 'desc') own.reverse();
    return own.slice(0, count).map(commentToWire);
  };
  const addCommentRoute = ([key]: string[], { body }: Parsed) => {
    const record = issue(key);
    const content = first(body.content);
    if (!content) throw invalid('Please input the content.');
    record.updated = now();
    delete record.updatedUserId;
    return new Answer(201, commentToWire(addComment(record, content)));
  };

  const space = {
    spaceKey,
    name: 'Local Sandbox',
    ownerId: MYSELF.id,
    lang: 'en',
    timezone: 'UTC',
    reportSendTime: '08:00:00',
    textFormattingRule: 'markdown',
    created: '2024-01-01T00:00:00Z',
    updated: '2024-01-01T00:00:00Z',
  };
  const projectChildren = (owner: BacklogProjectRecord, kind: string | undefined) => {
    const children = { issueTypes: owner.issueTypes, statuses: STATUSES, categories: owner.categories };
    return children[kind as keyof typeof children].map((child) => ({ ...child, projectId: owner.id }));
  };

  const routes: Route[] = [
    ['GET', /^\/space$/, () => space],
    ['GET', /^\/users\/myself$/, () => ({ ...MYSELF, roleType: myRoleType })],
    ['GET', /^\/users$/, () => users.map((user) => userById(user.id))],
    ['GET', /^\/priorities$/, () => PRIORITIES],
    ['GET', /^\/resolutions$/, () => RESOLUTIONS],
    ['GET', /^\/projects$/, () => projects.map(projectToWire)],
    ['GET', /^\/projects\/([^/]+)$/, ([key]) => projectToWire(project(key))],
    // Every user of the space is a member of every project here, unless removed from it.
    [
      'GET',
      /^\/projects\/([^/]+)\/users$/,
      ([key]) => {
        const owner = project(key);
        const members = users.filter((user) => !outside.has(`${owner.id}|${user.id}`));
        return members.map((user) =>
          user.id === MYSELF.id ? { ...MYSELF, roleType: myRoleType } : userById(user.id),
        );
      },
    ],
    [
      'GET',
      /^\/projects\/([^/]+)\/(issueTypes|statuses|categories)$/,
      ([key, kind]) => projectChildren(project(key), kind),
    ],
    ['GET', /^\/issues\/count$/, (_, { query }) => ({ count: searchIssues(query).length })],
    ['GET', /^\/issues$/, listIssues],
    ['POST', /^\/issues$/, createIssue],
    ['GET', /^\/issues\/([^/]+)$/, ([key]) => toWire(issue(key))],
    ['PATCH', /^\/issues\/([^/]+)$/, updateIssue],
    ['GET', /^\/issues\/([^/]+)\/comments$/, listComments],
    ['POST', /^\/issues\/([^/]+)\/comments$/, addCommentRoute],
  ];

  const route = (method: string, path: string, request: Parsed): Answer => {
    const apiPath = path.replace(/^\/api\/v2/, '');
    for (const [routeMethod, pattern, run] of routes) {
      const match = routeMethod === method ? pattern.exec(apiPath) : null;
      if (!match || !path.startsWith('/api/v2/')) continue;
      const result = run(match.slice(1).map(decodeURIComponent), request);
      return result instanceof Answer ? result : new Answer(200, result);
    }
    throw new BacklogApiError(404, 6, `Undefined resource. ${path}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { path, query } = parseUrl(req);
    const body = (await readBody(req)) as FormParams;
    const method = req.method ?? 'GET';
    calls.push({ method, path, query, body });
    const rateHeaders = rateLimitHeaders(60, 149);

    const fault = faults.take({ method, path });
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault && 'status' in fault) {
      if (fault.status !== 429) return sendJson(res, fault.status, errorBody(1, 'Internal server error.'));
      const headers = rateLimitHeaders(fault.resetInSeconds ?? 1, 0);
      return sendJson(res, 429, errorBody(13, 'Rate limit exceeded.'), headers);
    }

    const presented = first(query.apiKey) ?? req.headers['backlog-api-key'];
    if (presented !== apiKey || revoked) return sendJson(res, 401, errorBody(11, 'Authentication failure.'));

    let answer: Answer;
    try {
      answer = route(method, path, { query, body });
    } catch (error) {
      if (!(error instanceof BacklogApiError)) throw error;
      answer = new Answer(error.status, errorBody(error.code, error.message));
    }
    if (fault && 'dropResponse' in fault) return dropConnection(req);
    sendJson(res, answer.status, answer.body, { ...rateHeaders, ...answer.headers });
  };

  const server = await startHttpServer(handle);
  return {
    url: server.origin,
    apiKey,
    projects,
    issues,
    comments,
    calls,
    failNext: (matcher, fault, times = 1) => faults.add((request) => matches(matcher, request), fault, times),
    issue: findIssue,
    myself: MYSELF,
    users,
    actAs: (userId, issueKey, change) => {
      const record = issue(issueKey);
      const user = userById(userId);
      const changeLog: BacklogChange[] = [];
      const set = (
        field: string,
        prop: 'statusId' | 'resolutionId',
        value: number | undefined,
        names: Array<{ id: number; name: string }>,
      ) => {
        if (value === undefined || value === record[prop]) return;
        const name = (id: unknown) => names.find((option) => option.id === id)?.name ?? null;
        changeLog.push({ field, newValue: name(value), originalValue: name(record[prop]) });
        record[prop] = value;
      };
      set('status', 'statusId', change.statusId, STATUSES);
      set('resolution', 'resolutionId', change.resolutionId, RESOLUTIONS);
      record.updated = now();
      record.updatedUserId = user.id;
      const comment = addComment(record, change.comment ?? '', changeLog);
      comment.createdUserId = user.id;
      const owner = projectOf(record);
      return {
        id: nextActivityId++,
        type: 2,
        created: comment.created,
        project: { id: owner.id, projectKey: owner.projectKey, name: owner.name },
        content: {
          id: record.id,
          key_id: record.keyId,
          summary: record.summary,
          description: record.description,
          comment: { id: comment.id, content: comment.content },
          changes: changeLog.map((entry) => ({
            field: entry.field,
            new_value: entry.newValue,
            old_value: entry.originalValue,
            type: 'standard',
          })),
          attachments: [],
          shared_files: [],
        },
        notifications: [],
        createdUser: user,
      };
    },
    revokeKey: () => {
      revoked = true;
    },
    removeProject: (projectKey) => {
      const index = projects.findIndex((candidate) => candidate.projectKey === projectKey);
      if (index < 0) throw new Error(`the Backlog emulator has no project ${projectKey}`);
      projects.splice(index, 1);
    },
    removeMember: (projectKey, userId) => {
      outside.add(`${project(projectKey).id}|${userId}`);
    },
    setRoleType: (roleType) => {
      myRoleType = roleType;
    },
    commentsOf: (idOrKey) => {
      const record = findIssue(idOrKey);
      return record ? comments.filter((c) => c.issueId === record.id) : [];
    },
    close: server.close,
  };
}

function createProjects(options: BacklogProjectOptions[]): BacklogProjectRecord[] {
  let nextTypeId = 1001;
  let nextCategoryId = 2001;
  return options.map((p, index) => ({
    id: 101 + index,
    projectKey: p.key,
    name: p.name ?? p.key,
    textFormattingRule: p.textFormattingRule ?? 'markdown',
    issueTypes: (p.issueTypes ?? ['Bug', 'Task', 'Security']).map((name, order) => ({
      id: nextTypeId++,
      name,
      color: COLORS[order % COLORS.length] as string,
      displayOrder: order,
    })),
    categories: (p.categories ?? []).map((name, order) => ({
      id: nextCategoryId++,
      name,
      displayOrder: order,
    })),
  }));
}

function projectToWire(project: BacklogProjectRecord) {
  return {
    id: project.id,
    projectKey: project.projectKey,
    name: project.name,
    chartEnabled: false,
    useResolvedForChart: false,
    subtaskingEnabled: false,
    projectLeaderCanEditProjectLeader: false,
    useWiki: true,
    useFileSharing: true,
    useWikiTreeView: true,
    useOriginalImageSizeAtWiki: false,
    useSubversion: false,
    useGit: false,
    textFormattingRule: project.textFormattingRule,
    archived: false,
    displayOrder: 2147483646,
    useDevAttributes: true,
  };
}

function sortKey(sort: string): (issue: BacklogIssueRecord) => string | number {
  const keys: Record<string, (issue: BacklogIssueRecord) => string | number> = {
    created: (i) => i.created,
    updated: (i) => i.updated,
    summary: (i) => i.summary,
    status: (i) => i.statusId,
    priority: (i) => i.priorityId,
    issueType: (i) => i.issueTypeId,
  };
  return keys[sort] ?? ((i) => i.id);
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toNumber(value: string | string[] | undefined, name: string): number | undefined {
  const text = first(value);
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw invalid(`${name} must be a number.`);
  return Number(text);
}

function rateLimitHeaders(resetInSeconds: number, remaining: number): Record<string, string> {
  return {
    'x-ratelimit-limit': '150',
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + resetInSeconds),
  };
}

function matches(matcher: BacklogFaultMatcher, request: { method: string; path: string }): boolean {
  if (matcher.method && matcher.method !== request.method) return false;
  if (matcher.path instanceof RegExp) return matcher.path.test(request.path);
  return request.path === matcher.path || request.path === `/api/v2/${matcher.path.replace(/^\//, '')}`;
}
