import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { MEMORY_DIR } from '../../src/db/pglite.js';
import type { Db } from '../../src/db/types.js';
import { adminQuery, cloneTemplateDatabase, databaseUrl } from './pg-template.js';

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

export interface TestDbOptions {
  /** false: an empty database, no migration applied. */
  migrate?: boolean;
  /**
   * Postgres only. true (the default): a copy of the run's migrated template database
   * (test/global-setup.ts). false: an empty database migrated here, for tests of migrating itself.
   */
  template?: boolean;
  poolMax?: number;
}

/**
 * Creates a database on the test server and returns its URL: empty, or with `template`
 * a copy of the run's migrated template.
 */
export async function createPgDatabase(
  prefix = 'levqor_t',
  opts: { template?: boolean } = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = pgAdminUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  if (opts.template) await cloneTemplateDatabase(admin, inject('pgTemplate'), name);
  else await adminQuery(admin, `CREATE DATABASE ${name}`);
  return {
    url: databaseUrl(admin, name),
    drop: () => adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A fresh, migrated database on the Postgres server, its own per call (see TestDbOptions). */
export async function openPgTestDb(opts: TestDbOptions = {}): Promise<TestDb> {
  const migrated = opts.migrate !== false;
  const { url, drop } = await createPgDatabase('levqor_t', { template: migrated && opts.template !== false });
  // A copy of the template is already migrated: migrate() then only checks it is current.
  const db = await openDatabase(
    { DATABASE_URL: url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: opts.poolMax ?? 10, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
    { migrate: migrated },
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

/** A fresh, migrated embedded database in memory (every call migrates: there is no template). */
export async function openPgliteTestDb(opts: TestDbOptions = {}): Promise<TestDb> {
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
 * afterAll (with `perTest`, a new one per test: beforeEach/afterEach, after `beforeClose`).
 * Read `db` and `url` inside tests (or later hooks), not while the block is defined.
 */
export function useTestDb(
  open: () => Promise<TestDb> = openPgTestDb,
  opts: { perTest?: boolean; beforeClose?: () => Promise<void> } = {},
): TestDb {
  let current: TestDb | undefined;
  (opts.perTest ? beforeEach : beforeAll)(async () => {
    current = await open();
  });
  (opts.perTest ? afterEach : afterAll)(async () => {
    await opts.beforeClose?.();
    await current?.close();
    current = undefined;
  });
  const opened = (): TestDb => {
    if (!current) throw new Error('the test database opens in a before hook: use it inside a test or a later hook');
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
