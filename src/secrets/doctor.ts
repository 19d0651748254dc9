import { listApprovals } from '../approvals/queries.js';
import type { Queryable } from '../db/types.js';
import { listWorkflows } from '../workflows/queries.js';
import { inlineCredentials } from './inline.js';

/** Something that still carries a literal credential: its kind, its name or id, and the fields (never the values). */
export interface InlineFinding {
  kind: 'workflow' | 'approval';
  subject: string;
  fields: string[];
}

/** `levqor doctor secrets`: the tenant's workflows and pending approvals with inline credentials. */
export async function findInlineCredentials(db: Queryable, tenantId: string): Promise<InlineFinding[]> {
  const out: InlineFinding[] = [];
  for (const wf of await listWorkflows(db, tenantId)) {
    const found = inlineCredentials(wf.name, wf.steps);
    if (found.length) out.push({ kind: 'workflow', subject: wf.name, fields: found.map((f) => f.field) });
  }
  for (const a of await listApprovals(db, tenantId, 'pending', 10_000)) {
    // A payload is one step: report its fields without the steps[0] prefix.
    const found = inlineCredentials(a.action_type, [a.payload]);
    if (found.length) out.push({ kind: 'approval', subject: a.id, fields: found.map((f) => f.field.replace(/^steps\[0\]\./, 'payload.')) });
  }
  return out;
}
