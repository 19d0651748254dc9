// The API's reply bodies as zod schemas: route specs name them per status, handlers are typed
// by them (a handler whose value does not fit fails to compile), and the OpenAPI document is
// generated from them. One place per reply; a new route adds its own beside the others.
import { z } from 'zod';
import type { LinkedRun } from '../approvals/rerequest-step.js';
import type { ApprovalRow, RouteSnapshot, RouteStage } from '../approvals/types.js';
import type { BulkResult } from '../approvals/service.js';
import type { ApprovalOutcome } from '../checks/gate.js';
import type { AuditRow } from '../audit/queries.js';
import type { AlertRow } from '../health/queries.js';
import type { HealthSummary } from '../health/summary.js';
import { IMPACT_CLASSES } from '../lib/impact.js';
import type { TenantAnalytics } from '../reports/analytics.js';
import type { EventRow, RunRow } from '../runs/types.js';
import type { SecretListing } from '../secrets/store.js';
import type { WorkflowRow } from '../workflows/queries.js';
import type { Person } from '../people/queries.js';
import { ROLES } from '../people/roles.js';
import { scheduleConfigSchema, stepSchema } from '../workflows/schema.js';

const epoch = z.number().describe('epoch seconds');
const uuid = z.string().describe('UUID');
const json = z.record(z.string(), z.unknown());

/** Every failure: a stable code, a message for people, and the bad fields of a 400. */
export const errorReply = z.object({
  error: z.string().describe('bad_input, unauthorized, forbidden, not_found, conflict, payload_too_large, rate_limited, …'),
  message: z.string(),
  issues: z.array(z.string()).optional().describe('one "where.field: problem" line per bad field'),
});

export const approvalReply = z.object({
  id: uuid,
  tenant_id: uuid,
  run_id: uuid.nullable(),
  workflow_id: uuid.nullable(),
  step_index: z.number().int().nullable(),
  action_type: z.string(),
  impact_class: z.enum(IMPACT_CLASSES),
  summary: z.string(),
  payload: json,
  payload_hash: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired']),
  requested_by: z.string(),
  requested_at: epoch,
  expires_at: epoch,
  processed_at: epoch.nullable(),
  processed_by: z.string().nullable(),
  reason: z.string().nullable(),
  execution_started_at: epoch.nullable(),
  execution_finished_at: epoch.nullable(),
  required_approvals: z.number().int(),
  approvals_count: z.number().int(),
  reminded_at: epoch.nullable(),
  previous_id: uuid.nullable(),
  source: z.string(),
  route: z
    .object({
      stages: z.array(
        z.object({
          name: z.string(),
          approvers: z.array(z.string()).describe('identities or group:NAME entries'),
          after_seconds: z.number().int().describe('eligible this long after the request'),
        }),
      ),
      remind_every_seconds: z.number().int().nullable(),
      remind_at_fraction: z.number().nullable(),
    })
    .nullable()
    .describe('the escalation route the request was made under (a snapshot); null: the tenant policy alone decides'),
  stage: z.number().int().describe("how many of the route's stages are eligible (1: the first)"),
  reminders_sent: z.number().int(),
});

export const approvalPageReply = z.object({ approvals: z.array(approvalReply), next_cursor: z.string().nullable() });

export const approvalWithVotesReply = approvalReply.extend({
  votes: z.array(
    z.object({
      actor: z.string().describe('the channel identity that voted (slack:U…, token:NAME, cli:USER …)'),
      person: z.string().nullable().describe('the handle of the person behind it, when the directory knows them'),
      person_name: z.string().nullable().describe("that person's display name"),
      channel: z.string(),
      vote: z.string(),
      reason: z.string().nullable(),
      created_at: epoch,
    }),
  ),
});

const decisionOutcome = z.enum(['approved', 'rejected', 'vote_recorded']);

export const decisionReply = z.object({ outcome: decisionOutcome, approval: approvalReply });

export const bulkDecisionReply = z.object({
  decision: z.enum(['approve', 'reject']),
  decided: z.number().int().describe('requests decided or voted on'),
  failed: z.number().int(),
  results: z.array(
    z.object({
      id: z.string(),
      status: z.number().int().describe('what the single decide route would have answered: 200, 403, 404, 409'),
      outcome: decisionOutcome.optional(),
      approval: approvalReply.optional(),
      error: z.string().optional().describe('forbidden, not_found, conflict …'),
      message: z.string().optional(),
    }),
  ),
});

/** The safety gate's answer for a pull request's critical-file changes. */
export const gateOutcomeReply = z.object({
  state: z.enum(['approved', 'pending', 'rejected', 'expired', 'missing']),
  by: z.string().optional().describe('who approved or rejected'),
  detail: z.string().describe('what to tell the author: where to approve, who rejected and why'),
});

export const linkedRunReply = z.object({
  status: z.literal('queued'),
  run_id: uuid,
  workflow: z.string(),
  step_index: z.number().int(),
  previous_id: uuid,
  previous_run_id: uuid,
});

export const workflowReply = z.object({
  id: uuid,
  tenant_id: uuid,
  name: z.string(),
  description: z.string().nullable(),
  steps: z.array(stepSchema),
  impact_class: z.enum(IMPACT_CLASSES).nullable(),
  max_run_attempts: z.number().int(),
  is_active: z.boolean(),
  schedule_config: scheduleConfigSchema,
  last_run_at: epoch.nullable(),
  next_run_at: epoch.nullable(),
  created_at: epoch,
  updated_at: epoch,
  updated_by: z.string().nullable(),
});

export const workflowListReply = z.object({ workflows: z.array(workflowReply) });

export const appliedWorkflowReply = z.object({ outcome: z.enum(['created', 'updated', 'unchanged']), workflow: workflowReply });

export const runStatusSchema = z.enum(['queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled']);

export const runReply = z.object({
  id: uuid,
  tenant_id: uuid,
  workflow_id: uuid,
  status: runStatusSchema,
  trigger: z.enum(['schedule', 'manual', 'api']),
  scheduled_for: epoch.nullable(),
  started_at: epoch,
  finished_at: epoch.nullable(),
  attempt: z.number().int(),
  step_index: z.number().int(),
  // Free-form beyond these keys: the engine may keep more there.
  context: z
    .object({
      steps: json.optional(),
      vars: json.optional(),
      rerequest_of: z.object({ approval_id: uuid, run_id: uuid, step_index: z.number().int() }).optional(),
    })
    .meta({ description: "the run's step results and variables", additionalProperties: true }),
  error: z.string().nullable(),
  lease_owner: z.string().nullable(),
  lease_expires_at: epoch.nullable(),
  started_by: z.string().nullable(),
});

export const runListReply = z.object({ runs: z.array(runReply.extend({ workflow_name: z.string() })) });

export const runWithEventsReply = runReply.extend({
  events: z.array(
    z.object({
      id: z.string(),
      run_id: uuid.nullable(),
      workflow_id: uuid.nullable(),
      type: z.string(),
      step_index: z.number().int().nullable(),
      payload: json,
      created_at: epoch,
    }),
  ),
});

export const queuedRunReply = z.object({ run_id: uuid, status: z.literal('queued') });

export const auditPageReply = z.object({
  entries: z.array(
    z.object({
      id: z.string().describe('sequence number (bigint as text)'),
      actor: z.string(),
      action: z.string(),
      subject: z.string(),
      detail: json,
      created_at: epoch,
    }),
  ),
  next_before: z.string().nullable().describe('pass as ?before= for the next page; null on the last'),
});

const analyticsRow = z.object({
  runs: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  success_rate: z.number().nullable(),
  failure_rate: z.number().nullable(),
  p50_duration_seconds: z.number().nullable(),
  p95_duration_seconds: z.number().nullable(),
  approvals_requested: z.number().int(),
  approvals_approved: z.number().int(),
  approvals_rejected: z.number().int(),
  approvals_expired: z.number().int(),
  approvals_pending: z.number().int(),
  median_decision_seconds: z.number().nullable(),
});

export const analyticsReply = z.object({
  tenant: z.string(),
  window: z.object({ days: z.number().int(), from: epoch, to: epoch }),
  totals: analyticsRow,
  workflows: z.array(analyticsRow.extend({ workflow: z.string() })),
});

export const eventsAcceptedReply = z.object({ accepted: z.number().int(), duplicates: z.number().int() });

const queues = z.object({
  pending_approvals: z.number().int(),
  due_unclaimed_workflows: z.number().int(),
  queued_runs: z.number().int(),
  running_runs: z.number().int(),
  waiting_approval_runs: z.number().int(),
});

export const healthSummaryReply = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  reasons: z.array(z.string()),
  checked_at: z.string().describe('ISO 8601'),
  uptime: z.object({ process_seconds: z.number(), deployment_seconds: z.number().nullable() }),
  database: z.object({ ok: z.boolean(), latency_ms: z.number().nullable(), error: z.string().optional() }),
  queues: queues.nullable(),
  error_rates: z
    .array(
      z.object({
        window: z.enum(['1h', '24h']),
        total: z.number().int(),
        failed: z.number().int(),
        rate: z.number().nullable(),
        target: z.number(),
        ok: z.boolean(),
      }),
    )
    .nullable(),
  scheduler: z
    .object({
      last_tick_at: epoch.nullable(),
      age_seconds: z.number().nullable(),
      stale: z.boolean(),
      instances: z.array(
        z.object({
          id: z.string(),
          hostname: z.string(),
          pid: z.number().int(),
          started_at: epoch,
          last_tick_at: epoch,
          stopped_at: epoch.nullable(),
          age_seconds: z.number(),
        }),
      ),
    })
    .nullable(),
});

export const scalingReply = z.object({
  recommendedReplicas: z.number().int(),
  decision: z.enum(['scale_down', 'maintain', 'scale_up', 'emergency_scale']),
  level: z.enum(['low', 'normal', 'high', 'critical']),
  reasons: z.array(z.string()),
  inputs: z.object({
    requestsPerMinute: z.number(),
    p95Ms: z.number().nullable(),
    queueDepth: z.number().int(),
    currentReplicas: z.number().int(),
  }),
  decided_at: z.string().describe('ISO 8601'),
});

export const alertsReply = z.object({
  alerts: z.array(
    z.object({
      id: z.string(),
      tenant_id: uuid,
      kind: z.enum(['scheduler_stale', 'approval_queue_depth', 'failure_rate']),
      status: z.enum(['firing', 'resolved']),
      message: z.string().describe('what the rule measured when the alert fired'),
      detail: json,
      fired_at: epoch,
      resolved_at: epoch.nullable(),
      resolved_message: z.string().nullable().describe('what the rule measured when the alert resolved (null while firing)'),
      resolved_detail: json.nullable(),
    }),
  ),
});

const secretListing = z.object({
  name: z.string(),
  provider: z.enum(['db', 'file', 'env']),
  version: z.number().int().nullable(),
  key_id: z.string().nullable(),
  updated_at: epoch.nullable(),
  updated_by: z.string().nullable(),
});

/** Secret names and where their values come from: never a value. */
export const secretListReply = z.object({ secrets: z.array(secretListing) });

export const secretStoredReply = z.object({
  secret: secretListing.extend({ provider: z.literal('db'), version: z.number().int(), key_id: z.string(), updated_at: epoch }),
});

export const secretRemovedReply = z.object({ name: z.string(), removed: z.literal(true) });

export const livenessReply = z.object({ ok: z.literal(true), uptime_seconds: z.number().int() });
export const readyReply = z.object({ ok: z.literal(true) });
export const notReadyReply = z.object({ ok: z.literal(false), error: z.string() });
/** The Prometheus text exposition format. */
export const metricsReply = z.string().meta({ contentMediaType: 'text/plain' });
/** The OpenAPI document itself (described, not restated). */
export const openApiReply = json.describe('an OpenAPI 3.1 document');

// Each reply names exactly the fields of the row its handler sends: a column added to a row type
// without its reply here (or the reverse) fails to compile. The handlers' return types check the
// values; test/openapi-contract.test.ts checks the real replies of a running server.
type SameFields<A, B> = [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never] ? [] : [mismatch: never];
function sameFields<A, B>(...ok: SameFields<A, B>): void {
  void ok;
}
type Out<S extends z.ZodType> = z.output<S>;
sameFields<Out<typeof approvalReply>, ApprovalRow>();
sameFields<Out<typeof workflowReply>, WorkflowRow>();
sameFields<Out<typeof runReply>, RunRow>();
sameFields<Out<typeof runWithEventsReply>['events'][number], EventRow>();
sameFields<Out<typeof linkedRunReply>, LinkedRun & { status: 'queued' }>();
sameFields<Out<typeof auditPageReply>['entries'][number], AuditRow>();
sameFields<Out<typeof analyticsReply>, TenantAnalytics>();
sameFields<Out<typeof analyticsReply>['totals'], TenantAnalytics['totals']>();
sameFields<Out<typeof healthSummaryReply>, HealthSummary>();
sameFields<NonNullable<Out<typeof healthSummaryReply>['scheduler']>, NonNullable<HealthSummary['scheduler']>>();
sameFields<Out<typeof alertsReply>['alerts'][number], AlertRow>();
sameFields<NonNullable<Out<typeof approvalReply>['route']>, RouteSnapshot>();
sameFields<NonNullable<Out<typeof approvalReply>['route']>['stages'][number], RouteStage>();
sameFields<Out<typeof gateOutcomeReply>, ApprovalOutcome>();
sameFields<Out<typeof secretListReply>['secrets'][number], SecretListing>();
// A bulk result is either kind of BulkResult (and the status the single route would answer).
type KeysOfUnion<T> = T extends unknown ? keyof T : never;
sameFields<Out<typeof bulkDecisionReply>['results'][number], Record<KeysOfUnion<BulkResult> | 'status', unknown>>();

const personIdentity = z.object({
  identity: z.string().describe('slack:U…, github:login, oidc:subject, token:name, cli:user or email:address'),
  slack_team_id: z.string().nullable().describe('the Slack workspace of a slack: identity'),
  linked_by: z.string(),
  linked_at: epoch,
});
const person = z.object({
  id: z.string(),
  handle: z.string(),
  display_name: z.string(),
  email: z.string().nullable(),
  role: z.enum(ROLES),
  created_at: epoch,
  updated_at: epoch,
  updated_by: z.string().nullable(),
  identities: z.array(personIdentity),
});
export const personReply = z.object({ person });
export const peopleListReply = z.object({ people: z.array(person) });
export const personRemovedReply = z.object({ handle: z.string(), removed: z.literal(true) });
export const peopleSettingsReply = z.object({ slack_autolink: z.boolean() });
sameFields<Out<typeof personReply>['person'], Person>();
