// bench/cleanup's run: seed, anatomy, dry run, the claim loop without, during and after the
// cleanup, the server log, the checks, the report.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createDatabase, dbUrl, one, withPg } from '../lib/db.js';
import { ROOT, isoNow } from '../lib/env.js';
import { migrateLevqor } from '../lib/levqor.js';
import { loads3, machineInfo, snapshotCli, type CliSnapshot } from '../lib/machine.js';
import { writeSection } from '../lib/markdown.js';
import { seenOthers, waitForQuiet } from '../lib/others.js';
import { int, round } from '../lib/stats.js';
import { anatomy, notInLog } from './anatomy.js';
import { baseline } from './claim.js';
import { AFTER_S, BASELINE_S, DB, DUE, KEEP, QUICK, SNAPSHOT_DIR, log } from './config.js';
import { seed, snapshot, verify, verifyDryRun } from './data.js';
import { dryRun, measureCleanup } from './measure.js';
import { report } from './report.js';
import { analyse, durationLines } from './serverlog.js';
import { dropDatabase } from '../lib/db.js';

let cli: CliSnapshot | null = null;
let created = false;

/** Where the server logs: BENCH_PG_LOG, its current log file, or Debian's default. */
async function serverLog(url: string, major: number): Promise<string | null> {
  const { f, dir } = await withPg(url, (c) =>
    one<{ f: string | null; dir: string }>(c, "SELECT pg_current_logfile() AS f, current_setting('data_directory') AS dir"),
  );
  const candidates = [
    process.env.BENCH_PG_LOG,
    f && (f.startsWith('/') ? f : join(dir, f)),
    `/var/log/postgresql/postgresql-${major}-main.log`,
  ];
  return candidates.find((p): p is string => Boolean(p) && existsSync(p as string)) ?? null;
}

export async function main(): Promise<void> {
  const t00 = performance.now();
  cli = await snapshotCli(SNAPSHOT_DIR, 'bench:cleanup');
  const cleanupSha = createHash('sha256')
    .update(readFileSync(join(ROOT, 'src/maintenance/cleanup.ts')))
    .digest('hex')
    .slice(0, 12);
  const build = { sha: cli.sha, cleanupSha, head: cli.head, dirty: cli.dirty };
  const machine = await machineInfo();
  const date = isoNow();
  const wait = await waitForQuiet({ self: 'cleanup', ownDb: DB, maxMinutes: 10, log });
  const loadsStart = loads3();
  log(`machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}; load ${loadsStart}; build ${build.sha}`);

  const url = dbUrl(DB);
  await createDatabase(DB);
  created = true;
  await migrateLevqor(cli.cli, url);

  // 0. Seed, anatomy, and where the server log is.
  const { seedInfo, before, anat } = await withPg(url, async (c) => {
    const seedInfo = await seed(c);
    const before = await snapshot(c, seedInfo.now0);
    log(`seeded: ${JSON.stringify(before)}`);
    const anat = await anatomy(c);
    for (const r of anat.rows) log(`anatomy: ${r.label}: ${round(r.exec, 0)} ms ${r.trig.join('; ')}`);
    return { seedInfo, before, anat };
  });
  const logPath = await serverLog(url, machine.postgresMajor);
  if (!logPath) throw new Error('cannot find the server log (set BENCH_PG_LOG)');

  // The dry run counts what is there; it must print exactly the seed's expired rows.
  const dry = await dryRun(cli.cli, url, logPath);
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
  const base = await baseline(url, DB, BASELINE_S, 'without cleanup');

  // 2. During cleanup.
  const cleanup = await measureCleanup(cli.cli, url, logPath);
  const during = { samples: cleanup.samples, loads: cleanup.loads, busy: cleanup.sample.benchmarks > 0 };

  // After: the claim alone again, with the dead rows the cleanup left.
  const after = await baseline(url, DB, AFTER_S, 'after cleanup');

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
    const file = join(SNAPSHOT_DIR, 'quick.md');
    writeFileSync(file, body);
    log(`--quick: section written to ${file}, not to RESULTS.md`);
    return;
  }
  writeSection('Cleanup', body, log);
  log(`total ${round((performance.now() - t00) / 60000, 1)} min`);
}

/** Removes the copy of lib/ and drops the database (unless --keep). */
export async function cleanupAfter(): Promise<void> {
  cli?.remove();
  if (!created) return;
  if (KEEP) log(`kept database ${DB}`);
  else await dropDatabase(DB).catch((err: Error) => log(`could not drop ${DB}: ${err.message}`));
}
