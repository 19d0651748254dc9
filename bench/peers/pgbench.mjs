// The physical limit of the server: pgbench -N, first and last (bench/peers.mjs).
import { existsSync } from 'node:fs';
import process from 'node:process';
import { ADMIN_URL, dbUrl, load1, runProcess, withPg } from '../lib.mjs';
import { PGBENCH_SECONDS, log, phase, scratchDb } from './common.mjs';

export async function pgbench(state, when) {
  await phase(`pgbench (${when})`);
  const bin = [`/usr/lib/postgresql/${state.major}/bin/pgbench`, '/usr/bin/pgbench'].find((b) => existsSync(b)) ?? 'pgbench';
  const u = new URL(ADMIN_URL);
  const env = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres') };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  if (!state.db) {
    state.db = await scratchDb('pgbench');
    const init = await runProcess(bin, ['-i', '-s', '10', '-q', state.db], { env });
    if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  }
  await withPg(dbUrl(state.db), (c) => c.query('CHECKPOINT'));
  const args = ['-N', '-c', '4', '-j', '2', '-T', String(PGBENCH_SECONDS), state.db];
  const load = load1();
  const r = await runProcess(bin, args, { env });
  const tps = /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(r.stdout);
  if (r.code !== 0 || !tps) throw new Error(`pgbench failed: ${r.stderr}\n${r.stdout}`);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(r.stdout)?.[1]);
  log(`pgbench -N -c 4 (${when}): ${tps[1]} tps`);
  return { when, cmd: `pgbench ${args.join(' ').replace(state.db, 'DB')}`, tps: Number(tps[1]), latency, load };
}
