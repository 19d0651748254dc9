import type { Config } from '../config.js';
import { describeDb } from '../lib/describe-db.js';

/** The settings that say how DATABASE_URL reaches Postgres (src/config.ts). */
export type PoolerConfig = { DATABASE_URL: string } & Partial<Pick<Config, 'LEVQOR_DB_POOLER' | 'DATABASE_DIRECT_URL'>>;

/**
 * How LISTEN reaches Postgres: on its own direct connection, through a session-mode pooler
 * (one server connection per client: notifications arrive), or not at all (a transaction-mode
 * pooler hands the server connection to someone else after each statement, so notifications
 * would silently never arrive: the loops poll on their timers instead).
 */
export type ListenRoute = { via: 'direct' | 'pooler'; connectionString: string } | { via: 'poll' };

/** The one warning a process logs when it would LISTEN but cannot. */
export const POLLING_WARNING =
  'LEVQOR_DB_POOLER=transaction without DATABASE_DIRECT_URL: no LISTEN through the pooler (notifications would never arrive), ' +
  'so the scheduler and feeds wake on their timers only; set DATABASE_DIRECT_URL to a direct Postgres URL for instant wake-ups';

/** Where LISTEN goes: DATABASE_DIRECT_URL whenever it is set, else DATABASE_URL unless that is a transaction-mode pooler (pure). */
export function listenRoute(config: PoolerConfig): ListenRoute {
  if (config.DATABASE_DIRECT_URL) return { via: 'direct', connectionString: config.DATABASE_DIRECT_URL };
  const pooler = config.LEVQOR_DB_POOLER ?? 'none';
  if (pooler === 'transaction') return { via: 'poll' };
  return { via: pooler === 'none' ? 'direct' : 'pooler', connectionString: config.DATABASE_URL };
}

/** One line on the pooler and LISTEN, with the fix when LISTEN cannot work: for `levqor doctor` (never a password). */
export function describeListen(config: PoolerConfig): { ok: boolean; detail: string } {
  const pooler = config.LEVQOR_DB_POOLER ?? 'none';
  const route = listenRoute(config);
  const mode = pooler === 'none' ? 'no pooler (LEVQOR_DB_POOLER=none)' : `${pooler}-mode pooler (LEVQOR_DB_POOLER=${pooler})`;
  const where = (url: string) => describeDb({ DATABASE_URL: url, LEVQOR_DATA_DIR: '' });
  if (route.via === 'poll')
    return {
      ok: false,
      detail: `${mode}; LISTEN: polling — the scheduler and feeds wake on their timers only. Fix: set DATABASE_DIRECT_URL to a direct Postgres URL (not the pooler)`,
    };
  if (route.via === 'pooler')
    return { ok: true, detail: `${mode}; LISTEN: through the pooler (session mode keeps one server connection per client)` };
  const direct = config.DATABASE_DIRECT_URL ? ` on DATABASE_DIRECT_URL (${where(route.connectionString)})` : '';
  return { ok: true, detail: `${mode}; LISTEN: direct${direct}` };
}
