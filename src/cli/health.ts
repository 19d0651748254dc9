import type { Config } from '../config.js';
import type { Db } from '../db/types.js';
import { apiReachableCheck, approvalQueueChecks, poolerCheck } from '../health/doctor.js';
import { healthOptions } from '../health/options.js';
import { openHealthProbe } from '../health/probe.js';
import { AppError } from '../lib/errors.js';
import { healthSummary } from '../health/summary.js';
import { runCleanup } from '../maintenance/cleanup.js';
import { slackDeliveryCheck } from '../slack/doctor.js';
import { webhookDeliveryCheck } from '../notify/webhooks.js';
import { findTenant } from '../tenants/queries.js';
import { cliConfig, printJson, printTable, withDb, type GlobalOptions } from './context.js';

/** `levqor health`: the same summary as GET /api/health/summary. Exit 1 unless ok. */
export async function healthCommand(opts: GlobalOptions): Promise<number> {
  try {
    return await healthWithDb(opts);
  } catch (err) {
    // The database is down or unreachable: that is the answer, not a crash.
    if (!(err instanceof AppError) || err.code !== 'db_unavailable') throw err;
    const down = { status: 'down', reasons: [err.message], database: { ok: false, latency_ms: null, error: err.message } };
    if (opts.json) printJson(down);
    else console.log(`status: down\n  ${err.message}`);
    return 1;
  }
}

async function healthWithDb(opts: GlobalOptions): Promise<number> {
  const config = cliConfig();
  if (config.DATABASE_URL) {
    // No opening probe and no migration: the summary bounds its own wait, a hung server included.
    const db = openHealthProbe({ ...config, DATABASE_URL: config.DATABASE_URL });
    try {
      return await printHealth(opts, config, db);
    } finally {
      void db.close().catch(() => undefined);
    }
  }
  return withDb(({ config: c, db }) => printHealth(opts, c, db));
}

async function printHealth(opts: GlobalOptions, config: Config, db: Db): Promise<number> {
  {
    const s = await healthSummary(db, { ...healthOptions(config).thresholds, processStartedAt: Date.now() / 1000 - process.uptime() });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    } else {
      const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)} %`);
      console.log(`status: ${s.status}${s.reasons.length ? `\n  ${s.reasons.join('\n  ')}` : ''}`);
      console.log(`database: ${s.database.ok ? `ok (${s.database.latency_ms} ms)` : `unreachable: ${s.database.error ?? ''}`}`);
      if (s.queues)
        console.log(
          `queues: ${Object.entries(s.queues)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
      if (s.error_rates)
        console.log(
          `failure rate: ${s.error_rates.map((e) => `${e.window} ${pct(e.rate)} (${e.failed}/${e.total})`).join(', ')} — target < 5 %`,
        );
      if (s.scheduler)
        console.log(
          `scheduler: ${s.scheduler.last_tick_at === null ? 'never ticked' : `last tick ${Math.round(s.scheduler.age_seconds ?? 0)} s ago${s.scheduler.stale ? ' (stale)' : ''}`}`,
        );
    }
    return s.status === 'ok' ? 0 : 1;
  }
}

export interface CleanupFlags {
  dryRun?: boolean;
  archive?: string;
  runsDays?: number;
  eventsDays?: number;
  approvalsDays?: number;
  batchSize?: number;
  json?: boolean;
}

/** `levqor cleanup`: the guide's retention rules, batched; progress on a terminal. */
export async function cleanupCommand(flags: CleanupFlags): Promise<number> {
  return withDb(async ({ config, db }) => {
    const base = healthOptions(config).retention;
    const tty = Boolean(process.stderr.isTTY) && !flags.json;
    const result = await runCleanup(db, {
      ...base,
      runsDays: flags.runsDays ?? base.runsDays,
      eventsDays: flags.eventsDays ?? base.eventsDays,
      approvalsDays: flags.approvalsDays ?? base.approvalsDays,
      batchSize: flags.batchSize ?? base.batchSize,
      dryRun: flags.dryRun,
      archiveDir: flags.archive,
      onProgress: tty
        ? (table, done, total) => {
            const width = 30;
            const filled = total === 0 ? width : Math.round((done / total) * width);
            process.stderr.write(
              `\r${table.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done >= total ? '\n' : ''}`,
            );
          }
        : undefined,
    });
    if (flags.json) printJson({ dry_run: Boolean(flags.dryRun), ...result });
    else {
      const verb = flags.dryRun ? 'would delete' : 'deleted';
      console.log(
        `${verb}: ${result.workflow_runs} workflow_runs, ${result.workflow_events} workflow_events, ${result.approval_queue} processed approvals` +
          `${flags.archive && !flags.dryRun ? ` (archived to ${flags.archive})` : ''}; pending approvals and audit_log are never deleted`,
      );
    }
    return 0;
  });
}

/** `levqor doctor approvals`: the guide's "Approval Queue Empty but Actions Pending" checklist. */
export async function doctorApprovals(opts: GlobalOptions & { url?: string }): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenant = opts.tenant ? await findTenant(db, opts.tenant) : undefined;
    const url = opts.url ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
    const lines = [
      ...(await approvalQueueChecks(db, { name: opts.tenant, tenant })),
      await slackDeliveryCheck(db, tenant?.id),
      await webhookDeliveryCheck(db, tenant?.id),
      await apiReachableCheck(url),
      poolerCheck(config),
    ];
    if (opts.json) printTable(lines, true);
    else for (const l of lines) console.log(`  ${l.ok ? '✓' : '✗'} ${l.check}: ${l.detail}`);
    return lines.every((l) => l.ok) ? 0 : 1;
  });
}
