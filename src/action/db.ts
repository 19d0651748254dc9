import { openDatabase } from '../db/open.js';
import type { Db } from '../db/types.js';
import { resolveTenant } from '../tenants/queries.js';
import { inputError, INPUTS } from './inputs.js';

/** Opens `database-url` (Postgres only: a runner has no embedded database worth keeping) and migrates it. */
export async function openActionDb(url: string): Promise<Db> {
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url))
    throw inputError(INPUTS.databaseUrl, 'must be a postgres:// or postgresql:// URL');
  return openDatabase(
    { DATABASE_URL: url, LEVQOR_DATA_DIR: '', LEVQOR_DB_POOL_MAX: 4, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
    { applicationName: 'levqor-action' },
  );
}

/** The tenant the action works for: the `tenant` input, or the only tenant. */
export async function actionTenant(db: Db, name: string): Promise<{ id: string; name: string }> {
  return resolveTenant(db, name || undefined);
}
