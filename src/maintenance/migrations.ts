import { migrate, type MigrationResult } from '../db/migrate.js';
import { migrations } from '../db/migrations.generated.js';
import type { Db } from '../db/types.js';

/** Applies the migrations embedded at build time that the database lacks (`levqor migrate`). */
export function applyMigrations(db: Db): Promise<MigrationResult> {
  return migrate(db, migrations);
}
