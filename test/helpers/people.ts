import type { Db } from '../../src/db/types.js';

// People rows written with plain SQL (the directory's own commands live in the people capability).

/** Adds a person to a tenant; returns their id. */
export async function addPerson(
  db: Db,
  tenantId: string,
  p: { handle: string; display_name?: string; email?: string; role?: 'viewer' | 'approver' | 'admin' },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO people (tenant_id, handle, display_name, email, role) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [tenantId, p.handle, p.display_name ?? p.handle, p.email ?? null, p.role ?? 'approver'],
  );
  return rows[0]?.id ?? '';
}

/** Links a channel identity ("oidc:<sub>", "slack:U1" …) to a person. */
export async function linkIdentity(db: Db, tenantId: string, personId: string, identity: string): Promise<void> {
  await db.query('INSERT INTO person_identities (tenant_id, person_id, identity, linked_by) VALUES ($1, $2, $3, $4)', [
    tenantId,
    personId,
    identity,
    'test',
  ]);
}
