import { migrate } from '../db/migrate.js';
import { migrations } from '../db/migrations.generated.js';
import { createPgDb } from '../db/pg.js';
import type { Db } from '../db/types.js';
import { resolveTenant } from '../tenants/queries.js';
import { InputError } from './inputs.js';

/** Opens `database-url` (Postgres only: a runner has no embedded database worth keeping) and migrates it. */
export async function openActionDb(url: string): Promise<Db> {
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url))
    throw new InputError('database-url', 'must be a postgres:// or postgresql:// URL');
  const db = createPgDb({ connectionString: url, poolMax: 4, applicationName: 'levqor-action' });
  try {
    await db.query('SELECT 1');
    await migrate(db, migrations);
  } catch (err) {
    await db.close().catch(() => undefined);
    const host = new URL(url);
    throw new Error(`cannot use Postgres at ${host.hostname}:${host.port || 5432}${host.pathname}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return db;
}

/** The tenant the action works for: the `tenant` input, or the only tenant. */
export async function actionTenant(db: Db, name: string): Promise<{ id: string; name: string }> {
  return resolveTenant(db, name || undefined);
}
