import type { Config } from '../config.js';
import { AppError, errorMessage } from '../lib/errors.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.generated.js';
import type { Db } from './types.js';

export type DbConfig = Pick<Config, 'DATABASE_URL' | 'LEVQOR_DATA_DIR' | 'LEVQOR_DB_POOL_MAX' | 'LEVQOR_DB_CONNECT_TIMEOUT_MS'>;

/** Where the database is, for messages: never the password. */
export function describeDb(config: Pick<Config, 'DATABASE_URL' | 'LEVQOR_DATA_DIR'>): string {
  if (!config.DATABASE_URL) return `embedded PGlite at ${config.LEVQOR_DATA_DIR}`;
  const url = new URL(config.DATABASE_URL);
  return `Postgres at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/**
 * Opens the configured database (Postgres when DATABASE_URL is set, embedded PGlite
 * otherwise), checks it answers, and applies pending migrations.
 */
export async function openDatabase(
  config: DbConfig,
  opts: { migrate?: boolean; onBackgroundError?: (err: Error) => void; applicationName?: string } = {},
): Promise<Db> {
  // Each driver is loaded only when used: a Postgres deployment never loads PGlite's WebAssembly.
  const db = config.DATABASE_URL
    ? (await import('./pg.js')).createPgDb({
        connectionString: config.DATABASE_URL,
        poolMax: config.LEVQOR_DB_POOL_MAX,
        connectTimeoutMs: config.LEVQOR_DB_CONNECT_TIMEOUT_MS,
        onBackgroundError: opts.onBackgroundError,
        applicationName: opts.applicationName,
      })
    : await (await import('./pglite.js')).createPgliteDb(config.LEVQOR_DATA_DIR);
  try {
    await db.query('SELECT 1');
    if (opts.migrate !== false) await migrate(db, migrations);
  } catch (err) {
    await db.close().catch(() => undefined);
    if (err instanceof AppError) throw err;
    throw new AppError('db_unavailable', `cannot use ${describeDb(config)}: ${errorMessage(err)}`, [], { cause: err });
  }
  return db;
}
