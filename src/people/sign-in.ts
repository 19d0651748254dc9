// Who is signing in to the console with OpenID Connect: the person linked to the subject
// (`oidc:<sub>`), else the person with the provider-verified email, who is then linked (and the
// link recorded in audit_log). A person belongs to one tenant; an identity that matches people in
// several tenants signs in to none until the browser names one (the sign-in page's choice).
import type { OidcClaims } from '../auth/oidc-client.js';
import type { Db, Queryable } from '../db/types.js';
import { isRole, type Role } from './roles.js';
import { linkIdentity } from './service.js';

/** A person as sign-in finds them, with their tenant's name. */
export interface SignInPerson {
  id: string;
  tenant_id: string;
  tenant_name: string;
  handle: string;
  display_name: string;
  role: Role;
}

export type SignInMatch =
  | { kind: 'person'; person: SignInPerson; linkedByEmail: boolean }
  | { kind: 'unknown' }
  /** The identity matches people in these tenants (names): the browser must choose one. */
  | { kind: 'several'; tenants: string[] }
  /** The verified email is a person's who is already linked to another subject. */
  | { kind: 'other_subject'; person: SignInPerson };

/** Who links identities at sign-in (linked_by, and the audit actor). */
export const SIGN_IN_LINKER = 'levqor:oidc-sign-in';

const PERSON_COLUMNS = 'p.id, p.tenant_id, t.name AS tenant_name, p.handle, p.display_name, p.role';

async function peopleBySubject(db: Queryable, identity: string, tenant: string | undefined): Promise<SignInPerson[]> {
  const { rows } = await db.query<SignInPerson>(
    `SELECT ${PERSON_COLUMNS} FROM person_identities i
     JOIN people p ON p.id = i.person_id JOIN tenants t ON t.id = p.tenant_id
     WHERE i.identity = $1 AND ($2::text IS NULL OR t.name = $2) ORDER BY t.name`,
    [identity, tenant ?? null],
  );
  return rows;
}

async function peopleByEmail(db: Queryable, email: string, tenant: string | undefined): Promise<(SignInPerson & { subjects: number })[]> {
  const { rows } = await db.query<SignInPerson & { subjects: number }>(
    `SELECT ${PERSON_COLUMNS},
            (SELECT count(*)::int FROM person_identities o WHERE o.person_id = p.id AND o.identity LIKE 'oidc:%') AS subjects
     FROM people p JOIN tenants t ON t.id = p.tenant_id
     WHERE p.email = $1 AND ($2::text IS NULL OR t.name = $2) ORDER BY t.name`,
    [email, tenant ?? null],
  );
  return rows;
}

/** The person these verified claims sign in as (in `tenant`, when the browser chose one). */
export async function matchSignIn(db: Db, claims: OidcClaims, tenant?: string): Promise<SignInMatch> {
  const identity = `oidc:${claims.sub}`;
  const linked = (await peopleBySubject(db, identity, tenant)).filter((p) => isRole(p.role));
  if (linked.length > 1) return { kind: 'several', tenants: linked.map((p) => p.tenant_name) };
  if (linked[0]) return { kind: 'person', person: linked[0], linkedByEmail: false };
  if (!claims.email || !claims.emailVerified) return { kind: 'unknown' };
  const byEmail = await peopleByEmail(db, claims.email, tenant);
  if (byEmail.length > 1) return { kind: 'several', tenants: byEmail.map((p) => p.tenant_name) };
  const found = byEmail[0];
  if (!found) return { kind: 'unknown' };
  const { subjects, ...person } = found;
  if (subjects > 0) return { kind: 'other_subject', person };
  await db.transaction((tx) =>
    linkIdentity(tx, person.tenant_id, person.handle, { identity, slackTeamId: null }, SIGN_IN_LINKER, 'person.autolinked', {
      email: claims.email,
      via: 'verified email at console sign-in',
    }),
  );
  return { kind: 'person', person, linkedByEmail: true };
}
