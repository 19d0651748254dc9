import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgDb } from '../src/db/pg.js';
import type { Db, Queryable } from '../src/db/types.js';
import { dailyCleanup, type HealthTaskDeps } from '../src/health/tasks.js';
import { loadConfig } from '../src/config.js';
import { healthOptions } from '../src/health/options.js';
import { runCleanup, type RetentionOptions } from '../src/maintenance/cleanup.js';
import { claimDailyTask, finishDailyTask } from '../src/maintenance/queries.js';
import { killRunningClis, parseJson, runCli } from './helpers/cli.js';
import { BACKENDS, openPgTestDb, useTestDb, type TestDb } from './helpers/db.js';
import { silentLog } from './helpers/deps.js';

// Retention: the guide's rules (runs and events older than 90 days, processed approvals older
// than 30), batched. Seeded with SQL as a deployed database would hold the rows; the same
// plan seeds two databases so the guide's own SQL and runCleanup can be compared row for row.

const DAY = 86_400;
const TABLES = ['workflow_runs', 'workflow_events', 'approval_queue', 'audit_log'] as const;
type Table = (typeof TABLES)[number];

interface RunSpec {
  label: string;
  ageDays: number;
}
interface EventSpec {
  label: string;
  ageDays: number;
  run: string | null;
}
interface ApprovalSpec {
  label: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  requestedDays: number;
  processedDays: number | null;
  run: string | null;
}
interface AuditSpec {
  label: string;
  ageDays: number;
}

const RUNS: RunSpec[] = [
  ...Array.from({ length: 7 }, (_, i) => ({ label: `old-${i + 1}`, ageDays: 91 + i })),
  { label: 'new-1', ageDays: 89 },
  { label: 'new-2', ageDays: 30 },
  { label: 'new-3', ageDays: 0.01 },
];
const EVENTS: EventSpec[] = [
  { label: 'old-on-old-1', ageDays: 91, run: 'old-1' },
  { label: 'old-on-old-2', ageDays: 95, run: 'old-2' },
  { label: 'old-orphan-1', ageDays: 91, run: null },
  { label: 'old-orphan-2', ageDays: 120, run: null },
  { label: 'old-on-new', ageDays: 91, run: 'new-1' },
  { label: 'new-on-new-1', ageDays: 89, run: 'new-1' },
  { label: 'new-on-new-2', ageDays: 10, run: 'new-2' },
  { label: 'new-orphan', ageDays: 89, run: null },
  // A run that waited for approval past the window: its later event goes with it (ON DELETE CASCADE).
  { label: 'new-on-old', ageDays: 89, run: 'old-3' },
];
const APPROVALS: ApprovalSpec[] = [
  { label: 'pending-ancient', status: 'pending', requestedDays: 200, processedDays: null, run: 'old-4' },
  { label: 'pending-new', status: 'pending', requestedDays: 1, processedDays: null, run: null },
  { label: 'approved-31', status: 'approved', requestedDays: 32, processedDays: 31, run: null },
  { label: 'approved-31-old-run', status: 'approved', requestedDays: 92, processedDays: 31, run: 'old-5' },
  { label: 'rejected-29', status: 'rejected', requestedDays: 29.5, processedDays: 29, run: null },
  { label: 'expired-45', status: 'expired', requestedDays: 46, processedDays: 45, run: null },
  { label: 'approved-10', status: 'approved', requestedDays: 10, processedDays: 10, run: 'new-2' },
];
const AUDIT: AuditSpec[] = [
  { label: 'audit-400', ageDays: 400 },
  { label: 'audit-100', ageDays: 100 },
  { label: 'audit-1', ageDays: 1 },
];

/** What a cleanup removes and a dry run reports: the guide's rules plus the events that go with old runs (new-on-old). */
const RULE_COUNTS = { workflow_events: 6, workflow_runs: 7, approval_queue: 3 };
const KEPT: Record<Table, string[]> = {
  workflow_runs: ['new-1', 'new-2', 'new-3'],
  workflow_events: ['new-on-new-1', 'new-on-new-2', 'new-orphan'],
  approval_queue: ['pending-ancient', 'pending-new', 'rejected-29', 'approved-10'],
  audit_log: ['audit-400', 'audit-100', 'audit-1'],
};

/** Fixed uuids for one seeding plan, so two databases get identical rows. */
interface Plan {
  tenant: string;
  workflow: string;
  runIds: Map<string, string>;
  approvalIds: Map<string, string>;
}
function makePlan(): Plan {
  return {
    tenant: randomUUID(),
    workflow: randomUUID(),
    runIds: new Map(RUNS.map((r) => [r.label, randomUUID()])),
    approvalIds: new Map(APPROVALS.map((a) => [a.label, randomUUID()])),
  };
}

/** Label → id of every seeded row, per table (event and audit ids come from the identity columns). */
type Seeded = Record<Table, Map<string, string>>;

async function seed(db: Queryable, plan: Plan = makePlan()): Promise<Seeded> {
  await db.query("INSERT INTO tenants (id, name) VALUES ($1, 'retention')", [plan.tenant]);
  await db.query("INSERT INTO workflows (id, tenant_id, name, steps) VALUES ($1, $2, 'retained', '[]')", [plan.workflow, plan.tenant]);
  const runId = (label: string | null) => (label === null ? null : plan.runIds.get(label)!);
  for (const r of RUNS) {
    await db.query(
      `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, started_at, finished_at)
       VALUES ($1, $2, $3, 'succeeded', 'manual', extract(epoch FROM now()) - $4::float8, extract(epoch FROM now()) - $4::float8 + 5)`,
      [runId(r.label), plan.tenant, plan.workflow, r.ageDays * DAY],
    );
  }
  const events = new Map<string, string>();
  for (const e of EVENTS) {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, payload, created_at)
       VALUES ($1, $2, $3, 'step_finished', jsonb_build_object('label', $4::text), extract(epoch FROM now()) - $5::float8) RETURNING id::text AS id`,
      [plan.tenant, runId(e.run), plan.workflow, e.label, e.ageDays * DAY],
    );
    events.set(e.label, rows[0]!.id);
  }
  for (const a of APPROVALS) {
    await db.query(
      `INSERT INTO approval_queue (id, tenant_id, run_id, action_type, impact_class, summary, payload, payload_hash, status,
         requested_by, requested_at, expires_at, processed_at, processed_by)
       VALUES ($1, $2, $3, 'email', 'C', $4, '{}', 'h', $5, 'test', extract(epoch FROM now()) - $6::float8, extract(epoch FROM now()) - $6::float8 + 86400,
         extract(epoch FROM now()) - $7::float8, CASE WHEN $5 = 'pending' THEN NULL ELSE 'approver' END)`,
      [
        plan.approvalIds.get(a.label),
        plan.tenant,
        runId(a.run),
        a.label,
        a.status,
        a.requestedDays * DAY,
        a.processedDays === null ? null : a.processedDays * DAY,
      ],
    );
  }
  const audit = new Map<string, string>();
  for (const a of AUDIT) {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO audit_log (tenant_id, actor, action, subject, created_at) VALUES ($1, 'test', 'seed', $2, extract(epoch FROM now()) - $3::float8)
       RETURNING id::text AS id`,
      [plan.tenant, a.label, a.ageDays * DAY],
    );
    audit.set(a.label, rows[0]!.id);
  }
  return { workflow_runs: plan.runIds, workflow_events: events, approval_queue: plan.approvalIds, audit_log: audit };
}

async function remainingIds(db: Queryable, table: Table): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id::text AS id FROM ${table} ORDER BY id::text`);
  return rows.map((r) => r.id);
}

/** Labels of the rows still in each table. */
async function remainingLabels(db: Queryable, s: Seeded): Promise<Record<Table, string[]>> {
  const out = {} as Record<Table, string[]>;
  for (const table of TABLES) {
    const byId = new Map([...s[table]].map(([label, id]) => [id, label]));
    out[table] = (await remainingIds(db, table)).map((id) => byId.get(id) ?? `unknown:${id}`).sort();
  }
  return out;
}

const sorted = (r: Record<Table, string[]>) => Object.fromEntries(TABLES.map((t) => [t, [...r[t]].sort()]));

async function reset(db: Queryable): Promise<void> {
  // audit_log refuses DELETE (append-only trigger); TRUNCATE is the test's way to start over.
  await db.exec(
    'TRUNCATE tenants, workflows, workflow_runs, workflow_events, approval_queue, audit_log, maintenance_log RESTART IDENTITY CASCADE',
  );
}

// The retention a process runs with by default: the guide's 90 / 90 / 30 days, from the configuration.
const defaults = healthOptions(loadConfig({})).retention;
const opts = (over: Partial<RetentionOptions> = {}): RetentionOptions => ({ ...defaults, ...over });

async function readJsonLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The block's database (useTestDb), emptied and seeded before each test; `tempDir` makes a
 * directory that goes after the test.
 */
function useSeededDb(open: () => Promise<TestDb>): { t: TestDb; seeded: () => Seeded; tempDir: (prefix: string) => Promise<string> } {
  const t = useTestDb(open);
  const dirs: string[] = [];
  let s: Seeded | undefined;
  beforeEach(async () => {
    await reset(t.db);
    s = await seed(t.db);
  });
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    t,
    seeded: () => {
      if (!s) throw new Error('seeded before each test: use it inside one');
      return s;
    },
    async tempDir(prefix) {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
  };
}

describe.each(BACKENDS)('runCleanup on $name', ({ open }) => {
  const { t, seeded, tempDir } = useSeededDb(open);

  it('deletes exactly the expired rows; pending approvals (however old) and audit_log stay', async () => {
    const result = await runCleanup(t.db, opts());
    expect(result).toEqual(RULE_COUNTS);
    expect(await remainingLabels(t.db, seeded())).toEqual(sorted(KEPT));
    // The ancient pending approval survives its run, unlinked (ON DELETE SET NULL).
    const { rows } = await t.db.query<{ status: string; run_id: string | null }>(
      'SELECT status, run_id FROM approval_queue WHERE id = $1',
      [seeded().approval_queue.get('pending-ancient')],
    );
    expect(rows).toEqual([{ status: 'pending', run_id: null }]);
    // A second pass finds nothing.
    expect(await runCleanup(t.db, opts())).toEqual({ workflow_events: 0, workflow_runs: 0, approval_queue: 0 });
  });

  it('dryRun deletes nothing and returns the counts', async () => {
    const before = await remainingLabels(t.db, seeded());
    const progress: [string, number, number][] = [];
    const result = await runCleanup(t.db, opts({ dryRun: true, onProgress: (table, done, total) => progress.push([table, done, total]) }));
    expect(result).toEqual(RULE_COUNTS);
    expect(await remainingLabels(t.db, seeded())).toEqual(before);
    expect(progress).toEqual([
      ['workflow_events', 0, 5],
      ['workflow_runs', 0, 7],
      ['approval_queue', 0, 3],
    ]);
  });

  it('batchSize 2 deletes all 7 old runs in several batches, reporting progress after each', async () => {
    const progress: [string, number, number][] = [];
    const result = await runCleanup(t.db, opts({ batchSize: 2, onProgress: (table, done, total) => progress.push([table, done, total]) }));
    expect(result).toEqual(RULE_COUNTS);
    expect(progress).toEqual([
      ['workflow_events', 2, 5],
      ['workflow_events', 4, 5],
      ['workflow_events', 5, 5],
      ['workflow_runs', 2, 7],
      ['workflow_runs', 4, 7],
      ['workflow_runs', 6, 7],
      ['workflow_runs', 7, 7],
      ['approval_queue', 2, 3],
      ['approval_queue', 3, 3],
    ]);
    expect(await remainingLabels(t.db, seeded())).toEqual(sorted(KEPT));
  });

  it('a batch size that divides the count exactly still ends (one empty batch)', async () => {
    await t.db.query('DELETE FROM workflow_runs WHERE id = $1', [seeded().workflow_runs.get('old-7')]);
    const result = await runCleanup(t.db, opts({ batchSize: 3 }));
    expect(result.workflow_runs).toBe(6);
    expect((await remainingLabels(t.db, seeded())).workflow_runs).toEqual(KEPT.workflow_runs);
  });

  it('the windows are configurable', async () => {
    const result = await runCleanup(t.db, opts({ runsDays: 200, eventsDays: 100, approvalsDays: 20 }));
    expect(result).toEqual({ workflow_events: 1, workflow_runs: 0, approval_queue: 4 });
    const left = await remainingLabels(t.db, seeded());
    expect(left.workflow_runs).toHaveLength(RUNS.length);
    expect(left.workflow_events).not.toContain('old-orphan-2');
    expect(left.approval_queue).toEqual(['approved-10', 'pending-ancient', 'pending-new']);
  });

  it('archiveDir writes one JSON line per deleted row to <table>.jsonl before deleting', async () => {
    const dir = await tempDir('levqor-archive-');
    const archive = join(dir, 'nested', 'archive');
    const result = await runCleanup(t.db, opts({ archiveDir: archive, batchSize: 2 }));
    expect(result).toEqual(RULE_COUNTS);
    expect((await readdir(archive)).sort()).toEqual(['approval_queue.jsonl', 'workflow_events.jsonl', 'workflow_runs.jsonl']);

    const runs = await readJsonLines(join(archive, 'workflow_runs.jsonl'));
    expect(runs).toHaveLength(7);
    expect(runs.map((r) => r.id).sort()).toEqual(
      RUNS.filter((r) => r.label.startsWith('old-'))
        .map((r) => seeded().workflow_runs.get(r.label))
        .sort(),
    );
    expect(runs[0]).toMatchObject({
      tenant_id: expect.any(String) as string,
      status: 'succeeded',
      started_at: expect.any(Number) as number,
    });

    const events = await readJsonLines(join(archive, 'workflow_events.jsonl'));
    const removedEvents = ['new-on-old', 'old-on-new', 'old-on-old-1', 'old-on-old-2', 'old-orphan-1', 'old-orphan-2'];
    expect(events).toHaveLength(6);
    expect(events.map((e) => (e.payload as { label: string }).label).sort()).toEqual(removedEvents);
    expect(events.map((e) => String(e.id)).sort()).toEqual(removedEvents.map((l) => seeded().workflow_events.get(l)).sort());

    const approvals = await readJsonLines(join(archive, 'approval_queue.jsonl'));
    expect(approvals.map((a) => a.summary).sort()).toEqual(['approved-31', 'approved-31-old-run', 'expired-45']);
    expect(approvals.every((a) => a.status !== 'pending')).toBe(true);

    expect(await remainingLabels(t.db, seeded())).toEqual(sorted(KEPT));
  });

  it('a batch cut off by the statement timeout is rolled back and retried at half the size, archive included', async () => {
    // Stands in for a slow table: any DELETE of more than two runs fails as a statement timeout does (SQLSTATE 57014).
    await t.db.exec(`
      CREATE FUNCTION test_slow_runs() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM gone) > 2 THEN RAISE EXCEPTION 'canceling statement due to statement timeout' USING ERRCODE = '57014'; END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER test_slow_runs AFTER DELETE ON workflow_runs REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION test_slow_runs();`);
    try {
      const dir = await tempDir('levqor-archive-');
      const progress: [string, number, number][] = [];
      const result = await runCleanup(
        t.db,
        opts({ batchSize: 8, archiveDir: dir, onProgress: (table, done, total) => progress.push([table, done, total]) }),
      );
      expect(result).toEqual(RULE_COUNTS);
      expect(progress.filter(([table]) => table === 'workflow_runs')).toEqual([
        ['workflow_runs', 2, 7],
        ['workflow_runs', 4, 7],
        ['workflow_runs', 6, 7],
        ['workflow_runs', 7, 7],
      ]);
      expect(await remainingLabels(t.db, seeded())).toEqual(sorted(KEPT));
      // The failed attempts' lines were cut off again: every removed row is archived exactly once.
      const runIds = (await readJsonLines(join(dir, 'workflow_runs.jsonl'))).map((r) => String(r.id));
      expect(runIds).toHaveLength(7);
      expect(new Set(runIds).size).toBe(7);
      const eventIds = (await readJsonLines(join(dir, 'workflow_events.jsonl'))).map((e) => String(e.id));
      expect(eventIds.sort()).toEqual([...new Set(eventIds)].sort());
      expect(eventIds).toHaveLength(RULE_COUNTS.workflow_events);
    } finally {
      await t.db.exec('DROP TRIGGER test_slow_runs ON workflow_runs; DROP FUNCTION test_slow_runs()');
    }
  });

  it('a batch that still times out at one row fails the cleanup with the database error', async () => {
    await t.db.exec(`
      CREATE FUNCTION test_stuck_runs() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'canceling statement due to statement timeout' USING ERRCODE = '57014'; END $$;
      CREATE TRIGGER test_stuck_runs BEFORE DELETE ON workflow_runs FOR EACH STATEMENT EXECUTE FUNCTION test_stuck_runs();`);
    try {
      await expect(runCleanup(t.db, opts({ batchSize: 4 }))).rejects.toMatchObject({ code: '57014' });
      expect((await remainingLabels(t.db, seeded())).workflow_runs).toHaveLength(RUNS.length);
    } finally {
      await t.db.exec('DROP TRIGGER test_stuck_runs ON workflow_runs; DROP FUNCTION test_stuck_runs()');
    }
  });

  it('an archive holds every row the cleanup removes, events removed with their runs included', async () => {
    const dir = await tempDir('levqor-archive-');
    const before = new Set(await remainingIds(t.db, 'workflow_events'));
    await runCleanup(t.db, opts({ archiveDir: dir }));
    const after = new Set(await remainingIds(t.db, 'workflow_events'));
    const gone = [...before].filter((id) => !after.has(id)).sort();
    const archived = (await readJsonLines(join(dir, 'workflow_events.jsonl'))).map((e) => String(e.id)).sort();
    expect(archived).toEqual(gone);
  });

  it("the guide's three SQL statements and runCleanup leave the same rows on identical data", async () => {
    const plan = makePlan();
    const guide = await open();
    const ours = t;
    try {
      await reset(ours.db);
      const a = await seed(guide.db, plan);
      const b = await seed(ours.db, plan);
      expect(a.workflow_events).toEqual(b.workflow_events);
      // Verbatim from the operations guide, "Maintenance Procedures".
      await guide.db.exec(`
DELETE FROM workflow_runs WHERE started_at < (EXTRACT(EPOCH FROM NOW()) - 7776000);
DELETE FROM workflow_events WHERE created_at < (EXTRACT(EPOCH FROM NOW()) - 7776000);
DELETE FROM approval_queue WHERE status != 'pending' AND processed_at < (EXTRACT(EPOCH FROM NOW()) - 2592000);`);
      await runCleanup(ours.db, opts({ batchSize: 2 }));
      for (const table of TABLES) {
        expect({ table, ids: await remainingIds(ours.db, table) }).toEqual({ table, ids: await remainingIds(guide.db, table) });
      }
      const links = (db: Db) => db.query('SELECT id::text, run_id::text FROM approval_queue ORDER BY id');
      expect((await links(ours.db)).rows).toEqual((await links(guide.db)).rows);
      expect(await remainingLabels(ours.db, b)).toEqual(sorted(KEPT));
    } finally {
      await guide.close();
    }
  });
});

describe('levqor cleanup (CLI, Postgres)', () => {
  const { t, seeded, tempDir } = useSeededDb(openPgTestDb);
  afterEach(killRunningClis);
  const env = () => ({ DATABASE_URL: t.url! });

  it('--dry-run --json prints the counts and deletes nothing', async () => {
    const before = await remainingLabels(t.db, seeded());
    const r = await runCli(['cleanup', '--dry-run', '--json'], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual({ dry_run: true, ...RULE_COUNTS });
    expect(await remainingLabels(t.db, seeded())).toEqual(before);
  });

  it('deletes, says what it deleted and that pending approvals and audit_log are kept', async () => {
    const r = await runCli(['cleanup'], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'deleted: 7 workflow_runs, 6 workflow_events, 3 processed approvals; pending approvals and audit_log are never deleted\n',
    );
    expect(await remainingLabels(t.db, seeded())).toEqual(sorted(KEPT));
    const again = await runCli(['cleanup', '--json'], { env: env() });
    expect(parseJson(again)).toEqual({ dry_run: false, workflow_events: 0, workflow_runs: 0, approval_queue: 0 });
  });

  it('--archive DIR --batch-size 2 --runs-days 95 archives and keeps runs younger than 95 days', async () => {
    const dir = await tempDir('levqor-cli-archive-');
    const r = await runCli(['cleanup', '--archive', dir, '--batch-size', '2', '--runs-days', '95', '--json'], { env: env() });
    expect(r.code).toBe(0);
    // old-5 (95 days + a moment), old-6 (96) and old-7 (97) are past 95 days.
    expect(parseJson(r)).toEqual({ dry_run: false, workflow_events: 5, workflow_runs: 3, approval_queue: 3 });
    expect(await readJsonLines(join(dir, 'workflow_runs.jsonl'))).toHaveLength(3);
    expect((await remainingLabels(t.db, seeded())).workflow_runs).toEqual(['new-1', 'new-2', 'new-3', 'old-1', 'old-2', 'old-3', 'old-4']);
  });
});

describe('daily task claims (Postgres, two pools)', () => {
  let t: TestDb;
  const pools: Db[] = [];
  beforeAll(async () => {
    t = await openPgTestDb();
  });
  afterAll(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
    await t.close();
  });
  const pool = () => {
    const db = createPgDb({ connectionString: t.url!, poolMax: 4 });
    pools.push(db);
    return db;
  };

  it('claimDailyTask is true for exactly one of two concurrent callers, once per day', async () => {
    const [a, b] = [pool(), pool()];
    for (const task of ['cleanup', 'report', 'vacuum', 'digest', 'rotate']) {
      const claims = await Promise.all([claimDailyTask(a, task), claimDailyTask(b, task)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await Promise.all([claimDailyTask(a, task), claimDailyTask(b, task)])).toEqual([false, false]);
    }
    await finishDailyTask(a, 'cleanup', { workflow_runs: 3 });
    const { rows } = await t.db.query<{ task: string; finished: boolean; result: unknown }>(
      'SELECT task, finished_at IS NOT NULL AS finished, result FROM maintenance_log WHERE day = current_date ORDER BY task',
    );
    expect(rows).toEqual([
      { task: 'cleanup', finished: true, result: { workflow_runs: 3 } },
      { task: 'digest', finished: false, result: {} },
      { task: 'report', finished: false, result: {} },
      { task: 'rotate', finished: false, result: {} },
      { task: 'vacuum', finished: false, result: {} },
    ]);
  });

  it('two replicas calling dailyCleanup at once: one cleans, the other does nothing', async () => {
    await reset(t.db);
    const s = await seed(t.db);
    const lines: { msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const deps = (db: Db): HealthTaskDeps => ({
      db,
      log,
      thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50, minRunsForRate: 20 },
      retention: { runsDays: 90, eventsDays: 90, approvalsDays: 30, batchSize: 2, statementTimeoutMs: 5000 },
      processStartedAt: Date.now() / 1000,
    });
    await Promise.all([dailyCleanup(deps(pool())), dailyCleanup(deps(pool()))]);
    expect(lines.filter((l) => l.msg === 'daily retention cleanup done')).toHaveLength(1);
    expect(await remainingLabels(t.db, s)).toEqual(sorted(KEPT));
    const { rows } = await t.db.query<{ result: unknown }>(
      "SELECT result FROM maintenance_log WHERE task = 'cleanup' AND day = current_date AND finished_at IS NOT NULL",
    );
    expect(rows).toEqual([{ result: RULE_COUNTS }]);
    await dailyCleanup({ ...deps(pool()), log: silentLog });
    expect(lines.filter((l) => l.msg === 'daily retention cleanup done')).toHaveLength(1);
  });
});
