import type { Queryable } from './types.js';

/** The database's clock, in epoch seconds: the one clock every replica agrees on. */
export async function dbNow(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ now: number }>('SELECT extract(epoch FROM now())::float8 AS now');
  return rows[0]?.now ?? 0;
}
