import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { peopleIdentities, personForIdentity, type PersonRow } from '../people/queries.js';
import { decisionProblem, namesPeople, type PeopleIdentities } from './policy.js';
import { getPolicy } from './queries.js';
import { DEFAULT_POLICY, type ApprovalPolicy, type ApprovalRow } from './types.js';

// People behind decisions: the deciding identity resolved to a person of the tenant's
// directory, and the checks that compare people (role, self-approval, a people policy).

/** A tenant's policy, with each person's linked identities when it names people (for notifiers). */
export async function loadPolicy(db: Queryable, tenantId: string): Promise<ApprovalPolicy & { people?: PeopleIdentities }> {
  const policy = (await getPolicy(db, tenantId)) ?? DEFAULT_POLICY;
  if (!namesPeople(policy) && !(await routesNamePeople(db, tenantId))) return policy;
  const people = await peopleIdentities(db, tenantId);
  return { ...policy, people: Object.fromEntries(Object.entries(people).map(([h, p]) => [h, p.identities])) };
}

async function routesNamePeople(db: Queryable, tenantId: string): Promise<boolean> {
  const { rows } = await db.query<{ named: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM approval_routes r, jsonb_array_elements(r.stages) s, jsonb_array_elements_text(s -> 'approvers') a
     WHERE r.tenant_id = $1 AND a LIKE 'person:%') AS named`,
    [tenantId],
  );
  return rows[0]?.named ?? false;
}

/**
 * The identities a request was made as: requested_by, and the GitHub actor of a run that asked
 * through the API with a machine token (request-approval records it as payload.github.actor).
 */
function requesters(approval: ApprovalRow): string[] {
  const github = (approval.payload as { github?: { actor?: unknown } }).github;
  const actor =
    typeof github?.actor === 'string' && /^[A-Za-z0-9][\w.-]{0,99}(\[bot\])?$/.test(github.actor) ? `github:${github.actor}` : undefined;
  return actor && actor !== approval.requested_by ? [approval.requested_by, actor] : [approval.requested_by];
}

/** Who decides: the person (when linked), or why the identity may not decide. */
export type DeciderCheck = { person: PersonRow | undefined; problem?: undefined } | { person?: PersonRow; problem: string };

/**
 * Whether `actor` may decide `approval`: a viewer may not; under a policy (or route) that names
 * people an identity linked to nobody may not; with self-approval off, the person behind the
 * request may not decide it through any of their identities; then the policy's own rules.
 * Tenants whose policies name no people and who link nobody see exactly the old rules.
 */
export async function checkDecider(db: Queryable, policy: ApprovalPolicy, approval: ApprovalRow, actor: string): Promise<DeciderCheck> {
  const person = await personForIdentity(db, approval.tenant_id, actor);
  if (!person && namesPeople(policy, approval.route))
    return {
      problem: `${actor} is not linked to a person of this tenant, and its approval policy names people: ask an admin to link you (levqor people link HANDLE ${actor}, or POST /api/people/HANDLE/identities)`,
    };
  if (person?.role === 'viewer')
    return { person, problem: `${person.handle} is a viewer in this tenant and cannot decide (an admin can make them an approver)` };
  if (person && !policy.allow_self_approval) {
    for (const requestedAs of requesters(approval)) {
      const requester = await personForIdentity(db, approval.tenant_id, requestedAs);
      if (requester?.id === person.id)
        return {
          person,
          problem: `${person.handle} requested this action (as ${requestedAs}) and cannot decide it as ${actor} (self-approval is off for this tenant)`,
        };
    }
  }
  const problem = decisionProblem(policy, approval, { actor, person: person?.handle });
  return problem ? { person, problem } : { person };
}

/** Why `actor` may not decide `approval` now (the policy loaded here), or undefined: for a face's early check. */
export async function decisionRefusal(db: Queryable, approval: ApprovalRow, actor: string): Promise<string | undefined> {
  return (await checkDecider(db, (await getPolicy(db, approval.tenant_id)) ?? DEFAULT_POLICY, approval, actor)).problem;
}

/** Refuses person:HANDLE entries naming nobody in the tenant's directory (a policy or route would lock them out). */
export async function assertPeopleExist(db: Queryable, tenantId: string, entries: readonly string[], where: string): Promise<void> {
  const handles = [...new Set(entries.filter((e) => e.startsWith('person:')).map((e) => e.slice(7)))];
  if (handles.length === 0) return;
  const known = new Set(Object.keys(await peopleIdentities(db, tenantId)));
  const missing = handles.filter((h) => !known.has(h));
  if (missing.length > 0) {
    const problems = missing.map((h) => `${where}: person:${h} is not in this tenant's directory (levqor people add ${h} --name …)`);
    throw new AppError('bad_input', problems.join('; '), problems);
  }
}
