import { loadConfig, type Config } from '../config.js';
import { createPgDb } from '../db/pg.js';
import type { Db, Queryable } from '../db/types.js';
import { healthOptions } from '../health/options.js';
import { AppError } from '../lib/errors.js';
import { healthSummary } from '../health/summary.js';
import { runCleanup } from '../maintenance/cleanup.js';
import { slackDeliveryStatus } from '../slack/queries.js';
import { findTenant } from '../tenants/queries.js';
import { printTable, withDb, type GlobalOptions } from './context.js';

/** `levqor health`: the same summary as GET /api/health/summary. Exit 1 unless ok. */
export async function healthCommand(opts: GlobalOptions): Promise<number> {
  try {
    return await healthWithDb(opts);
  } catch (err) {
    // The database is down or unreachable: that is the answer, not a crash.
    if (!(err instanceof AppError) || err.code !== 'db_unavailable') throw err;
    const down = { status: 'down', reasons: [err.message], database: { ok: false, latency_ms: null, error: err.message } };
    if (opts.json) process.stdout.write(`${JSON.stringify(down, null, 2)}\n`);
    else console.log(`status: down\n  ${err.message}`);
    return 1;
  }
}

async function healthWithDb(opts: GlobalOptions): Promise<number> {
  const config = loadConfig();
  if (config.DATABASE_URL) {
    // No opening probe and no migration: the summary bounds its own wait, a hung server included.
    const db = createPgDb({
      connectionString: config.DATABASE_URL,
      poolMax: 2,
      connectTimeoutMs: config.LEVQOR_DB_CONNECT_TIMEOUT_MS,
      onBackgroundError: () => undefined,
    });
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
    if (flags.json) printTable([{ dry_run: Boolean(flags.dryRun), ...result }], true);
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

/**
 * "The request is pending but nobody saw it in Slack": pending Class C requests of tenants
 * connected to Slack whose message is missing, failing (with Slack's reasons) or not posted
 * a minute after the request (no bot running?).
 */
async function slackDeliveryCheck(db: Queryable, tenantId: string | undefined): Promise<{ ok: boolean; check: string; detail: string }> {
  const r = await slackDeliveryStatus(db, tenantId);
  const check = 'posted to Slack';
  if (r.connected === 0)
    return {
      ok: true,
      check,
      detail: 'no tenant is connected to Slack (levqor slack configure): requests are seen in the API and CLI only',
    };
  const problems = [
    r.failing > 0
      ? `${r.failing} could not be posted: ${r.errors ?? '?'} (levqor slack show lists them; fix, then levqor slack configure)`
      : '',
    r.late > 0 ? `${r.late} not posted a minute after the request: is \`levqor bot\` running with SLACK_BOT_TOKEN?` : '',
  ].filter(Boolean);
  return problems.length
    ? { ok: false, check, detail: `of ${r.pending} pending Class C requests of Slack-connected tenants, ${problems.join('; ')}` }
    : { ok: true, check, detail: `${r.pending} pending Class C requests of Slack-connected tenants, none missing in Slack` };
}

/** `levqor doctor approvals`: the guide's "Approval Queue Empty but Actions Pending" checklist. */
export async function doctorApprovals(opts: GlobalOptions & { url?: string }): Promise<number> {
  return withDb(async ({ config, db }) => {
    const lines: { ok: boolean; check: string; detail: string }[] = [];
    const { rows } = await db.query<{ tenant: string; status: string; n: number }>(
      `SELECT t.name AS tenant, a.status, count(*)::int AS n FROM approval_queue a JOIN tenants t ON t.id = a.tenant_id
       GROUP BY t.name, a.status ORDER BY t.name, a.status`,
    );
    const pendingBy = rows.filter((r) => r.status === 'pending');
    const tenant = opts.tenant ? await findTenant(db, opts.tenant) : undefined;
    const mine = tenant ? (pendingBy.find((r) => r.tenant === tenant.name)?.n ?? 0) : pendingBy.reduce((n, r) => n + r.n, 0);
    lines.push({
      ok: mine > 0,
      check: "status = 'pending'",
      detail: `${mine} pending${tenant ? ` for tenant ${tenant.name}` : ' in all tenants'}; by status: ${rows.map((r) => `${r.tenant}/${r.status} ${r.n}`).join(', ') || 'no requests at all'}`,
    });
    if (opts.tenant && !tenant) lines.push({ ok: false, check: 'tenant_id filter', detail: `tenant "${opts.tenant}" does not exist` });
    else if (tenant) {
      const others = pendingBy.filter((r) => r.tenant !== tenant.name);
      lines.push({
        ok: mine > 0 || others.length === 0,
        check: 'tenant_id filter',
        detail: others.length
          ? `pending requests exist for other tenants (${others.map((o) => `${o.tenant}: ${o.n}`).join(', ')}): is the token or --tenant for the right tenant?`
          : 'no other tenant has pending requests',
      });
    }
    const orphaned = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_runs r WHERE r.status = 'waiting_approval'
       AND NOT EXISTS (SELECT 1 FROM approval_queue a WHERE a.run_id = r.id AND a.status = 'pending')`,
    );
    lines.push({
      ok: (orphaned.rows[0]?.n ?? 0) === 0,
      check: 'runs waiting without a request',
      detail: `${orphaned.rows[0]?.n ?? 0} runs wait for approval without a pending request (a scheduler tick settles them)`,
    });
    lines.push(await slackDeliveryCheck(db, tenant?.id));
    const url = opts.url ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
    try {
      const res = await fetch(`${url}/api/approvals`, { signal: AbortSignal.timeout(2000) });
      lines.push({
        ok: res.status === 401 || res.status === 200,
        check: 'API endpoint reachable',
        detail: `${url}/api/approvals answered ${res.status}${res.status === 401 ? ' (up; send a token)' : ''}`,
      });
    } catch (err) {
      lines.push({
        ok: false,
        check: 'API endpoint reachable',
        detail: `${url}/api/approvals: ${(err as Error).message} — is \`levqor serve\` running (HOST/PORT)?`,
      });
    }
    if (opts.json) printTable(lines, true);
    else for (const l of lines) console.log(`  ${l.ok ? '✓' : '✗'} ${l.check}: ${l.detail}`);
    return lines.every((l) => l.ok) ? 0 : 1;
  });
}
