import type { Db, Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { hasRunsBefore, seedDemoAudit, seedDemoEvents, seedDemoRuns } from './queries.js';
import { applyWorkflow, getWorkflowByName } from '../workflows/queries.js';
import { workflowSchema, type WorkflowInput } from '../workflows/schema.js';

interface DemoHistoryResult {
  weeks: number;
  runs: number;
  approvals: number;
  events: number;
}

async function workflowId(tx: Queryable, tenantId: string, wf: WorkflowInput): Promise<string> {
  const existing = await getWorkflowByName(tx, tenantId, wf.name);
  if (existing) return existing.id;
  return (await applyWorkflow(tx, tenantId, workflowSchema.parse(wf), 'levqor:demo')).workflow.id;
}

/**
 * Fills `weeks` weeks of realistic history before `now` for the demo workflows of a tenant:
 * runs with failures and durations, approvals decided at various latencies (with rejections
 * and expiries), engagement events. Bulk SQL (generate_series), one transaction; refused
 * when the tenant already has runs older than a day.
 */
export async function seedDemoHistory(
  db: Db,
  tenant: { id: string; name: string },
  workflows: readonly WorkflowInput[],
  opts: { weeks: number; now: number },
): Promise<DemoHistoryResult> {
  if (!Number.isInteger(opts.weeks) || opts.weeks < 1 || opts.weeks > 52)
    throw new AppError('bad_input', `--weeks: a whole number from 1 to 52 (got ${opts.weeks})`, ['weeks']);
  return db.transaction(async (tx) => {
    if (await hasRunsBefore(tx, tenant.id, opts.now - 86_400))
      throw new AppError('conflict', `tenant ${tenant.name} already has history (runs older than a day); demo history is only added once`);
    const to = Math.floor(opts.now / 3600) * 3600 - 3600;
    const from = to - opts.weeks * 7 * 86_400;
    const byName = (n: string) => workflows.find((w) => w.name === n);
    const plan: [string, number, { failRate: number; dur: [number, number]; classC: boolean }][] = [
      ['heartbeat', 900, { failRate: 0.01, dur: [0.01, 0.3], classC: false }],
      ['daily-digest', 86_400, { failRate: 0.04, dur: [1, 40], classC: false }],
      ['notify-partner', 3600, { failRate: 0.06, dur: [0.2, 6], classC: true }],
      ['customer-newsletter', 86_400, { failRate: 0.05, dur: [1, 3], classC: true }],
    ];
    const total: DemoHistoryResult = { weeks: opts.weeks, runs: 0, approvals: 0, events: 0 };
    for (const [name, every, spec] of plan) {
      const wf = byName(name);
      if (!wf) continue;
      const r = await seedDemoRuns(tx, tenant.id, await workflowId(tx, tenant.id, wf), from, to, every, spec);
      total.runs += r.runs;
      total.approvals += r.approvals;
    }
    await seedDemoAudit(tx, tenant.id, from, opts.weeks * 7);
    total.events = await seedDemoEvents(tx, tenant.id, tenant.name, from, to);
    return total;
  });
}
