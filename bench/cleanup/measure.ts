// The two `levqor cleanup` runs bench/cleanup measures: the dry run, and the cleanup itself while
// the claim loop runs, each with the server log segment of its statements.
import { statSync } from 'node:fs';
import process from 'node:process';
import { one, withPg } from '../lib/db.js';
import { ADMIN_URL } from '../lib/env.js';
import { levqorEnv, parseCliResult } from '../lib/levqor.js';
import { load1 } from '../lib/machine.js';
import { childCpuSeconds, postgresCpuSeconds, runProcess, startProcess } from '../lib/proc.js';
import { readFrom } from '../lib/serverlog.js';
import { round } from '../lib/stats.js';
import { claimLoop, counters, sampler, type ClaimSample, type Sample } from './claim.js';
import { DB, log } from './config.js';
import type { CleanupResult } from './data.js';
import type { CleanupRun, DryRun } from './report.js';
import { durationLines, statements } from './serverlog.js';

/** Makes the cleanup's sessions log every statement (the database's setting stays at 1 s for the claim). */
const LOG_ALL = '-c log_min_duration_statement=0 -c log_parameter_max_length=0';

const parseResult = (stdout: string): CleanupResult | null => {
  try {
    return parseCliResult<CleanupResult>(stdout);
  } catch {
    return null; // reported by the checks
  }
};

/** `levqor cleanup --dry-run --json`, every statement logged: what it printed, its wall time and its statements. */
export async function dryRun(cli: string, url: string, logPath: string): Promise<DryRun> {
  const offset = statSync(logPath).size;
  const out = await runProcess(process.execPath, [cli, 'cleanup', '--dry-run', '--json'], { env: levqorEnv(url, { PGOPTIONS: LOG_ALL }) });
  const lines = durationLines(readFrom(logPath, offset), DB);
  log(`dry run: exit ${out.code} in ${round(out.ms / 1000, 1)} s: ${out.stdout.replace(/\s+/g, ' ')} ${out.stderr.trim()}`);
  return { code: out.code, stderr: out.stderr, ms: out.ms, result: parseResult(out.stdout), statements: statements(lines) };
}

export interface Measured extends CleanupRun {
  startedAt: number;
  endedAt: number;
  claimPid: number;
  /** The claims that fell inside the cleanup. */
  samples: ClaimSample[];
  loads: (number | 'n/a')[];
  sample: Sample;
  logText: string;
}

/** `levqor cleanup --json` in a child process while the claim loop runs; the server log segment of its run. */
export async function measureCleanup(cli: string, url: string, logPath: string): Promise<Measured> {
  return withPg(ADMIN_URL, async (admin) => {
    await admin.query('CHECKPOINT');
    return withPg(url, async (c) => {
      const c0 = await counters(c);
      const offset = statSync(logPath).size;
      const l0 = load1();
      const s = sampler(DB);
      let childExited: () => void = () => undefined;
      const exited = new Promise<void>((r) => (childExited = r));
      const loop = await claimLoop(url, () => exited);
      await loop.ready;
      const cpu0 = { node: childCpuSeconds(), pg: postgresCpuSeconds() };
      const child = startProcess(process.execPath, [cli, 'cleanup', '--json'], { env: levqorEnv(url, { PGOPTIONS: LOG_ALL }) });
      const startedAt = Date.now();
      const out = await child.done.finally(() => childExited());
      const endedAt = Date.now();
      const cpu1 = { node: childCpuSeconds(), pg: postgresCpuSeconds() };
      const samples = await loop.run;
      const sample = await s.stop();
      const l1 = load1();
      const offsetEnd = statSync(logPath).size;
      const c1 = await counters(c);
      const w = await one<{ bytes: number }>(c, 'SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [c1.lsn, c0.lsn]);
      log(`cleanup: exit ${out.code} in ${round(out.ms / 1000, 1)} s: ${out.stdout.replace(/\s+/g, ' ')} ${out.stderr.trim()}`);
      const result = parseResult(out.stdout);
      if (!result) throw new Error(`levqor cleanup printed no result (exit ${out.code}): ${out.stderr.trim().slice(0, 500)}`);
      return {
        code: out.code,
        stderr: out.stderr,
        result,
        ms: out.ms,
        startedAt,
        endedAt,
        claimPid: loop.pid,
        samples: samples.filter((x) => x.at >= startedAt && x.at <= endedAt),
        loads: [l0, l1, round(sample.loadMax)],
        sample,
        nodeCpu: cpu1.node - cpu0.node,
        pgCpu: cpu0.pg === null || cpu1.pg === null ? null : cpu1.pg - cpu0.pg,
        commits: Number(c1.commits) - Number(c0.commits),
        walMB: w.bytes / 2 ** 20,
        checkpoints: c1.checkpoints - c0.checkpoints,
        logText: readFrom(logPath, offset, offsetEnd),
      };
    });
  });
}
