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
  /**
   * Where LISTEN connects (default: connectionString). `false`: nowhere, as behind a
   * transaction-mode pooler: listen() subscribes to nothing, calls onListenRefused and resolves,
   * and the caller's timer does the waking.
   */
  listenConnectionString?: string | false;
  onListenRefused?: (channel: string) => void;
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
  // Between the pool handing out a client (dropping its idle listener) and the caller attaching
  // its own, the parser may still be reading the packet that said ReadyForQuery: a server
  // shutting down sends its FATAL right behind it. A listener kept for the client's life means
  // such an 'error' event can never end the process; the error still fails the client's queries
  // and the pool discards the client on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
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
    listen: (channel, onPayload) => {
      const listenTo = opts.listenConnectionString ?? opts.connectionString;
      if (listenTo === false) {
        opts.onListenRefused?.(channel);
        return Promise.resolve(() => Promise.resolve());
      }
      return listenAgain(
        { clientConfig: { ...clientConfig, connectionString: listenTo }, listeners, onBackgroundError },
        channel,
        onPayload,
      );
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

/** The first wait before a lost LISTEN connection is opened again; doubled up to LISTEN_RETRY_MAX_MS. */
const LISTEN_RETRY_MS = 100;
const LISTEN_RETRY_MAX_MS = 5_000;

/**
 * LISTEN on a dedicated connection that comes back: when the connection is lost (a Postgres
 * restart, a terminated backend, the network) it is opened again with backoff, and onPayload('')
 * tells the caller that notifications may have been missed meanwhile. The first connect fails
 * loudly, so the caller can say it falls back to polling.
 */
async function listenAgain(
  ctx: { clientConfig: pg.ClientConfig; listeners: Set<pg.Client>; onBackgroundError: (err: Error) => void },
  channel: string,
  onPayload: (payload: string) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let current: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let retryMs = LISTEN_RETRY_MS;

  const connect = async (): Promise<void> => {
    const client = new pg.Client(ctx.clientConfig);
    let lost = false;
    let ready = false;
    // Attached before connecting: an 'error' event without a listener would kill the process.
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (!ready) return; // connect() below fails and says why
      if (err) ctx.onBackgroundError(err);
      ctx.listeners.delete(client);
      if (current === client) current = undefined;
      client.end().catch(() => undefined);
      if (!stopped) retry();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel === channel) onPayload(msg.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      if (lost) throw new AppError('db_unavailable', `the LISTEN connection for ${channel} closed as it opened`);
    } catch (err) {
      lost = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    ready = true;
    if (stopped) {
      lost = true;
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
    ctx.listeners.add(client);
    retryMs = LISTEN_RETRY_MS;
  };

  const retry = () => {
    timer = setTimeout(() => {
      connect().then(
        () => {
          if (!stopped) onPayload('');
        },
        (err: unknown) => {
          ctx.onBackgroundError(err as Error);
          retryMs = Math.min(retryMs * 2, LISTEN_RETRY_MAX_MS);
          if (!stopped) retry();
        },
      );
    }, retryMs);
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    const client = current;
    current = undefined;
    if (client) {
      ctx.listeners.delete(client);
      await client.end().catch(() => undefined);
    }
  };
}
