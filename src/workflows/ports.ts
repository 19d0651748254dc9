// The engine's gates, as ports: the executor knows no approval ledger, no audit table and no
// Slack settings. src/runtime.ts builds them (approvals/gate.ts, audit/queries.ts, slack/settings.ts);
// every port takes the connection or transaction to work in, so its writes commit with the
// run's own (a Class B step with its audit entry, a Class C request with the run's park).
import type { NewAuditEntry } from '../audit/queries.js';
import type { Queryable } from '../db/types.js';
import type { ImpactClass } from '../lib/impact.js';

/** Appends an audit entry in the caller's transaction: a Class B step's effect and its entry commit together. */
export type AuditRecorder = (tx: Queryable, entry: NewAuditEntry) => Promise<void>;

/** The tenant's internal Slack channels: a slack_message step to one of them stays inside the team (Class B). */
export type InternalChannelLookup = (db: Queryable, tenantId: string) => Promise<readonly string[]>;

/** A Class C step as a run reaches it: what a human approves is exactly `payload`. */
export interface CriticalStep {
  runId: string;
  stepIndex: number;
  payload: Record<string, unknown>;
}

/** What the ledger says about a Class C step. */
export type CriticalVerdict =
  /** Nobody was asked yet: the run records a request and parks. */
  | { kind: 'ask' }
  /** Asked, no decision yet: the run parks again. */
  | { kind: 'wait'; approvalId: string }
  /** The step may not run: rejected, expired, or its approval does not hold for this execution (failed). */
  | { kind: 'refuse'; approvalId: string; status: 'rejected' | 'expired' | 'failed'; error: string }
  /** Approved for exactly this payload and claimed for its one execution: run the step now. */
  | { kind: 'execute'; approvalId: string; approvedBy: string | null };

/** A request for a human decision on a Class C step. */
export interface CriticalRequest {
  tenant_id: string;
  run_id: string;
  workflow_id: string;
  step_index: number;
  action_type: string;
  impact_class: ImpactClass;
  summary: string;
  payload: Record<string, unknown>;
  /** Who the action is done for; they may not approve it themselves. */
  requested_by: string;
  /** The ended run's request this one asks again for (a re-request), if any. */
  previous_id?: string;
}

/** The critical-action gate: a Class C step runs only with a human's approval, and only once per approval. */
export interface CriticalGate {
  /** The ledger's verdict; an `execute` verdict has already claimed the approval's one execution. */
  check(db: Queryable, step: CriticalStep): Promise<CriticalVerdict>;
  /** Records a request in the caller's transaction (the run parks in the same one). */
  request(tx: Queryable, req: CriticalRequest): Promise<{ id: string; expires_at: number; summary: string }>;
  /** Marks an executed approval done, in the caller's transaction (with the run's checkpoint). */
  finish(tx: Queryable, approvalId: string): Promise<void>;
}

/**
 * The values of a tenant's `{{secrets.NAME}}` references, for one execution only: nothing the
 * engine writes may hold them. Throws an AppError naming a secret that is not set or cannot be
 * decrypted (the step then fails before anything is sent).
 */
export type SecretResolver = (db: Queryable, tenantId: string, names: readonly string[]) => Promise<ReadonlyMap<string, string>>;

/** The ports an executor is given. */
export interface EnginePorts {
  critical: CriticalGate;
  audit: AuditRecorder;
  internalChannels: InternalChannelLookup;
  secrets: SecretResolver;
}
