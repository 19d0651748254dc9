import { insertAudit } from '../audit/queries.js';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { secretRefNames } from '../workflows/secret-refs.js';
import type { WorkflowSpec } from '../workflows/schema.js';
import { inlineCredentialProblems, inlineCredentials } from './inline.js';
import type { SecretStore } from './store.js';

/** Who applies and how the face spells the override, for messages and the audit entry. */
export interface ApplyCredentialOptions {
  tenant: { id: string; name: string };
  actor: string;
  /** `--allow-inline-credentials` (CLI), `?allow_inline_credentials=true` (API). */
  allowInline: boolean;
  overrideHint: string;
  /** Validate only (`--dry-run`): an override is not recorded, nothing is written. */
  dryRun?: boolean;
}

/**
 * Checks workflows before they are written, in the caller's transaction: every
 * `{{secrets.NAME}}` must be set for the tenant, and no header or URL may hold a literal
 * credential unless the override is given, which is recorded in audit_log (fields, never values).
 */
export async function checkWorkflowCredentials(
  tx: Queryable,
  store: Pick<SecretStore, 'missing'>,
  specs: readonly WorkflowSpec[],
  opts: ApplyCredentialOptions,
): Promise<void> {
  const problems: string[] = [];
  const overridden: { workflow: string; fields: string[] }[] = [];
  for (const spec of specs) {
    for (const name of await store.missing(tx, opts.tenant.id, secretRefNames(spec.steps)))
      problems.push(`${spec.name}: secret ${name} is not set for tenant ${opts.tenant.name}: levqor secret set ${name}`);
    const inline = inlineCredentials(spec.name, spec.steps);
    if (inline.length === 0) continue;
    if (opts.allowInline) overridden.push({ workflow: spec.name, fields: inline.map((c) => c.field) });
    else problems.push(...inlineCredentialProblems(spec.name, inline, opts.overrideHint));
  }
  if (problems.length > 0) throw new AppError('bad_input', `nothing was written:\n  ${problems.join('\n  ')}`, problems);
  if (opts.dryRun) return;
  for (const o of overridden) {
    await insertAudit(tx, {
      tenant_id: opts.tenant.id,
      actor: opts.actor,
      action: 'workflow.inline_credentials_allowed',
      subject: `workflow:${o.workflow}`,
      detail: { workflow: o.workflow, fields: o.fields },
    });
  }
}
