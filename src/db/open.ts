import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { describeDb } from '../lib/describe-db.js';
import { AppError, errorMessage } from '../lib/errors.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.generated.js';
import { listenRoute, POLLING_WARNING } from './pooler.js';
import { socketPathOf, socketUrlOf } from './socket-path.js';
import type { Db } from './types.js';

export type DbConfig = Pick<Config, 'DATABASE_URL' | 'LEVQOR_DATA_DIR' | 'LEVQOR_DB_POOL_MAX' | 'LEVQOR_DB_CONNECT_TIMEOUT_MS'> &
  Partial<Pick<Config, 'LEVQOR_DB_SOCKET' | 'LEVQOR_DB_POOLER' | 'DATABASE_DIRECT_URL'>>;

const MEMORY_DIR = 'memory://';

export interface OpenOptions {
  migrate?: boolean;
  onBackgroundError?: (err: Error) => void;
  /**
   * `levqor serve`: own the embedded database and share it with local processes on its socket
   * (unless LEVQOR_DB_SOCKET=false). Every other process reaches it there while it runs.
   */
  share?: boolean;
  /** Postgres `application_name` of this process's connections (pg_stat_activity). */
  applicationName?: string;
  /** Told once, on the first LISTEN, when a transaction-mode pooler leaves the process polling (src/db/pooler.ts). */
  onWarning?: (message: string) => void;
}

/** A Postgres server at DATABASE_URL, LISTEN routed around a transaction-mode pooler. */
async function openPostgres(config: DbConfig & { DATABASE_URL: string }, opts: OpenOptions): Promise<Db> {
  const route = listenRoute(config);
  let warned = false;
  return (await import('./pg.js')).createPgDb({
    connectionString: config.DATABASE_URL,
    poolMax: config.LEVQOR_DB_POOL_MAX,
    connectTimeoutMs: config.LEVQOR_DB_CONNECT_TIMEOUT_MS,
    onBackgroundError: opts.onBackgroundError,
    applicationName: opts.applicationName,
    listenConnectionString: route.via === 'poll' ? false : route.connectionString,
    onListenRefused: () => {
      if (!warned) opts.onWarning?.(POLLING_WARNING);
      warned = true;
    },
  });
}

/** Error codes of a socket nobody listens on: no server runs (a killed one may have left the file). */
function isNoServer(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? (err as { cause?: { code?: string } } | null)?.cause?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/** The embedded database through the socket of a running `levqor serve`, or undefined when none answers. */
async function connectToServe(config: DbConfig, opts: OpenOptions): Promise<Db | undefined> {
  const path = socketPathOf(config.LEVQOR_DATA_DIR);
  if (!existsSync(path)) return undefined;
  const pg = (await import('./pg.js')).createPgDb({
    connectionString: socketUrlOf(config.LEVQOR_DATA_DIR),
    poolMax: config.LEVQOR_DB_POOL_MAX,
    connectTimeoutMs: config.LEVQOR_DB_CONNECT_TIMEOUT_MS,
    onBackgroundError: opts.onBackgroundError,
    applicationName: opts.applicationName,
  });
  try {
    await pg.query('SELECT 1');
  } catch (err) {
    await pg.close().catch(() => undefined);
    if (isNoServer(err)) return undefined;
    throw new AppError('db_unavailable', `cannot use the embedded database through ${path}: ${errorMessage(err)}`, [], { cause: err });
  }
  return { ...pg, kind: 'pglite', socket: { role: 'client', path } };
}

/** Whether the embedded database at this data dir is shared on a socket (LEVQOR_DB_SOCKET, not in memory). */
function socketEnabled(config: DbConfig): boolean {
  return !config.DATABASE_URL && config.LEVQOR_DB_SOCKET !== false && config.LEVQOR_DATA_DIR !== MEMORY_DIR;
}

async function openEmbedded(config: DbConfig, opts: OpenOptions): Promise<Db> {
  const client = socketEnabled(config) && !opts.share;
  if (client) {
    const viaServe = await connectToServe(config, opts);
    if (viaServe) return viaServe;
  }
  const { createPgliteDb } = await import('./pglite.js');
  try {
    return await createPgliteDb(config.LEVQOR_DATA_DIR);
  } catch (err) {
    // `levqor serve` may have taken the lock and started listening since the first look.
    if (client && err instanceof AppError && err.code === 'db_locked') {
      const viaServe = await connectToServe(config, opts);
      if (viaServe) return viaServe;
    }
    throw err;
  }
}

/**
 * Opens the configured database (Postgres when DATABASE_URL is set; otherwise the embedded
 * PGlite, through `levqor serve`'s socket while it runs, else in this process), checks it
 * answers, and applies pending migrations. With `share`, the embedded database is then served
 * on its socket.
 */
export async function openDatabase(config: DbConfig, opts: OpenOptions = {}): Promise<Db> {
  // Each driver is loaded only when used: a Postgres deployment never loads PGlite's WebAssembly.
  const db = config.DATABASE_URL
    ? await openPostgres({ ...config, DATABASE_URL: config.DATABASE_URL }, opts)
    : await openEmbedded(config, opts);
  try {
    await db.query('SELECT 1');
    if (opts.migrate !== false) await migrate(db, migrations);
    // Shared only once migrated: a client never sees an older schema.
    if (opts.share && socketEnabled(config) && db.share) await db.share({ onError: opts.onBackgroundError });
  } catch (err) {
    await db.close().catch(() => undefined);
    if (err instanceof AppError) throw err;
    throw new AppError('db_unavailable', `cannot use ${describeDb(config)}: ${errorMessage(err)}`, [], { cause: err });
  }
  return db;
}
