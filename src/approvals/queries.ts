import { createHash } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { canonicalJson } from '../workflows/templates.js';
import type { ImpactClass } from '../workflows/schema.js';
import type { ApprovalRow, ApprovalStatus } from './types.js';

const COLUMNS = `id, tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
  status, requested_by, requested_at, expires_at, processed_at, processed_by, reason, execution_started_at, execution_finished_at`;

/** Channel on which new requests and decisions are announced (the row is the record; this is the nudge). */
export const APPROVALS_CHANNEL = 'levqor_approvals';

/** The hash an approval is bound to: the exact payload, whatever its key order. */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

export interface NewApproval {
  tenant_id: string;
  run_id: string | null;
  workflow_id: string | null;
  step_index: number | null;
  action_type: string;
  impact_class: ImpactClass;
  summary: string;
  payload: Record<string, unknown>;
  requested_by: string;
  ttl_seconds: number;
}

/** Records a request for a human decision and announces it. */
export async function insertApproval(tx: Queryable, a: NewApproval): Promise<ApprovalRow> {
  const { rows } = await tx.query<ApprovalRow>(
    `INSERT INTO approval_queue (tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload,
       payload_hash, requested_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, extract(epoch FROM now()) + $11)
     RETURNING ${COLUMNS}`,
    [a.tenant_id, a.run_id, a.workflow_id, a.step_index, a.action_type, a.impact_class, a.summary,
      JSON.stringify(a.payload), payloadHash(a.payload), a.requested_by, a.ttl_seconds],
  );
  const row = rows[0] as ApprovalRow;
  await tx.query('SELECT pg_notify($1, $2)', [APPROVALS_CHANNEL, JSON.stringify({ event: 'requested', id: row.id, tenant_id: row.tenant_id })]);
  return row;
}

/** One request, scoped to a tenant when one is given. */
export async function getApproval(db: Queryable, id: string, tenantId?: string): Promise<ApprovalRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM approval_queue WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`,
    [id, tenantId ?? null],
  );
  return rows[0];
}

/** The newest request a run made for a step. */
export async function latestApprovalForStep(db: Queryable, runId: string, stepIndex: number): Promise<ApprovalRow | undefined> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM approval_queue WHERE run_id = $1 AND step_index = $2 ORDER BY requested_at DESC, id LIMIT 1`,
    [runId, stepIndex],
  );
  return rows[0];
}

/** Requests of a tenant in one status, oldest first. */
export async function listApprovals(db: Queryable, tenantId: string, status: ApprovalStatus, limit: number): Promise<ApprovalRow[]> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM approval_queue WHERE tenant_id = $1 AND status = $2 ORDER BY requested_at, id LIMIT $3`,
    [tenantId, status, limit],
  );
  return rows;
}

/**
 * The decision itself: one conditional UPDATE, so of any number of concurrent deciders
 * exactly one wins. Returns the decided row, or undefined when it was no longer pending.
 */
export async function decidePending(
  tx: Queryable,
  id: string,
  status: 'approved' | 'rejected' | 'expired',
  actor: string,
  reason: string | null,
): Promise<ApprovalRow | undefined> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_queue SET status = $2, processed_at = extract(epoch FROM now()), processed_by = $3, reason = $4
     WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
    [id, status, actor, reason],
  );
  const row = rows[0];
  if (row) await tx.query('SELECT pg_notify($1, $2)', [APPROVALS_CHANNEL, JSON.stringify({ event: status, id, tenant_id: row.tenant_id })]);
  return row;
}

/** Claims the one execution an approval allows; false when it was already claimed. */
export async function claimExecution(tx: Queryable, id: string): Promise<boolean> {
  const res = await tx.query(
    `UPDATE approval_queue SET execution_started_at = extract(epoch FROM now())
     WHERE id = $1 AND status = 'approved' AND execution_started_at IS NULL`,
    [id],
  );
  return res.rowCount === 1;
}

/** Marks the approved action as done. */
export async function finishExecution(tx: Queryable, id: string): Promise<void> {
  await tx.query('UPDATE approval_queue SET execution_finished_at = extract(epoch FROM now()) WHERE id = $1', [id]);
}

/** Expires every pending request past its time; returns them. */
export async function expireDue(tx: Queryable, limit = 500): Promise<ApprovalRow[]> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_queue SET status = 'expired', processed_at = extract(epoch FROM now()), processed_by = 'levqor:expiry',
       reason = 'no decision before ' || to_char(to_timestamp(expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
     WHERE id IN (SELECT id FROM approval_queue WHERE status = 'pending' AND expires_at <= extract(epoch FROM now())
                  ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit],
  );
  for (const row of rows) {
    await tx.query('SELECT pg_notify($1, $2)', [APPROVALS_CHANNEL, JSON.stringify({ event: 'expired', id: row.id, tenant_id: row.tenant_id })]);
  }
  return rows;
}

/** Appends to the audit log. */
export async function insertAudit(
  tx: Queryable,
  entry: { tenant_id: string; actor: string; action: string; subject: string; detail?: Record<string, unknown> },
): Promise<void> {
  await tx.query('INSERT INTO audit_log (tenant_id, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5::jsonb)', [
    entry.tenant_id, entry.actor, entry.action, entry.subject, JSON.stringify(entry.detail ?? {}),
  ]);
}
