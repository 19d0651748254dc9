import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pollUntil } from '../../helpers/proc.js';
import { AS_ROOT, freePort, postgresIds, type Cluster } from './cluster.js';

// PgBouncer in front of an experiment's throwaway cluster: a generated ini in its own temp
// directory, its own port, trust authentication, started and stopped by the test.

const BIN = '/usr/sbin/pgbouncer';

export type PoolMode = 'session' | 'transaction';

export interface Bouncer {
  mode: PoolMode;
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/NAME through the pooler. */
  url(database: string): string;
  /** The pooler's log so far (for failure messages). */
  log(): Promise<string>;
  /** SIGINT (immediate shutdown) and waits for the exit; safe to call twice. */
  stop(): Promise<void>;
}

/** The installed PgBouncer's version line; fails loudly, naming the package, when it is missing. */
export async function pgbouncerVersion(): Promise<string> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: install it with \`apt-get update && apt-get install -y pgbouncer\``);
  const { stdout } = await promisify(execFile)(BIN, ['--version']);
  return stdout.split('\n')[0] ?? '';
}

/** Starts PgBouncer in `mode` under `root`, pointing every database at the cluster; resolves once it answers. */
export async function startPgBouncer(root: string, cluster: Cluster, mode: PoolMode): Promise<Bouncer> {
  await pgbouncerVersion();
  const dir = await mkdtemp(join(root, `pgbouncer-${mode}-`));
  const port = await freePort();
  const logFile = join(dir, 'pgbouncer.log');
  const ini = join(dir, 'pgbouncer.ini');
  await writeFile(join(dir, 'userlist.txt'), '"postgres" ""\n');
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=127.0.0.1 port=${cluster.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${mode}`,
      // Session mode pins a server connection per client (pools and LISTEN connections): room for all.
      'max_client_conn = 1000',
      'default_pool_size = 80',
      'max_db_connections = 200',
      `logfile = ${logFile}`,
      'log_connections = 0',
      'log_disconnections = 0',
      'ignore_startup_parameters = extra_float_digits',
      '',
    ].join('\n'),
  );
  // As root, PgBouncer switches to the postgres user (-u), which must reach its directory.
  if (AS_ROOT) {
    const { uid, gid } = await postgresIds();
    await chown(dir, uid, gid);
  }
  const child: ChildProcess = spawn(BIN, [...(AS_ROOT ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const log = async () => `${stderr}${await readFile(logFile, 'utf8').catch(() => '')}`.split('\n').slice(-40).join('\n');
  let stopped = false;
  const bouncer: Bouncer = {
    mode,
    port,
    url,
    log,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
  try {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}\n${await log()}`);
        const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { what: `pgbouncer (${mode}) on port ${port}`, attempts: 100, intervalMs: 100 },
    );
  } catch (err) {
    await bouncer.stop();
    throw err;
  }
  return bouncer;
}
