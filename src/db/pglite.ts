import { PGlite } from '@electric-sql/pglite';
import { mkdirSync, openSync, readFileSync, rmdirSync, rmSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { hostname } from 'node:os';
import { AppError } from '../lib/errors.js';
import { createNotifyHub } from './notify-hub.js';
import type { PgliteServer, PgliteServerOptions } from './pglite-server.js';
import { socketDirOf, socketPathOf } from './socket-path.js';
import type { Db, QueryResult, Queryable } from './types.js';
import { quoteIdent } from './wire.js';

/** In-memory data dir, for tests and throwaway runs. */
export const MEMORY_DIR = 'memory://';

/**
 * Postgres settings for the embedded backend. shared_buffers is a cache in WebAssembly memory,
 * which never shrinks, and PGlite reads through the operating system's page cache anyway:
 * Postgres's 128 MB default cost ~130 MB of resident memory in every process that opens the
 * database (bench/RESULTS.md, Embedded). maintenance_work_mem bounds what a migration's index
 * build may take for the rest of the process's life.
 */
export const PGLITE_SETTINGS = ['shared_buffers=16MB', 'maintenance_work_mem=16MB'];

/** The embedded database, which `levqor serve` shares with local processes. */
export interface PgliteDb extends Db {
  share(opts?: Pick<PgliteServerOptions, 'idleInTransactionMs' | 'onError'>): Promise<void>;
}

interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(client: PgliteLike): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const res = await client.query<R>(sql, params as unknown[] | undefined);
      return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await client.exec(sql);
    },
  };
}

/**
 * Takes the embedded database's process lock. PGlite has no lock of its own and two
 * writers corrupt the data dir, so a second process is refused while the first lives.
 */
function acquireDataDirLock(dataDir: string): () => void {
  const lockPath = `${resolve(dataDir)}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true });
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === me) unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readFileSync(lockPath, 'utf8').trim();
    const [pidText, host] = holder.split('@');
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && !isAlive(pid)) {
      unlinkSync(lockPath); // stale: its process is gone
      continue;
    }
    throw new AppError(
      'db_locked',
      `the embedded database at ${resolve(dataDir)} is in use by another Levqor process (pid ${holder}). ` +
        `Other commands share the database through \`levqor serve\` while it runs; any other process holds it alone: ` +
        `stop that process (or run \`levqor serve\` instead), or set DATABASE_URL to share a Postgres server ` +
        `between processes. If no such process exists, delete ${lockPath}.`,
    );
  }
  throw new AppError('db_locked', `could not take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeStaleSocket(dataDir: string): void {
  rmSync(socketPathOf(dataDir), { force: true });
  try {
    rmdirSync(socketDirOf(dataDir));
  } catch {
    // absent, or holds something else: left alone
  }
}

/** Opens embedded Postgres (PGlite) on disk, or in memory for MEMORY_DIR. */
export async function createPgliteDb(dataDir: string): Promise<PgliteDb> {
  const inMemory = dataDir === MEMORY_DIR;
  const release = inMemory ? () => undefined : acquireDataDirLock(dataDir);
  let pglite: PGlite;
  try {
    if (!inMemory) {
      mkdirSync(dataDir, { recursive: true });
      // This process holds the lock, so no server listens: a socket left by a killed one goes.
      removeStaleSocket(dataDir);
    }
    const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])];
    pglite = await PGlite.create(inMemory ? undefined : dataDir, { startParams });
  } catch (err) {
    release();
    throw err;
  }
  // Every notification reaches the hub once: from this process's own queries here, from a
  // socket client's reply through the server's turn queue.
  const hub = createNotifyHub();
  pglite.onNotification((channel, payload) => hub.publish({ channel, payload }));
  const listened = new Set<string>();
  let server: PgliteServer | undefined;
  const base = wrap(pglite);
  return {
    kind: 'pglite',
    get socket() {
      return server && { role: 'server' as const, path: server.path };
    },
    query: base.query,
    exec: base.exec,
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    session: (fn) => fn(base),
    async listen(channel, onPayload) {
      const off = hub.subscribe(channel, onPayload);
      // The backend LISTENs once per channel and never UNLISTENs: it is shared with socket clients.
      if (!listened.has(channel)) {
        try {
          await pglite.exec(`LISTEN ${quoteIdent(channel)}`);
        } catch (err) {
          off();
          throw err;
        }
        listened.add(channel);
      }
      return () => {
        off();
        return Promise.resolve();
      };
    },
    async share(opts = {}) {
      if (inMemory) throw new AppError('db_unavailable', 'an in-memory database cannot be shared');
      const { startPgliteServer } = await import('./pglite-server.js');
      server = await startPgliteServer({ ...opts, pglite, hub, dataDir });
    },
    async close() {
      try {
        await server?.close();
        await pglite.close();
      } finally {
        release();
      }
    },
  };
}
