/** The few GitHub REST calls the action makes, over fetch (GITHUB_API_URL; a local fake in tests). */
export interface GitHubClient {
  listIssueComments(repo: string, issue: number): Promise<{ id: number; body?: string; user?: { login?: string } }[]>;
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
  commit_id: string;
  submitted_at?: string;
}

/** An HTTP error from the API, with its status. */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubError';
  }
}

/** A client for `apiUrl` authenticated with `token`. */
export function createGitHubClient(apiUrl: string, token: string, fetchFn: typeof fetch = fetch): GitHubClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetchFn(`${apiUrl}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'levqor-action',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new GitHubError(res.status, `GitHub ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  const all = async <T>(path: string): Promise<T[]> => {
    const out: T[] = [];
    for (let page = 1; page <= 50; page++) {
      const rows = await call<T[]>('GET', `${path}${path.includes('?') ? '&' : '?'}per_page=100&page=${page}`);
      out.push(...rows);
      if (rows.length < 100) break;
    }
    return out;
  };
  const enc = (repo: string) => repo.split('/').map(encodeURIComponent).join('/');
  /** A GET whose 404 means "none": the value, or null. */
  const found = async <T>(path: string): Promise<T | null> => {
    try {
      return await call<T>('GET', path);
    } catch (err) {
      if (err instanceof GitHubError && err.status === 404) return null;
      throw err;
    }
  };
  const team = (org: string, slug: string) => `/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}`;
  return {
    listIssueComments: (repo, issue) => all(`/repos/${enc(repo)}/issues/${issue}/comments`),
    createIssueComment: (repo, issue, body) => call('POST', `/repos/${enc(repo)}/issues/${issue}/comments`, { body }),
    updateIssueComment: (repo, id, body) => call('PATCH', `/repos/${enc(repo)}/issues/comments/${id}`, { body }),
    listReviews: (repo, pull) => all(`/repos/${enc(repo)}/pulls/${pull}/reviews`),
    teamVisible: async (org, slug) => (await found<{ id: number }>(team(org, slug))) !== null,
    teamMembership: async (org, slug, login) => {
      const m = await found<{ state?: string }>(`${team(org, slug)}/memberships/${encodeURIComponent(login)}`);
      return m?.state === 'active' || m?.state === 'pending' ? m.state : null;
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
