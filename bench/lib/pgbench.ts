// The physical limit of the server: pgbench -N on a scratch database.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { ADMIN_URL } from './env.js';
import { dbUrl, withPg } from './db.js';
import { runProcess } from './proc.js';

export interface PgbenchRun {
  cmd: string;
  clients: number;
  tps: number;
  latency: number;
}

/** pgbench of the server's major version, initialised on database `db` at `scale`: a function running `-N -c C -j J -T S`. */
export async function pgbench(major: number, db: string, scale: number): Promise<(clients: number, jobs: number, seconds: number) => Promise<PgbenchRun>> {
  const bin = [`/usr/lib/postgresql/${major}/bin/pgbench`, '/usr/bin/pgbench'].find((b) => existsSync(b)) ?? 'pgbench';
  const u = new URL(ADMIN_URL);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username || 'postgres'),
    ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
  };
  const init = await runProcess(bin, ['-i', '-s', String(scale), '-q', db], { env });
  if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  return async (clients, jobs, seconds) => {
    await withPg(dbUrl(db), (c) => c.query('CHECKPOINT'));
    const args = ['-N', '-c', String(clients), '-j', String(jobs), '-T', String(seconds), db];
    const r = await runProcess(bin, args, { env });
    const tps = /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(r.stdout);
    if (r.code !== 0 || !tps) throw new Error(`pgbench failed: ${r.stderr}\n${r.stdout}`);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(r.stdout)?.[1]);
    return { cmd: `pgbench ${args.join(' ').replace(db, 'DB')}`, clients, tps: Number(tps[1]), latency };
  };
}
