import { createHash } from 'node:crypto';
import { AppError } from '../lib/errors.js';
import type { Db, Queryable } from './types.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export interface MigrationResult {
  applied: string[];
  current: number;
}

// Any constant shared by every Levqor process; "levqor" as ASCII.
const MIGRATION_LOCK_KEY = 0x6c6576716f72;

/** sha256 of a migration's text: an edited, already-applied file no longer matches. */
export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

function label(m: { id: number; name: string }): string {
  return `${String(m.id).padStart(4, '0')}_${m.name}`;
}

/**
 * Applies pending migrations in order, each in its own transaction that first takes a
 * transaction-scoped advisory lock, so concurrent processes migrate one at a time. No session
 * state: it works the same through a transaction-mode pooler. Refuses edited applied migrations.
 */
export async function migrate(db: Db, migrations: readonly Migration[]): Promise<MigrationResult> {
  const done: string[] = [];
  for (;;) {
    const applied = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      return applyNext(tx, migrations);
    });
    if (!applied) break;
    done.push(applied);
  }
  return { applied: done, current: Math.max(0, ...migrations.map((m) => m.id)) };
}

/** Under the lock: checks the applied ones, then applies the first pending migration; its label, or undefined when none is left. */
async function applyNext(tx: Queryable, migrations: readonly Migration[]): Promise<string | undefined> {
  await tx.exec(`CREATE TABLE IF NOT EXISTS levqor_migrations (
    id integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at double precision NOT NULL DEFAULT extract(epoch FROM now())
  )`);
  const { rows } = await tx.query<{ id: number; name: string; checksum: string }>(
    'SELECT id, name, checksum FROM levqor_migrations ORDER BY id',
  );
  const known = new Map(migrations.map((m) => [m.id, m]));
  const drift: string[] = [];
  for (const row of rows) {
    const m = known.get(row.id);
    if (!m) drift.push(`${label(row)} is applied but unknown to this version of Levqor (is the database newer than the code?)`);
    else if (checksum(m.sql) !== row.checksum) drift.push(`${label(m)} was edited after it was applied (checksum differs)`);
  }
  if (drift.length > 0) {
    throw new AppError(
      'migration_drift',
      `refusing to migrate: ${drift.join('; ')}. Migrations are forward-only: add a new file instead.`,
      drift,
    );
  }
  const applied = new Set(rows.map((r) => r.id));
  const next = [...migrations].sort((a, b) => a.id - b.id).find((m) => !applied.has(m.id));
  if (!next) return undefined;
  try {
    await tx.exec(next.sql);
    await tx.query('INSERT INTO levqor_migrations (id, name, checksum) VALUES ($1, $2, $3)', [next.id, next.name, checksum(next.sql)]);
  } catch (err) {
    throw new AppError('migration_drift', `migration ${label(next)} failed: ${(err as Error).message}`, [], { cause: err });
  }
  return label(next);
}
