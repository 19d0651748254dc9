import type { Db, Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { applyWorkflow, getWorkflowByName } from '../workflows/queries.js';
import { workflowSchema, type WorkflowInput } from '../workflows/schema.js';

export interface DemoHistoryResult {
  weeks: number;
  runs: number;
  approvals: number;
  events: number;
}

const REASONS = ['Not authorized', 'Wrong recipient list', "Duplicate of yesterday's call", 'Partner asked us to pause'];
const ERRORS = [
  'HTTP 502 from partner.example.com',
  'connect ETIMEDOUT 203.0.113.10:443',
  'template error: vars.title is undefined',
  'SMTP 451 try again later',
];

async function workflowId(tx: Queryable, tenantId: string, wf: WorkflowInput): Promise<string> {
  const existing = await getWorkflowByName(tx, tenantId, wf.name);
  if (existing) return existing.id;
  return (await applyWorkflow(tx, tenantId, workflowSchema.parse(wf), 'levqor:demo')).workflow.id;
}

/**
 * Scheduled runs of one workflow every `every` seconds over the history, with failures and
 * durations; for Class C workflows each run also has its approval request, decided at
 * various latencies (approved, rejected with a reason, or expired). One statement each.
 */
async function seedRuns(
  tx: Queryable,
  tenantId: string,
  wfId: string,
  from: number,
  to: number,
  every: number,
  opts: { failRate: number; dur: [number, number]; classC: boolean },
): Promise<{ runs: number; approvals: number }> {
  const { rows } = await tx.query<{ runs: number; approvals: number }>(
    `WITH slots AS (
       SELECT $3::float8 + i * $5::float8 AS slot, random() AS u, random() AS v, random() AS w
       FROM generate_series(0, floor(($4::float8 - $3::float8) / $5::float8)::int - 1) AS i
     ),
     planned AS (
       SELECT slot, u, v, w,
         CASE WHEN NOT $8 THEN (CASE WHEN u < $6 THEN 'failed' ELSE 'succeeded' END)
              WHEN v < 0.08 THEN 'rejected' WHEN v < 0.13 THEN 'expired'
              WHEN u < $6 THEN 'failed' ELSE 'succeeded' END AS status,
         -- Class C runs wait for a decision: 1 min to 9 h, long-tailed.
         CASE WHEN $8 THEN 60 + 32400 * power(w, 3) ELSE 0 END AS wait
       FROM slots
     ),
     runs AS (
       INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, error, step_index)
       SELECT $1, $2, status, 'schedule', slot, slot + 0.2 + 4 * w * w,
         slot + 0.2 + 4 * w * w + (CASE WHEN status = 'expired' THEN 86400 ELSE wait END) + $9 + ($10 - $9) * power(u, 2),
         CASE status WHEN 'failed' THEN ($11::text[])[1 + floor(w * array_length($11::text[], 1))::int]
                     WHEN 'rejected' THEN 'rejected by token:lead'
                     WHEN 'expired' THEN 'approval expired without a decision' END,
         0
       FROM planned
       ON CONFLICT (workflow_id, scheduled_for) DO NOTHING
       RETURNING id, status, started_at, scheduled_for
     ),
     approvals AS (
       INSERT INTO approval_queue (tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
         status, requested_by, requested_at, expires_at, processed_at, processed_by, reason, approvals_count, execution_started_at, execution_finished_at)
       SELECT $1, r.id, $2, 0, 'http', 'C', 'demo history: POST https://partner.example.com/hooks/levqor', '{}', 'demo',
         CASE WHEN r.status IN ('rejected', 'expired') THEN r.status ELSE 'approved' END, 'levqor:demo', r.started_at, r.started_at + 86400,
         r.started_at + CASE WHEN r.status = 'expired' THEN 86400 ELSE p.wait END,
         CASE r.status WHEN 'expired' THEN 'levqor:expiry' WHEN 'rejected' THEN 'token:lead' ELSE 'token:ops' END,
         CASE r.status WHEN 'rejected' THEN ($7::text[])[1 + floor(p.u * array_length($7::text[], 1))::int] END,
         CASE WHEN r.status IN ('succeeded', 'failed') THEN 1 ELSE 0 END,
         CASE WHEN r.status IN ('succeeded', 'failed') THEN r.started_at + p.wait END,
         CASE WHEN r.status IN ('succeeded', 'failed') THEN r.started_at + p.wait + 1 END
       FROM runs r JOIN planned p ON p.slot = r.scheduled_for
       WHERE $8
       RETURNING id
     )
     SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM approvals) AS approvals`,
    [tenantId, wfId, from, to, every, opts.failRate, REASONS, opts.classC, opts.dur[0], opts.dur[1], ERRORS],
  );
  return rows[0] ?? { runs: 0, approvals: 0 };
}

/** Engagement events of 40 users: most active most days, a few lapsing in the last weeks, newcomers joining later. */
async function seedEvents(tx: Queryable, tenantId: string, tenantName: string, from: number, to: number): Promise<number> {
  const res = await tx.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, properties, created_at)
     SELECT $1, 'user' || u || '@' || $2 || '.example', (ARRAY['login', 'dashboard.view', 'approvals.view', 'workflow.edit', 'activated'])[1 + ((e + u) % 5)],
       jsonb_build_object('source', 'demo'), d + 3600 * (8 + 10 * random())
     FROM generate_series(1, 40) AS u,
          LATERAL (SELECT $3::float8 + day * 86400 AS d FROM generate_series(0, floor(($4::float8 - $3::float8) / 86400)::int - 1) AS day) AS days,
          generate_series(0, 3) AS e
     WHERE random() < CASE
         WHEN u <= 6 AND d > $4 - 14 * 86400 THEN 0.0                 -- lapsed: silent for the last two weeks
         WHEN u > 32 AND d < $3 + (u - 32) * 7 * 86400 THEN 0.0       -- newcomers: one cohort a week
         WHEN u % 3 = 0 THEN 0.15 ELSE 0.45 END`,
    [tenantId, tenantName, from, to],
  );
  return res.rowCount;
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
    const { rows } = await tx.query('SELECT 1 FROM workflow_runs WHERE tenant_id = $1 AND started_at < $2 LIMIT 1', [
      tenant.id,
      opts.now - 86_400,
    ]);
    if (rows[0])
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
      const r = await seedRuns(tx, tenant.id, await workflowId(tx, tenant.id, wf), from, to, every, spec);
      total.runs += r.runs;
      total.approvals += r.approvals;
    }
    await tx.query(
      `INSERT INTO audit_log (tenant_id, actor, action, subject, detail, created_at)
       SELECT $1, 'run:demo', CASE WHEN i % 2 = 0 THEN 'workflow.pause' ELSE 'workflow.activate' END, 'workflow:notify-partner', '{"demo": true}', $2::float8 + i * 86400 * 3
       FROM generate_series(0, $3::int) AS i`,
      [tenant.id, from, Math.floor((opts.weeks * 7) / 3) - 1],
    );
    total.events = await seedEvents(tx, tenant.id, tenant.name, from, to);
    return total;
  });
}
