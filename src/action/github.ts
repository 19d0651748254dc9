import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { RequestError } from '@octokit/request-error';
import { AppError, errorMessage } from '../lib/errors.js';

/** The GitHub REST calls the action makes (GITHUB_API_URL; a local fake in tests). */
export interface GitHubClient {
  listIssueComments(repo: string, issue: number): Promise<{ id: number; body?: string; user?: { login?: string } | null }[]>;
  createIssueComment(repo: string, issue: number, body: string): Promise<{ id: number }>;
  updateIssueComment(repo: string, commentId: number, body: string): Promise<{ id: number }>;
  listReviews(repo: string, pull: number): Promise<PullReview[]>;
  /** Whether the token can see team `org/slug` (false: no such team, or it may not read the organisation's teams). */
  teamVisible(org: string, slug: string): Promise<boolean>;
  /** A login's membership of team `org/slug`: 'active', 'pending' (invited), or null (not a member). */
  teamMembership(org: string, slug: string, login: string): Promise<'active' | 'pending' | null>;
}

export interface PullReview {
  id: number;
  user: { login: string } | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string;
}

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  /** Where retries and rate-limit waits are told (the action: warnings on the run). */
  warn?: (message: string) => void;
  /** Milliseconds waited per second a retry asks for (1000; tests shrink it). */
  retryAfterBaseValue?: number;
  /** How often a rate-limited request (primary or secondary limit) is tried again before it fails. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait worth holding a runner for, in seconds. */
  maxRateLimitWaitSeconds?: number;
  /** Time limit of one request. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Octokit with the ecosystem's plugins: pagination, retries of server errors, and rate-limit handling. */
const ActionOctokit = Octokit.plugin(paginateRest, retry, throttling);

/** An Octokit for `apiUrl` authenticated with `token`, retrying what GitHub asks to be retried. */
function createOctokit(opts: GitHubClientOptions): InstanceType<typeof ActionOctokit> {
  const warn = opts.warn ?? (() => undefined);
  const retries = opts.rateLimitRetries ?? 2;
  const maxWait = opts.maxRateLimitWaitSeconds ?? 120;
  const fetchFn = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const again = retryCount < retries && retryAfter <= maxWait;
      const path = new URL(options.url, 'http://github.invalid').pathname;
      warn(
        `GitHub ${kind} rate limit on ${options.method} ${path}: ${again ? `trying again in ${retryAfter} s (${retryCount + 1}/${retries})` : `giving up (asked to wait ${retryAfter} s)`}`,
      );
      return again;
    };
  return new ActionOctokit({
    auth: opts.token,
    baseUrl: opts.apiUrl.replace(/\/+$/, ''),
    userAgent: 'levqor-action',
    log: { debug: () => undefined, info: () => undefined, warn, error: warn },
    request: {
      fetch: (url: string, init?: RequestInit) => fetchFn(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
    },
    retry: { retryAfterBaseValue: opts.retryAfterBaseValue ?? 1000 },
    throttle: {
      retryAfterBaseValue: opts.retryAfterBaseValue ?? 1000,
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
    },
  });
}

/** A failed call as an AppError naming the request: `GitHub GET /repos/…: 403 Resource not accessible`. */
function apiError(method: string, path: string, err: unknown): AppError {
  if (err instanceof RequestError) {
    const data = err.response?.data as { message?: unknown } | undefined;
    const message = typeof data?.message === 'string' ? data.message : err.message;
    return new AppError('upstream', `GitHub ${method} ${path}: ${err.status} ${message.slice(0, 300)}`, [], { cause: err });
  }
  return new AppError('upstream', `GitHub ${method} ${path}: ${errorMessage(err)}`, [], { cause: err });
}

async function call<T>(method: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiError(method, path, err);
  }
}

/** A GET whose 404 means "none": the value, or null. */
async function found<T>(path: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RequestError && err.status === 404) return null;
    throw apiError('GET', path, err);
  }
}

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  if (!owner || !name) throw new AppError('bad_input', `repository "${repo}" is not owner/name`);
  return { owner, repo: name };
}

/** A client for `apiUrl` authenticated with `token`; lists are read across every page. */
export function createGitHubClient(opts: GitHubClientOptions): GitHubClient {
  const gh = createOctokit(opts);
  return {
    listIssueComments: (repo, issue) => {
      const route = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments' as const;
      return call('GET', `/repos/${repo}/issues/${issue}/comments`, () =>
        gh.paginate(route, { ...splitRepo(repo), issue_number: issue, per_page: 100 }),
      );
    },
    createIssueComment: (repo, issue, body) =>
      call('POST', `/repos/${repo}/issues/${issue}/comments`, async () => {
        const res = await gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          ...splitRepo(repo),
          issue_number: issue,
          body,
        });
        return { id: Number(res.data.id) };
      }),
    updateIssueComment: (repo, id, body) =>
      call('PATCH', `/repos/${repo}/issues/comments/${id}`, async () => {
        const res = await gh.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
          ...splitRepo(repo),
          comment_id: id,
          body,
        });
        return { id: Number(res.data.id) };
      }),
    listReviews: (repo, pull) =>
      call('GET', `/repos/${repo}/pulls/${pull}/reviews`, () =>
        gh.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { ...splitRepo(repo), pull_number: pull, per_page: 100 }),
      ),
    teamVisible: async (org, slug) =>
      (await found(`/orgs/${org}/teams/${slug}`, () => gh.request('GET /orgs/{org}/teams/{team_slug}', { org, team_slug: slug }))) !== null,
    teamMembership: async (org, slug, login) => {
      const res = await found(`/orgs/${org}/teams/${slug}/memberships/${login}`, () =>
        gh.request('GET /orgs/{org}/teams/{team_slug}/memberships/{username}', { org, team_slug: slug, username: login }),
      );
      const state = res?.data.state;
      return state === 'active' || state === 'pending' ? state : null;
    },
  };
}

/** Creates the comment carrying `marker`, or updates it in place when one exists. */
export async function upsertStickyComment(
  gh: GitHubClient,
  repo: string,
  issue: number,
  marker: string,
  body: string,
): Promise<{ id: number; created: boolean }> {
  const existing = (await gh.listIssueComments(repo, issue)).find((c) => c.body?.includes(marker));
  if (existing) return { id: (await gh.updateIssueComment(repo, existing.id, body)).id ?? existing.id, created: false };
  return { id: (await gh.createIssueComment(repo, issue, body)).id, created: true };
}
