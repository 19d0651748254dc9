import type { Queryable } from '../db/types.js';
import type { Sealed } from './crypto.js';

/** A stored secret as the database keeps it: ciphertext only. */
export interface SecretRow extends Sealed {
  tenant_id: string;
  name: string;
  version: number;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

/** What may be shown of a stored secret: never its value or ciphertext. */
export interface SecretMeta {
  name: string;
  version: number;
  key_id: string;
  updated_at: number;
  updated_by: string | null;
}

/** Stores (or replaces, bumping its version) a tenant's secret. */
export async function upsertSecret(db: Queryable, tenantId: string, name: string, sealed: Sealed, actor: string): Promise<SecretMeta> {
  const { rows } = await db.query<SecretMeta>(
    `INSERT INTO secrets (tenant_id, name, ciphertext, wrapped_key, key_id, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, wrapped_key = EXCLUDED.wrapped_key,
       key_id = EXCLUDED.key_id, version = secrets.version + 1, updated_at = extract(epoch FROM now()), updated_by = EXCLUDED.updated_by
     RETURNING name, version, key_id, updated_at, updated_by`,
    [tenantId, name, sealed.ciphertext, sealed.wrapped_key, sealed.key_id, actor],
  );
  return rows[0] as SecretMeta;
}

/** A tenant's stored secrets, by name: metadata only. */
export async function listSecretMeta(db: Queryable, tenantId: string): Promise<SecretMeta[]> {
  const { rows } = await db.query<SecretMeta>(
    'SELECT name, version, key_id, updated_at, updated_by FROM secrets WHERE tenant_id = $1 ORDER BY name',
    [tenantId],
  );
  return rows;
}

/** The sealed rows of some of a tenant's secrets. */
export async function getSecretRows(db: Queryable, tenantId: string, names: readonly string[]): Promise<SecretRow[]> {
  const { rows } = await db.query<SecretRow>('SELECT * FROM secrets WHERE tenant_id = $1 AND name = ANY($2::text[])', [
    tenantId,
    [...names],
  ]);
  return rows;
}

/** Deletes a tenant's secret; false when there was none. */
export async function deleteSecret(db: Queryable, tenantId: string, name: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM secrets WHERE tenant_id = $1 AND name = $2 RETURNING name', [tenantId, name]);
  return rows.length > 0;
}

/** Rows (every tenant's) still wrapped by another key than keyId, locked for re-wrapping, a batch at a time. */
export async function lockRowsToRewrap(tx: Queryable, keyId: string, limit: number): Promise<SecretRow[]> {
  const { rows } = await tx.query<SecretRow>(
    'SELECT * FROM secrets WHERE key_id <> $1 ORDER BY tenant_id, name LIMIT $2 FOR UPDATE SKIP LOCKED',
    [keyId, limit],
  );
  return rows;
}

/** Saves a row's re-wrapped data key. */
export async function saveRewrapped(
  tx: Queryable,
  row: Pick<SecretRow, 'tenant_id' | 'name'>,
  wrapped: { wrapped_key: string; key_id: string },
): Promise<void> {
  await tx.query('UPDATE secrets SET wrapped_key = $3, key_id = $4 WHERE tenant_id = $1 AND name = $2', [
    row.tenant_id,
    row.name,
    wrapped.wrapped_key,
    wrapped.key_id,
  ]);
}
