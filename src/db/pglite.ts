import { PGlite } from '@electric-sql/pglite';
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { hostname } from 'node:os';
import { AppError } from '../lib/errors.js';
import type { Db, QueryResult, Queryable } from './types.js';

/** In-memory data dir, for tests and throwaway runs. */
export const MEMORY_DIR = 'memory://';

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
export function acquireDataDirLock(dataDir: string): () => void {
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
        `PGlite allows one process at a time: stop that process, or set DATABASE_URL to share a Postgres server ` +
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

/** Opens embedded Postgres (PGlite) on disk, or in memory for MEMORY_DIR. */
export async function createPgliteDb(dataDir: string): Promise<Db> {
  const inMemory = dataDir === MEMORY_DIR;
  const release = inMemory ? () => undefined : acquireDataDirLock(dataDir);
  let pglite: PGlite;
  try {
    if (!inMemory) mkdirSync(dataDir, { recursive: true });
    pglite = await PGlite.create(inMemory ? undefined : dataDir);
  } catch (err) {
    release();
    throw err;
  }
  const base = wrap(pglite);
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    session: (fn) => fn(base),
    async listen(channel, onPayload) {
      // PGlite quotes the channel name itself.
      return pglite.listen(channel, onPayload);
    },
    async close() {
      try {
        await pglite.close();
      } finally {
        release();
      }
    },
  };
}
