// Cleanup benchmark: `npm run bench:cleanup` (builds lib/cli.js first).
//
// One fresh database, migrated by `levqor migrate`, seeded with 1,000,000 expired runs and
// 3,000,000 expired events (plus recent rows that must survive and 200 due workflows), then:
// 0. single batches of each table under EXPLAIN ANALYZE in rolled-back transactions (where a
//    batch's time goes), and `levqor cleanup --dry-run --json` (its counts checked against the seed);
// 1. the scheduler's claim transaction (from src/scheduler/claim.ts, rolled back) in a loop
//    for 30 s: its latency without cleanup;
// 2. the same loop while `levqor cleanup --json` runs in a child process: cleanup wall time,
//    rows/s, claim latency during it, the ratio of the p99s (target ≤ 2×);
// 3. every statement of the cleanup timed by the server (log_min_duration_statement), so
//    each batch is timed and the longest statement is known (target: none over 1 s);
// 4. a check that exactly the expired rows went and every recent row survived (exit 1 if not).
// Writes the `## Cleanup` section of bench/RESULTS.md and drops its database.
// The parts live in bench/cleanup/: config, others (other benchmarks), data (seed, checks),
// anatomy, claim (claim loop, sampler), serverlog, report.
//
// Flags: --keep (keep the database), --baseline-seconds N (default 30), --no-wait (do not wait
// for other benchmarks), --quick (5 % scale smoke test; writes node_modules/.cache/…/quick.md).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import {
  ADMIN_URL,
  ROOT,
  childCpuSeconds,
  createDatabase,
  dbUrl,
  dropDatabase,
  load1,
  machineInfo,
  postgresCpuSeconds,
  readFrom,
  replaceSection,
  runProcess,
  startProcess,
  withPg,
} from './lib.mjs';
import { anatomy, notInLog } from './cleanup/anatomy.mjs';
import { baseline, claimLoop, claimSql, counters, sampler } from './cleanup/claim.mjs';
import { AFTER_S, BASELINE_S, DB, DUE, KEEP, QUICK, int, loads3, log, round } from './cleanup/config.mjs';
import { seed, snapshot, verify, verifyDryRun } from './cleanup/data.mjs';
import { seenOthers, waitForQuiet } from './cleanup/others.mjs';
import { report } from './cleanup/report.mjs';
import { analyse, durationLines, statements } from './cleanup/serverlog.mjs';

const RESULTS = join(ROOT, 'bench/RESULTS.md');
const BUILT_CLI = join(ROOT, 'lib/cli.js');
// Other sessions rebuild lib/ while we run: the cleanup runs a snapshot of the whole of lib/ (the
// CLI is split into chunks) taken at start, under node_modules/ so that its bare imports resolve.
const SNAPSHOT_DIR = join(ROOT, 'node_modules/.cache/levqor-bench-cleanup');
const CLI = join(SNAPSHOT_DIR, `lib-${process.pid}`, 'cli.js');
/** Makes the cleanup's sessions log every statement (the database's setting stays at 1 s for the claim). */
const LOG_ALL = '-c log_min_duration_statement=0 -c log_parameter_max_length=0';

const created = new Set();

async function snapshotBuild() {
  if (!existsSync(BUILT_CLI)) throw new Error('lib/cli.js is missing: run `npm run bench:cleanup` (it builds first)');
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  cpSync(dirname(BUILT_CLI), dirname(CLI), { recursive: true });
  const sha = createHash('sha256').update(readFileSync(CLI)).digest('hex').slice(0, 12);
  const cleanupSha = createHash('sha256')
    .update(readFileSync(join(ROOT, 'src/maintenance/cleanup.ts')))
    .digest('hex')
    .slice(0, 12);
  const git = async (args) => (await runProcess('git', args)).stdout.trim();
  const head = await git(['rev-parse', '--short', 'HEAD']);
  const dirty = (await git(['status', '--porcelain', '--', 'src', 'migrations'])).split('\n').filter(Boolean).length;
  return { sha, cleanupSha, head, dirty };
}

function levqorEnv(url, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEVQOR_') && k !== 'PGOPTIONS'));
  return { ...env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn', ...extra };
}

/** A fresh database migrated by `levqor migrate`. */
async function prepare(name) {
  const url = dbUrl(name);
  await createDatabase(name);
  created.add(name);
  const mig = await runProcess(process.execPath, [CLI, 'migrate'], { env: levqorEnv(url) });
  if (mig.code !== 0) throw new Error(`migrate failed (${mig.code}): ${mig.stderr || mig.stdout}`);
  return url;
}

const parseResult = (stdout) => {
  try {
    return JSON.parse(stdout)[0];
  } catch {
    return null; // reported by the checks
  }
};

/** `levqor cleanup --dry-run --json`, every statement logged: what it printed, its wall time and its statements. */
async function dryRun(url, logPath) {
  const offset = statSync(logPath).size;
  const out = await runProcess(process.execPath, [CLI, 'cleanup', '--dry-run', '--json'], { env: levqorEnv(url, { PGOPTIONS: LOG_ALL }) });
  const lines = durationLines(readFrom(logPath, offset), DB);
  log(`dry run: exit ${out.code} in ${round(out.ms / 1000, 1)} s: ${out.stdout.replace(/\s+/g, ' ')} ${out.stderr.trim()}`);
  return { code: out.code, stderr: out.stderr, ms: out.ms, result: parseResult(out.stdout), statements: statements(lines) };
}

/** `levqor cleanup --json` in a child process while the claim loop runs; the server log segment of its run. */
async function measureCleanup(url, sql, logPath) {
  return withPg(ADMIN_URL, async (admin) => {
    await admin.query('CHECKPOINT');
    return withPg(url, async (c) => {
      const c0 = await counters(c);
      const offset = statSync(logPath).size;
      const l0 = load1();
      const s = sampler(DB);
      let childExited;
      const exited = new Promise((r) => (childExited = r));
      const loop = await claimLoop(url, sql, () => exited);
      await loop.ready;
      const cpu0 = { node: childCpuSeconds(), pg: postgresCpuSeconds() };
      const child = startProcess(process.execPath, [CLI, 'cleanup', '--json'], { env: levqorEnv(url, { PGOPTIONS: LOG_ALL }) });
      const startedAt = Date.now();
      const out = await child.done.finally(() => childExited());
      const endedAt = Date.now();
      const cpu1 = { node: childCpuSeconds(), pg: postgresCpuSeconds() };
      const samples = await loop.run;
      const sample = await s.stop();
      const l1 = load1();
      const offsetEnd = statSync(logPath).size;
      const c1 = await counters(c);
      const {
        rows: [w],
      } = await c.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [c1.lsn, c0.lsn]);
      log(`cleanup: exit ${out.code} in ${round(out.ms / 1000, 1)} s: ${out.stdout.replace(/\s+/g, ' ')} ${out.stderr.trim()}`);
      return {
        code: out.code,
        stderr: out.stderr,
        result: parseResult(out.stdout),
        ms: out.ms,
        startedAt,
        endedAt,
        claimPid: loop.pid,
        samples: samples.filter((x) => x.at >= startedAt && x.at <= endedAt),
        loads: [l0, l1, round(sample.loadMax)],
        sample,
        nodeCpu: cpu1.node - cpu0.node,
        pgCpu: cpu0.pg === null ? null : cpu1.pg - cpu0.pg,
        commits: Number(c1.commits) - Number(c0.commits),
        walMB: w.bytes / 2 ** 20,
        checkpoints: c1.checkpoints - c0.checkpoints,
        logText: readFrom(logPath, offset, offsetEnd),
      };
    });
  });
}

async function main() {
  const t00 = performance.now();
  const build = await snapshotBuild();
  const machine = await machineInfo();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const sql = claimSql();
  const wait = await waitForQuiet();
  const loadsStart = loads3();
  log(`machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}; load ${loadsStart}; build ${build.sha}`);

  const url = await prepare(DB);

  // 0. Seed, anatomy, and where the server log is.
  const { seedInfo, before, anat, logPath } = await withPg(url, async (c) => {
    const seedInfo = await seed(c);
    const before = await snapshot(c, seedInfo.now0);
    log(`seeded: ${JSON.stringify(before)}`);
    const anat = await anatomy(c);
    for (const r of anat.rows) log(`anatomy: ${r.label}: ${round(r.exec, 0)} ms ${r.trig.join('; ')}`);
    const {
      rows: [{ f }],
    } = await c.query('SELECT pg_current_logfile() AS f');
    const {
      rows: [{ dir }],
    } = await c.query("SELECT current_setting('data_directory') AS dir");
    const candidates = [
      process.env.BENCH_PG_LOG,
      f && (f.startsWith('/') ? f : join(dir, f)),
      `/var/log/postgresql/postgresql-${machine.postgresMajor}-main.log`,
    ].filter(Boolean);
    return { seedInfo, before, anat, logPath: candidates.find((p) => existsSync(p)) ?? null };
  });
  if (!logPath) throw new Error('cannot find the server log (set BENCH_PG_LOG)');

  // The dry run counts what is there; it must print exactly the seed's expired rows.
  const dry = await dryRun(url, logPath);
  const dryProblems = [
    ...(dry.code !== 0 ? [`levqor cleanup --dry-run exited ${dry.code}: ${dry.stderr.trim().slice(0, 500)}`] : []),
    ...verifyDryRun(before, dry.result),
  ];
  await withPg(url, async (c) => {
    await c.query(`ALTER DATABASE "${DB}" SET log_min_duration_statement = 1000`);
    await c.query(`ALTER DATABASE "${DB}" SET log_parameter_max_length = 0`);
    await c.query('CHECKPOINT');
  });

  // 1. Without cleanup.
  const base = await baseline(url, sql, DB, BASELINE_S, 'without cleanup');

  // 2. During cleanup.
  const cleanup = await measureCleanup(url, sql, logPath);
  const during = { samples: cleanup.samples, loads: cleanup.loads, busy: cleanup.sample.benchmarks > 0 };

  // After: the claim alone again, with the dead rows the cleanup left.
  const after = await baseline(url, sql, DB, AFTER_S, 'after cleanup');

  // 3. The server log: per-batch times, the longest statement, everything over 1 s.
  const an = analyse(durationLines(cleanup.logText, DB), cleanup.claimPid, before, during.samples);
  log(
    `log: ${an.mine.length} statements of the cleanup, ${an.batches.length} batches (${an.rolledBack} rolled back); longest ${round(an.longest.ms, 0)} ms ${an.longest.label}; ${an.slow.length} at or over 1 s`,
  );
  if (an.batches.length === 0) log('warning: no cleanup batches found in the server log');
  const missing = notInLog(anat, an.statements);
  if (missing.length) log(`warning: the anatomy's shipped statements not found in the log: ${missing.join(' | ')}`);

  // 4. Verify.
  const check = await withPg(url, (c) => verify(c, before, cleanup.result, [...base.samples, ...during.samples, ...after.samples]));
  if (cleanup.code !== 0) check.problems.unshift(`levqor cleanup exited ${cleanup.code}: ${cleanup.stderr.trim().slice(0, 500)}`);
  check.problems.push(...dryProblems);
  if (check.problems.length) {
    for (const p of check.problems) console.error(`[bench:cleanup] CHECK FAILED: ${p}`);
    throw new Error(`verification failed (${check.problems.length} problem(s)); RESULTS.md not written`);
  }
  const a = check.after;
  const verified = `no run or event older than 90 days and no processed approval older than 30 days left; the ${int(a.runs)} runs,
  ${int(a.events)} events and ${int(a.approvals)} approvals left are exactly the recent ones seeded (counts and checksums of ids), the
  ${a.pending} pending approvals, ${a.audit} audit_log rows and ${a.workflows} workflows (${a.due} due) untouched; the cleanup's counts match the seed;
  every claim returned ${DUE} workflows`;
  const body = report({
    machine,
    date,
    build,
    seedInfo,
    sizes: anat.sizes,
    anat,
    base,
    during,
    after,
    cleanup,
    an,
    dry,
    verified,
    missing,
    sample: cleanup.sample,
    loadsStart,
    loadsEnd: loads3(),
    logPath,
    wait,
    others: [...seenOthers],
  });
  if (QUICK) {
    writeFileSync(join(SNAPSHOT_DIR, 'quick.md'), body);
    log(`--quick: section written to ${join(SNAPSHOT_DIR, 'quick.md')}, not to RESULTS.md`);
    return;
  }
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  writeFileSync(RESULTS, replaceSection(old, 'Cleanup', body));
  log(`wrote the Cleanup section of ${RESULTS} (total ${round((performance.now() - t00) / 60000, 1)} min)`);
}

async function dropAll() {
  rmSync(dirname(CLI), { recursive: true, force: true });
  if (KEEP) {
    if (created.size) log(`kept databases: ${[...created].join(', ')}`);
    return;
  }
  for (const db of created) await dropDatabase(db).catch((err) => log(`could not drop ${db}: ${err.message}`));
}

process.on('SIGINT', () => {
  void dropAll().finally(() => process.exit(130));
});

try {
  await main();
} catch (err) {
  console.error('[bench:cleanup] FAILED:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  await dropAll();
}
