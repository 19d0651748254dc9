import type { ImpactClass } from '../lib/impact.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type Decision = 'approve' | 'reject';

export interface ApprovalRow {
  id: string;
  tenant_id: string;
  run_id: string | null;
  workflow_id: string | null;
  step_index: number | null;
  action_type: string;
  impact_class: ImpactClass;
  summary: string;
  payload: Record<string, unknown>;
  payload_hash: string;
  status: ApprovalStatus;
  requested_by: string;
  requested_at: number;
  expires_at: number;
  processed_at: number | null;
  processed_by: string | null;
  reason: string | null;
  execution_started_at: number | null;
  execution_finished_at: number | null;
  required_approvals: number;
  approvals_count: number;
  /** When the last reminder went out. */
  reminded_at: number | null;
  previous_id: string | null;
  source: string;
  /** The route the request was made under (a snapshot), or null: the tenant policy alone decides who may decide. */
  route: RouteSnapshot | null;
  /** How many of the route's stages are eligible (1: the first). */
  stage: number;
  reminders_sent: number;
}

/** One stage of an approval route: who becomes eligible, and how long after the request. */
export interface RouteStage {
  name: string;
  /** Identities or group:NAME entries (the policy's groups). */
  approvers: string[];
  after_seconds: number;
}

/** What a request keeps of its route. */
export interface RouteSnapshot {
  stages: RouteStage[];
  /** A reminder every so often; null: none. */
  remind_every_seconds: number | null;
  /** A reminder at this fraction of the lifetime; null: none. */
  remind_at_fraction: number | null;
}

/** A tenant's route for an action type ("*": any without its own). */
export interface ApprovalRoute extends RouteSnapshot {
  action_type: string;
  updated_at: number;
  updated_by: string;
}

/** A tenant's approval rules (defaults when none are stored). */
export interface ApprovalPolicy {
  approvers: string[];
  groups: Record<string, string[]>;
  required_approvals: number;
  allow_self_approval: boolean;
  ttl_seconds: number;
}

export const DEFAULT_POLICY: ApprovalPolicy = {
  approvers: [],
  groups: {},
  required_approvals: 1,
  allow_self_approval: false,
  ttl_seconds: 86_400,
};
