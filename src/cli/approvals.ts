import { decideApproval } from '../approvals/service.js';
import { getApproval, listApprovals } from '../approvals/queries.js';
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
    printJson(withRedactedPayload(a));
    return 0;
  });
}

/** `levqor approvals approve|reject ID`: decides, then runs the held step here unless --no-run. */
export async function approvalsDecide(
  decision: Decision,
  id: string,
  opts: GlobalOptions & { reason?: string; as?: string; run?: boolean },
): Promise<number> {
  return withDb(async ({ config, db, log }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const { approval: decided, outcome } = await decideApproval(db, {
      id,
      tenantId: tenant.id,
      decision,
      actor: cliActor(opts.as),
      channel: 'cli',
      reason: opts.reason,
    });
    if (outcome === 'vote_recorded') {
      console.log(
        `approval ${decided.id}: your approval is recorded (${decided.approvals_count} of ${decided.required_approvals}); still pending`,
      );
      return 0;
    }
    console.log(`approval ${decided.id}: ${decided.status} by ${decided.processed_by ?? '?'}`);
    if (decision === 'approve' && decided.run_id && opts.run !== false) {
      const deps = createSchedulerDeps(config, db, log, {
        stopClaiming: new AbortController().signal,
        abortRuns: new AbortController().signal,
      });
      const result = await runQueuedNow(deps, decided.run_id);
      if (result.outcome?.kind === 'finished') {
        console.log(
          `run ${decided.run_id}: ${result.outcome.finish.status}${result.outcome.finish.error ? ` — ${result.outcome.finish.error}` : ''}`,
        );
        return result.outcome.finish.status === 'succeeded' ? 0 : 1;
      }
      if (result.outcome?.kind === 'parked') console.log(`run ${decided.run_id} waits for the next approval ${result.outcome.approvalId}`);
      else if (!result.outcome) console.log(`run ${decided.run_id} was picked up by a scheduler`);
    }
    return 0;
  });
}
