export type RunStatus = 'queued' | 'running' | 'waiting_approval' | 'succeeded' | 'failed' | 'rejected' | 'expired' | 'cancelled';
export type RunTrigger = 'schedule' | 'manual' | 'api';

export interface RunContext {
  steps?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  /**
   * Set on a run started to ask again for an ended run's rejected or expired approval: its
   * request at `step_index` links back to that approval. Dropped at the run's first write.
   */
  rerequest_of?: { approval_id: string; run_id: string; step_index: number };
}

export interface RunRow {
  id: string;
  tenant_id: string;
  workflow_id: string;
  status: RunStatus;
  trigger: RunTrigger;
  scheduled_for: number | null;
  started_at: number;
  finished_at: number | null;
  attempt: number;
  step_index: number;
  context: RunContext;
  error: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** Who started it by hand ("cli:alice", "token:ops"); null for scheduled runs. */
  started_by: string | null;
}

/**
 * One entry of a run's own timeline, kept on its row (workflow_runs.timeline): the run's start,
 * its Class A steps and its end. Everything else goes to workflow_events (see keptInLedger).
 */
export interface TimelineEntry {
  type: string;
  step_index: number | null;
  payload: Record<string, unknown>;
  created_at: number;
}

/** A workflow_events row not yet written. */
export interface NewEvent {
  tenant_id: string;
  run_id: string | null;
  workflow_id: string | null;
  type: string;
  step_index?: number | null;
  payload?: Record<string, unknown>;
  created_at: number;
}

export interface EventRow {
  id: string;
  run_id: string | null;
  workflow_id: string | null;
  type: string;
  step_index: number | null;
  payload: Record<string, unknown>;
  created_at: number;
}
