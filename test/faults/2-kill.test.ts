import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../src/approvals/service.js';
import { dbNow } from '../../src/workflows/queries.js';
import { insertDueWorkflows, insertTenant, pollUntil } from '../helpers/proc.js';
import { ALLOW, parkHttpRuns } from './helpers/approvals.js';
import { startCounter } from './helpers/counter.js';
import { useFaultDb } from './helpers/fault-db.js';
import { startReplica, startReplicas, stopReplicas, type Replica } from './helpers/replicas.js';
import { recordFigures } from './helpers/results.js';

// Experiment 2: kill -9 of random scheduler replicas while runs are in flight: delay steps,
// and approved http steps held open by a loopback counter. Every run a dead replica owned is
// recovered within its lease plus one sweep; no approved http step reaches the counter twice.

const LEASE_SECONDS = 3;
const INTERVAL_SECONDS = 1;
/** The longest step the replicas execute (the 4 s delay workflows below). */
const LONGEST_STEP_SECONDS = 4;
/**
 * Lease recovery runs on each loop's own timer (every 0.5 s), concurrent with its ticks: a dead
 * replica's runs are recovered within 1 s of their lease running out, even while every live
 * replica executes a batch of 4 s delays.
 */
const SWEEP_SECONDS = 1;
const REPLICAS = 4;
const KILL_ROUNDS = [2, 1, 1];

const fault = useFaultDb();

interface KilledRun {
  runId: string;
  owner: string;
  killedAt: number;
  leaseExpiresAt: number;
}

describe('kill -9 of scheduler replicas mid-run', () => {
  it('recovers every run of a killed replica within lease + 1 s, and never repeats an approved http step', async () => {
    const { db, url } = fault();
    const env = {
      DATABASE_URL: url,
      ...ALLOW,
      LEVQOR_RUN_LEASE_SECONDS: String(LEASE_SECONDS),
      LEVQOR_DB_POOL_MAX: '4',
      LEVQOR_SCHEDULER_BATCH_SIZE: '4',
    };
    const counter = await startCounter({ hold: true });
    try {
      const tenantId = await insertTenant(db, 'kill');
      const parked = await parkHttpRuns(db, tenantId, {
        prefix: 'once',
        count: 16,
        target: counter.url,
        after: [{ type: 'delay', ms: 2_000 }],
        maxRunAttempts: 2,
      });
      for (const p of parked) await decideApproval(db, { id: p.approvalId, decision: 'approve', actor: 'cli:approver', channel: 'cli' });
      await insertDueWorkflows(db, tenantId, {
        prefix: 'sleepy-retry',
        count: 20,
        steps: [{ type: 'delay', ms: LONGEST_STEP_SECONDS * 1000 }],
        maxRunAttempts: 2,
      });
      await insertDueWorkflows(db, tenantId, {
        prefix: 'sleepy-once',
        count: 20,
        steps: [{ type: 'delay', ms: LONGEST_STEP_SECONDS * 1000 }],
        maxRunAttempts: 1,
      });

      const live: Replica[] = await startReplicas(REPLICAS, env, INTERVAL_SECONDS);
      const killed: KilledRun[] = [];
      const deadOwners = new Set<string>();
      for (const [round, kills] of KILL_ROUNDS.entries()) {
        // Wait until `kills` live replicas own running runs (in the first round: http steps held open too).
        const owners = await pollUntil(
          async () => {
            const { rows } = await db.query<{ owner: string }>(
              `SELECT DISTINCT lease_owner AS owner FROM workflow_runs WHERE status = 'running'`,
            );
            const busy = live.filter((r) => rows.some((row) => row.owner === r.owner));
            const ready = busy.length >= kills && (round > 0 || counter.held() >= 8);
            return ready ? busy : undefined;
          },
          { what: `round ${round + 1}: ${kills} replicas with runs in flight`, attempts: 300, intervalMs: 100 },
        );
        const victims = owners.sort(() => Math.random() - 0.5).slice(0, kills);
        for (const v of victims) v.proc.signal('SIGKILL');
        for (const v of victims) expect((await v.proc.waitForExit()).signal).toBe('SIGKILL');
        const killedAt = await dbNow(db);
        const { rows } = await db.query<{ id: string; owner: string; lease_expires_at: number }>(
          `SELECT id, lease_owner AS owner, lease_expires_at FROM workflow_runs WHERE status = 'running' AND lease_owner = ANY($1)`,
          [victims.map((v) => v.owner)],
        );
        killed.push(...rows.map((r) => ({ runId: r.id, owner: r.owner, killedAt, leaseExpiresAt: r.lease_expires_at })));
        for (const v of victims) {
          deadOwners.add(v.owner);
          live.splice(live.indexOf(v), 1);
        }
        // A supervisor starts replacements; the held http calls of the survivors may now finish.
        live.push(...(await Promise.all(victims.map(() => startReplica(env, INTERVAL_SECONDS)))));
        if (round === 0) counter.release();
      }
      await pollUntil(
        async () => {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM workflow_runs WHERE status IN ('running', 'queued')`,
          );
          return rows[0]?.n === 0;
        },
        { what: 'every run to end', attempts: 600, intervalMs: 100 },
      );
      const exits = await stopReplicas(live);

      const { rows: recoveries } = await db.query<{ run_id: string; at: number }>(
        `SELECT run_id, min(created_at)::float8 AS at FROM workflow_events
         WHERE run_id = ANY($1) AND type IN ('run_requeued', 'run_finished') AND payload ->> 'error' LIKE '%lease expired%' GROUP BY 1`,
        [killed.map((k) => k.runId)],
      );
      const recoveredAt = new Map(recoveries.map((r) => [r.run_id, r.at]));
      const recovery = killed.map((k) => (recoveredAt.get(k.runId) ?? Infinity) - k.killedAt);
      const late = killed.map((k) => (recoveredAt.get(k.runId) ?? Infinity) - k.leaseExpiresAt);
      const hits = parked.map((p) => counter.hits.get(`/${p.label}`) ?? 0);
      const { rows: statuses } = await db.query<{ kind: string; status: string; n: number }>(
        `SELECT CASE WHEN w.name LIKE 'once-%' THEN 'http' ELSE 'delay' END AS kind, r.status, count(*)::int AS n
         FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const { rows: running } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'running' OR lease_owner = ANY($1)`,
        [[...deadOwners]],
      );
      const max = (xs: number[]) => Math.round(Math.max(0, ...xs) * 100) / 100;
      const secondExecutions = hits.reduce((n, h) => n + Math.max(0, h - 1), 0);
      await recordFigures('2-kill', {
        title: `2. kill -9 of scheduler replicas mid-run (${REPLICAS} replicas, lease ${LEASE_SECONDS} s, loop interval ${INTERVAL_SECONDS} s)`,
        rows: [
          ['replicas killed (kill -9) / started as replacements', `${deadOwners.size} / ${deadOwners.size}`],
          ['runs in flight in the killed replicas', killed.length],
          ['runs recovered after their lease ran out', recoveries.length],
          ['recovery time, kill → recovered: max (s)', max(recovery)],
          ['recovery time, median (s)', Math.round((recovery.sort((a, b) => a - b)[Math.floor(recovery.length / 2)] ?? 0) * 100) / 100],
          [
            `lease expiry → recovered: max (s), against ${SWEEP_SECONDS} s (recovery on its own timer, while replicas run ${LONGEST_STEP_SECONDS} s steps)`,
            max(late),
          ],
          ['approved http steps executed (counter hits ≥ 1)', hits.filter((h) => h > 0).length + ' of ' + parked.length],
          ['**second executions of an approved http step**', secondExecutions],
          ['**runs left running (or held by a dead replica)**', running[0]?.n ?? -1],
          ['final statuses', statuses.map((s) => `${s.kind} ${s.status}: ${s.n}`).join(', ')],
        ],
        notes: [
          'An http step whose process died mid-call is not repeated: its run fails with "outcome unknown" (the approval records the execution start).',
        ],
      });
      exits.forEach((e, i) => expect(e, live[i]?.proc.tail()).toEqual({ code: 0, signal: null }));
      expect(killed.length).toBeGreaterThan(0);
      expect(recoveries).toHaveLength(killed.length);
      expect(secondExecutions).toBe(0);
      expect(running[0]?.n).toBe(0);
      expect(max(late)).toBeLessThanOrEqual(SWEEP_SECONDS);
      expect(max(recovery)).toBeLessThanOrEqual(LEASE_SECONDS + SWEEP_SECONDS);
    } finally {
      await counter.close();
    }
  });
});
