import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { MEMORY_DIR } from '../../src/db/pglite.js';
import type { Db } from '../../src/db/types.js';

export interface TestDb {
  db: Db;
  /** DATABASE_URL for child processes (Postgres only). */
  url?: string;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/** The admin URL of the test Postgres server. */
export function pgAdminUrl(): string {
  return inject('pgAdminUrl');
}

/** Creates an empty database on the test server and returns its URL. */
export async function createPgDatabase(prefix = 'levqor_t'): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = pgAdminUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh, migrated database on the Postgres server, its own per call. */
export async function openPgTestDb(opts: { migrate?: boolean; poolMax?: number } = {}): Promise<TestDb> {
  const { url, drop } = await createPgDatabase();
  const db = await openDatabase(
    { DATABASE_URL: url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: opts.poolMax ?? 10, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
    { migrate: opts.migrate },
  );
  return {
    db,
    url,
    kind: 'postgres',
    async close() {
      await db.close();
      await drop();
    },
  };
}

/** A fresh, migrated embedded database in memory. */
export async function openPgliteTestDb(opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const db = await openDatabase(
    { LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 1, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
    { migrate: opts.migrate },
  );
  return { db, kind: 'pglite', close: () => db.close() };
}

/** Both backends, for describe.each: the same tests on Postgres and PGlite. */
export const BACKENDS = [
  { name: 'postgres', open: openPgTestDb },
  { name: 'pglite', open: openPgliteTestDb },
] as const;

/**
 * A test database for the enclosing describe block: opened in its beforeAll, closed in its
 * afterAll. Read `db` and `url` inside tests (or later hooks), not while the block is defined.
 */
export function useTestDb(open: () => Promise<TestDb> = openPgTestDb): TestDb {
  let current: TestDb | undefined;
  beforeAll(async () => {
    current = await open();
  });
  afterAll(async () => {
    await current?.close();
  });
  const opened = (): TestDb => {
    if (!current) throw new Error('the test database opens in beforeAll: use it inside a test or a later hook');
    return current;
  };
  return {
    get db() {
      return opened().db;
    },
    get url() {
      return opened().url;
    },
    get kind() {
      return opened().kind;
    },
    close: () => opened().close(),
  };
}

/**
 * Every run's events as one relation (run_id, type, step_index, payload, created_at): the
 * timeline entries on each run's row and the workflow_events rows, as getRunEvents merges them.
 */
export const ALL_RUN_EVENTS = `(
  SELECT r.id AS run_id, t.e ->> 'type' AS type, (t.e ->> 'step_index')::int AS step_index, t.e -> 'payload' AS payload,
         (t.e ->> 'created_at')::float8 AS created_at
  FROM workflow_runs r, jsonb_array_elements(r.timeline) AS t(e)
  UNION ALL
  SELECT run_id, type, step_index, payload, created_at FROM workflow_events WHERE run_id IS NOT NULL
)`;
