// Reports benchmark: `npm run bench:reports` (builds lib/cli.js first).
//
// One fresh database, migrated by `levqor migrate`, seeded with generate_series: one tenant
// with 20 workflows, 1,000,000 runs over 8 weeks (failures, durations, scheduled lag), an
// approval for every 10th run, and 5,000,000 engagement events of 5,000 users. Then, in one
// process and interleaved round by round (so a busy moment hits all alike), median of N:
//   - the baseline: SELECT count(*) FROM workflow_runs;
//   - generateWeeklyReport() for the last complete week (target ≤ 3× the baseline);
//   - the analytics of GET /api/analytics?days=7 (target ≤ 3×) and days=30;
//   - runMarketingCycle({ dryRun: true }) over the 5,000,000 events (reported; no target).
// Writes the `## Reports` section of bench/RESULTS.md and drops its database.
//
// Flags: --keep (keep the database), --rounds N (default 7).
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createPgDb } from '../src/db/pg.js';
import { runMarketingCycle } from '../src/reports/marketing/cycle.js';
import { tenantAnalytics } from '../src/reports/analytics.js';
import { generateWeeklyReport } from '../src/reports/weekly.js';
import { createDatabase, dbUrl, dropDatabase, one, withPg } from './lib/db.js';
import { ADMIN_URL, SMOKE, flag, logger, numberArg } from './lib/env.js';
import { load1, machineInfo } from './lib/machine.js';
import { table, writeSection } from './lib/markdown.js';
import { lowerMedian } from './lib/stats.js';
import { runProcess } from './lib/proc.js';

const keep = flag('--keep');
const rounds = numberArg('--rounds', SMOKE ? 1 : 7);
const DB = 'levqor_bench_reports';
const RUNS = SMOKE ? 20_000 : 1_000_000;
const EVENTS = SMOKE ? 50_000 : 5_000_000;
const WEEKS = 8;
const log = logger('bench:reports');

async function seed(url: string): Promise<{ tenantId: string; seconds: number }> {
  return withPg(url, async (c) => {
    const t0 = performance.now();
    const tenant = await one<{ id: string; now: number }>(
      c,
      `INSERT INTO tenants (name, timezone) VALUES ('bench', 'Europe/London') RETURNING id, extract(epoch FROM now())::float8 AS now`,
    );
    await c.query(
      `INSERT INTO workflows (tenant_id, name, steps, schedule_config)
       SELECT $1, 'wf-' || lpad(i::text, 2, '0'), '[{"type": "log", "message": "x"}, {"type": "http", "method": "POST", "url": "https://example.com"}]',
         '{"enabled": true, "interval_minutes": 1}' FROM generate_series(1, 20) AS i`,
      [tenant.id],
    );
    const span = WEEKS * 7 * 86_400;
    await c.query(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, error)
       SELECT $1, w.ids[1 + i % 20], CASE WHEN i % 29 = 0 THEN 'failed' WHEN i % 97 = 0 THEN 'rejected' ELSE 'succeeded' END, 'schedule',
         $2::float8 - $3 + i * ($3::float8 / $4), $2::float8 - $3 + i * ($3::float8 / $4) + (i % 17) * 0.3,
         $2::float8 - $3 + i * ($3::float8 / $4) + (i % 17) * 0.3 + (i % 1000) / 50.0,
         CASE WHEN i % 29 = 0 THEN 'HTTP 50' || (i % 4) || ' from example.com' END
       FROM generate_series(0, $4::int - 1) AS i, (SELECT array_agg(id ORDER BY name) AS ids FROM workflows WHERE tenant_id = $1) AS w`,
      [tenant.id, tenant.now, span, RUNS],
    );
    await c.query(
      `INSERT INTO approval_queue (tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
         status, requested_by, requested_at, expires_at, processed_at, processed_by, reason)
       SELECT tenant_id, id, workflow_id, 1, 'http', 'C', 'POST https://example.com', '{}', 'x',
         CASE WHEN status = 'rejected' THEN 'rejected' WHEN (hashtext(id::text) & 15) = 0 THEN 'expired' ELSE 'approved' END, 'bench',
         started_at, started_at + 86400, started_at + 60 + (hashtext(id::text) & 32767), 'token:ops',
         CASE WHEN status = 'rejected' THEN 'Not authorized' END
       FROM workflow_runs WHERE tenant_id = $1 AND (hashtext(id::text) % 10) = 0`,
      [tenant.id],
    );
    await c.query(
      `INSERT INTO engagement_events (tenant_id, user_id, event, created_at)
       SELECT $1, 'user' || (i % 5000) || '@bench.example', (ARRAY['login', 'dashboard.view', 'workflow.edit', 'activated'])[1 + i % 4],
         $2::float8 - $3 + (i::float8 / $4) * $3
       FROM generate_series(0, $4::int - 1) AS i`,
      [tenant.id, tenant.now, span, EVENTS],
    );
    await c.query('VACUUM ANALYZE');
    return { tenantId: tenant.id, seconds: (performance.now() - t0) / 1000 };
  });
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main() {
  const machine = await machineInfo();
  await createDatabase(DB);
  const url = dbUrl(DB);
  try {
    const migrated = await runProcess(process.execPath, ['lib/cli.js', 'migrate'], {
      env: { ...process.env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn' },
    });
    if (migrated.code !== 0) throw new Error(`levqor migrate failed: ${migrated.stderr}`);
    const { tenantId, seconds } = await seed(url);
    log(`seeded ${RUNS} runs and ${EVENTS} events in ${seconds.toFixed(1)} s`);
    const db = createPgDb({ connectionString: url, poolMax: 4, connectTimeoutMs: 10_000, onBackgroundError: () => undefined });
    const cases: Record<string, () => Promise<unknown>> = {
      'SELECT count(*) FROM workflow_runs (baseline)': () => db.query('SELECT count(*) FROM workflow_runs'),
      'generateWeeklyReport (last complete week)': () => generateWeeklyReport(db, { tenantId }),
      'analytics, days=7': () => tenantAnalytics(db, { tenantId, days: 7 }),
      'analytics, days=30': () => tenantAnalytics(db, { tenantId, days: 30 }),
      [`runMarketingCycle (dry run, ${EVENTS.toLocaleString('en')} events)`]: () => runMarketingCycle(db, { tenantId, dryRun: true }),
    };
    const samples = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
    const loads = [load1()];
    for (const fn of Object.values(cases)) await fn(); // warm the cache once
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn] of Object.entries(cases)) samples.get(name)?.push(await time(fn));
      loads.push(load1());
    }
    const weekly = await generateWeeklyReport(db, { tenantId });
    await db.close();
    const base = lowerMedian(samples.get('SELECT count(*) FROM workflow_runs (baseline)') ?? []);
    const rows = [...samples].map(([name, xs]) => {
      const m = lowerMedian(xs);
      const target = /generateWeekly|days=7/.test(name) ? (m / base <= 3 ? 'ok (≤ 3×)' : 'MISSED (> 3×)') : '';
      return [name, m.toFixed(1), Math.min(...xs).toFixed(1), Math.max(...xs).toFixed(1), (m / base).toFixed(2), target];
    });
    log(`\n${table(['case', 'median ms', 'min', 'max', '× baseline', 'target'], rows)}`);
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine.nproc} cores (${machine.cpu}), ${machine.memGiB} GiB, ${machine.postgres} (${machine.postgresSettings}), Node ${machine.node}; load average (1 min) ${Math.min(...loads)}–${Math.max(...loads)} during the rounds (the machine is shared with other work).`,
      '',
      `Command: \`npm run bench:reports\` (\`node scripts/bench.mjs reports --rounds ${rounds}\`). One tenant, 20 workflows, ${RUNS.toLocaleString('en')} runs over ${WEEKS} weeks (3.4 % failed, an approval for every 10th), ${EVENTS.toLocaleString('en')} engagement events of 5,000 users; seeded with generate_series in ${seconds.toFixed(0)} s, then VACUUM ANALYZE. Each case runs in the same process against the same pool, interleaved round by round, ${rounds} rounds after one warm-up; the baseline is a plain \`SELECT count(*) FROM workflow_runs\` over all ${RUNS.toLocaleString('en')} runs.`,
      '',
      table(['case', 'median ms', 'min ms', 'max ms', '× baseline', 'target'], rows),
      '',
      "The weekly report and analytics read one tenant's week (≈ 125,000 runs) through `workflow_runs_tenant_started_idx (tenant_id, started_at)` (0005) and aggregate in SQL (counts with FILTER, percentile_cont, GROUPING SETS); nothing is loaded row by row into JavaScript. The marketing cycle scans the tenant's 12 weeks of engagement events (first-seen, cohorts, audiences) and has no target here.",
      '',
      `Report produced in the last round: ${weekly.split('\n').length} lines of markdown.`,
    ].join('\n');
    writeSection('Reports', body, log);
    log(`server: ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')}`);
  } finally {
    if (!keep) await dropDatabase(DB);
  }
}

await main();
