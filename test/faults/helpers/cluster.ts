import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

// A throwaway Postgres cluster per fault test file: initdb into a temp dir, its own port and
// unix socket there, so a test may stop, restart and crash it freely. Never the shared server.

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
/** initdb and pg_ctl (and pgbouncer) refuse to run as root: as root they run as the postgres user. */
export const AS_ROOT = process.getuid?.() === 0;

export type StopMode = 'fast' | 'immediate';

export interface Cluster {
  port: number;
  /** The cluster's directory (data/, the log, the unix socket). */
  dir: string;
  /** postgres://postgres@127.0.0.1:PORT/NAME (trust authentication). */
  url(database?: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl restart -m MODE`: returns once the server accepts connections again. */
  restart(mode: StopMode): Promise<void>;
  stop(mode: StopMode): Promise<void>;
  start(): Promise<void>;
  /**
   * SIGSTOPs (true) or SIGCONTs (false) the postmaster and every backend: a server that
   * accepts TCP connections and answers nothing, as a hung or partitioned database does.
   */
  freeze(frozen: boolean): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): Promise<string>;
  /** Stops the server (immediate) and removes the directory; safe to call twice. */
  destroy(): Promise<void>;
}

/** A free loopback port (closed again: the caller binds it next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function asPostgres(tool: string, args: readonly string[]): Promise<string> {
  const cmd = AS_ROOT ? 'runuser' : join(BIN, tool);
  const argv = AS_ROOT ? ['-u', 'postgres', '--', join(BIN, tool), ...args] : [...args];
  try {
    const { stdout } = await run(cmd, argv, { timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

/** The postgres user's uid and gid (to hand it a directory when running as root). */
export async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** The postmaster of a data directory and its children (from /proc). */
async function clusterPids(data: string): Promise<number[]> {
  const postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (which may hold spaces): state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

/** pg_ctl stop -m immediate on a cluster directory, ignoring "not running": for cleanup after a crash. */
export async function stopClusterDir(dir: string): Promise<void> {
  await asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
}

/**
 * initdb into a new directory under `root` and start the server on a free port, listening
 * on 127.0.0.1 and a unix socket inside the directory. fsync is off (nothing here survives
 * an OS crash anyway); synchronous_commit stays on, so a crash of the server itself loses
 * no committed transaction.
 */
export async function startCluster(root: string): Promise<Cluster> {
  const dir = await mkdtemp(join(root, 'pg-'));
  if (AS_ROOT) {
    const { uid, gid } = await postgresIds();
    await chown(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const port = await freePort();
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c max_connections=300',
    '-c fsync=off',
    '-c shared_buffers=64MB',
    '-c log_min_messages=warning',
  ].join(' ');
  const ctl = (...args: string[]) => asPostgres('pg_ctl', ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '60', ...args]);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let destroyed = false;
  const cluster: Cluster = {
    port,
    dir,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    restart: async (mode) => void (await ctl('-m', mode, 'restart')),
    stop: async (mode) => void (await ctl('-m', mode, 'stop')),
    start: async () => void (await ctl('start')),
    async freeze(frozen) {
      for (const pid of await clusterPids(data)) process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
    },
    log: async () => (await run('tail', ['-n', '40', logFile]).catch(() => ({ stdout: '' }))).stdout,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await cluster.freeze(false).catch(() => undefined);
      await stopClusterDir(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
