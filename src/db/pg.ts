import pg from 'pg';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Db, QueryResult, Queryable } from './types.js';
import { quoteIdent } from './wire.js';

export interface PgOptions {
  connectionString: string;
  poolMax?: number;
  connectTimeoutMs?: number;
  /** Called for errors on idle connections (server restart, network drop); they never crash the process. */
  onBackgroundError?: (err: Error) => void;
  applicationName?: string;
}

function wrap(client: pg.Pool | pg.PoolClient | pg.Client): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const res = await client.query(sql, params as unknown[] | undefined);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/** A pg pool, pooled client or client as the Queryable port (bench/ sends src/'s SQL through it). */
export const pgQueryable = wrap;

/** Opens a pooled Postgres connection; the pool survives dropped idle connections. */
export function createPgDb(opts: PgOptions): Db {
  const onBackgroundError = opts.onBackgroundError ?? (() => undefined);
  const clientConfig = {
    connectionString: opts.connectionString,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'levqor',
  };
  const pool = new pg.Pool({ ...clientConfig, max: opts.poolMax ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client whose connection dies emits 'error' on the pool; unhandled, it would kill the process.
  pool.on('error', (err) => onBackgroundError(err));
  const listeners = new Set<pg.Client>();
  const base = wrap(pool);

  const withClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new AppError('db_unavailable', `cannot connect to Postgres: ${errorMessage(err)}`, [], { cause: err });
    }
    let broken: Error | undefined;
    // A checked-out client has no pool listener: a server shutdown or restart arriving while fn
    // is between queries would otherwise be an unhandled 'error' event and kill the process.
    const onError = (err: Error) => {
      broken = err;
      onBackgroundError(err);
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };

  return {
    kind: 'postgres',
    query: base.query,
    exec: base.exec,
    transaction: (fn) =>
      withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await fn(wrap(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    session: (fn) => withClient((client) => fn(wrap(client))),
    async listen(channel, onPayload) {
      const client = new pg.Client(clientConfig);
      client.on('error', (err) => onBackgroundError(err));
      await client.connect();
      client.on('notification', (msg) => {
        if (msg.channel === channel) onPayload(msg.payload ?? '');
      });
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      listeners.add(client);
      return async () => {
        listeners.delete(client);
        await client.end().catch(() => undefined);
      };
    },
    async close() {
      await Promise.all([...listeners].map((c) => c.end().catch(() => undefined)));
      await pool.end();
    },
  };
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === '57P01' || code === '57P02' || code === '57P03';
}
