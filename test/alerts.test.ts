import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgDb } from '../src/db/pg.js';
import type { Db, Queryable } from '../src/db/types.js';
import { alertConditions, reconcileAlerts, type ActiveCondition } from '../src/health/alerts.js';
import { ALERTS_CHANNEL, recentAlerts, type AlertKind } from '../src/health/queries.js';
import type { HealthSummary } from '../src/health/summary.js';
import { evaluateAlerts, runHealthTasks, type HealthTaskDeps } from '../src/health/tasks.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';

// Alerts fire once and resolve once, however many replicas evaluate at the same moment;
// each change is NOTIFYed on levqor_alerts for the dashboard and the Slack app.

const T = { pendingApprovalsHigh: 50, minRunsForRate: 20 };

/** A healthy summary with `over` applied: the crafted input of the pure alert conditions. */
function summary(
  over: { scheduler?: HealthSummary['scheduler']; pending?: number; hour?: { failed: number; total: number } } = {},
): HealthSummary {
  const hour = over.hour ?? { failed: 0, total: 100 };
  const rate = hour.total === 0 ? null : hour.failed / hour.total;
  return {
    status: 'ok',
    reasons: [],
    checked_at: new Date(0).toISOString(),
    uptime: { process_seconds: 1, deployment_seconds: 1 },
    database: { ok: true, latency_ms: 1 },
    queues: { pending_approvals: over.pending ?? 0, due_unclaimed_workflows: 0, queued_runs: 0, running_runs: 0, waiting_approval_runs: 0 },
    error_rates: [
      { window: '1h', ...hour, rate, target: 0.05, ok: true },
      { window: '24h', failed: 0, total: 100, rate: 0, target: 0.05, ok: true },
    ],
    scheduler: over.scheduler === undefined ? { last_tick_at: 1000, age_seconds: 5, stale: false, instances: [] } : over.scheduler,
  };
}

describe('alertConditions (pure)', () => {
  it.each([
    { name: 'all healthy', s: summary(), kinds: [] },
    {
      name: 'scheduler never ticked',
      s: summary({ scheduler: { last_tick_at: null, age_seconds: null, stale: true, instances: [] } }),
      kinds: ['scheduler_stale'],
      message: 'no scheduler has ever ticked',
    },
    {
      name: 'scheduler stale',
      s: summary({ scheduler: { last_tick_at: 1000, age_seconds: 400.4, stale: true, instances: [] } }),
      kinds: ['scheduler_stale'],
      message: 'no scheduler tick for 400 s',
    },
    {
      name: 'database down (no scheduler facts)',
      s: { ...summary(), status: 'down', scheduler: null, queues: null, error_rates: null },
      kinds: [],
    },
    { name: 'pending at the threshold', s: summary({ pending: 50 }), kinds: [] },
    {
      name: 'pending over the threshold',
      s: summary({ pending: 51 }),
      kinds: ['approval_queue_depth'],
      message: '51 approvals pending (threshold 50)',
    },
    { name: 'failure rate exactly 5 %', s: summary({ hour: { failed: 2, total: 40 } }), kinds: [] },
    {
      name: 'failure rate 7.5 %',
      s: summary({ hour: { failed: 3, total: 40 } }),
      kinds: ['failure_rate'],
      message: 'workflow failure rate 7.5 % over the last hour (3 of 40), above 5 %',
    },
    { name: 'high rate on too few runs', s: summary({ hour: { failed: 10, total: 19 } }), kinds: [] },
    {
      name: 'high rate at minRunsForRate',
      s: summary({ hour: { failed: 10, total: 20 } }),
      kinds: ['failure_rate'],
      message: 'workflow failure rate 50.0 % over the last hour (10 of 20), above 5 %',
    },
    { name: 'no runs', s: summary({ hour: { failed: 0, total: 0 } }), kinds: [] },
    {
      name: 'everything at once',
      s: summary({
        scheduler: { last_tick_at: 1, age_seconds: 999, stale: true, instances: [] },
        pending: 400,
        hour: { failed: 30, total: 60 },
      }),
      kinds: ['scheduler_stale', 'approval_queue_depth', 'failure_rate'],
    },
  ] as { name: string; s: HealthSummary; kinds: AlertKind[]; message?: string }[])('$name → [$kinds]', ({ s, kinds, message }) => {
    const conditions = alertConditions(s, T);
    expect(conditions.map((c) => c.kind)).toEqual(kinds);
    if (message !== undefined) expect(conditions[0]?.message).toBe(message);
  });

  it('carries the numbers in detail', () => {
    expect(alertConditions(summary({ pending: 60, hour: { failed: 5, total: 40 } }), T)).toEqual([
      { kind: 'approval_queue_depth', message: '60 approvals pending (threshold 50)', detail: { pending: 60, threshold: 50 } },
      { kind: 'failure_rate', message: expect.stringContaining('12.5 %') as string, detail: { rate: 0.125, failed: 5, total: 40 } },
    ]);
  });
});

const condition = (kind: AlertKind, message = `${kind} now`): ActiveCondition => ({ kind, message, detail: { n: 1 } });
const ALL: ActiveCondition[] = [condition('scheduler_stale'), condition('approval_queue_depth'), condition('failure_rate')];

interface Row {
  id: string;
  kind: AlertKind;
  status: string;
  resolved_at: number | null;
  fired_at: number;
}
const rowsOf = async (db: Queryable, kind?: AlertKind) =>
  (
    await db.query<Row>(
      `SELECT id::text AS id, kind, status, resolved_at, fired_at FROM alerts ${kind ? 'WHERE kind = $1' : ''} ORDER BY alerts.id`,
      kind ? [kind] : [],
    )
  ).rows;

/** Resolves with the first `n` NOTIFY payloads on levqor_alerts. */
async function collectNotifications(
  db: Db,
  n: number,
): Promise<{ received: Promise<{ id: string; kind: string; status: string }[]>; stop: () => Promise<void> }> {
  const got: { id: string; kind: string; status: string }[] = [];
  let done: (v: typeof got) => void = () => undefined;
  const received = new Promise<typeof got>((resolve) => (done = resolve));
  const stop = await db.listen(ALERTS_CHANNEL, (payload) => {
    got.push(JSON.parse(payload) as (typeof got)[number]);
    if (got.length === n) done(got);
  });
  return { received, stop };
}

describe('reconcileAlerts (Postgres, two pools)', () => {
  let t: TestDb;
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    t = await openPgTestDb();
    a = createPgDb({ connectionString: t.url!, poolMax: 4 });
    b = createPgDb({ connectionString: t.url!, poolMax: 4 });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await t.close();
  });
  beforeEach(async () => {
    await t.db.exec('TRUNCATE alerts');
  });

  it('two concurrent evaluations fire each condition exactly once', async () => {
    const [ra, rb] = await Promise.all([reconcileAlerts(a, ALL), reconcileAlerts(b, ALL)]);
    const fired = [...ra.fired, ...rb.fired];
    expect(fired.map((f) => f.kind).sort()).toEqual(['approval_queue_depth', 'failure_rate', 'scheduler_stale']);
    expect([...ra.resolved, ...rb.resolved]).toEqual([]);
    const rows = await rowsOf(t.db);
    expect(rows.map((r) => [r.kind, r.status]).sort()).toEqual([
      ['approval_queue_depth', 'firing'],
      ['failure_rate', 'firing'],
      ['scheduler_stale', 'firing'],
    ]);
    expect(fired.map((f) => f.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(fired.find((f) => f.kind === 'failure_rate')).toMatchObject({
      status: 'firing',
      message: 'failure_rate now',
      detail: { n: 1 },
      resolved_at: null,
      fired_at: expect.any(Number) as number,
    });
  });

  it('20 rounds of concurrent fire and clear: each round fires 3 and resolves 3, never more', async () => {
    for (let round = 0; round < 20; round++) {
      const fired = (await Promise.all([reconcileAlerts(a, ALL), reconcileAlerts(b, ALL)])).flatMap((r) => r.fired);
      expect(fired.map((f) => f.kind).sort()).toEqual(['approval_queue_depth', 'failure_rate', 'scheduler_stale']);
      const resolved = (await Promise.all([reconcileAlerts(a, []), reconcileAlerts(b, [])])).flatMap((r) => r.resolved);
      expect(resolved.map((f) => f.id).sort()).toEqual(fired.map((f) => f.id).sort());
    }
    const { rows } = await t.db.query<{ kind: string; status: string; n: number }>(
      'SELECT kind, status, count(*)::int AS n FROM alerts GROUP BY 1, 2 ORDER BY 1, 2',
    );
    expect(rows).toEqual([
      { kind: 'approval_queue_depth', status: 'resolved', n: 20 },
      { kind: 'failure_rate', status: 'resolved', n: 20 },
      { kind: 'scheduler_stale', status: 'resolved', n: 20 },
    ]);
  });

  it('fires once, stays quiet while active, resolves once when cleared, and fires a new alert when it returns', async () => {
    const stale = [condition('scheduler_stale', 'no scheduler tick for 200 s')];
    const first = await Promise.all([reconcileAlerts(a, stale), reconcileAlerts(b, stale)]);
    expect(first.flatMap((r) => r.fired)).toHaveLength(1);

    // Still active, on either replica, even with a new message: nothing new.
    for (const db of [a, b, a])
      expect(await reconcileAlerts(db, [condition('scheduler_stale', 'no scheduler tick for 260 s')])).toEqual({ fired: [], resolved: [] });
    expect(await rowsOf(t.db)).toHaveLength(1);

    // Cleared: two replicas at once resolve it once.
    const cleared = await Promise.all([reconcileAlerts(a, []), reconcileAlerts(b, [])]);
    const resolved = cleared.flatMap((r) => r.resolved);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ kind: 'scheduler_stale', status: 'resolved', resolved_at: expect.any(Number) as number });
    const [row] = await rowsOf(t.db);
    expect(row).toMatchObject({ status: 'resolved', id: first.flatMap((r) => r.fired)[0]!.id });
    expect(row!.resolved_at).toBeGreaterThanOrEqual(row!.fired_at);
    expect(await reconcileAlerts(a, [])).toEqual({ fired: [], resolved: [] });

    // It comes back: a new alert, the old one stays resolved.
    const again = await Promise.all([reconcileAlerts(a, stale), reconcileAlerts(b, stale)]);
    const refired = again.flatMap((r) => r.fired);
    expect(refired).toHaveLength(1);
    const rows = await rowsOf(t.db, 'scheduler_stale');
    expect(rows.map((r) => r.status)).toEqual(['resolved', 'firing']);
    expect(refired[0]!.id).toBe(rows[1]!.id);
  });

  it('resolves only the cleared kinds', async () => {
    await reconcileAlerts(a, ALL);
    const r = await reconcileAlerts(b, [condition('failure_rate')]);
    expect(r.fired).toEqual([]);
    expect(r.resolved.map((x) => x.kind).sort()).toEqual(['approval_queue_depth', 'scheduler_stale']);
    expect((await rowsOf(t.db)).filter((x) => x.status === 'firing').map((x) => x.kind)).toEqual(['failure_rate']);
    expect((await recentAlerts(t.db)).map((x) => [x.kind, x.status]).sort()).toEqual([
      ['approval_queue_depth', 'resolved'],
      ['failure_rate', 'firing'],
      ['scheduler_stale', 'resolved'],
    ]);
  });

  it('a LISTEN on levqor_alerts receives a NOTIFY for each firing and each resolution', async () => {
    const fire = await collectNotifications(t.db, 2);
    try {
      const { fired } = await reconcileAlerts(a, [condition('approval_queue_depth'), condition('failure_rate')]);
      const got = await fire.received;
      expect(got.sort((x, y) => x.kind.localeCompare(y.kind))).toEqual(
        fired.map((f) => ({ id: f.id, kind: f.kind, status: 'firing' })).sort((x, y) => x.kind.localeCompare(y.kind)),
      );
    } finally {
      await fire.stop();
    }
    const clear = await collectNotifications(t.db, 1);
    try {
      const { resolved } = await reconcileAlerts(b, [condition('failure_rate')]);
      expect(await clear.received).toEqual([{ id: resolved[0]!.id, kind: 'approval_queue_depth', status: 'resolved' }]);
    } finally {
      await clear.stop();
    }
  });
});

describe('evaluateAlerts (end to end, Postgres)', () => {
  let t: TestDb;
  let lines: { level: number; msg: string; alert?: string }[];
  let deps: HealthTaskDeps;
  beforeAll(async () => {
    t = await openPgTestDb();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.db.exec('TRUNCATE alerts, scheduler_instances, tenants CASCADE');
    lines = [];
    deps = {
      db: t.db,
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) }),
      thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50, minRunsForRate: 20 },
      retention: { runsDays: 90, eventsDays: 90, approvalsDays: 30, batchSize: 5000, statementTimeoutMs: 5000 },
      processStartedAt: Date.now() / 1000,
    };
  });

  const tick = (agoSeconds: number) =>
    t.db.query(
      `INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at) VALUES ('s1', 'h', 1, extract(epoch FROM now()) - 7200, extract(epoch FROM now()) - $1)
       ON CONFLICT (id) DO UPDATE SET last_tick_at = excluded.last_tick_at`,
      [agoSeconds],
    );

  it('a stale scheduler fires scheduler_stale once (logged as a warning, NOTIFYed), a fresh tick resolves it', async () => {
    await tick(1000);
    const notes = await collectNotifications(t.db, 2);
    try {
      await evaluateAlerts(deps);
      await evaluateAlerts(deps);
      expect((await rowsOf(t.db)).map((r) => [r.kind, r.status])).toEqual([['scheduler_stale', 'firing']]);
      const warn = lines.filter((l) => l.level === 40);
      expect(warn).toHaveLength(1);
      expect(warn[0]).toMatchObject({ alert: 'scheduler_stale' });
      expect(warn[0]!.msg).toMatch(/^alert firing: no scheduler tick for 1\d{3} s$/);

      await tick(1);
      await evaluateAlerts(deps);
      await evaluateAlerts(deps);
      expect((await rowsOf(t.db)).map((r) => [r.kind, r.status])).toEqual([['scheduler_stale', 'resolved']]);
      expect(lines.filter((l) => l.msg.startsWith('alert resolved:'))).toHaveLength(1);
      expect((await notes.received).map((n) => [n.kind, n.status])).toEqual([
        ['scheduler_stale', 'firing'],
        ['scheduler_stale', 'resolved'],
      ]);
    } finally {
      await notes.stop();
    }
  });

  it('a failure rate over 5 % in the last hour fires failure_rate', async () => {
    await tick(1);
    const { rows } = await t.db.query<{ id: string }>("INSERT INTO tenants (name) VALUES ('alerting') RETURNING id");
    const tenant = rows[0]!.id;
    const wf = await t.db.query<{ id: string }>("INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'w', '[]') RETURNING id", [
      tenant,
    ]);
    await t.db.query(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at, finished_at)
       SELECT $1, $2, CASE WHEN i <= 5 THEN 'failed' ELSE 'succeeded' END, 'manual', extract(epoch FROM now()) - 120, extract(epoch FROM now()) - 60
       FROM generate_series(1, 40) AS i`,
      [tenant, wf.rows[0]!.id],
    );
    await evaluateAlerts(deps);
    const alerts = await recentAlerts(t.db);
    expect(alerts.map((x) => [x.kind, x.status])).toEqual([['failure_rate', 'firing']]);
    expect(alerts[0]!.message).toBe('workflow failure rate 12.5 % over the last hour (5 of 40), above 5 %');
  });

  /** A logger that records messages and resolves `until(msg)` when a message starting with msg is logged. */
  function recordingLog() {
    const seen: { level: number; msg: string; err?: string }[] = [];
    const waiters: { prefix: string; resolve: () => void }[] = [];
    const log = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as (typeof seen)[number];
          seen.push(entry);
          for (const w of waiters.filter((x) => entry.msg.startsWith(x.prefix))) w.resolve();
        },
      },
    );
    const until = (prefix: string) =>
      seen.some((l) => l.msg.startsWith(prefix)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ prefix, resolve }));
    return { log, seen, until };
  }

  /** An abort signal that reports when the loop starts waiting on it (it registers its abort listener then). */
  function observedStop() {
    const stop = new AbortController();
    let waiting: () => void = () => undefined;
    const isWaiting = new Promise<void>((resolve) => (waiting = resolve));
    const add = stop.signal.addEventListener.bind(stop.signal);
    stop.signal.addEventListener = (...args: Parameters<typeof add>) => {
      add(...args);
      waiting();
    };
    return { stop, isWaiting };
  }

  it('runHealthTasks evaluates alerts, runs the daily cleanup once, and returns as soon as it is stopped while waiting', async () => {
    await tick(1000);
    await t.db.exec('TRUNCATE maintenance_log');
    const { log, seen } = recordingLog();
    const { stop, isWaiting } = observedStop();
    // An hour between rounds: once waiting, the loop can only end through the abort.
    const loop = runHealthTasks({ ...deps, log }, stop.signal, 3600);
    await isWaiting;
    stop.abort();
    await loop;
    expect(seen.map((l) => l.msg)).toEqual([expect.stringMatching(/^alert firing: no scheduler tick/), 'daily retention cleanup done']);
    expect((await rowsOf(t.db)).map((r) => [r.kind, r.status])).toEqual([['scheduler_stale', 'firing']]);
    const { rows } = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM maintenance_log WHERE task = 'cleanup' AND finished_at IS NOT NULL",
    );
    expect(rows[0]?.n).toBe(1);
    // Already stopped: returns without a round.
    await runHealthTasks({ ...deps, log }, stop.signal, 3600);
    expect(seen).toHaveLength(2);
  });

  it('runHealthTasks keeps evaluating every alertSeconds: a fixed scheduler resolves the alert on a later round', async () => {
    await tick(1000);
    const { log, seen, until } = recordingLog();
    const stop = new AbortController();
    const loop = runHealthTasks({ ...deps, log }, stop.signal, 0.05);
    try {
      await until('alert firing:');
      await tick(1);
      await until('alert resolved:');
    } finally {
      stop.abort();
      await loop;
    }
    expect(seen.filter((l) => l.msg.startsWith('alert ')).map((l) => l.msg.split(':')[0])).toEqual(['alert firing', 'alert resolved']);
    expect(seen.filter((l) => l.msg === 'daily retention cleanup done').length).toBeLessThanOrEqual(1);
  });

  it('runHealthTasks logs a failed round and carries on', async () => {
    await tick(1000);
    // The database port refusing alert writes, as a full disk or a revoked grant would.
    let failures = 1;
    const flaky: Db = {
      ...t.db,
      query: (sql, params) =>
        sql.includes('INSERT INTO alerts') && failures-- > 0 ? Promise.reject(new Error('could not extend file')) : t.db.query(sql, params),
    };
    const { log, seen, until } = recordingLog();
    const stop = new AbortController();
    const loop = runHealthTasks({ ...deps, db: flaky, log }, stop.signal, 0.05);
    try {
      await until('alert firing:');
    } finally {
      stop.abort();
      await loop;
    }
    expect(seen[0]).toMatchObject({ level: 40, msg: 'health task failed; retrying', err: 'could not extend file' });
    expect((await rowsOf(t.db)).map((r) => [r.kind, r.status])).toEqual([['scheduler_stale', 'firing']]);
  });

  it('with the database unreachable it records nothing and does not throw', async () => {
    const down = createPgDb({ connectionString: 'postgres://postgres@127.0.0.1:1/levqor' });
    try {
      await expect(evaluateAlerts({ ...deps, db: down })).resolves.toBeUndefined();
    } finally {
      await down.close();
    }
    expect(lines).toEqual([]);
  });
});
