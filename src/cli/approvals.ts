import { decideApproval, decideMany, type BulkResult } from '../approvals/service.js';
import { getApproval, listApprovals, listVotes } from '../approvals/queries.js';
import type { ApprovalStatus, Decision } from '../approvals/types.js';
import { AppError } from '../lib/errors.js';
import { withRedactedPayload } from '../lib/redact.js';
import { createSchedulerDeps } from '../runtime.js';
import { runQueuedNow } from '../scheduler/manual.js';
import { resolveTenant } from '../tenants/queries.js';
import { iso, printJson, printTable, withDb, type GlobalOptions } from './context.js';
import { cliActor } from './workflows.js';

/** `levqor approvals list [--status S]`. */
export async function approvalsList(opts: GlobalOptions & { status?: string; limit?: number }): Promise<number> {
  const status = (opts.status ?? 'pending') as ApprovalStatus;
  if (!['pending', 'approved', 'rejected', 'expired'].includes(status)) {
    throw new AppError('bad_input', `--status: one of pending, approved, rejected, expired (got "${status}")`);
  }
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const rows = await listApprovals(db, tenant.id, status, opts.limit ?? 50);
    printTable(
      rows.map((a) => ({
        id: a.id,
        class: a.impact_class,
        action: a.action_type,
        summary: a.summary,
        requested: iso(a.requested_at),
        expires: iso(a.expires_at),
        status: a.status,
        by: a.processed_by,
      })),
      opts.json,
      `no ${status} approvals`,
    );
    return 0;
  });
}

/** `levqor approvals show ID`. */
export async function approvalsShow(id: string, opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const a = await getApproval(db, id, tenant.id);
    if (!a) throw new AppError('not_found', `approval ${id} not found`);
    // Each vote with the person behind it (handle and display name) where the directory knows them.
    printJson({ ...withRedactedPayload(a), votes: await listVotes(db, a.id) });
    return 0;
  });
}

/** `levqor approvals approve|reject ID…`: decides (one request, or several each on its own), then runs held steps here unless --no-run. */
export async function approvalsDecide(
  decision: Decision,
  ids: string[],
  opts: GlobalOptions & { reason?: string; as?: string; run?: boolean },
): Promise<number> {
  return withDb(async ({ config, db, log }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const input = { tenantId: tenant.id, decision, actor: cliActor(opts.as), channel: 'cli', reason: opts.reason };
    // One id: its error is the command's (exit code by kind); several: each line says how it went.
    const results: BulkResult[] =
      ids.length === 1
        ? [{ id: ids[0] as string, ...(await decideApproval(db, { ...input, id: ids[0] as string })) }]
        : await decideMany(db, { ...input, ids });
    if (opts.json) printJson(results.length === 1 ? results[0] : results);
    let code = 0;
    const held: string[] = [];
    for (const r of results) {
      if ('error' in r) {
        code = 1;
        if (!opts.json) console.log(`approval ${r.id}: not decided (${r.error}) — ${r.message}`);
        continue;
      }
      const a = r.approval;
      if (!opts.json)
        console.log(
          r.outcome === 'vote_recorded'
            ? `approval ${a.id}: your approval is recorded (${a.approvals_count} of ${a.required_approvals}); still pending`
            : `approval ${a.id}: ${a.status} by ${a.processed_by ?? '?'}`,
        );
      if (r.outcome === 'approved' && a.run_id) held.push(a.run_id);
    }
    if (decision !== 'approve' || opts.run === false || held.length === 0) return code;
    const deps = createSchedulerDeps(config, db, log, {
      stopClaiming: new AbortController().signal,
      abortRuns: new AbortController().signal,
    });
    for (const runId of held) {
      const result = await runQueuedNow(deps, runId);
      if (result.outcome?.kind === 'finished') {
        const { status, error } = result.outcome.finish;
        if (!opts.json) console.log(`run ${runId}: ${status}${error ? ` — ${error}` : ''}`);
        if (status !== 'succeeded') code = 1;
      } else if (!opts.json && result.outcome?.kind === 'parked')
        console.log(`run ${runId} waits for the next approval ${result.outcome.approvalId}`);
      else if (!opts.json && !result.outcome) console.log(`run ${runId} was picked up by a scheduler`);
    }
    return code;
  });
}
