import type { ApprovalOutcome, GateApprover } from '../checks/gate.js';
import type { GitHubClient, PullReview } from './github.js';

/** Review states that replace a reviewer's earlier verdict (COMMENTED and PENDING do not). */
const VERDICTS = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

/** Each reviewer's latest verdict, in the order GitHub returns reviews (chronological). */
export function latestVerdicts(reviews: readonly PullReview[]): Map<string, PullReview> {
  const latest = new Map<string, PullReview>();
  for (const r of reviews) {
    const login = r.user?.login?.toLowerCase();
    if (login && VERDICTS.has(r.state)) latest.set(login, r);
  }
  return latest;
}

/** Parses `allowed-approvers`: logins separated by commas, spaces or new lines, `@` optional. */
export function parseApprovers(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.replace(/^@/, '').trim().toLowerCase()).filter(Boolean);
}

/**
 * The gate's approver without Levqor: an APPROVED review, on the current head commit, that is
 * the latest verdict of a login on the allowed list (never the PR's author).
 */
export function reviewApprover(gh: GitHubClient, allowed: readonly string[], author: string): GateApprover {
  return async (pr): Promise<ApprovalOutcome> => {
    const latest = latestVerdicts(await gh.listReviews(pr.repository, pr.number));
    const stale: string[] = [];
    for (const login of allowed) {
      const r = latest.get(login);
      if (!r || r.state !== 'APPROVED' || login === author.toLowerCase()) continue;
      if (r.commit_id === pr.headSha) return { state: 'approved', by: `github:${r.user?.login ?? login}`, detail: `approving review on ${pr.headSha.slice(0, 7)}` };
      stale.push(`${login} approved ${r.commit_id.slice(0, 7)}`);
    }
    const changes = allowed.filter((l) => latest.get(l)?.state === 'CHANGES_REQUESTED');
    if (changes.length) return { state: 'rejected', by: `github:${changes[0] ?? ''}`, detail: `changes requested by ${changes.join(', ')}` };
    return {
      state: 'missing',
      detail: `an approving review on ${pr.headSha.slice(0, 7)} from one of: ${allowed.join(', ')}${stale.length ? ` (older approvals do not count: ${stale.join('; ')})` : ''}`,
    };
  };
}
