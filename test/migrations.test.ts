import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { checksum, migrate, type Migration } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations.generated.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import { AppError } from '../src/lib/errors.js';
import { renderMigrationsModule } from '../scripts/embed-migrations.mjs';
import { BACKENDS, createPgDatabase, openPgTestDb, pgAdminUrl, useTestDb } from './helpers/db.js';
import { databaseUrl } from './helpers/pg-template.js';
import { describeSchema } from './helpers/schema.js';

const SCHEMA_FILE = new URL('./schema.sql', import.meta.url);

// The operations guide's maintenance SQL, verbatim.
const GUIDE_SQL = [
  'DELETE FROM workflow_runs WHERE started_at < (EXTRACT(EPOCH FROM NOW()) - 7776000);',
  'DELETE FROM workflow_events WHERE created_at < (EXTRACT(EPOCH FROM NOW()) - 7776000);',
  "DELETE FROM approval_queue WHERE status != 'pending' AND processed_at < (EXTRACT(EPOCH FROM NOW()) - 2592000);",
];

it('the embedded migrations module is generated from migrations/ (run npm run build)', async () => {
  const fresh = await renderMigrationsModule();
  const committed = await readFile(new URL('../src/db/migrations.generated.ts', import.meta.url), 'utf8');
  expect(committed).toBe(fresh);
});

describe.each(BACKENDS)('migrations on $name', ({ open }) => {
  // Migrated here, not copied from the run's template: these tests are about migrating.
  const t = useTestDb(() => open({ template: false }));

  it('leaves the schema equal to the committed dump test/schema.sql', async () => {
    const schema = await describeSchema(t.db);
    if (process.env.UPDATE_SCHEMA === '1') await writeFile(SCHEMA_FILE, schema);
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    expect(schema, 'migrations drifted from test/schema.sql: review, then UPDATE_SCHEMA=1 npx vitest run test/migrations.test.ts').toBe(
      committed,
    );
  });

  it('every foreign key has an index leading with its columns, so a delete never scans the referencing table', async () => {
    const { rows } = await t.db.query<{ fk: string }>(
      `SELECT c.conrelid::regclass || ' (' || string_agg(a.attname, ', ' ORDER BY k.n) || ') -> ' || c.confrelid::regclass AS fk
       FROM pg_constraint c
       CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
       WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
         AND NOT EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = c.conrelid
             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
       GROUP BY c.oid, c.conrelid, c.confrelid
       ORDER BY 1`,
    );
    expect(rows.map((r) => r.fk)).toEqual([]);
  });

  it('is idempotent and records each migration with its checksum', async () => {
    const again = await migrate(t.db, migrations);
    expect(again.applied).toEqual([]);
    const { rows } = await t.db.query<{ id: number; checksum: string }>('SELECT id, checksum FROM levqor_migrations ORDER BY id');
    expect(rows).toEqual(migrations.map((m) => ({ id: m.id, checksum: checksum(m.sql) })));
  });

  it('refuses an edited, already-applied migration and changes nothing', async () => {
    const edited: Migration[] = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    const extra: Migration = { id: 9999, name: 'later', sql: 'CREATE TABLE should_not_exist (id int);' };
    const err = await migrate(t.db, [...edited, extra]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('migration_drift');
    expect((err as AppError).message).toMatch(/0001_init was edited after it was applied/);
    const { rows } = await t.db.query("SELECT 1 FROM pg_tables WHERE tablename = 'should_not_exist'");
    expect(rows).toHaveLength(0);
  });

  it('rolls back a failing migration whole', async () => {
    const bad: Migration = { id: 9998, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' };
    await expect(migrate(t.db, [...migrations, bad])).rejects.toThrow(/migration 9998_broken failed/);
    const { rows } = await t.db.query("SELECT 1 FROM pg_tables WHERE tablename = 'half_done'");
    expect(rows).toHaveLength(0);
    const applied = await t.db.query('SELECT 1 FROM levqor_migrations WHERE id = 9998');
    expect(applied.rows).toHaveLength(0);
  });

  it("runs the guide's three maintenance statements verbatim, deleting exactly the old rows", async () => {
    const db = t.db;
    const {
      rows: [tenant],
    } = await db.query<{ id: string }>("INSERT INTO tenants (name) VALUES ('maint') RETURNING id");
    const {
      rows: [wf],
    } = await db.query<{ id: string }>(
      `INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'w', '[{"type":"noop"}]') RETURNING id`,
      [tenant?.id],
    );
    const day = 86_400;
    const now = Date.now() / 1000;
    const runAt = async (age: number) =>
      (
        await db.query<{ id: string }>(
          `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at) VALUES ($1, $2, 'succeeded', 'manual', $3) RETURNING id`,
          [tenant?.id, wf?.id, now - age],
        )
      ).rows[0]?.id;
    const oldRun = await runAt(91 * day);
    const newRun = await runAt(89 * day);
    await db.query(
      `INSERT INTO workflow_events (tenant_id, run_id, type, created_at) VALUES ($1, $2, 'old', $4), ($1, $3, 'new', $5), ($1, NULL, 'orphan-old', $4)`,
      [tenant?.id, oldRun, newRun, now - 91 * day, now - 89 * day],
    );
    const approval = (status: string, processedAge: number | null) =>
      db.query(
        `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, requested_at, expires_at, processed_at)
         VALUES ($1, 'http', 'C', $2::text, '{}', 'h', $2::text, 't', $3::float8, $3::float8 + 10, $4::float8)`,
        [tenant?.id, status, now - 40 * day, processedAge === null ? null : now - processedAge],
      );
    await approval('pending', null);
    await approval('approved', 31 * day);
    await approval('rejected', 29 * day);
    await approval('expired', 45 * day);
    for (const sql of GUIDE_SQL) await db.exec(sql);
    const runs = await db.query<{ id: string }>('SELECT id FROM workflow_runs');
    expect(runs.rows.map((r) => r.id)).toEqual([newRun]);
    const events = await db.query<{ type: string }>('SELECT type FROM workflow_events ORDER BY type');
    expect(events.rows.map((r) => r.type)).toEqual(['new']);
    const approvals = await db.query<{ status: string }>('SELECT status FROM approval_queue ORDER BY status');
    expect(approvals.rows.map((r) => r.status)).toEqual(['pending', 'rejected']);
  });

  it('keeps audit_log append-only', async () => {
    const {
      rows: [tenant],
    } = await t.db.query<{ id: string }>("INSERT INTO tenants (name) VALUES ('audited') RETURNING id");
    await t.db.query("INSERT INTO audit_log (tenant_id, actor, action, subject) VALUES ($1, 'a', 'b', 'c')", [tenant?.id]);
    await expect(t.db.query("UPDATE audit_log SET actor = 'x'")).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    const { rows } = await t.db.query<{ actor: string }>('SELECT actor FROM audit_log');
    expect(rows).toEqual([{ actor: 'a' }]);
  });
});

describe('migrations on Postgres under concurrency', () => {
  it('two processes migrating a fresh database at once both succeed, applying each migration once', async () => {
    const { url, drop } = await createPgDatabase();
    try {
      const cfg = { DATABASE_URL: url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 2, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 };
      const dbs = await Promise.all([
        openDatabase(cfg, { migrate: false }),
        openDatabase(cfg, { migrate: false }),
        openDatabase(cfg, { migrate: false }),
      ]);
      const results = await Promise.all(dbs.map((db) => migrate(db, migrations)));
      const appliedCount = results.reduce((n, r) => n + r.applied.length, 0);
      expect(appliedCount).toBe(migrations.length);
      const { rows } = await dbs[0].query<{ n: number }>('SELECT count(*)::int AS n FROM levqor_migrations');
      expect(rows[0]?.n).toBe(migrations.length);
      await Promise.all(dbs.map((db) => db.close()));
    } finally {
      await drop();
    }
  });
});

describe("the test run's template database (test/global-setup.ts)", () => {
  it('takes no connections, so no session can hold up a copy', async () => {
    const db = openDatabase(
      {
        DATABASE_URL: databaseUrl(pgAdminUrl(), inject('pgTemplate')),
        LEVQOR_DATA_DIR: MEMORY_DIR,
        LEVQOR_DB_POOL_MAX: 1,
        LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000,
      },
      { migrate: false },
    );
    await expect(db).rejects.toThrow(/not currently accepting connections/);
  });

  it('copies made at once are each migrated to the latest migration, and apart', async () => {
    const copies = await Promise.all([1, 2, 3, 4].map(() => openPgTestDb({ poolMax: 1 })));
    try {
      for (const [i, copy] of copies.entries()) {
        expect((await migrate(copy.db, migrations)).applied).toEqual([]);
        await copy.db.query('INSERT INTO tenants (name) VALUES ($1)', [`copy-${i}`]);
      }
      for (const [i, copy] of copies.entries()) {
        const { rows } = await copy.db.query<{ name: string }>('SELECT name FROM tenants');
        expect(rows).toEqual([{ name: `copy-${i}` }]);
      }
    } finally {
      await Promise.all(copies.map((c) => c.close()));
    }
  });
});
