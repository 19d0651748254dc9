import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgDb } from '../src/db/pg.js';
import type { Db, Queryable } from '../src/db/types.js';
import { readAlertRules, rulesAsThresholds, type AlertFacts, type AlertRule } from '../src/health/alert-rules.js';
import { evaluateTenantAlerts, reconcileTenantAlerts, setAlertRule, tenantAlertRules } from '../src/health/alerts.js';
import { ALERTS_CHANNEL, recentAlerts, type AlertKind } from '../src/health/queries.js';
import { evaluateAlerts, runHealthTasks, type HealthTaskDeps } from '../src/health/tasks.js';
import { AppError } from '../src/lib/errors.js';
import { BACKENDS, openPgTestDb, type TestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';

// Alert rules are tenant settings in the database: every process evaluates the same rules,
// whatever its own environment says, and a firing or a resolution is recorded once however
// many replicas evaluate at the same moment; each change is NOTIFYed on levqor_alerts.

const DEFAULTS: Record<AlertKind, number> = { scheduler_stale: 180, approval_queue_depth: 50, failure_rate: 5 };
const rule = (r: AlertKind, threshold: number, enabled = true): AlertRule => ({
  rule: r,
  threshold,
  enabled,
  updated_at: 0,
  updated_by: 't',
});
const RULES = [rule('scheduler_stale', 180), rule('approval_queue_depth', 50), rule('failure_rate', 5)];
const facts = (over: Partial<AlertFacts> = {}): AlertFacts => ({
  pending_approvals: 0,
  tick_age_seconds: 5,
  runs_1h: { total: 100, failed: 0 },
  ...over,
});

describe('readAlertRules (pure)', () => {
  it.each([
    { name: 'all healthy', f: facts(), active: [] },
    {
      name: 'scheduler never ticked',
      f: facts({ tick_age_seconds: null }),
      active: ['scheduler_stale'],
      message: 'no scheduler has ever ticked',
    },
    {
      name: 'scheduler stale',
      f: facts({ tick_age_seconds: 400.4 }),
      active: ['scheduler_stale'],
      message: 'no scheduler tick for 400 s (threshold 180 s)',
    },
    {
      name: 'tick at the threshold',
      f: facts({ tick_age_seconds: 180 }),
      active: [],
      message: 'last scheduler tick 180 s ago (threshold 180 s)',
    },
    { name: 'pending at the threshold', f: facts({ pending_approvals: 50 }), active: [] },
    {
      name: 'pending over the threshold',
      f: facts({ pending_approvals: 51 }),
      active: ['approval_queue_depth'],
      message: '51 approvals pending (threshold 50)',
      kind: 'approval_queue_depth',
    },
    {
      name: 'failure rate exactly 5 %',
      f: facts({ runs_1h: { failed: 2, total: 40 } }),
      active: [],
      message: 'workflow failure rate 5.0 % over the last hour (2 of 40), at or below 5 %',
      kind: 'failure_rate',
    },
    {
      name: 'failure rate 7.5 %',
      f: facts({ runs_1h: { failed: 3, total: 40 } }),
      active: ['failure_rate'],
      message: 'workflow failure rate 7.5 % over the last hour (3 of 40), above 5 %',
    },
    {
      name: 'high rate on too few runs',
      f: facts({ runs_1h: { failed: 10, total: 19 } }),
      active: [],
      message: 'workflow failure rate 52.6 % over the last hour (10 of 19), too few runs to judge (< 20)',
      kind: 'failure_rate',
    },
    { name: 'high rate at 20 runs', f: facts({ runs_1h: { failed: 10, total: 20 } }), active: ['failure_rate'] },
    {
      name: 'no runs',
      f: facts({ runs_1h: { failed: 0, total: 0 } }),
      active: [],
      message: 'no finished runs in the last hour',
      kind: 'failure_rate',
    },
    {
      name: 'everything at once',
      f: facts({ tick_age_seconds: 999, pending_approvals: 400, runs_1h: { failed: 30, total: 60 } }),
      active: ['scheduler_stale', 'approval_queue_depth', 'failure_rate'],
    },
  ] as { name: string; f: AlertFacts; active: AlertKind[]; message?: string; kind?: AlertKind }[])(
    '$name → [$active]',
    ({ f, active, message, kind }) => {
      const readings = readAlertRules(RULES, f);
      expect(readings.map((r) => r.kind)).toEqual(['scheduler_stale', 'approval_queue_depth', 'failure_rate']);
      expect(readings.filter((r) => r.active).map((r) => r.kind)).toEqual(active);
      if (message !== undefined) expect(readings.find((r) => r.kind === (kind ?? active[0] ?? 'scheduler_stale'))?.message).toBe(message);
    },
  );

  it("uses each rule's own threshold, and a disabled rule never holds", () => {
    const f = facts({ pending_approvals: 60, runs_1h: { failed: 3, total: 40 } });
    const readings = readAlertRules([rule('approval_queue_depth', 100), rule('failure_rate', 5, false)], f);
    expect(readings).toEqual([
      {
        kind: 'approval_queue_depth',
        active: false,
        message: '60 approvals pending (threshold 100)',
        detail: { pending: 60, threshold: 100 },
      },
      {
        kind: 'failure_rate',
        active: false,
        message: 'workflow failure rate 7.5 % over the last hour (3 of 40), above 5 %; rule disabled',
        detail: { rate: 0.075, failed: 3, total: 40, threshold: 5 },
      },
    ]);
  });
});

describe('rulesAsThresholds (pure)', () => {
  const base = { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50, minRunsForRate: 20 };
  it("a tenant's enabled rules become the summary's thresholds; disabled ones leave the base", () => {
    expect(rulesAsThresholds([rule('scheduler_stale', 600), rule('approval_queue_depth', 7), rule('failure_rate', 12.5)], base)).toEqual({
      ...base,
      staleAfterSeconds: 600,
      pendingApprovalsHigh: 7,
      failureRateTarget: 0.125,
    });
    expect(rulesAsThresholds([rule('approval_queue_depth', 7, false), rule('failure_rate', 1, false)], base)).toEqual(base);
    expect(rulesAsThresholds([], base)).toEqual(base);
  });
});

async function insertPending(db: Queryable, tenant: string, n: number): Promise<void> {
  await db.query(
    `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, expires_at)
     SELECT $1, 'email', 'C', 'send', '{}', 'h', 'pending', 'test', extract(epoch FROM now()) + 3600 FROM generate_series(1, $2::int)`,
    [tenant, n],
  );
}

/** Approves `n` of the tenant's pending requests (the queue shrinks). */
async function decide(db: Queryable, tenant: string, n: number): Promise<void> {
  await db.query(
    `UPDATE approval_queue SET status = 'approved', processed_at = extract(epoch FROM now())
     WHERE id IN (SELECT id FROM approval_queue WHERE tenant_id = $1 AND status = 'pending' LIMIT $2)`,
    [tenant, n],
  );
}

const tick = (db: Queryable, agoSeconds: number) =>
  db.query(
    `INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at) VALUES ('s1', 'h', 1, extract(epoch FROM now()) - 7200, extract(epoch FROM now()) - $1)
     ON CONFLICT (id) DO UPDATE SET last_tick_at = excluded.last_tick_at`,
    [agoSeconds],
  );

const opts = (defaults: Partial<Record<AlertKind, number>> = {}, by = 'test') => ({ defaults: { ...DEFAULTS, ...defaults }, by });

describe.each(BACKENDS)('tenant alert rules on $name', ({ open }) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.db.exec('TRUNCATE tenants, scheduler_instances CASCADE');
    await tick(t.db, 1);
  });

  it('a tenant starts from the defaults; a process with other defaults does not change stored rules', async () => {
    const a = await makeTenant(t.db, 'al');
    expect((await tenantAlertRules(t.db, a.id, DEFAULTS)).map((r) => [r.rule, r.threshold, r.enabled, r.updated_by])).toEqual([
      ['scheduler_stale', 180, true, 'levqor:defaults'],
      ['approval_queue_depth', 50, true, 'levqor:defaults'],
      ['failure_rate', 5, true, 'levqor:defaults'],
    ]);
    const other = await tenantAlertRules(t.db, a.id, { scheduler_stale: 9, approval_queue_depth: 9, failure_rate: 9 });
    expect(other.map((r) => r.threshold)).toEqual([180, 50, 5]);
  });

  it('evaluates the stored rule, not the process defaults: two processes with different thresholds agree', async () => {
    const a = await makeTenant(t.db, 'al');
    await insertPending(t.db, a.id, 3);
    expect(await evaluateTenantAlerts(t.db, a.id, opts())).toMatchObject({ fired: [], resolved: [] });
    await setAlertRule(t.db, a.id, 'approval_queue_depth', { threshold: 2, by: 'cli:ops' }, DEFAULTS);
    const first = await evaluateTenantAlerts(t.db, a.id, opts({ approval_queue_depth: 50 }, 'p1'));
    expect(first?.fired.map((f) => [f.kind, f.message])).toEqual([['approval_queue_depth', '3 approvals pending (threshold 2)']]);
    // A process started with LEVQOR_ALERT_PENDING_APPROVALS=1000 reads the same rule: it neither resolves nor fires again.
    for (const by of ['p2', 'p1', 'p2'])
      expect(await evaluateTenantAlerts(t.db, a.id, opts({ approval_queue_depth: 1000 }, by))).toMatchObject({ fired: [], resolved: [] });
    expect((await recentAlerts(t.db, a.id)).map((x) => [x.kind, x.status])).toEqual([['approval_queue_depth', 'firing']]);
  });

  it('the resolution states the value the rule reads now, and the firing keeps its own', async () => {
    const a = await makeTenant(t.db, 'al');
    await setAlertRule(t.db, a.id, 'approval_queue_depth', { threshold: 2, by: 'cli:ops' }, DEFAULTS);
    await insertPending(t.db, a.id, 5);
    await evaluateTenantAlerts(t.db, a.id, opts());
    await decide(t.db, a.id, 4);
    const r = await evaluateTenantAlerts(t.db, a.id, opts());
    expect(r?.resolved).toHaveLength(1);
    expect(r?.resolved[0]).toMatchObject({
      kind: 'approval_queue_depth',
      status: 'resolved',
      message: '5 approvals pending (threshold 2)',
      resolved_message: '1 approvals pending (threshold 2)',
      resolved_detail: { pending: 1, threshold: 2 },
    });
  });

  it("tenants are apart: one tenant's queue never fires another's alert", async () => {
    const a = await makeTenant(t.db, 'al');
    const b = await makeTenant(t.db, 'al');
    await setAlertRule(t.db, a.id, 'approval_queue_depth', { threshold: 2, by: 'cli:ops' }, DEFAULTS);
    await setAlertRule(t.db, b.id, 'approval_queue_depth', { threshold: 2, by: 'cli:ops' }, DEFAULTS);
    await insertPending(t.db, a.id, 3);
    await insertPending(t.db, b.id, 2);
    expect((await evaluateTenantAlerts(t.db, a.id, opts()))?.fired.map((f) => f.message)).toEqual(['3 approvals pending (threshold 2)']);
    expect(await evaluateTenantAlerts(t.db, b.id, opts())).toMatchObject({ fired: [], resolved: [] });
    expect((await recentAlerts(t.db, a.id)).map((x) => x.tenant_id)).toEqual([a.id]);
    expect(await recentAlerts(t.db, b.id)).toEqual([]);
  });

  it('disabling a firing rule resolves its alert once; set writes the audit log; bad input names the problem', async () => {
    const a = await makeTenant(t.db, 'al');
    await tick(t.db, 5000);
    expect((await evaluateTenantAlerts(t.db, a.id, opts()))?.fired.map((f) => f.kind)).toEqual(['scheduler_stale']);
    const off = await setAlertRule(t.db, a.id, 'scheduler_stale', { enabled: false, by: 'cli:ops' }, DEFAULTS);
    expect(off).toMatchObject({ rule: 'scheduler_stale', enabled: false, threshold: 180, updated_by: 'cli:ops' });
    const r = await evaluateTenantAlerts(t.db, a.id, opts());
    expect(r?.resolved.map((x) => x.resolved_message)).toEqual([
      expect.stringMatching(/^no scheduler tick for \d+ s \(threshold 180 s\); rule disabled$/),
    ]);
    expect(await evaluateTenantAlerts(t.db, a.id, opts())).toMatchObject({ fired: [], resolved: [] });
    const audit = await t.db.query<{ actor: string; subject: string; detail: unknown }>(
      "SELECT actor, subject, detail FROM audit_log WHERE tenant_id = $1 AND action = 'alert_rule.set'",
      [a.id],
    );
    expect(audit.rows).toEqual([
      {
        actor: 'cli:ops',
        subject: 'scheduler_stale',
        detail: { before: { threshold: 180, enabled: true }, after: { threshold: 180, enabled: false } },
      },
    ]);
    for (const [ruleName, change, message] of [
      ['queue', { threshold: 1 }, 'unknown alert rule "queue": use one of scheduler_stale, approval_queue_depth, failure_rate'],
      ['failure_rate', { threshold: 150 }, '--threshold for failure_rate is a percentage (0–100)'],
      ['failure_rate', { threshold: -1 }, '--threshold for failure_rate must be a number ≥ 0'],
      ['failure_rate', {}, 'nothing to change: pass --threshold N, --enable or --disable'],
    ] as const) {
      const err = await setAlertRule(t.db, a.id, ruleName, { ...change, by: 'x' }, DEFAULTS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'bad_input', message });
    }
  });
});

/** Resolves with the first `n` NOTIFY payloads on levqor_alerts; `got` holds every one received. */
async function collectNotifications(db: Db, n: number) {
  const got: { id: string; tenant_id: string; kind: string; status: string }[] = [];
  let done: (v: typeof got) => void = () => undefined;
  const received = new Promise<typeof got>((resolve) => (done = resolve));
  const stop = await db.listen(ALERTS_CHANNEL, (payload) => {
    if (payload === '') return;
    got.push(JSON.parse(payload) as (typeof got)[number]);
    if (got.length === n) done(got);
  });
  return { received, got, stop };
}

describe('two processes evaluating at once (Postgres, two pools)', () => {
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
    await t.db.exec('TRUNCATE tenants, scheduler_instances CASCADE');
    await tick(t.db, 1);
  });

  it('20 rounds of fire and clear with different process defaults: one firing and one resolution each, announced once', async () => {
    const tenant = await makeTenant(t.db, 'al');
    await setAlertRule(t.db, tenant.id, 'approval_queue_depth', { threshold: 2, by: 'cli:ops' }, DEFAULTS);
    const notes = await collectNotifications(t.db, 40);
    try {
      for (let round = 0; round < 20; round++) {
        await insertPending(t.db, tenant.id, 3);
        const up = await Promise.all([
          evaluateTenantAlerts(a, tenant.id, opts({ approval_queue_depth: 1 }, 'a')),
          evaluateTenantAlerts(b, tenant.id, opts({ approval_queue_depth: 100 }, 'b')),
        ]);
        expect(up.flatMap((r) => r?.fired ?? []).map((f) => f.kind)).toEqual(['approval_queue_depth']);
        expect(up.flatMap((r) => r?.resolved ?? [])).toEqual([]);
        await decide(t.db, tenant.id, 2);
        const down = await Promise.all([
          evaluateTenantAlerts(a, tenant.id, opts({ approval_queue_depth: 1 }, 'a')),
          evaluateTenantAlerts(b, tenant.id, opts({ approval_queue_depth: 100 }, 'b')),
        ]);
        const resolved = down.flatMap((r) => r?.resolved ?? []);
        expect(resolved.map((r) => [r.id, r.resolved_message])).toEqual([
          [up.flatMap((r) => r?.fired ?? [])[0]!.id, '1 approvals pending (threshold 2)'],
        ]);
        expect(down.flatMap((r) => r?.fired ?? [])).toEqual([]);
        await decide(t.db, tenant.id, 1000);
      }
      const all = await notes.received;
      expect(all.map((n) => n.status)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 ? 'resolved' : 'firing')));
      expect(new Set(all.map((n) => n.tenant_id))).toEqual(new Set([tenant.id]));
    } finally {
      await notes.stop();
    }
    const { rows } = await t.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM alerts GROUP BY 1');
    expect(rows).toEqual([{ status: 'resolved', n: 20 }]);
  });

  it('a replica evaluating a tenant holds its row: another skips that tenant instead of judging it twice', async () => {
    const tenant = await makeTenant(t.db, 'al');
    await evaluateTenantAlerts(a, tenant.id, opts());
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = a.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM alert_evaluations WHERE tenant_id = $1 FOR UPDATE', [tenant.id]);
      locked();
      await held;
    });
    await isLocked;
    try {
      expect(await evaluateTenantAlerts(b, tenant.id, opts())).toBeNull();
    } finally {
      release();
      await holder;
    }
    expect(await evaluateTenantAlerts(b, tenant.id, opts())).toMatchObject({ tenant_id: tenant.id });
  });

  it('reconcileTenantAlerts: the partial unique index keeps a second firing out even without the lock', async () => {
    const tenant = await makeTenant(t.db, 'al');
    const reading = { kind: 'failure_rate' as const, active: true, message: 'm', detail: {} };
    const [ra, rb] = await Promise.all([reconcileTenantAlerts(a, tenant.id, [reading]), reconcileTenantAlerts(b, tenant.id, [reading])]);
    expect([...ra.fired, ...rb.fired]).toHaveLength(1);
    const cleared = { ...reading, active: false, message: 'now' };
    const [ca, cb] = await Promise.all([reconcileTenantAlerts(a, tenant.id, [cleared]), reconcileTenantAlerts(b, tenant.id, [cleared])]);
    expect([...ca.resolved, ...cb.resolved].map((r) => r.resolved_message)).toEqual(['now']);
  });
});

describe('evaluateAlerts (end to end, Postgres)', () => {
  let t: TestDb;
  let lines: { level: number; msg: string; alert?: string; tenant_id?: string }[];
  let deps: HealthTaskDeps;
  let tenant: string;
  beforeAll(async () => {
    t = await openPgTestDb();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.db.exec('TRUNCATE alerts, scheduler_instances, tenants CASCADE');
    tenant = (await makeTenant(t.db, 'al')).id;
    lines = [];
    deps = {
      db: t.db,
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) }),
      thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50, minRunsForRate: 20 },
      retention: { runsDays: 90, eventsDays: 90, approvalsDays: 30, batchSize: 5000, statementTimeoutMs: 5000 },
      processStartedAt: Date.now() / 1000,
    };
  });

  it('a stale scheduler fires scheduler_stale once per tenant (logged, NOTIFYed); a fresh tick resolves it with the current age', async () => {
    const other = (await makeTenant(t.db, 'al')).id;
    await tick(t.db, 1000);
    const notes = await collectNotifications(t.db, 4);
    try {
      await evaluateAlerts(deps);
      await evaluateAlerts(deps);
      const warn = lines.filter((l) => l.level === 40);
      expect(warn.map((w) => w.tenant_id).sort()).toEqual([tenant, other].sort());
      expect(warn[0]!.msg).toMatch(/^alert firing: no scheduler tick for 1\d{3} s \(threshold 180 s\)$/);

      await tick(t.db, 1);
      await evaluateAlerts(deps);
      await evaluateAlerts(deps);
      const resolved = lines.filter((l) => l.msg.startsWith('alert resolved:'));
      expect(resolved).toHaveLength(2);
      expect(resolved[0]!.msg).toMatch(/^alert resolved: last scheduler tick \d s ago \(threshold 180 s\)$/);
      expect((await notes.received).map((n) => n.status).sort()).toEqual(['firing', 'firing', 'resolved', 'resolved']);
    } finally {
      await notes.stop();
    }
  });

  it('a failure rate over 5 % in the last hour fires failure_rate', async () => {
    await tick(t.db, 1);
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
    const alerts = await recentAlerts(t.db, tenant);
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
    await tick(t.db, 1000);
    await t.db.exec('TRUNCATE maintenance_log');
    const { log, seen } = recordingLog();
    const { stop, isWaiting } = observedStop();
    // An hour between rounds: once waiting, the loop can only end through the abort.
    const loop = runHealthTasks({ ...deps, log }, stop.signal, 3600);
    await isWaiting;
    stop.abort();
    await loop;
    expect(seen.map((l) => l.msg)).toEqual([expect.stringMatching(/^alert firing: no scheduler tick/), 'daily retention cleanup done']);
    expect((await recentAlerts(t.db, tenant)).map((r) => [r.kind, r.status])).toEqual([['scheduler_stale', 'firing']]);
    const { rows } = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM maintenance_log WHERE task = 'cleanup' AND finished_at IS NOT NULL",
    );
    expect(rows[0]?.n).toBe(1);
    // Already stopped: returns without a round.
    await runHealthTasks({ ...deps, log }, stop.signal, 3600);
    expect(seen).toHaveLength(2);
  });

  it('runHealthTasks keeps evaluating every alertSeconds: a fixed scheduler resolves the alert on a later round', async () => {
    await tick(t.db, 1000);
    const { log, seen, until } = recordingLog();
    const stop = new AbortController();
    const loop = runHealthTasks({ ...deps, log }, stop.signal, 0.05);
    try {
      await until('alert firing:');
      await tick(t.db, 1);
      await until('alert resolved:');
    } finally {
      stop.abort();
      await loop;
    }
    expect(seen.filter((l) => l.msg.startsWith('alert ')).map((l) => l.msg.split(':')[0])).toEqual(['alert firing', 'alert resolved']);
    expect(seen.filter((l) => l.msg === 'daily retention cleanup done').length).toBeLessThanOrEqual(1);
  });

  it('runHealthTasks logs a failed round and carries on', async () => {
    await tick(t.db, 1000);
    // The database port refusing alert writes, as a full disk or a revoked grant would.
    let failures = 1;
    const flaky: Db = {
      ...t.db,
      transaction: (fn) =>
        t.db.transaction((tx) =>
          fn({
            ...tx,
            query: (sql, params) =>
              sql.includes('INSERT INTO alerts') && failures-- > 0
                ? Promise.reject(new Error('could not extend file'))
                : tx.query(sql, params),
          }),
        ),
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
    expect((await recentAlerts(t.db, tenant)).map((r) => [r.kind, r.status])).toEqual([['scheduler_stale', 'firing']]);
  });

  it('with the database unreachable it records nothing and fails with the reason', async () => {
    const down = createPgDb({ connectionString: 'postgres://postgres@127.0.0.1:1/levqor' });
    try {
      await expect(evaluateAlerts({ ...deps, db: down })).rejects.toThrow();
    } finally {
      await down.close();
    }
    expect(lines).toEqual([]);
  });
});
