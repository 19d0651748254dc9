import type { ApprovalOutcome, GateApprover } from '../checks/gate.js';
import { AppError } from '../lib/errors.js';
import type { GitHubClient, PullReview } from './github.js';

/** Review states that replace a reviewer's earlier verdict (COMMENTED and PENDING do not). */
const VERDICTS = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

/** Each reviewer's latest verdict, in the order GitHub returns reviews (chronological). */
function latestVerdicts(reviews: readonly PullReview[]): Map<string, PullReview> {
  const latest = new Map<string, PullReview>();
  for (const r of reviews) {
    const login = r.user?.login?.toLowerCase();
    if (login && VERDICTS.has(r.state)) latest.set(login, r);
  }
  return latest;
}

/** Parses `allowed-approvers`: logins and org/team names separated by commas, spaces or new lines, `@` optional. */
export function parseApprovers(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.replace(/^@/, '').trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Which reviewers the allowed list lets decide, and why: listed by login, or an active member
 * of a listed team (one API call per reviewer and team, only for reviewers not listed by login).
 * A listed team the token cannot see is an error, not an empty team: GITHUB_TOKEN cannot read
 * an organisation's teams.
 */
async function allowedReviewers(gh: GitHubClient, allowed: readonly string[], reviewers: readonly string[]): Promise<Map<string, string>> {
  const logins = new Set(allowed.filter((a) => !a.includes('/')));
  const teams = allowed
    .filter((a) => a.includes('/'))
    .map((t) => {
      const [org = '', slug = ''] = t.split('/');
      return { name: t, org, slug };
    });
  for (const t of teams) {
    if (!(await gh.teamVisible(t.org, t.slug))) {
      throw new AppError(
        'forbidden',
        `allowed-approvers: team ${t.name} is not visible with github-token; a team needs a token that may read the organisation's members (a GitHub App token with "Members: read", or a token with read:org); GITHUB_TOKEN cannot`,
      );
    }
  }
  const via = new Map<string, string>();
  for (const login of reviewers) {
    if (logins.has(login)) {
      via.set(login, login);
      continue;
    }
    for (const t of teams) {
      if ((await gh.teamMembership(t.org, t.slug, login)) === 'active') {
        via.set(login, `member of ${t.name}`);
        break;
      }
    }
  }
  return via;
}

/**
 * The gate's approver without Levqor: an APPROVED review, on the current head commit, that is
 * the latest verdict of a reviewer the allowed list names (by login or through a team), never
 * the PR's author. A change request from such a reviewer rejects.
 */
export function reviewApprover(gh: GitHubClient, allowed: readonly string[], author: string): GateApprover {
  return async (pr): Promise<ApprovalOutcome> => {
    const latest = latestVerdicts(await gh.listReviews(pr.repository, pr.number));
    const reviewers = [...latest.keys()].filter((login) => login !== author.toLowerCase());
    const via = await allowedReviewers(gh, allowed, reviewers);
    const stale: string[] = [];
    const changes: string[] = [];
    for (const [login, why] of via) {
      const r = latest.get(login);
      if (!r) continue;
      const name = r.user?.login ?? login;
      const through = why === login ? '' : ` (${why})`;
      if (r.state === 'CHANGES_REQUESTED') changes.push(`${name}${through}`);
      if (r.state !== 'APPROVED') continue;
      if (r.commit_id === pr.headSha)
        return { state: 'approved', by: `github:${name}`, detail: `approving review on ${pr.headSha.slice(0, 7)}${through}` };
      stale.push(`${login} approved ${(r.commit_id ?? '?').slice(0, 7)}`);
    }
    if (changes.length)
      return { state: 'rejected', by: `github:${changes[0]?.split(' ')[0] ?? ''}`, detail: `changes requested by ${changes.join(', ')}` };
    return {
      state: 'missing',
      detail: `an approving review on ${pr.headSha.slice(0, 7)} from one of: ${allowed.join(', ')}${stale.length ? ` (older approvals do not count: ${stale.join('; ')})` : ''}`,
    };
  };
}
