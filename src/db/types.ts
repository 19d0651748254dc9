/** A row-returning query result, the subset both adapters share. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one parameterised statement ($1, $2 …). */
  query<R = Record<string, unknown>>(this: void, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters. */
  exec(this: void, sql: string): Promise<void>;
}

export type DbKind = 'postgres' | 'pglite';

/** The embedded database's socket: served by this process (`levqor serve`), or reached through it. */
export interface DbSocket {
  role: 'server' | 'client';
  path: string;
}

/** The one database port: Postgres through `pg`, or embedded PGlite. */
export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Set when the embedded database is shared on its socket (see src/db/open.ts). */
  readonly socket?: DbSocket;
  /** Embedded only: serve the database to local processes on its socket until close. */
  share?(opts: { onError?: (err: Error) => void }): Promise<void>;
  /** Runs fn inside BEGIN … COMMIT on one connection; rolls back when fn throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn on one dedicated connection (session-level state such as advisory locks). */
  session<T>(fn: (conn: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel; resolves to an unsubscribe function. A subscription whose
   * connection is lost comes back by itself and then calls onPayload('') (notifications may
   * have been missed: re-read what matters).
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
