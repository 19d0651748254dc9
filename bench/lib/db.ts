// Scratch databases on the benchmark server and typed queries on a pg client.
import pg from 'pg';
import { pgQueryable } from '../../src/db/pg.js';
import type { Queryable } from '../../src/db/types.js';
import { ADMIN_URL } from './env.js';

export type Client = pg.Client;

/** The URL of database `name` on the benchmark server. */
export function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs fn with a connected client and closes it afterwards. */
export async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>, applicationName = 'levqor-bench'): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The rows of a statement, typed. */
export async function rows<R extends object>(c: pg.Client | pg.Pool, sql: string, params: unknown[] = []): Promise<R[]> {
  return (await c.query<R>(sql, params)).rows;
}

/** The one row of a statement that returns one (an error otherwise). */
export async function one<R extends object>(c: pg.Client | pg.Pool, sql: string, params: unknown[] = []): Promise<R> {
  const [row] = await rows<R>(c, sql, params);
  if (!row) throw new Error(`bench: no row from ${sql.slice(0, 80)}`);
  return row;
}

/** A pg client as the src/ Queryable port, so that the benchmark can send the SQL src/ sends. */
export const queryable = (c: pg.Client): Queryable => pgQueryable(c);

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Creates an empty database (dropping a leftover of the same name first). */
export async function createDatabase(name: string): Promise<void> {
  await withPg(ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${ident(name)}`);
  });
}

/** Drops a database, ending its sessions. */
export async function dropDatabase(name: string): Promise<void> {
  await withPg(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
}

/**
 * The scratch databases of one benchmark run: made with a prefix and the process id, dropped by
 * dropAll() at the end (unless kept with --keep).
 */
export function scratchDatabases(prefix: string, log: (...a: unknown[]) => void) {
  const created = new Set<string>();
  return {
    created,
    /** Creates `<prefix>_<label>_<pid>` and remembers it. */
    async create(label: string): Promise<string> {
      const name = `${prefix}_${label}_${process.pid}`;
      created.add(name);
      await createDatabase(name);
      return name;
    },
    /** Drops one now (unless `keep`). */
    async drop(name: string, keep: boolean): Promise<void> {
      if (keep) return;
      await dropDatabase(name);
      created.delete(name);
    },
    /** Drops every one left, or lists them when `keep`. */
    async dropAll(keep: boolean): Promise<void> {
      if (keep) {
        if (created.size) log(`kept databases: ${[...created].join(', ')}`);
        return;
      }
      for (const db of created) await dropDatabase(db).catch((err: Error) => log(`could not drop ${db}: ${err.message}`));
      created.clear();
    },
  };
}
