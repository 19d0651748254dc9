import type { Config } from '../config.js';
import { createPgDb } from '../db/pg.js';
import type { Db } from '../db/types.js';

/**
 * The Postgres connection of a one-shot health check (`levqor health`): a pool of two, no
 * opening probe and no migration, so the summary's own deadline bounds the wait even when
 * the server hangs.
 */
export function openHealthProbe(config: Pick<Config, 'LEVQOR_DB_CONNECT_TIMEOUT_MS'> & { DATABASE_URL: string }): Db {
  return createPgDb({
    connectionString: config.DATABASE_URL,
    poolMax: 2,
    connectTimeoutMs: config.LEVQOR_DB_CONNECT_TIMEOUT_MS,
    onBackgroundError: () => undefined,
  });
}
