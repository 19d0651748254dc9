import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { writeClaimedRun, type ClaimedSlot } from '../runs/claim-queries.js';
import { appendTimeline, insertEvents, type RunFinish } from '../runs/lifecycle-queries.js';
import type { NewEvent, RunContext, RunRow, TimelineEntry } from '../runs/types.js';
import type { ImpactClass } from '../lib/impact.js';
import type { EnginePorts } from './ports.js';
import type { WorkflowRow } from './queries.js';
import type { Step } from './schema.js';
import type { StepServices } from './steps/run-step.js';

export interface ExecutorDeps extends EnginePorts {
  db: Db;
  /** This process's lease-owner id: every write to a run checks it still holds the run. */
  owner: string;
  services: StepServices;
  /** Epoch seconds; events carry the time they happened, not the time they were flushed. */
  clock: () => number;
  random: () => number;
  /** Aborted on shutdown: Class A/B steps stop and the run is released to another scheduler. */
  signal: AbortSignal;
  log: Logger;
}

/** Where executing a run got to. Finished runs are written by the caller, in batches. */
export type RunOutcome =
  | { kind: 'finished'; finish: RunFinish; events: NewEvent[] }
  | { kind: 'parked'; approvalId: string }
  | { kind: 'released'; events: NewEvent[]; timeline: TimelineEntry[] }
  | { kind: 'lost' };

/** Thrown inside a transaction when another scheduler took the run over: rolls the write back. */
export class LeaseLostError extends AppError {
  constructor() {
    super('conflict', 'the run lease was taken over by another scheduler');
  }
}

/** One run in progress: its definition, its context and the events not yet written. */
export interface RunState {
  deps: ExecutorDeps;
  wf: WorkflowRow;
  run: RunRow;
  ctx: Required<Pick<RunContext, 'steps' | 'vars'>>;
  /** Not yet written to workflow_events (see keptInLedger). */
  events: NewEvent[];
  /** Not yet appended to the run's own timeline. */
  timeline: TimelineEntry[];
  /** The time of the last event pushed: each next one is later, so a merged timeline keeps their order. */
  lastAt: number;
  /** The tenant's internal Slack channels (slack_message steps to them are Class B). */
  internalChannels: readonly string[];
  /** A run of a batch claim: its row is written by the first transaction that writes the run (see bufferedTransaction). */
  slot?: ClaimedSlot;
}

/**
 * A claimed run still going after this many seconds gets its `running` row (see
 * src/runs/claim-queries.ts): `runs show` and the console see it as before. Shorter runs are
 * written once, when they end, and are shown from their claim meanwhile.
 */
export const RUNNING_ROW_AFTER_SECONDS = 1;

const TIMELINE_TYPES: ReadonlySet<string> = new Set(['run_started', 'step_started', 'step_finished', 'run_finished']);

/**
 * Whether an event goes to workflow_events, which an auditor or operator queries on its own:
 * Class B/C steps, approvals, errors, retries. A run's start, its Class A steps and its end
 * stay on the run's row, written with it.
 */
export function keptInLedger(type: string, impactClass: ImpactClass | null): boolean {
  return impactClass === 'B' || impactClass === 'C' || !TIMELINE_TYPES.has(type);
}

/** Buffers an event with the time it happened (a step's events carry the step's impact class). */
export function pushEvent(
  s: RunState,
  type: string,
  stepIndex: number | null,
  payload: Record<string, unknown> = {},
  impactClass: ImpactClass | null = null,
): void {
  // Strictly increasing within a run: two events of one millisecond still read in order.
  const createdAt = Math.max(s.deps.clock(), s.lastAt + 0.000001);
  s.lastAt = createdAt;
  if (keptInLedger(type, impactClass)) {
    s.events.push({
      tenant_id: s.run.tenant_id,
      run_id: s.run.id,
      workflow_id: s.wf.id,
      type,
      step_index: stepIndex,
      payload,
      created_at: createdAt,
    });
  } else {
    s.timeline.push({ type, step_index: stepIndex, payload, created_at: createdAt });
  }
}

/** The outcome of a run that ended, with its closing event. */
export function finishedOutcome(
  s: RunState,
  status: 'succeeded' | 'failed' | 'rejected' | 'expired',
  stepIndex: number,
  error: string | null,
): RunOutcome {
  pushEvent(s, 'run_finished', null, { status, ...(error ? { error } : {}) });
  return {
    kind: 'finished',
    events: s.events,
    finish: { id: s.run.id, status, step_index: stepIndex, context: s.ctx, error, finished_at: s.lastAt, timeline: s.timeline },
  };
}

/** "step 2 (http "notify")", for messages. */
export function stepLabel(step: Step, index: number): string {
  return `step ${index + 1} (${step.type}${step.name ? ` "${step.name}"` : ''})`;
}

/** Keeps a step's output for later templates: steps.<name or index>, and transform's vars. */
export function saveOutput(s: Pick<RunState, 'ctx'>, step: Step, index: number, output: unknown): void {
  s.ctx.steps[step.name ?? String(index)] = output ?? null;
  if (step.type === 'transform' && output && typeof output === 'object') Object.assign(s.ctx.vars, output);
}

/**
 * Runs fn in one transaction that writes what the run has buffered. What fn takes from the
 * buffers, pushes to them or saves into the context is undone when the transaction rolls back,
 * so that a retried attempt, or the failure recorded after it, loses no event and keeps no
 * output of a step that did not commit.
 */
export async function bufferedTransaction<T>(s: RunState, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const events = s.events.slice();
  const timeline = s.timeline.slice();
  const steps = { ...s.ctx.steps };
  const vars = { ...s.ctx.vars };
  const slot = s.slot?.written === false ? s.slot : undefined;
  try {
    const result = await s.deps.db.transaction(async (tx) => {
      // A claimed run's row comes first: what fn writes refers to it.
      if (slot && !(await writeClaimedRun(tx, s.deps.owner, s.run, slot.claimId))) throw new LeaseLostError();
      return fn(tx);
    });
    if (slot) slot.written = true;
    return result;
  } catch (err) {
    s.events.splice(0, s.events.length, ...events);
    s.timeline.splice(0, s.timeline.length, ...timeline);
    s.ctx.steps = steps;
    s.ctx.vars = vars;
    throw err;
  }
}

/** Writes what the run has buffered (its timeline so far, its events), and its row first if it has none yet. */
export async function writeRunSoFar(s: RunState): Promise<void> {
  await bufferedTransaction(s, async (tx) => {
    if (!(await appendTimeline(tx, s.deps.owner, s.run.id, s.timeline.splice(0)))) throw new LeaseLostError();
    await insertEvents(tx, s.events.splice(0));
  });
}

/** Writes a claimed run's row now if it has none yet (it is about to wait, or it has lasted). */
export async function writeUnwrittenRun(s: RunState): Promise<void> {
  if (s.slot?.written === false) await writeRunSoFar(s);
}

/** A bounded preview of an output for the event log. */
export function summarizeOutput(output: unknown): unknown {
  const text = JSON.stringify(output ?? null);
  return text.length <= 2048 ? (output ?? null) : `${text.slice(0, 2048)}…`;
}
