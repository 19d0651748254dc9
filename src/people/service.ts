import { insertAudit } from '../audit/queries.js';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import {
  deleteIdentity,
  deletePerson,
  getPerson,
  insertIdentity,
  insertPerson,
  personByEmail,
  revokePersonSessions,
  setSlackAutolink,
  updatePerson,
  type Person,
  type PersonRow,
} from './queries.js';
import type { Role } from './roles.js';
import { linkOf, type PersonSpec } from './schema.js';

// The directory's changes: each one checked, written and recorded in audit_log in the caller's
// transaction, so a failure anywhere leaves nothing behind.

const audit = (tx: Queryable, tenantId: string, by: string, action: string, handle: string, detail: Record<string, unknown>) =>
  insertAudit(tx, { tenant_id: tenantId, actor: by, action, subject: `person:${handle}`, detail });

/** A tenant's person by handle, or not_found naming it. */
export async function requirePerson(db: Queryable, tenantId: string, handle: string): Promise<Person> {
  const person = await getPerson(db, tenantId, handle);
  if (!person) throw new AppError('not_found', `no person "${handle}" in this tenant (levqor people list)`);
  return person;
}

/** Adds a person (and any identities given); conflict when the handle or email is taken. */
export async function addPerson(tx: Queryable, tenantId: string, spec: PersonSpec, by: string): Promise<Person> {
  const email = spec.email ?? null;
  const row = await insertPerson(tx, tenantId, { handle: spec.handle, display_name: spec.display_name, email, role: spec.role }, by);
  if (!row) {
    const holder = email ? await personByEmail(tx, tenantId, email) : undefined;
    throw new AppError(
      'conflict',
      holder && holder.handle !== spec.handle
        ? `email ${email} already belongs to ${holder.handle}`
        : `a person with handle "${spec.handle}" already exists (levqor people edit ${spec.handle})`,
    );
  }
  await audit(tx, tenantId, by, 'person.added', row.handle, { display_name: row.display_name, email, role: row.role });
  for (const link of spec.identities ?? []) await linkIdentity(tx, tenantId, row.handle, linkOf(link), by);
  return requirePerson(tx, tenantId, row.handle);
}

/** Changes a person's name, email or role; a role change ends their console sessions. */
export async function editPerson(
  tx: Queryable,
  tenantId: string,
  handle: string,
  patch: { display_name?: string | undefined; email?: string | null | undefined; role?: Role | undefined },
  by: string,
): Promise<Person> {
  if (patch.email) {
    const holder = await personByEmail(tx, tenantId, patch.email);
    if (holder && holder.handle !== handle) throw new AppError('conflict', `email ${patch.email} already belongs to ${holder.handle}`);
  }
  const changed = await updatePerson(tx, tenantId, handle, patch, by);
  if (!changed) throw new AppError('not_found', `no person "${handle}" in this tenant (levqor people list)`);
  const { before, after } = changed;
  const diff = (['display_name', 'email', 'role'] as const).filter((k) => before[k] !== after[k]);
  if (diff.length > 0) {
    const sessionsEnded = before.role !== after.role ? await revokePersonSessions(tx, after.id) : 0;
    await audit(tx, tenantId, by, before.role !== after.role ? 'person.role_changed' : 'person.updated', handle, {
      ...Object.fromEntries(diff.map((k) => [k, { from: before[k], to: after[k] }])),
      ...(sessionsEnded ? { sessions_ended: sessionsEnded } : {}),
    });
  }
  return requirePerson(tx, tenantId, handle);
}

/** Removes a person: their identities and console sessions go too; votes keep the handle. */
export async function removePerson(tx: Queryable, tenantId: string, handle: string, by: string): Promise<void> {
  const person = await requirePerson(tx, tenantId, handle);
  await deletePerson(tx, tenantId, handle);
  await audit(tx, tenantId, by, 'person.removed', handle, { identities: person.identities.map((i) => i.identity) });
}

/** Links an identity to a person; conflict naming the holder when another person has it. */
export async function linkIdentity(
  tx: Queryable,
  tenantId: string,
  handle: string,
  link: { identity: string; slackTeamId: string | null },
  by: string,
  how: 'person.linked' | 'person.autolinked' = 'person.linked',
  detail: Record<string, unknown> = {},
): Promise<PersonRow> {
  const person = await requirePerson(tx, tenantId, handle);
  if (person.identities.some((i) => i.identity === link.identity)) return person;
  const result = await insertIdentity(tx, { tenantId, personId: person.id, ...link, by });
  if (!result.linked)
    throw new AppError(
      'conflict',
      `${link.identity} is already linked to ${result.holder} (levqor people unlink ${result.holder} ${link.identity} first)`,
    );
  const team = link.slackTeamId ? { slack_team_id: link.slackTeamId } : {};
  await audit(tx, tenantId, by, how, handle, { identity: link.identity, ...team, ...detail });
  return person;
}

/** Unlinks an identity from a person; not_found when it is not theirs. */
export async function unlinkIdentity(tx: Queryable, tenantId: string, handle: string, identity: string, by: string): Promise<void> {
  const person = await requirePerson(tx, tenantId, handle);
  if (!(await deleteIdentity(tx, tenantId, person.id, identity))) throw new AppError('not_found', `${identity} is not linked to ${handle}`);
  await audit(tx, tenantId, by, 'person.unlinked', handle, { identity });
}

/** What `people apply` did to each listed person. */
export interface ApplyOutcome {
  handle: string;
  outcome: 'created' | 'updated' | 'unchanged';
}

/**
 * People as code: each listed person is made to match the file (name, email, role and exactly
 * the identities listed); people the file does not list are left alone. The caller runs it in
 * one transaction, so any conflict writes nothing.
 */
export async function applyPeople(tx: Queryable, tenantId: string, specs: readonly PersonSpec[], by: string): Promise<ApplyOutcome[]> {
  const out: ApplyOutcome[] = [];
  // Unlink first, everyone: an identity may move from one listed person to another.
  const existing = new Map<string, Person>();
  for (const spec of specs) {
    const person = await getPerson(tx, tenantId, spec.handle);
    if (!person) continue;
    existing.set(spec.handle, person);
    const wanted = new Set((spec.identities ?? []).map((l) => linkOf(l).identity));
    for (const i of person.identities) if (!wanted.has(i.identity)) await unlinkIdentity(tx, tenantId, spec.handle, i.identity, by);
  }
  for (const spec of specs) {
    const before = existing.get(spec.handle);
    if (!before) {
      await addPerson(tx, tenantId, spec, by);
      out.push({ handle: spec.handle, outcome: 'created' });
      continue;
    }
    const email = spec.email ?? null;
    const same = before.display_name === spec.display_name && before.email === email && before.role === spec.role;
    if (!same) await editPerson(tx, tenantId, spec.handle, { display_name: spec.display_name, email, role: spec.role }, by);
    const had = new Set(before.identities.map((i) => i.identity));
    const links = (spec.identities ?? []).map(linkOf);
    for (const link of links) await linkIdentity(tx, tenantId, spec.handle, link, by);
    const linksChanged = links.some((l) => !had.has(l.identity)) || before.identities.length !== links.length;
    out.push({ handle: spec.handle, outcome: same && !linksChanged ? 'unchanged' : 'updated' });
  }
  return out;
}

/** Turns Slack auto-linking by verified email on or off, recorded in audit_log. */
export async function setAutolink(tx: Queryable, tenantId: string, on: boolean, by: string): Promise<void> {
  await setSlackAutolink(tx, tenantId, on, by);
  await insertAudit(tx, { tenant_id: tenantId, actor: by, action: 'people.settings', subject: 'people', detail: { slack_autolink: on } });
}
