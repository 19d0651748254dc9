import { userInfo } from 'node:os';
import { AppError } from '../lib/errors.js';
import { withRedactedPayload } from '../lib/redact.js';
import { getRun, getRunEvents, listRuns } from '../runs/queries.js';
import type { RunStatus } from '../runs/types.js';
import { createSchedulerDeps } from '../runtime.js';
import { startRun } from '../scheduler/manual.js';
import { createTenant, listTenants, resolveTenant } from '../tenants/queries.js';
import { checkWorkflow } from '../workflows/doctor.js';
import { poolerCheck } from '../health/doctor.js';
import { loadWorkflowFile } from '../workflows/load.js';
import { checkWorkflowCredentials } from '../secrets/apply-check.js';
import { secretStoreFromConfig } from '../secrets/from-config.js';
import { applyWorkflow, listWorkflows, requireWorkflow } from '../workflows/queries.js';
import { cliConfig, iso, printJson, printTable, readStdin, withDb, type GlobalOptions } from './context.js';

/** Who a CLI action is attributed to. */
export function cliActor(as?: string): string {
  return `cli:${as ?? cliConfig().USER ?? userInfo().username}`;
}

/** `levqor tenant create NAME`. */
export async function tenantCreate(name: string, opts: GlobalOptions & { timezone?: string }): Promise<number> {
  return withDb(async ({ db }) => {
    const t = await createTenant(db, name, opts.timezone ?? 'UTC');
    if (opts.json) printJson(t);
    else console.log(`created tenant ${t.name} (${t.id}, timezone ${t.timezone})`);
    return 0;
  });
}

/** `levqor tenant list`. */
export async function tenantList(opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    printTable(
      (await listTenants(db)).map((t) => ({ name: t.name, id: t.id, timezone: t.timezone, created: iso(t.created_at) })),
      opts.json,
    );
    return 0;
  });
}

/** `levqor workflow apply -f FILE`: validates every workflow first, then writes all in one transaction. */
export async function workflowApply(
  opts: GlobalOptions & { file: string; dryRun?: boolean; as?: string; allowInlineCredentials?: boolean },
): Promise<number> {
  const specs = await loadWorkflowFile(opts.file, readStdin);
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const check = {
      tenant,
      actor: cliActor(opts.as),
      allowInline: opts.allowInlineCredentials === true,
      overrideHint: '--allow-inline-credentials',
    };
    if (opts.dryRun) {
      await checkWorkflowCredentials(db, secretStoreFromConfig(config), specs, { ...check, dryRun: true });
      printTable(
        specs.map((s) => ({ name: s.name, steps: s.steps.length, valid: true })),
        opts.json,
      );
      return 0;
    }
    const results = await db.transaction(async (tx) => {
      await checkWorkflowCredentials(tx, secretStoreFromConfig(config), specs, check);
      const out = [];
      for (const spec of specs) out.push(await applyWorkflow(tx, tenant.id, spec, cliActor(opts.as)));
      return out;
    });
    printTable(
      results.map(({ workflow, outcome }) => ({ name: workflow.name, outcome, next_run: iso(workflow.next_run_at) })),
      opts.json,
    );
    return 0;
  });
}

/** `levqor workflow list`. */
export async function workflowList(opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const rows = await listWorkflows(db, tenant.id);
    printTable(
      rows.map((w) => ({
        name: w.name,
        active: w.is_active,
        schedule: w.schedule_config.enabled
          ? w.schedule_config.cron
            ? `cron ${w.schedule_config.cron} ${w.schedule_config.timezone}`
            : `every ${w.schedule_config.interval_minutes} min`
          : 'off',
        last_run: iso(w.last_run_at),
        next_run: iso(w.next_run_at),
        steps: w.steps.map((s) => s.type).join(','),
      })),
      opts.json,
      'no workflows yet: levqor workflow apply -f FILE',
    );
    return 0;
  });
}

/** `levqor run WORKFLOW`: runs it now in this process (or queues it with --enqueue). Exit 1 when the run failed. */
export async function runWorkflow(name: string, opts: GlobalOptions & { enqueue?: boolean; as?: string }): Promise<number> {
  return withDb(async ({ config, db, log }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const wf = await requireWorkflow(db, tenant.id, name);
    const deps = createSchedulerDeps(
      config,
      db,
      log,
      { stopClaiming: new AbortController().signal, abortRuns: new AbortController().signal },
      { owner: undefined },
    );
    const result = await startRun(deps, wf, { enqueue: Boolean(opts.enqueue), trigger: 'manual', actor: cliActor(opts.as) });
    const run = await getRun(db, result.runId);
    if (opts.json) printJson(run ?? null);
    else if (opts.enqueue) console.log(`queued run ${result.runId}; a running scheduler picks it up now`);
    else {
      console.log(`run ${result.runId}: ${run?.status ?? 'unknown'}${run?.error ? ` — ${run.error}` : ''}`);
      if (result.outcome?.kind === 'parked')
        console.log(`waiting for approval ${result.outcome.approvalId}: levqor approvals approve ${result.outcome.approvalId}`);
    }
    return run?.status === 'failed' ? 1 : 0;
  });
}

/** `levqor runs list`. */
export async function runsList(opts: GlobalOptions & { workflow?: string; status?: string; limit?: number }): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const wf = opts.workflow ? await requireWorkflow(db, tenant.id, opts.workflow) : undefined;
    const rows = await listRuns(db, {
      tenantId: tenant.id,
      workflowId: wf?.id,
      status: opts.status as RunStatus | undefined,
      limit: opts.limit ?? 20,
    });
    printTable(
      rows.map((r) => ({
        id: r.id,
        workflow: r.workflow_name,
        status: r.status,
        trigger: r.trigger,
        started: iso(r.started_at),
        finished: iso(r.finished_at),
        error: r.error,
      })),
      opts.json,
      'no runs',
    );
    return 0;
  });
}

/** `levqor runs show ID`: the run and its events. */
export async function runsShow(id: string, opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const run = /^[0-9a-f-]{36}$/i.test(id) ? await getRun(db, id, tenant.id) : undefined;
    if (!run) throw new AppError('not_found', `run ${id} not found`);
    const events = (await getRunEvents(db, run.id)).map(withRedactedPayload);
    if (opts.json) {
      printJson({ ...run, events });
      return 0;
    }
    console.log(
      `run ${run.id}\n  status: ${run.status}\n  trigger: ${run.trigger}\n  slot: ${iso(run.scheduled_for)}\n  started: ${iso(run.started_at)}\n  finished: ${iso(run.finished_at)}\n  attempt: ${run.attempt}${run.error ? `\n  error: ${run.error}` : ''}\n`,
    );
    printTable(
      events.map((e) => ({ at: iso(e.created_at), type: e.type, step: e.step_index === null ? '-' : e.step_index + 1, detail: e.payload })),
      false,
    );
    return 0;
  });
}

/** `levqor doctor WORKFLOW`: the guide's "Workflow Not Running" checklist. Exit 1 when a check fails. */
export async function doctorWorkflow(name: string, opts: GlobalOptions): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const wf = await requireWorkflow(db, tenant.id, name);
    // A scheduler that cannot LISTEN starts manual runs only on its interval.
    const checks = [...(await checkWorkflow(db, wf, config.LEVQOR_SCHEDULER_INTERVAL_SECONDS)), poolerCheck(config)];
    if (opts.json)
      printTable(
        checks.map((c) => ({ ...c })),
        true,
      );
    else {
      console.log(`workflow ${wf.name} (tenant ${tenant.name})`);
      for (const c of checks) console.log(`  ${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`);
    }
    return checks.every((c) => c.ok) ? 0 : 1;
  });
}
