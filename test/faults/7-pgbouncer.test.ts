import { afterAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { openDatabase } from '../../src/db/open.js';
import { MEMORY_DIR } from '../../src/db/pglite.js';
import { POLLING_WARNING } from '../../src/db/pooler.js';
import type { Db } from '../../src/db/types.js';
import { dbNow } from '../../src/workflows/queries.js';
import { startRecordingServer } from '../helpers/fixtures.js';
import { insertDueWorkflows, insertTenant, pollUntil, type ExitInfo } from '../helpers/proc.js';
import { callApi, startServe, type ServedApi } from '../helpers/server.js';
import { ALLOW, parkHttpRuns, type ParkedRun } from './helpers/approvals.js';
import { useFaultDb } from './helpers/fault-db.js';
import { manualRunSeconds } from './helpers/manual-run.js';
import { pgbouncerVersion, startPgBouncer, type Bouncer, type PoolMode } from './helpers/pgbouncer.js';
import { startReplica, startReplicas, stopReplicas, tickTotal, type Replica } from './helpers/replicas.js';
import { faultsRoot, recordFigures } from './helpers/results.js';
import { auditSlots, readGrids } from './helpers/slots.js';

// Experiment 7: Levqor through PgBouncer, in session and in transaction pooling mode, each on a
// fresh database migrated through the pooler. Scheduler replicas through it run every due slot
// exactly once; API callers on two serve processes racing to approve and reject the same
// requests decide each exactly once, and an approved step runs once. In transaction mode the
// replicas LISTEN on DATABASE_DIRECT_URL (a manual run starts within 1 s), and one more replica
// without it says once that it polls, and still takes its share of the slots.

const MODES: PoolMode[] = ['session', 'transaction'];
const REPLICAS = 4;
const WORKFLOWS = 200;
const STEP = 0.05 * 60;
const APPROVALS = 12;
const CALLERS = 10;
/** A manual run queued while every replica sleeps starts within this (NOTIFY, not the 30 s interval). */
const MANUAL_START_WITHIN_S = 1;

const fault = useFaultDb();
const bouncers: Bouncer[] = [];
afterAll(async () => {
  await Promise.all(bouncers.map((b) => b.stop()));
});

interface Race {
  /** Requests with other than exactly one vote and one decision in audit_log. */
  multiDecided: number;
  apiWins: number[];
  statuses: Map<number, number>;
  approved: number;
  rejected: number;
  executedOnce: number;
  secondExecutions: number;
  executedRejected: number;
  runsNotEnded: number;
}

/** Each parked request decided by CALLERS API callers at once (approve and reject) on two serve processes through the pooler. */
async function raceApprovals(db: Db, env: Record<string, string>, tenantId: string, mode: PoolMode): Promise<Race> {
  const target = await startRecordingServer();
  const servers: ServedApi[] = [];
  let executors: Replica[] = [];
  try {
    const tokens = await Promise.all(
      Array.from({ length: CALLERS }, async (_, i) => (await createToken(db, tenantId, `caller-${i}`, ['approvals:decide'])).token),
    );
    const parked = await parkHttpRuns(db, tenantId, { prefix: `race-${mode}`, count: APPROVALS, target: target.url });
    servers.push(...(await Promise.all([startServe(env), startServe(env)])));
    // Started after the runs parked here: a scheduler would claim a queued run before this process does.
    executors = await startReplicas(2, env, 30);
    const statuses = new Map<number, number>();
    const race = async (p: ParkedRun, n: number) =>
      Promise.all(
        tokens.map(async (token, i) => {
          const decision = (i + n) % 2 === 0 ? 'approve' : 'reject';
          const server = servers[i % servers.length] as ServedApi;
          const res = await callApi(server.baseUrl, 'POST', `/api/approvals/${p.approvalId}/${decision}`, {
            token,
            body: decision === 'reject' ? { reason: 'no' } : {},
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          return res.status;
        }),
      );
    const answers = await Promise.all(parked.map((p, n) => race(p, n)));
    const ids = parked.map((p) => p.approvalId);
    const { rows: decided } = await db.query<{ id: string; status: string; votes: number; decisions: number }>(
      `SELECT a.id, a.status,
              (SELECT count(*)::int FROM approval_votes v WHERE v.approval_id = a.id) AS votes,
              (SELECT count(*)::int FROM audit_log l WHERE l.subject = 'approval:' || a.id AND l.action IN ('approval.approved', 'approval.rejected')) AS decisions
       FROM approval_queue a WHERE a.id = ANY($1)`,
      [ids],
    );
    const byId = new Map(decided.map((d) => [d.id, d]));
    const runIds = parked.map((p) => p.runId);
    await pollUntil(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM workflow_runs WHERE id = ANY($1) AND status NOT IN ('succeeded', 'failed', 'rejected')`,
          [runIds],
        );
        return rows[0]?.n === 0;
      },
      { what: 'every decided run to end', attempts: 300, intervalMs: 100 },
    ).catch(() => undefined);
    const { rows: notEnded } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_runs WHERE id = ANY($1) AND status NOT IN ('succeeded', 'rejected')`,
      [runIds],
    );
    const hits = (p: ParkedRun) => target.requests.filter((r) => r.url === `/${p.label}`).length;
    const approved = parked.filter((p) => byId.get(p.approvalId)?.status === 'approved');
    return {
      multiDecided: decided.filter((d) => d.votes !== 1 || d.decisions !== 1).length + (APPROVALS - decided.length),
      apiWins: answers.map((a) => a.filter((s) => s === 200).length),
      statuses,
      approved: approved.length,
      rejected: decided.filter((d) => d.status === 'rejected').length,
      executedOnce: approved.filter((p) => hits(p) === 1).length,
      secondExecutions: parked.reduce((n, p) => n + Math.max(0, hits(p) - 1), 0),
      executedRejected: parked.filter((p) => byId.get(p.approvalId)?.status === 'rejected' && hits(p) > 0).length,
      runsNotEnded: notEnded[0]?.n ?? -1,
    };
  } finally {
    const exits = await Promise.all([...servers.map((s) => s.stop()), stopReplicas(executors)]);
    await target.close();
    expect(exits.flat()).toEqual(Array(servers.length + executors.length).fill({ code: 0, signal: null }));
  }
}

interface ModeResult {
  mode: PoolMode;
  slots: Awaited<ReturnType<typeof auditSlots>>;
  claimedBy: number[];
  claimed: number;
  manualStart: number;
  /** Polling warnings logged per replica (transaction mode: the last replica has no DATABASE_DIRECT_URL). */
  warnings: number[];
  exits: ExitInfo[];
  race: Race;
}

async function runMode(mode: PoolMode): Promise<ModeResult> {
  const { cluster } = fault();
  const bouncer = await startPgBouncer(faultsRoot(), cluster, mode);
  bouncers.push(bouncer);
  const name = `levqor_${mode}`;
  const directUrl = await cluster.createDatabase(name);
  const env: Record<string, string> = {
    DATABASE_URL: bouncer.url(name),
    LEVQOR_DB_POOLER: mode,
    LEVQOR_DB_POOL_MAX: '4',
    ...ALLOW,
    ...(mode === 'transaction' ? { DATABASE_DIRECT_URL: directUrl } : {}),
  };
  // The test's own connection goes through the pooler too, and migrates the fresh database there.
  const db: Db = await openDatabase({
    DATABASE_URL: bouncer.url(name),
    LEVQOR_DB_POOLER: mode,
    LEVQOR_DATA_DIR: MEMORY_DIR,
    LEVQOR_DB_POOL_MAX: 8,
    LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000,
  });
  const replicas: Replica[] = [];
  try {
    const tenantId = await insertTenant(db, mode);
    const now = await dbNow(db);
    await insertDueWorkflows(db, tenantId, {
      prefix: 'every-3s',
      count: WORKFLOWS,
      steps: [{ type: 'noop' }],
      schedule: { enabled: true, interval_minutes: 0.05, catch_up: 'all', overlap: 'allow' },
      dueAt: now - STEP,
      spreadSeconds: STEP,
    });
    const [manualId] = await insertDueWorkflows(db, tenantId, {
      prefix: 'manual',
      steps: [{ type: 'noop' }],
      schedule: { enabled: true, interval_minutes: 600 },
      dueAt: now + 36_000,
    });
    const grids = await readGrids(db, { 'every-3s': STEP });

    // A 30 s interval: due slots wake the loops by their own clock, a manual run only NOTIFY does.
    replicas.push(...(await startReplicas(REPLICAS, env, 30)));
    if (mode === 'transaction') {
      const { DATABASE_DIRECT_URL: _direct, ...polling } = env;
      replicas.push(await startReplica(polling, 30));
    }
    const started = await dbNow(db);
    const until = started + 3 * STEP;
    await pollUntil(
      async () => {
        const dead = replicas.find((r) => r.proc.exit !== undefined);
        if (dead) throw new Error(`a replica exited\n${dead.proc.tail()}\n${await bouncer.log()}`);
        const { rows } = await db.query<{ behind: number; now: number }>(
          `SELECT count(*)::int AS behind, extract(epoch FROM now())::float8 AS now FROM workflows WHERE next_run_at <= $1 AND name LIKE 'every-3s-%'`,
          [until],
        );
        return rows[0] && rows[0].now > until && rows[0].behind === 0;
      },
      { what: `every slot up to ${until} claimed through ${mode}-mode pgbouncer`, attempts: 300, intervalMs: 200 },
    );

    // With the scheduled workflows paused and nothing in flight, only NOTIFY wakes a loop for a manual run.
    await db.query(`UPDATE workflows SET is_active = false WHERE tenant_id = $1 AND name LIKE 'every-3s-%'`, [tenantId]);
    await pollUntil(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM workflow_runs WHERE status IN ('queued', 'running')`,
        );
        return rows[0]?.n === 0;
      },
      { what: 'the runs in flight to end', attempts: 200, intervalMs: 100 },
    );
    const manualStart = await manualRunSeconds(db, tenantId, manualId as string, `the manual run through ${mode}-mode pgbouncer`);
    const exits = await stopReplicas(replicas);
    const slots = await auditSlots(db, grids, until, started);
    const result = {
      mode,
      slots,
      claimedBy: replicas.map((r) => r.proc.logs.filter((l) => l.msg === 'tick').reduce((n, l) => n + (l.claimed as number), 0)),
      claimed: tickTotal(replicas, 'claimed'),
      manualStart,
      warnings: replicas.map((r) => r.proc.logs.filter((l) => l.msg === POLLING_WARNING).length),
      exits,
    };
    replicas.length = 0;
    return { ...result, race: await raceApprovals(db, env, tenantId, mode) };
  } finally {
    await stopReplicas(replicas);
    await db.close();
    await bouncer.stop();
  }
}

describe('behind PgBouncer', () => {
  it(`session and transaction pooling: ${REPLICAS} replicas run each slot once, ${APPROVALS} requests × ${CALLERS} callers decided once each`, async () => {
    const version = await pgbouncerVersion();
    const results: ModeResult[] = [];
    for (const mode of MODES) results.push(await runMode(mode));
    await recordFigures('7-pgbouncer', {
      title: `7. Through PgBouncer (session and transaction pooling): ${REPLICAS} scheduler replicas over ${WORKFLOWS} workflows every 3 s, ${APPROVALS} approvals × ${CALLERS} API callers`,
      rows: results.flatMap((r): [string, string | number][] => [
        [`${r.mode}: due slots (incl. catch-up) / runs`, `${r.slots.expected} / ${r.slots.runs}`],
        [`**${r.mode}: duplicates / missed slots**`, `${r.slots.duplicates} / ${r.slots.missed}`],
        [`${r.mode}: runs claimed per replica`, r.claimedBy.join(' / ')],
        [`${r.mode}: manual run queued → done (s), loop interval 30 s`, r.manualStart],
        [
          `${r.mode}: API answers`,
          [...r.race.statuses.entries()]
            .sort()
            .map(([s, n]) => `${s}: ${n}`)
            .join(', '),
        ],
        [`**${r.mode}: requests with other than exactly 1 decision**`, r.race.multiDecided],
        [`${r.mode}: approved / rejected; approved steps executed once`, `${r.race.approved} / ${r.race.rejected}; ${r.race.executedOnce}`],
        [`**${r.mode}: second executions**`, r.race.secondExecutions],
      ]),
      notes: [
        `${version}, started by the test (own port, auth_type trust) in front of the experiment's cluster; each mode on a fresh database migrated through the pooler.`,
        'Transaction mode: LEVQOR_DB_POOLER=transaction with DATABASE_DIRECT_URL (LISTEN direct), plus one replica without it, which logs once that it polls and still claims slots.',
      ],
    });
    for (const r of results) {
      r.exits.forEach((e) => expect(e, r.mode).toEqual({ code: 0, signal: null }));
      expect(r.slots, r.mode).toMatchObject({ duplicates: 0, missed: 0, offGrid: 0, stuck: 0 });
      expect(r.claimed, r.mode).toBe(r.slots.runs + 1); // and the manual run
      expect(r.claimedBy.filter((n) => n > 0).length, r.mode).toBeGreaterThan(1);
      expect(r.manualStart, `${r.mode}: manual run start (s)`).toBeLessThanOrEqual(MANUAL_START_WITHIN_S);
      expect(r.race, r.mode).toMatchObject({ multiDecided: 0, secondExecutions: 0, executedRejected: 0, runsNotEnded: 0 });
      expect(r.race.executedOnce, r.mode).toBe(r.race.approved);
      expect(r.race.apiWins, r.mode).toEqual(Array(APPROVALS).fill(1));
      expect([...r.race.statuses.keys()].sort(), r.mode).toEqual([200, 409]);
    }
    // Only the replica without DATABASE_DIRECT_URL behind the transaction pooler warns, once; it still claims slots.
    expect(results[1]?.claimedBy.at(-1)).toBeGreaterThan(0);
    expect(results.map((r) => r.warnings)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0, 1],
    ]);
  });
});
