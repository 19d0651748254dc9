import { RequestError } from '@octokit/request-error';
import { apiError, call, createOctokit, splitRepo, type GitHubClientOptions } from '../github/octokit.js';

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

/** A GET whose 404 means "none": the value, or null. */
async function found<T>(path: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RequestError && err.status === 404) return null;
    throw apiError('GET', path, err);
  }
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
