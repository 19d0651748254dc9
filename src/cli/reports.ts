import { InvalidArgumentError, Option, type Command } from 'commander';
import { SCOPES } from '../auth/tokens.js';
import { createSchedulerDeps } from '../runtime.js';
import { tenantAnalytics, type TenantAnalytics } from '../reports/analytics.js';
import { seedDemoHistory } from '../reports/demo-history.js';
import { runMarketingCycle } from '../reports/marketing/cycle.js';
import { renderMarketing } from '../reports/marketing/render.js';
import { duration, int, pct } from '../reports/format.js';
import { generateWeeklyReport, generateWeeklyReportJson } from '../reports/weekly.js';
import { listTenants, resolveTenant, type TenantRow } from '../tenants/queries.js';
import { DEMO_WORKFLOWS, seedDemo } from '../workflows/demo.js';
import { dbNow } from '../workflows/queries.js';
import { createToken } from '../auth/tokens.js';
import { printTable, withDb } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';

const wholeNumber =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
const everyTenant = () => tenantOption('every tenant / the only one');

function analyticsRows(a: TenantAnalytics): Record<string, unknown>[] {
  return [...a.workflows, { workflow: '(all)', ...a.totals }].map((w) => ({
    tenant: a.tenant,
    workflow: w.workflow,
    runs: int(w.runs),
    success: pct(w.success_rate),
    failure: pct(w.failure_rate),
    p50: duration(w.p50_duration_seconds),
    p95: duration(w.p95_duration_seconds),
    approvals: `${w.approvals_requested} (${w.approvals_approved}✓ ${w.approvals_rejected}✗ ${w.approvals_expired}⌛)`,
    'median decision': duration(w.median_decision_seconds),
  }));
}

async function tenantsFor(db: Parameters<typeof listTenants>[0], tenant: string | undefined): Promise<TenantRow[]> {
  return tenant ? [await resolveTenant(db, tenant)] : listTenants(db);
}

/** `levqor analytics`, `levqor report weekly`, `levqor marketing run`, `levqor demo`. */
export function registerReports(program: Command, act: Act): void {
  program
    .command('analytics')
    .description('runs, success and failure rate, p50/p95 duration and approvals per workflow and tenant (GET /api/analytics)')
    .option('--days <n>', 'how many days back', wholeNumber('--days', 1, 366), 7)
    .addOption(everyTenant())
    .addOption(jsonOption())
    .action(
      act((opts: { days: number; tenant?: string; json?: boolean }) =>
        withDb(async ({ db }) => {
          const all: TenantAnalytics[] = [];
          for (const t of await tenantsFor(db, opts.tenant)) all.push(await tenantAnalytics(db, { tenantId: t.id, days: opts.days }));
          if (opts.json) process.stdout.write(`${JSON.stringify(opts.tenant ? all[0] : { tenants: all }, null, 2)}\n`);
          else printTable(all.flatMap(analyticsRows), false, 'no tenants yet');
          return 0;
        }),
      ),
    );

  program
    .command('report')
    .description('reports')
    .command('weekly')
    .description("the weekly report (the guide's generate_weekly_report): last complete ISO week in the tenant's time zone by default")
    .addOption(new Option('--format <format>', 'md or json').choices(['md', 'json']).default('md'))
    .option('--week <week>', 'ISO week, e.g. 2025-W43')
    .addOption(tenantOption())
    .action(
      act((opts: { format: 'md' | 'json'; week?: string; tenant?: string }) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, opts.tenant);
          const input = { tenantId: tenant.id, week: opts.week };
          process.stdout.write(
            opts.format === 'json'
              ? `${JSON.stringify(await generateWeeklyReportJson(db, input), null, 2)}\n`
              : await generateWeeklyReport(db, input),
          );
          return 0;
        }),
      ),
    );

  program
    .command('marketing')
    .description('the auto-marketing cycle')
    .command('run')
    .description(
      "analyse engagement, recommend, and propose campaigns as Class C emails in the approval queue (the guide's run_marketing_cycle)",
    )
    .addOption(everyTenant())
    .option('--dry-run', 'analyse and recommend only; propose nothing')
    .addOption(jsonOption())
    .action(
      act((opts: { tenant?: string; dryRun?: boolean; json?: boolean }) =>
        withDb(async ({ config, db, log }) => {
          const tenant = opts.tenant ? await resolveTenant(db, opts.tenant) : undefined;
          const stop = new AbortController();
          const runDeps = createSchedulerDeps(config, db, log, { stopClaiming: stop.signal, abortRuns: stop.signal });
          const result = await runMarketingCycle(db, { tenantId: tenant?.id, runDeps, dryRun: opts.dryRun });
          process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderMarketing(result));
          return 0;
        }),
      ),
    );

  program
    .command('demo')
    .description('fill weeks of realistic history (runs, failures, approvals, engagement) for the demo workflows')
    .option('--weeks <n>', 'how many weeks', wholeNumber('--weeks', 1, 52), 8)
    .addOption(tenantOption('the demo tenant, created when no tenant exists'))
    .addOption(jsonOption())
    .action(
      act((opts: { weeks: number; tenant?: string; json?: boolean }) =>
        withDb(async ({ db }) => {
          const created = await seedDemo(db);
          if (created) {
            const { token } = await createToken(db, created.id, 'demo', [...SCOPES]);
            process.stderr.write(`created the demo tenant and workflows; API token (shown once): ${token}\n`);
          }
          const tenant =
            created ??
            (await resolveTenant(db, opts.tenant ?? ((await listTenants(db)).some((t) => t.name === 'demo') ? 'demo' : undefined)));
          const result = await seedDemoHistory(db, tenant, DEMO_WORKFLOWS, { weeks: opts.weeks, now: await dbNow(db) });
          if (opts.json) process.stdout.write(`${JSON.stringify({ tenant: tenant.name, ...result }, null, 2)}\n`);
          else
            console.log(
              `${tenant.name}: added ${result.weeks} weeks of history: ${int(result.runs)} runs, ${int(result.approvals)} approvals, ${int(result.events)} engagement events`,
            );
          return 0;
        }),
      ),
    );
}
