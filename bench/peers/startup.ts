// Startup and shutdown of an empty runner, start to exit, for each system (bench/peers.ts).
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { dbUrl, one, withPg } from '../lib/db.js';
import { levqorEnv, migrateLevqor } from '../lib/levqor.js';
import { runProcess } from '../lib/proc.js';
import { median, round } from '../lib/stats.js';
import { BOSS_CHILD, GRAPHILE_CHILD, KEEP, STARTUP_REPEATS, databases, levqorCli, phase } from './common.js';

export interface Startup {
  system: string;
  what: string;
  /** Wall ms of each repeat. */
  wall: number[];
  inner?: string;
}

/** The times a worker child printed (wall-clock ms) in startstop mode. */
interface StartStop {
  t0: number;
  tReady: number;
  tStopped: number;
}

const lastLine = (stdout: string): StartStop => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as StartStop;

export async function startupShutdown(graphile: { url: string }, bossDb: { url: string }): Promise<Startup[]> {
  await phase('startup and shutdown');
  const out: Startup[] = [];
  const node: number[] = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) node.push((await runProcess(process.execPath, ['-e', '0'])).ms);
  out.push({ system: 'Node itself', what: '`node -e 0`', wall: node });

  const db = await databases.create('levqor_empty');
  const url = dbUrl(db);
  await migrateLevqor(levqorCli.path, url);
  const lev: number[] = [];
  const levTick: number[] = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) {
    const r = await runProcess(process.execPath, [levqorCli.path, 'scheduler', '--once'], { env: levqorEnv(url) });
    if (r.code !== 0) throw new Error(`levqor scheduler --once on an empty database failed: ${r.stderr}`);
    lev.push(r.ms);
    const tick = await withPg(url, (c) =>
      one<{ ms: number }>(
        c,
        'SELECT (stopped_at - started_at)::float8 * 1000 AS ms FROM scheduler_instances ORDER BY started_at DESC LIMIT 1',
      ),
    );
    levTick.push(tick.ms);
  }
  out.push({
    system: 'Levqor',
    what: '`levqor scheduler --once`, empty migrated database',
    wall: lev,
    inner: `tick (started_at → stopped_at) ${round(median(levTick), 1)} ms`,
  });

  const gwOnce: number[] = [];
  const gwRun: number[] = [];
  const gwReady: number[] = [];
  const gwStop: number[] = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) {
    const o = join(tmpdir(), `levqor-peers-gw-empty-${process.pid}.json`);
    const r1 = await runProcess(process.execPath, [GRAPHILE_CHILD, 'once', JSON.stringify({ url: graphile.url, out: o })]);
    if (r1.code !== 0) throw new Error(`graphile runOnce on an empty queue failed: ${r1.stderr}`);
    rmSync(o, { force: true });
    gwOnce.push(r1.ms);
    const r2 = await runProcess(process.execPath, [GRAPHILE_CHILD, 'startstop', JSON.stringify({ url: graphile.url })]);
    if (r2.code !== 0) throw new Error(`graphile run/stop failed: ${r2.stderr}`);
    const s = lastLine(r2.stdout);
    gwRun.push(r2.ms);
    gwReady.push(s.tReady - s.t0);
    gwStop.push(s.tStopped - s.tReady);
  }
  out.push({ system: 'graphile-worker', what: '`runOnce()`, empty queue, migrated', wall: gwOnce });
  out.push({
    system: 'graphile-worker',
    what: '`run({ noHandleSignals })`, then `runner.stop()`',
    wall: gwRun,
    inner: `run() ${round(median(gwReady), 1)} ms, stop() ${round(median(gwStop), 1)} ms`,
  });

  const bw: number[] = [];
  const bReady: number[] = [];
  const bStop: number[] = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) {
    const r = await runProcess(process.execPath, [BOSS_CHILD, 'startstop', JSON.stringify({ url: bossDb.url })]);
    if (r.code !== 0) throw new Error(`pg-boss start/stop failed: ${r.stderr}`);
    const s = lastLine(r.stdout);
    bw.push(r.ms);
    bReady.push(s.tReady - s.t0);
    bStop.push(s.tStopped - s.tReady);
  }
  out.push({
    system: 'pg-boss',
    what: '`start()`, then `stop({ graceful: true, wait: true })`, schema installed',
    wall: bw,
    inner: `start() ${round(median(bReady), 1)} ms, stop() ${round(median(bStop), 1)} ms`,
  });
  await databases.drop(db, KEEP);
  return out;
}
