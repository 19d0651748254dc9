import { insertAudit } from '../audit/queries.js';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';

/** A tenant's trust in a repository's workflows: whose OIDC tokens it accepts, for which action types. */
export interface TrustPolicy {
  id: string;
  tenant_id: string;
  repository: string;
  ref: string;
  environment: string | null;
  action_types: string[];
  created_at: number;
  created_by: string;
}

/** What `levqor github trust add` (and its API) is given. */
export interface TrustInput {
  repository: string;
  ref: string;
  environment?: string | undefined;
  actionTypes: readonly string[];
}

const REPOSITORY = /^[\w.-]+\/[\w.-]+$/;
const REF = /^refs\/[\w./*-]+$/;
const ACTION_TYPE = /^(\*|[a-z][\w.-]{0,99})$/;

/** Checks a policy before it is stored; every problem names its option. */
export function validateTrust(input: TrustInput): TrustInput {
  const problems: string[] = [];
  if (!REPOSITORY.test(input.repository)) problems.push(`--repo "${input.repository}": must be owner/repo`);
  if (!REF.test(input.ref))
    problems.push(`--ref "${input.ref}": must be a full ref such as refs/heads/main or refs/tags/v* (* matches any text)`);
  if (input.environment !== undefined && !/^[\w.-]{1,255}$/.test(input.environment))
    problems.push(`--environment "${input.environment}": letters, digits, ".", "_" and "-"`);
  if (input.actionTypes.length === 0) problems.push('--action-type: give at least one (e.g. deploy), or * for any');
  const bad = input.actionTypes.filter((t) => !ACTION_TYPE.test(t));
  if (bad.length)
    problems.push(`--action-type ${bad.map((b) => `"${b}"`).join(', ')}: lower-case names like deploy or deploy.critical_files, or *`);
  if (problems.length) throw new AppError('bad_input', problems.join('; '));
  return { ...input, repository: input.repository.toLowerCase() };
}

/** Whether a ref claim matches a policy's ref (exact, or a pattern where * matches any text). */
export function refMatches(pattern: string, ref: string): boolean {
  if (!pattern.includes('*')) return pattern === ref;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${source.join('.*')}$`).test(ref);
}

/** Whether a policy allows an action type. */
export function allowsActionType(types: readonly string[], actionType: string): boolean {
  return types.includes('*') || types.includes(actionType);
}

/** Stores a policy with its audit entry (run it in a transaction); a conflict when the tenant already trusts that repository, ref and environment. */
export async function addTrust(db: Queryable, tenantId: string, input: TrustInput, actor: string): Promise<TrustPolicy> {
  const t = validateTrust(input);
  const { rows } = await db.query<TrustPolicy>(
    `INSERT INTO github_trust (tenant_id, repository, ref, environment, action_types, created_by)
     VALUES ($1, $2, $3, $4, $5::text[], $6)
     ON CONFLICT (tenant_id, repository, ref, coalesce(environment, '')) DO NOTHING
     RETURNING id, tenant_id, repository, ref, environment, action_types, created_at, created_by`,
    [tenantId, t.repository, t.ref, t.environment ?? null, [...new Set(t.actionTypes)], actor],
  );
  const row = rows[0];
  if (!row)
    throw new AppError(
      'conflict',
      `${t.repository} at ${t.ref}${t.environment ? ` (environment ${t.environment})` : ''} is already trusted: levqor github trust rm it first`,
    );
  await insertAudit(db, {
    tenant_id: tenantId,
    actor,
    action: 'github.trust_added',
    subject: `github_trust:${row.id}`,
    detail: { repository: row.repository, ref: row.ref, environment: row.environment, action_types: row.action_types },
  });
  return row;
}

/** A tenant's policies, by repository and ref. */
export async function listTrust(db: Queryable, tenantId: string): Promise<TrustPolicy[]> {
  const { rows } = await db.query<TrustPolicy>(
    `SELECT id, tenant_id, repository, ref, environment, action_types, created_at, created_by
     FROM github_trust WHERE tenant_id = $1 ORDER BY repository, ref, environment NULLS FIRST`,
    [tenantId],
  );
  return rows;
}

/** Removes a tenant's policy by id with its audit entry (run it in a transaction); false when the tenant has none with that id. */
export async function removeTrust(db: Queryable, tenantId: string, id: string, actor: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('bad_input', `trust policy id "${id}": expected a uuid (levqor github trust list)`);
  const { rows } = await db.query<{ repository: string; ref: string }>(
    'DELETE FROM github_trust WHERE tenant_id = $1 AND id = $2 RETURNING repository, ref',
    [tenantId, id],
  );
  const removed = rows[0];
  if (!removed) return false;
  await insertAudit(db, { tenant_id: tenantId, actor, action: 'github.trust_removed', subject: `github_trust:${id}`, detail: removed });
  return true;
}

/** Every tenant's policies for one repository: the OIDC check runs before a tenant is known. */
export async function trustForRepository(db: Queryable, repository: string): Promise<TrustPolicy[]> {
  const { rows } = await db.query<TrustPolicy>(
    `SELECT id, tenant_id, repository, ref, environment, action_types, created_at, created_by
     FROM github_trust WHERE repository = $1 ORDER BY created_at, id`,
    [repository.toLowerCase()],
  );
  return rows;
}
