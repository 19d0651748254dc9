import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';

export interface TenantRow {
  id: string;
  name: string;
  timezone: string;
  created_at: number;
}

/** Creates a tenant; a taken name is a conflict. */
export async function createTenant(db: Queryable, name: string, timezone = 'UTC'): Promise<TenantRow> {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) {
    throw new AppError('bad_input', `tenant name "${name}": use lowercase letters, digits, "_" and "-" (at most 63)`);
  }
  const { rows } = await db.query<TenantRow>(
    `INSERT INTO tenants (name, timezone) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING
     RETURNING id, name, timezone, created_at`,
    [name, timezone],
  );
  if (!rows[0]) throw new AppError('conflict', `tenant "${name}" already exists`);
  return rows[0];
}

/** All tenants by name. */
export async function listTenants(db: Queryable): Promise<TenantRow[]> {
  const { rows } = await db.query<TenantRow>('SELECT id, name, timezone, created_at FROM tenants ORDER BY name');
  return rows;
}

/** Finds a tenant by name or id. */
export async function findTenant(db: Queryable, nameOrId: string): Promise<TenantRow | undefined> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(nameOrId);
  const { rows } = await db.query<TenantRow>(
    `SELECT id, name, timezone, created_at FROM tenants WHERE ${isUuid ? 'id = $1::uuid' : 'name = $1'}`,
    [nameOrId],
  );
  return rows[0];
}

/**
 * Picks the tenant a command acts on: the one named, else the only one there is.
 */
export async function resolveTenant(db: Queryable, nameOrId: string | undefined): Promise<TenantRow> {
  if (nameOrId) {
    const t = await findTenant(db, nameOrId);
    if (!t) throw new AppError('not_found', `tenant "${nameOrId}" not found (levqor tenant list shows them)`);
    return t;
  }
  const all = await listTenants(db);
  if (all.length === 1 && all[0]) return all[0];
  if (all.length === 0) throw new AppError('not_found', 'no tenant exists yet: create one with `levqor tenant create NAME`');
  throw new AppError('bad_input', `several tenants exist (${all.map((t) => t.name).join(', ')}): pass --tenant NAME or set LEVQOR_TENANT`);
}
