import { AppError, errorMessage } from '../lib/errors.js';
import type { ClaimedSlot } from '../runs/claim-queries.js';
import { checkpointRun, insertEvents } from '../runs/lifecycle-queries.js';
import type { RunRow } from '../runs/types.js';
import { gateCriticalStep, recordCriticalOutcome } from './critical.js';
import { stepImpactClass } from './impact.js';
import {
  finishedOutcome as finished,
  bufferedTransaction,
  LeaseLostError,
  pushEvent as event,
  RUNNING_ROW_AFTER_SECONDS,
  saveOutput,
  stepLabel,
  summarizeOutput,
  type ExecutorDeps,
  type RunOutcome,
  type RunState,
  writeRunSoFar,
  writeUnwrittenRun,
} from './run-state.js';
import type { WorkflowRow } from './queries.js';
import { stepSchema, type Step } from './schema.js';
import { createScrubber, scrubValue, secretRefNames, substituteSecrets } from './secret-refs.js';
import { abortableDelay, backoffDelay, RetryableStepError, runStep, type StepEnv } from './steps/run-step.js';
import { renderTemplates, TemplateError, type TemplateScope } from './templates.js';

/** Runs fn with a per-step time limit, also ended by outer (shutdown) when given. */
async function withTimeout<T>(ms: number, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new RetryableStepError(`timed out after ${ms} ms`)), ms);
  const onOuter = () => ctrl.abort(outer?.reason);
  // An outer signal that is already aborted never fires again: pass it on now.
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  try {
    const aborted = new Promise<never>((_, reject) => {
      ctrl.signal.addEventListener('abort', () => reject(ctrl.signal.reason as Error), { once: true });
    });
    return await Promise.race([fn(ctrl.signal), aborted]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/** SQLSTATEs of a transaction Postgres rolled back that a new attempt can pass: serialization failure, deadlock. */
const ROLLED_BACK: ReadonlySet<string> = new Set(['40001', '40P01']);

/**
 * A Class B step's transaction that Postgres rolled back (nothing of it committed, its buffered
 * events put back) is retried like any retryable step failure.
 */
function retryRolledBack(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ROLLED_BACK.has(code)) {
    throw new RetryableStepError(`the transaction was rolled back (SQLSTATE ${code}: ${errorMessage(err)})`, { cause: err });
  }
  throw err;
}

/**
 * Runs one attempt-loop of a step: retries retryable failures with backoff and jitter.
 * Returns the step's output, or throws its last error.
 */
async function attemptStep(
  s: RunState,
  step: Step,
  index: number,
  once: (signal: AbortSignal) => Promise<unknown>,
  interruptible: boolean,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(step.timeout_ms, interruptible ? s.deps.signal : undefined, once);
    } catch (err) {
      if (s.deps.signal.aborted && interruptible) throw err;
      const retryable = err instanceof RetryableStepError;
      if (!retryable || attempt >= step.max_attempts) throw err;
      const delayMs = backoffDelay(step.backoff_ms, attempt, s.deps.random());
      event(s, 'step_retrying', index, { attempt, next_attempt_in_ms: delayMs, error: errorMessage(err) });
      // A run that retries is written (as running) before it waits.
      await writeUnwrittenRun(s);
      await abortableDelay(delayMs, s.deps.signal);
    }
  }
}

/**
 * Executes a claimed run from its checkpoint until it finishes, parks at a Class C step, or is
 * released. A run of a batch claim (`slot`) has no row until it needs one; `slot.written` says
 * whether it got one.
 */
export async function executeRun(deps: ExecutorDeps, wf: WorkflowRow, run: RunRow, slot?: ClaimedSlot): Promise<RunOutcome> {
  const s: RunState = {
    deps,
    wf,
    run,
    ctx: { steps: { ...(run.context.steps ?? {}) }, vars: { ...(run.context.vars ?? {}) } },
    events: [],
    timeline: [],
    lastAt: 0,
    slot,
    internalChannels: wf.steps.some((st) => st.type === 'slack_message') ? await deps.internalChannels(deps.db, run.tenant_id) : [],
  };
  const startedAt = deps.clock();
  for (let i = run.step_index; i < wf.steps.length; i++) {
    const step = wf.steps[i] as Step;
    if (deps.signal.aborted) return released(s);
    const scope: TemplateScope = {
      workflow: { id: wf.id, name: wf.name },
      run: { id: run.id, attempt: run.attempt, scheduled_for: run.scheduled_for, trigger: run.trigger },
      steps: s.ctx.steps,
      vars: s.ctx.vars,
    };
    // Before anything is requested or sent: a reference without a value fails the step here.
    const parsed = renderStep(step, scope);
    if ('error' in parsed) {
      const error = `${stepLabel(step, i)}: ${parsed.error}`;
      event(s, 'step_failed', i, { error, code: parsed.code });
      return finished(s, 'failed', i, error);
    }
    const rendered = parsed.step;
    const cls = stepImpactClass(step, wf.impact_class, s.internalChannels);
    event(s, 'step_started', i, { type: step.type, impact_class: cls, attempt: run.attempt }, cls);
    try {
      // A run that lasts is written (as running) and shown as today. Its own time counts, not its
      // wait behind its workflow's earlier slots in the batch (shown from the claim meanwhile).
      if (slot?.written === false && deps.clock() - startedAt >= RUNNING_ROW_AFTER_SECONDS) await writeRunSoFar(s);
      let output: unknown;
      if (cls === 'C') {
        const gate = await gateCriticalStep(s, rendered, i, cls);
        if (gate.kind !== 'execute') return gate.outcome;
        let failure: unknown;
        try {
          output = await attemptStep(
            s,
            rendered,
            i,
            (signal) => runResolved(s, rendered, stepEnv(s, deps.db, signal, gate.approvalId)),
            false,
          );
        } catch (err) {
          failure = err;
        }
        await recordCriticalOutcome(s, i, gate.approvalId, failure === undefined ? output : undefined, failure);
        if (failure !== undefined) throw failure as Error;
      } else if (cls === 'B') {
        output = await attemptStep(
          s,
          rendered,
          i,
          (signal) =>
            bufferedTransaction(s, async (tx) => {
              const out = await runResolved(s, rendered, stepEnv(s, tx, signal));
              if (rendered.type !== 'set_workflow_active') {
                await deps.audit(tx, {
                  tenant_id: run.tenant_id,
                  actor: `run:${run.id}`,
                  action: `step.${rendered.type}`,
                  subject: `workflow:${wf.id}`,
                  detail: { step_index: i },
                });
              }
              saveOutput(s, rendered, i, out);
              event(s, 'step_finished', i, { output: summarizeOutput(out) }, cls);
              if (!(await checkpointRun(tx, deps.owner, { id: run.id, stepIndex: i + 1, context: s.ctx, timeline: s.timeline.splice(0) })))
                throw new LeaseLostError();
              await insertEvents(tx, s.events.splice(0));
              return out;
            }).catch(retryRolledBack),
          true,
        );
        continue;
      } else {
        // A long wait should be visible while it lasts, not only when the run ends.
        if (rendered.type === 'delay' && rendered.ms >= 1000) await writeRunSoFar(s);
        output = await attemptStep(s, rendered, i, (signal) => runResolved(s, rendered, stepEnv(s, deps.db, signal)), true);
      }
      saveOutput(s, rendered, i, output);
      if (cls !== 'C') event(s, 'step_finished', i, { output: summarizeOutput(output) }, cls);
    } catch (err) {
      if (err instanceof LeaseLostError) return { kind: 'lost' };
      if (deps.signal.aborted && cls !== 'C') return released(s);
      const error = `${stepLabel(step, i)}: ${errorMessage(err)}`;
      event(s, 'step_failed', i, { error, code: err instanceof AppError ? err.code : 'step_failed' });
      return finished(s, 'failed', i, error);
    }
  }
  return finished(s, 'succeeded', wf.steps.length, null);
}

/** The step with its templates rendered and checked again, or why it cannot run. */
function renderStep(step: Step, scope: TemplateScope): { step: Step } | { error: string; code: string } {
  let raw: unknown;
  try {
    raw = renderTemplates(step, scope);
  } catch (err) {
    if (err instanceof TemplateError) return { error: err.message, code: 'template' };
    throw err;
  }
  const parsed = stepSchema.safeParse(raw);
  if (parsed.success) return { step: parsed.data };
  return { error: `after templates, ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`, code: 'bad_input' };
}

/** The same error with every secret value scrubbed from its message; the cause (which may hold one) is dropped. */
function scrubError(err: unknown, scrub: (text: string) => string): unknown {
  if (!(err instanceof Error)) return new Error(scrub(String(err)));
  const message = scrub(err.message);
  if (message === err.message) return err;
  if (err instanceof RetryableStepError) return new RetryableStepError(message);
  if (err instanceof AppError) return new AppError(err.code, message, err.issues.map(scrub));
  return new Error(message);
}

/**
 * Runs a rendered step with its `{{secrets.NAME}}` references resolved, in memory, for this
 * execution only; a secret that is not set fails the step here, before anything is sent. What
 * comes back (output, error) has every resolved value scrubbed: an upstream may echo a token.
 */
async function runResolved(s: RunState, step: Step, env: StepEnv): Promise<unknown> {
  const names = secretRefNames(step);
  if (names.length === 0) return runStep(step, env);
  const values = await s.deps.secrets(env.db, s.run.tenant_id, names);
  const scrub = createScrubber(values);
  try {
    return scrubValue(await runStep(substituteSecrets(step, values), env), scrub);
  } catch (err) {
    throw scrubError(err, scrub);
  }
}

function released(s: RunState): RunOutcome {
  return { kind: 'released', events: s.events, timeline: s.timeline };
}

function stepEnv(s: RunState, db: StepEnv['db'], signal: AbortSignal, approvalId?: string): StepEnv {
  return {
    services: s.deps.services,
    db,
    audit: s.deps.audit,
    tenantId: s.run.tenant_id,
    workflowName: s.wf.name,
    actor: `run:${s.run.id}`,
    approvalId,
    signal,
  };
}

export type { ExecutorDeps, RunOutcome } from './run-state.js';
