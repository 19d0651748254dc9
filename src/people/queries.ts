import type { Queryable } from '../db/types.js';
import type { Role } from './roles.js';

// The people capability's SQL: a tenant's directory, the identities linked to each person,
// the directory settings, and the sessions a role change ends.

/** A person as stored. */
export interface PersonRow {
  id: string;
  handle: string;
  display_name: string;
  email: string | null;
  role: Role;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

/** One identity linked to a person. */
export interface IdentityRow {
  identity: string;
  slack_team_id: string | null;
  linked_by: string;
  linked_at: number;
}

/** A person with their linked identities. */
export type Person = PersonRow & { identities: IdentityRow[] };

const PERSON_COLUMNS = 'p.id, p.handle, p.display_name, p.email, p.role, p.created_at, p.updated_at, p.updated_by';
const WITH_IDENTITIES = `SELECT ${PERSON_COLUMNS},
    coalesce((SELECT jsonb_agg(jsonb_build_object('identity', i.identity, 'slack_team_id', i.slack_team_id,
       'linked_by', i.linked_by, 'linked_at', i.linked_at) ORDER BY i.identity)
     FROM person_identities i WHERE i.person_id = p.id), '[]'::jsonb) AS identities
  FROM people p`;

/** A tenant's people with their identities, by handle. */
export async function listPeople(db: Queryable, tenantId: string): Promise<Person[]> {
  const { rows } = await db.query<Person>(`${WITH_IDENTITIES} WHERE p.tenant_id = $1 ORDER BY p.handle`, [tenantId]);
  return rows;
}

/** One person of a tenant by handle, with identities. */
export async function getPerson(db: Queryable, tenantId: string, handle: string): Promise<Person | undefined> {
  const { rows } = await db.query<Person>(`${WITH_IDENTITIES} WHERE p.tenant_id = $1 AND p.handle = $2`, [tenantId, handle]);
  return rows[0];
}

/** Adds a person; undefined when the handle (or the email) is taken in the tenant. */
export async function insertPerson(
  db: Queryable,
  tenantId: string,
  p: Pick<PersonRow, 'handle' | 'display_name' | 'email' | 'role'>,
  by: string,
): Promise<PersonRow | undefined> {
  const { rows } = await db.query<PersonRow>(
    `INSERT INTO people AS p (tenant_id, handle, display_name, email, role, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING ${PERSON_COLUMNS}`,
    [tenantId, p.handle, p.display_name, p.email, p.role, by],
  );
  return rows[0];
}

/** Changes a person's name, email or role; the row before and after (undefined when there is no such person). */
export async function updatePerson(
  db: Queryable,
  tenantId: string,
  handle: string,
  p: Partial<Pick<PersonRow, 'display_name' | 'email' | 'role'>>,
  by: string,
): Promise<{ before: PersonRow; after: PersonRow } | undefined> {
  const { rows } = await db.query<PersonRow & { old_role: Role; old_name: string; old_email: string | null }>(
    `UPDATE people p SET display_name = coalesce($3, p.display_name),
       email = CASE WHEN $4::boolean THEN $5 ELSE p.email END, role = coalesce($6, p.role),
       updated_by = $7, updated_at = extract(epoch FROM now())
     FROM people o WHERE o.id = p.id AND p.tenant_id = $1 AND p.handle = $2
     RETURNING ${PERSON_COLUMNS}, o.role AS old_role, o.display_name AS old_name, o.email AS old_email`,
    [tenantId, handle, p.display_name ?? null, p.email !== undefined, p.email ?? null, p.role ?? null, by],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { old_role, old_name, old_email, ...after } = row;
  return { before: { ...after, role: old_role, display_name: old_name, email: old_email }, after };
}

/** Removes a person (their identities and sessions go with them); false when there was none. */
export async function deletePerson(db: Queryable, tenantId: string, handle: string): Promise<boolean> {
  const res = await db.query('DELETE FROM people WHERE tenant_id = $1 AND handle = $2', [tenantId, handle]);
  return res.rowCount === 1;
}

/** Links an identity to a person; the handle of whoever already holds it when it is taken. */
export async function insertIdentity(
  db: Queryable,
  i: { tenantId: string; personId: string; identity: string; slackTeamId: string | null; by: string },
): Promise<{ linked: true } | { linked: false; holder: string }> {
  const res = await db.query(
    `INSERT INTO person_identities (tenant_id, person_id, identity, slack_team_id, linked_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, identity) DO NOTHING`,
    [i.tenantId, i.personId, i.identity, i.slackTeamId, i.by],
  );
  if (res.rowCount === 1) return { linked: true };
  const holder = await personForIdentity(db, i.tenantId, i.identity);
  return { linked: false, holder: holder?.handle ?? '?' };
}

/** Unlinks an identity from a person; false when it was not linked to them. */
export async function deleteIdentity(db: Queryable, tenantId: string, personId: string, identity: string): Promise<boolean> {
  const res = await db.query('DELETE FROM person_identities WHERE tenant_id = $1 AND person_id = $2 AND identity = $3', [
    tenantId,
    personId,
    identity,
  ]);
  return res.rowCount === 1;
}

/** The person an identity is linked to in a tenant. */
export async function personForIdentity(db: Queryable, tenantId: string, identity: string): Promise<PersonRow | undefined> {
  const { rows } = await db.query<PersonRow>(
    `SELECT ${PERSON_COLUMNS} FROM person_identities i JOIN people p ON p.id = i.person_id WHERE i.tenant_id = $1 AND i.identity = $2`,
    [tenantId, identity],
  );
  return rows[0];
}

/** The person of a tenant with this (lowercased) email. */
export async function personByEmail(db: Queryable, tenantId: string, email: string): Promise<PersonRow | undefined> {
  const { rows } = await db.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.tenant_id = $1 AND p.email = $2`, [
    tenantId,
    email.toLowerCase(),
  ]);
  return rows[0];
}

/** Each person's handle, display name and linked identities: what a notifier expands person:<handle> with. */
export async function peopleIdentities(
  db: Queryable,
  tenantId: string,
): Promise<Record<string, { display_name: string; identities: string[] }>> {
  const { rows } = await db.query<{ handle: string; display_name: string; identities: string[] }>(
    `SELECT p.handle, p.display_name,
       coalesce(array_agg(i.identity ORDER BY i.identity) FILTER (WHERE i.identity IS NOT NULL), '{}') AS identities
     FROM people p LEFT JOIN person_identities i ON i.person_id = p.id WHERE p.tenant_id = $1 GROUP BY p.id`,
    [tenantId],
  );
  return Object.fromEntries(rows.map((r) => [r.handle, { display_name: r.display_name, identities: r.identities }]));
}

/** Display names of a tenant's people by handle (for showing who decided). */
export async function displayNames(db: Queryable, tenantId: string, handles: readonly string[]): Promise<Record<string, string>> {
  if (handles.length === 0) return {};
  const { rows } = await db.query<{ handle: string; display_name: string }>(
    'SELECT handle, display_name FROM people WHERE tenant_id = $1 AND handle = ANY($2::text[])',
    [tenantId, [...new Set(handles)]],
  );
  return Object.fromEntries(rows.map((r) => [r.handle, r.display_name]));
}

/** Ends a person's live console sessions (a role change); how many. */
export async function revokePersonSessions(db: Queryable, personId: string): Promise<number> {
  const res = await db.query('UPDATE web_sessions SET revoked_at = extract(epoch FROM now()) WHERE person_id = $1 AND revoked_at IS NULL', [
    personId,
  ]);
  return res.rowCount ?? 0;
}

/** A tenant's directory settings (defaults when none are stored). */
export async function getPeopleSettings(db: Queryable, tenantId: string): Promise<{ slack_autolink: boolean }> {
  const { rows } = await db.query<{ slack_autolink: boolean }>('SELECT slack_autolink FROM people_settings WHERE tenant_id = $1', [
    tenantId,
  ]);
  return rows[0] ?? { slack_autolink: false };
}

/** Turns Slack auto-linking by verified email on or off for a tenant. */
export async function setSlackAutolink(db: Queryable, tenantId: string, on: boolean, by: string): Promise<void> {
  await db.query(
    `INSERT INTO people_settings (tenant_id, slack_autolink, updated_by) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET slack_autolink = EXCLUDED.slack_autolink, updated_by = EXCLUDED.updated_by,
       updated_at = extract(epoch FROM now())`,
    [tenantId, on, by],
  );
}
