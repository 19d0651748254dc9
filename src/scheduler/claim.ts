import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { claimSlots, type ClaimedSlot, type ScheduleAdvance, type ScheduledRun } from '../runs/claim-queries.js';
import type { NewEvent, RunRow } from '../runs/types.js';
import type { WorkflowRow } from '../workflows/queries.js';
import { scheduleConfigSchema, type ScheduleConfig } from '../workflows/schema.js';
import { planDueSlots } from '../workflows/schedule.js';
import { lockDueWorkflows } from './queries.js';

/**
 * Validated schedules by their JSON text. Validating one checks its time zone by building an
 * Intl.DateTimeFormat (~0.1 ms here) when it names one, and its cron; the
 * result depends on the text alone, and most workflows share a few schedules. Bounded: cleared
 * when full.
 */
const parsedSchedules = new Map<string, ScheduleConfig>();
const PARSED_SCHEDULES_MAX = 1000;

function parseSchedule(config: unknown): ScheduleConfig {
  const key = JSON.stringify(config);
  let schedule = parsedSchedules.get(key);
  if (!schedule) {
    schedule = Object.freeze(scheduleConfigSchema.parse(config));
    if (parsedSchedules.size >= PARSED_SCHEDULES_MAX) parsedSchedules.clear();
    parsedSchedules.set(key, schedule);
  }
  return schedule;
}

/** A run this process just claimed, with the definition it runs. */
export interface ClaimedRun {
  workflow: WorkflowRow;
  run: RunRow;
  /** Set for a run of a batch claim: it has no row until it is written (see src/runs/claim-queries.ts). */
  slot?: ClaimedSlot;
}

interface ClaimResult {
  claimed: ClaimedRun[];
  /** Workflows locked by this claim (due slots handled, whether they ran or not). */
  workflows: number;
  /** Slots dropped by catch-up or overlap policies. */
  skipped: number;
  /** The database's now() of this claim, or null when nothing was due. */
  now: number | null;
  /** The batch claim's id, when it claimed any run. */
  claimId: string | null;
}

/**
 * Claims up to `limit` due workflows in one transaction: row locks (SKIP LOCKED) keep
 * replicas apart, the slot compare-and-set and UNIQUE(workflow_id, scheduled_for) are
 * the last guards. One claim row for the batch, the schedule advances and events are
 * written in one statement; the runs are written when they end (or must be seen sooner).
 */
export async function claimDueWorkflows(
  tx: Queryable,
  opts: { owner: string; leaseSeconds: number; limit: number; dueBefore: number | null },
): Promise<ClaimResult> {
  const rows = await lockDueWorkflows(tx, opts.limit, opts.dueBefore);
  if (rows.length === 0) return { claimed: [], workflows: 0, skipped: 0, now: null, claimId: null };
  const now = rows[0]?.now ?? 0;
  const runs: ScheduledRun[] = [];
  const advances: ScheduleAdvance[] = [];
  const events: NewEvent[] = [];
  const byRun = new Map<string, { workflow: WorkflowRow; run: ScheduledRun }>();
  let skipped = 0;
  for (const row of rows) {
    const { busy: _busy, now: _now, ...workflow } = row;
    const due = row.next_run_at as number;
    const schedule = parseSchedule(row.schedule_config);
    const plan = planDueSlots(schedule, due, now);
    let slots = plan.run;
    skipped += plan.skipped;
    const skipEvent = (reason: string, count: number) =>
      events.push({
        tenant_id: row.tenant_id,
        run_id: null,
        workflow_id: row.id,
        type: 'slot_skipped',
        payload: { reason, count, due },
        created_at: now,
      });
    if (plan.skipped > 0) skipEvent(`catch_up: ${schedule.catch_up}`, plan.skipped);
    if (row.busy && schedule.overlap === 'skip' && slots.length > 0) {
      skipEvent('overlap: the previous run is still in progress', slots.length);
      skipped += slots.length;
      slots = [];
    }
    for (const slot of slots) {
      const run: ScheduledRun = {
        id: randomUUID(),
        tenant_id: row.tenant_id,
        workflow_id: row.id,
        scheduled_for: slot,
      };
      runs.push(run);
      byRun.set(run.id, { workflow, run });
    }
    advances.push({ id: row.id, due, next: plan.nextRunAt, last: slots.length > 0 ? now : null });
  }
  // The claim row, skipped-slot events and schedule advances: one statement.
  const claimId = randomUUID();
  const inserted = await claimSlots(tx, { id: claimId, now, owner: opts.owner, leaseSeconds: opts.leaseSeconds, runs, advances, events });
  const claimed: ClaimedRun[] = [];
  for (const id of inserted) {
    const entry = byRun.get(id);
    if (!entry) continue;
    const { workflow, run } = entry;
    claimed.push({
      workflow,
      run: {
        id: run.id,
        tenant_id: run.tenant_id,
        workflow_id: run.workflow_id,
        status: 'running',
        trigger: 'schedule',
        scheduled_for: run.scheduled_for,
        started_at: now,
        finished_at: null,
        attempt: 1,
        step_index: 0,
        context: {},
        error: null,
        lease_owner: opts.owner,
        lease_expires_at: now + opts.leaseSeconds,
        started_by: null,
      },
      slot: { claimId, startedAt: now, written: false },
    });
  }
  claimed.sort((a, b) => (a.run.scheduled_for ?? 0) - (b.run.scheduled_for ?? 0));
  return { claimed, workflows: rows.length, skipped, now, claimId: claimed.length > 0 ? claimId : null };
}
