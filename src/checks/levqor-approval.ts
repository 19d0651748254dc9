import { submitAction } from '../approvals/actions.js';
import { payloadHash } from '../approvals/queries.js';
import type { ApprovalRow } from '../approvals/types.js';
import type { Db, Queryable } from '../db/types.js';
import type { ApprovalOutcome, GateApprover, GatePullRequest } from './gate.js';
import { describeChanges } from './gate.js';

/** The action type of the gate's Class C request. */
export const CRITICAL_FILES_ACTION = 'deploy.critical_files';

/** What is approved: this PR's head commit and exactly these changes. A new push asks again. */
function criticalFilesPayload(pr: GatePullRequest, files: readonly string[]): Record<string, unknown> {
  return {
    repository: pr.repository,
    pull_request: pr.number,
    head_sha: pr.headSha,
    base_sha: pr.baseSha,
    files,
  };
}

/** The database as seen from inside an open transaction: a nested transaction joins it. */
function withinTransaction(db: Db, tx: Queryable): Db {
  return { ...db, query: tx.query, exec: tx.exec, transaction: (fn) => fn(tx), session: (fn) => fn(tx) };
}

async function latestRequest(
  db: Db,
  tenantId: string,
  hash: string,
): Promise<Pick<ApprovalRow, 'id' | 'status' | 'processed_by' | 'reason'> | undefined> {
  const { rows } = await db.query<Pick<ApprovalRow, 'id' | 'status' | 'processed_by' | 'reason'>>(
    `SELECT id, status, processed_by, reason FROM approval_queue
     WHERE tenant_id = $1 AND action_type = $2 AND payload_hash = $3 ORDER BY requested_at DESC, id LIMIT 1`,
    [tenantId, CRITICAL_FILES_ACTION, hash],
  );
  return rows[0];
}

/**
 * The gate's approver through Levqor: finds the Class C request for exactly these changes
 * (by payload hash) and reports its state; submits one when there is none (or the last one
 * expired), so the approvers see it in Slack, the API and the CLI.
 */
export function levqorApprover(db: Db, tenantId: string, actor: string): GateApprover {
  return (pr, changes) => criticalFilesApproval(db, tenantId, actor, pr, describeChanges(changes));
}

/**
 * The gate's Class C request for a pull request's described critical changes (`describeChanges`):
 * its state, or a new request when there is none. Also what POST /api/gate/critical-files answers.
 */
export function criticalFilesApproval(
  db: Db,
  tenantId: string,
  actor: string,
  pr: GatePullRequest,
  files: readonly string[],
): Promise<ApprovalOutcome> {
  const payload = criticalFilesPayload(pr, files);
  const hash = payloadHash(payload);
  // Two runs of the check at once (a re-run, two workflows) must not ask twice: the lookup and
  // the request share one transaction, serialised per request by a transaction-level lock.
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`levqor-gate:${tenantId}:${hash}`]);
    return decide(withinTransaction(db, tx), tenantId, actor, pr, files, payload, hash);
  });
}

async function decide(
  db: Db,
  tenantId: string,
  actor: string,
  pr: GatePullRequest,
  files: readonly string[],
  payload: Record<string, unknown>,
  hash: string,
): Promise<ApprovalOutcome> {
  const found = await latestRequest(db, tenantId, hash);
  if (found?.status === 'approved')
    return { state: 'approved', by: found.processed_by ?? undefined, detail: `Levqor approval ${found.id}` };
  if (found?.status === 'pending')
    return {
      state: 'pending',
      detail: `waiting for Levqor approval ${found.id} (approve it in Slack, the API or \`levqor approvals approve ${found.id}\`), then re-run this check`,
    };
  if (found?.status === 'rejected')
    return {
      state: 'rejected',
      by: found.processed_by ?? undefined,
      detail: `Levqor approval ${found.id} was rejected by ${found.processed_by ?? '?'}: ${found.reason ?? ''}`,
    };
  const summary = `PR #${pr.number} in ${pr.repository} changes ${files.length} critical file(s) at ${pr.headSha.slice(0, 7)}`;
  const row = await submitAction(db, { tenantId, actor, channel: 'github', action_type: CRITICAL_FILES_ACTION, summary, payload });
  return {
    state: 'pending',
    detail: `requested Levqor approval ${row.id}${found ? ` (the previous request ${found.id} expired)` : ''}; approve it, then re-run this check`,
  };
}
