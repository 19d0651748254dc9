import type { Queryable } from '../../../src/db/types.js';

// The exactly-once audit of scheduled slots: every slot of each workflow's grid up to a time
// must have exactly one run, and no run may be left running or queued.

/** Runs in flight (ids): written as running, or claimed in a batch and not written yet. */
export const RUNS_IN_FLIGHT = `SELECT id FROM workflow_runs WHERE status = 'running'
  UNION ALL SELECT p.id FROM scheduler_claims c, unnest(c.run_ids) AS p(id)
  WHERE NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = p.id)`;

/** A seeded workflow's grid: its first slot and the seconds between slots. */
export interface Grid {
  anchor: number;
  step: number;
}

export interface SlotAudit {
  workflows: number;
  /** Slots on the grids at or before `until`. */
  expected: number;
  runs: number;
  /** Runs beyond the first for one (workflow, slot). */
  duplicates: number;
  /** Grid slots at or before `until` with no run. */
  missed: number;
  /** Runs on no grid slot (a slot computed wrongly). */
  offGrid: number;
  /** Runs still running or queued, or claimed and not written. */
  stuck: number;
  byStatus: Record<string, number>;
  /** Most seconds between a slot at or after `since` and its run's start (catch-up slots are late by design). */
  maxLagSeconds: number;
}

/** The grids of workflows as stored now (call before any scheduler runs). */
export async function readGrids(db: Queryable, steps: Record<string, number>): Promise<Map<string, Grid>> {
  const { rows } = await db.query<{ id: string; next_run_at: number; name: string }>('SELECT id, name, next_run_at FROM workflows');
  const grids = new Map<string, Grid>();
  for (const r of rows) {
    const prefix = r.name.replace(/-\d+$/, '');
    const step = steps[prefix];
    if (step !== undefined) grids.set(r.id, { anchor: r.next_run_at, step });
  }
  return grids;
}

/** Counts duplicates, missed and off-grid slots of the given grids up to `until`, and stuck runs. */
export async function auditSlots(db: Queryable, grids: Map<string, Grid>, until: number, since = -Infinity): Promise<SlotAudit> {
  const { rows } = await db.query<{ workflow_id: string; scheduled_for: number; n: number; lag: number }>(
    `SELECT workflow_id, scheduled_for, count(*)::int AS n, max(started_at - scheduled_for)::float8 AS lag
     FROM workflow_runs WHERE trigger = 'schedule' GROUP BY 1, 2`,
  );
  const { rows: statuses } = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM workflow_runs GROUP BY 1',
  );
  const byStatus = Object.fromEntries(statuses.map((s) => [s.status, s.n]));
  // Runs of batch claims not settled nor recovered: in flight, so stuck once the schedulers are gone.
  const { rows: claimed } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM scheduler_claims c, unnest(c.run_ids) AS p(id)
     WHERE NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = p.id)`,
  );
  const seen = new Map<string, Set<number>>();
  const audit: SlotAudit = {
    workflows: grids.size,
    expected: 0,
    runs: 0,
    duplicates: 0,
    missed: 0,
    offGrid: 0,
    stuck: (byStatus.running ?? 0) + (byStatus.queued ?? 0) + (claimed[0]?.n ?? 0),
    byStatus,
    maxLagSeconds: 0,
  };
  for (const r of rows) {
    const grid = grids.get(r.workflow_id);
    if (!grid) continue;
    audit.runs += r.n;
    audit.duplicates += r.n - 1;
    if (r.scheduled_for >= since) audit.maxLagSeconds = Math.max(audit.maxLagSeconds, r.lag);
    const k = Math.round((r.scheduled_for - grid.anchor) / grid.step);
    // Interval slots are re-anchored on each stored next_run_at, so they may drift by float rounding.
    if (k < 0 || Math.abs(grid.anchor + k * grid.step - r.scheduled_for) > 1e-3) audit.offGrid++;
    else seen.set(r.workflow_id, (seen.get(r.workflow_id) ?? new Set()).add(k));
  }
  for (const [id, grid] of grids) {
    if (grid.anchor > until) continue;
    const last = Math.floor((until - grid.anchor) / grid.step + 1e-9);
    audit.expected += last + 1;
    const ran = seen.get(id) ?? new Set<number>();
    for (let k = 0; k <= last; k++) if (!ran.has(k)) audit.missed++;
  }
  audit.maxLagSeconds = Math.round(audit.maxLagSeconds * 100) / 100;
  return audit;
}
