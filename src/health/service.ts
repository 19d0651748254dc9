import type { Db } from '../db/types.js';
import { readRequestLoad } from './requests.js';
import { decideScaling, type ScalingConfig, type ScalingDecision, type ScalingInputs, type ScalingState } from './scaling.js';

export interface ScalingReport extends ScalingDecision {
  inputs: ScalingInputs;
  decided_at: string;
}

/**
 * Measures load across all replicas (request buckets and queues in Postgres) and decides
 * under the shared, locked scaling state, so every replica answers the same.
 */
export async function evaluateScaling(db: Db, cfg: ScalingConfig): Promise<ScalingReport> {
  const load = await readRequestLoad(db);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ now: number; queue: number; level: ScalingState['level'] | null; changed_at: number | null }>(
      `SELECT extract(epoch FROM now())::float8 AS now,
         (SELECT count(*)::int FROM approval_queue WHERE status = 'pending')
           + (SELECT count(*)::int FROM workflows WHERE is_active AND (schedule_config ->> 'enabled') = 'true'
                AND next_run_at <= extract(epoch FROM now()))
           + (SELECT count(*)::int FROM workflow_runs WHERE status = 'queued') AS queue,
         s.level, s.changed_at
       FROM (SELECT 1) one LEFT JOIN (SELECT level, changed_at FROM scaling_state WHERE id = 1 FOR UPDATE) s ON true`,
    );
    const r = rows[0]!;
    const inputs: ScalingInputs = {
      requestsPerMinute: load.requestsPerMinute,
      p95Ms: load.p95Ms,
      queueDepth: r.queue,
      currentReplicas: load.replicas,
    };
    const previous = r.level && r.changed_at !== null ? { level: r.level, changedAt: r.changed_at } : null;
    const decision = decideScaling(inputs, previous, r.now, cfg);
    await tx.query(
      `INSERT INTO scaling_state (id, level, changed_at, decided_at, decision) VALUES (1, $1, $2, $3, $4::jsonb)
       ON CONFLICT (id) DO UPDATE SET level = excluded.level, changed_at = excluded.changed_at,
         decided_at = excluded.decided_at, decision = excluded.decision`,
      [
        decision.state.level,
        decision.state.changedAt,
        r.now,
        JSON.stringify({ action: decision.action, reasons: decision.reasons, inputs }),
      ],
    );
    return { ...decision, inputs, decided_at: new Date(r.now * 1000).toISOString() };
  });
}

/** Runs per minute over the last `minutes` minutes, oldest first, zeros included. */
export async function runsPerMinute(db: Db, minutes = 30): Promise<{ minute: number; runs: number; failed: number }[]> {
  const { rows } = await db.query<{ minute: number; runs: number; failed: number }>(
    `WITH m AS (SELECT floor(extract(epoch FROM now()) / 60)::bigint AS current)
     SELECT g.minute * 60 AS minute, coalesce(c.runs, 0)::int AS runs, coalesce(c.failed, 0)::int AS failed
     FROM m, generate_series(m.current - $1 + 1, m.current) AS g(minute)
     LEFT JOIN (
       SELECT floor(started_at / 60)::bigint AS minute, count(*) AS runs, count(*) FILTER (WHERE status = 'failed') AS failed
       FROM workflow_runs, m WHERE started_at >= (m.current - $1 + 1) * 60 GROUP BY 1
     ) c ON c.minute = g.minute
     ORDER BY g.minute`,
    [minutes],
  );
  return rows;
}
