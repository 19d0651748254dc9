// The write floor of each system's unit, for bench/peers.ts: the rows a unit writes, written by
// Postgres alone (no worker process, no JSON, no round trip per batch): every write of all N units
// as one statement over rows generated on the server, in one transaction that is rolled back, so
// the database is as it was (apart from dead tuples, vacuumed after).
//
// This is the fastest each system's record of a unit can be written on this server: a system's
// measured rate can approach its floor but not pass it. Comparing floors separates what a unit
// records from how well a system writes it.
import { performance } from 'node:perf_hooks';
import { one, type Client } from '../lib/db.js';

/** A system's unit as statements over all n units. */
export interface FloorUnit {
  system: string;
  what: string;
  current?: boolean;
  /** Rows a unit writes (each write statement's rows summed, per unit). */
  tuples: number;
  /** Not timed: makes floor_src (the n units) and whatever else a definition needs. */
  setup: string[];
  writes: string[];
}

const RUN_SECONDARY_INDEXES = [
  'workflow_runs_workflow_idx',
  'workflow_runs_tenant_started_idx',
  'workflow_runs_started_idx',
  'workflow_runs_finished_idx',
  'workflow_runs_active_idx',
  'workflow_runs_active_by_workflow_idx',
];

/** Runs per claim row in the Levqor floor: the scheduler's default batch. */
const CLAIM_BATCH = 200;

/** A system's unit as statements: `setup` (not timed) then `writes`, each over all n units. */
export function floorUnits(n: number): FloorUnit[] {
  const now = 'extract(epoch FROM now())';
  const levqorSource = `CREATE TEMP TABLE floor_src ON COMMIT DROP AS
     SELECT gen_random_uuid() AS id, tenant_id, id AS workflow_id, next_run_at AS slot FROM workflows
     WHERE next_run_at IS NOT NULL ORDER BY next_run_at LIMIT ${n}`;
  const advance = `UPDATE workflows w SET next_run_at = w.next_run_at + 3600, last_run_at = w.next_run_at
     FROM floor_src s WHERE w.id = s.workflow_id`;
  const started = `jsonb_build_array(jsonb_build_object('type', 'run_started', 'step_index', NULL, 'created_at', ${now},
    'payload', jsonb_build_object('trigger', 'schedule', 'scheduled_for', slot, 'owner', 'floor')))`;
  const rest = `'[{"type":"step_started","step_index":0,"payload":{"type":"noop","impact_class":"A","attempt":1},"created_at":1},
    {"type":"step_finished","step_index":0,"payload":{"output":null},"created_at":1},
    {"type":"run_finished","step_index":null,"payload":{"status":"succeeded"},"created_at":1}]'::jsonb`;
  const TIMELINE_ALL = `${started} || ${rest}`;
  const runInsert = `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, timeline)
     SELECT id, tenant_id, workflow_id, 'running', 'schedule', slot, ${now}, 'floor', ${now} + 60, ${started} FROM floor_src`;
  const runFinish = `UPDATE workflow_runs r SET status = 'succeeded', step_index = 1, finished_at = ${now}, lease_owner = NULL, lease_expires_at = NULL,
       timeline = r.timeline || ${rest}
     FROM floor_src s WHERE r.id = s.id`;
  const runOnce = `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, step_index, timeline)
     SELECT id, tenant_id, workflow_id, 'succeeded', 'schedule', slot, ${now}, ${now}, 1, ${TIMELINE_ALL} FROM floor_src`;
  const claimInsert = `INSERT INTO scheduler_claims (id, owner, claimed_at, lease_expires_at, run_ids, tenant_ids, workflow_ids, slots)
     SELECT gen_random_uuid(), 'floor', ${now}, ${now} + 60, array_agg(id), array_agg(tenant_id), array_agg(workflow_id), array_agg(slot)
     FROM (SELECT *, (row_number() OVER () - 1) / ${CLAIM_BATCH} AS batch FROM floor_src) b GROUP BY batch`;
  const claimDelete = `DELETE FROM scheduler_claims WHERE owner = 'floor'`;
  return [
    {
      system: 'Levqor',
      what: 'a run as recorded before migration 0011: run inserted (running, leased) and finished, 4 events, schedule advanced',
      tuples: 7,
      setup: [levqorSource],
      writes: [
        `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at)
         SELECT id, tenant_id, workflow_id, 'running', 'schedule', slot, ${now}, 'floor', ${now} + 60 FROM floor_src`,
        advance,
        `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, payload, created_at)
         SELECT tenant_id, id, workflow_id, 'run_started', jsonb_build_object('trigger', 'schedule', 'scheduled_for', slot), ${now} FROM floor_src`,
        `UPDATE workflow_runs r SET status = 'succeeded', step_index = 1, finished_at = ${now}, lease_owner = NULL, lease_expires_at = NULL
         FROM floor_src s WHERE r.id = s.id`,
        `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
         SELECT s.tenant_id, s.id, s.workflow_id, e.type, e.step, e.payload::jsonb, ${now}
         FROM floor_src s, (VALUES (1, 'step_started', 0, '{"type":"noop","impact_class":"A","attempt":1}'),
                                   (2, 'step_finished', 0, '{"output":null}'),
                                   (3, 'run_finished', NULL, '{"status":"succeeded"}')) AS e(ord, type, step, payload)
         ORDER BY s.id, e.ord`,
      ],
    },
    {
      system: 'Levqor',
      what: 'a run as recorded from migration 0011 until migration 0019: run inserted (running, leased, run_started on its timeline), schedule advanced, run finished with its timeline appended',
      tuples: 3,
      setup: [levqorSource],
      writes: [runInsert, advance, runFinish],
    },
    {
      system: 'Levqor',
      what: `a run as recorded since migration 0019 (issue 28): one claim row per batch of ${CLAIM_BATCH} (inserted, then deleted by the settle), schedule advanced, run inserted once, already finished, with its timeline (what \`scheduler --once\` writes now)`,
      current: true,
      tuples: 2 + 2 / CLAIM_BATCH,
      setup: [levqorSource],
      writes: [claimInsert, advance, runOnce, claimDelete],
    },
    {
      system: 'Levqor',
      what: "the same without the run row's secondary indexes (workflow, tenant, started, finished, active ×2: none of them can go, see migration 0011)",
      tuples: 2 + 2 / CLAIM_BATCH,
      setup: [levqorSource, ...RUN_SECONDARY_INDEXES.map((i) => `DROP INDEX ${i}`)],
      writes: [claimInsert, advance, runOnce, claimDelete],
    },
    {
      system: 'graphile-worker',
      what: 'a job locked, then deleted (what its batched worker writes; the job was added beforehand)',
      tuples: 2,
      setup: [`CREATE TEMP TABLE floor_src ON COMMIT DROP AS SELECT id FROM graphile_worker._private_jobs ORDER BY id LIMIT ${n}`],
      writes: [
        `UPDATE graphile_worker._private_jobs j SET locked_at = now(), locked_by = 'floor', attempts = attempts + 1
         FROM floor_src s WHERE j.id = s.id`,
        'DELETE FROM graphile_worker._private_jobs j USING floor_src s WHERE j.id = s.id',
      ],
    },
    {
      system: 'pg-boss',
      what: 'a job fetched (state active), then completed (the job was inserted beforehand)',
      tuples: 2,
      setup: [
        `CREATE TEMP TABLE floor_src ON COMMIT DROP AS SELECT id FROM pgboss.job WHERE name = 'noop' AND state = 'created' LIMIT ${n}`,
      ],
      writes: [
        `UPDATE pgboss.job j SET state = 'active', started_on = now(), retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END
         FROM floor_src s WHERE j.name = 'noop' AND j.id = s.id`,
        `UPDATE pgboss.job j SET state = 'completed', completed_on = now(), output = NULL FROM floor_src s WHERE j.name = 'noop' AND j.id = s.id`,
      ],
    },
  ];
}

/**
 * Times one unit definition's writes on client `c` (connected to that system's database): setup,
 * then each write (timed from send to result), then ROLLBACK. Throws unless every write touched
 * exactly n rows per unit tuple it is meant to write.
 */
export async function timeFloor(c: Client, unit: FloorUnit, n: number): Promise<{ ms: number; statementsMs: number[] }> {
  await c.query('BEGIN');
  try {
    for (const sql of unit.setup) await c.query(sql);
    const { count } = await one<{ count: number }>(c, 'SELECT count(*)::int AS count FROM floor_src');
    if (count !== n) throw new Error(`${unit.system} floor: ${count} units to write, expected ${n} (was the database seeded?)`);
    const statementsMs: number[] = [];
    let tuples = 0;
    for (const sql of unit.writes) {
      const t0 = performance.now();
      const r = await c.query(sql);
      statementsMs.push(performance.now() - t0);
      tuples += r.rowCount ?? 0;
    }
    if (Math.abs(tuples - unit.tuples * n) > 1)
      throw new Error(`${unit.system} floor: ${tuples} rows written, expected ${unit.tuples * n}`);
    return { ms: statementsMs.reduce((a, x) => a + x, 0), statementsMs };
  } finally {
    await c.query('ROLLBACK');
  }
}
