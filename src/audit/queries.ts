// The audit log: append-only (a trigger refuses UPDATE and DELETE), one row per Class B change
// and per human decision. Below the ledger and the engine: both write to it, inside the
// transaction of the change they record.
import type { Queryable } from '../db/types.js';

/** An entry to append: who did what to which subject. */
export interface NewAuditEntry {
  tenant_id: string;
  /** "<source>:<identity>" of whoever acted ("run:<id>" for a workflow step, "levqor:expiry" for the system). */
  actor: string;
  action: string;
  /** What it was done to: "workflow:<id>", "approval:<id>". */
  subject: string;
  detail?: Record<string, unknown>;
}

export interface AuditRow {
  /** The entry's sequence number, as text (bigint). */
  id: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  created_at: number;
}

/** Appends to the audit log (in the caller's transaction, with the change it records). */
export async function insertAudit(tx: Queryable, entry: NewAuditEntry): Promise<void> {
  await tx.query('INSERT INTO audit_log (tenant_id, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5::jsonb)', [
    entry.tenant_id,
    entry.actor,
    entry.action,
    entry.subject,
    JSON.stringify(entry.detail ?? {}),
  ]);
}

/** A tenant's audit entries, newest first, before an entry id when one is given (the next page). */
export async function listAudit(db: Queryable, tenantId: string, limit: number, before?: number): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::text AS id, actor, action, subject, detail, created_at FROM audit_log
     WHERE tenant_id = $1 AND ($2::bigint IS NULL OR audit_log.id < $2) ORDER BY audit_log.id DESC LIMIT $3`,
    [tenantId, before ?? null, limit],
  );
  return rows;
}
