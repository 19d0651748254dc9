import { InvalidArgumentError, Option, type Command } from 'commander';
import { ALERT_RULE_DOCS, defaultAlertThresholds } from '../health/alert-rules.js';
import { setAlertRule, tenantAlertRules } from '../health/alerts.js';
import { healthOptions } from '../health/options.js';
import { alertHistory, recentAlerts } from '../health/queries.js';
import { resolveTenant } from '../tenants/queries.js';
import { iso, printJson, printTable, withDb } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';
import { cliActor } from './workflows.js';

interface SetFlags {
  tenant?: string;
  threshold?: number;
  enable?: boolean;
  as?: string;
  json?: boolean;
}

/** `levqor alerts list`: the tenant's rules (stored; missing ones get their starting values) and what fires now. */
async function alertsList(opts: { tenant?: string; json?: boolean }): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const rules = await tenantAlertRules(db, tenant.id, defaultAlertThresholds(healthOptions(config).thresholds));
    const firing = new Map((await recentAlerts(db, tenant.id)).filter((a) => a.status === 'firing').map((a) => [a.kind, a]));
    const rows = rules.map((r) => ({
      rule: r.rule,
      threshold: r.threshold,
      unit: ALERT_RULE_DOCS[r.rule].unit,
      enabled: r.enabled,
      state: firing.has(r.rule) ? 'firing' : 'ok',
      ...(opts.json ? { firing: firing.get(r.rule) ?? null } : { since: iso(firing.get(r.rule)?.fired_at) }),
      updated: opts.json ? r.updated_at : iso(r.updated_at),
      updated_by: r.updated_by,
    }));
    if (opts.json) printJson({ tenant: tenant.name, rules: rows });
    else printTable(rows, false);
    return 0;
  });
}

/** `levqor alerts history`: the tenant's alerts, newest first, with the value at firing and at resolution. */
async function alertsHistory(opts: { tenant?: string; limit?: number; json?: boolean }): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const rows = await alertHistory(db, tenant.id, opts.limit ?? 50);
    if (opts.json) printJson({ tenant: tenant.name, alerts: rows });
    else
      printTable(
        rows.map((a) => ({
          id: a.id,
          rule: a.kind,
          status: a.status,
          fired: iso(a.fired_at),
          message: a.message,
          resolved: iso(a.resolved_at),
          resolved_message: a.resolved_message ?? '-',
        })),
        false,
        `no alerts for tenant ${tenant.name}`,
      );
    return 0;
  });
}

/** `levqor alerts set RULE`: changes a rule for every process at once. */
async function alertsSet(rule: string, flags: SetFlags): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    const r = await setAlertRule(
      db,
      tenant.id,
      rule,
      { threshold: flags.threshold, enabled: flags.enable, by: cliActor(flags.as) },
      defaultAlertThresholds(healthOptions(config).thresholds),
    );
    if (flags.json) printJson({ tenant: tenant.name, ...r });
    else
      console.log(
        `tenant ${tenant.name}: ${r.rule} ${r.enabled ? 'enabled' : 'disabled'}, threshold ${r.threshold} ${ALERT_RULE_DOCS[r.rule].unit}`,
      );
    return 0;
  });
}

function threshold(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('--threshold must be a number ≥ 0');
  return n;
}

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('--limit must be a whole number 1–1000');
  return n;
}

/** Registers `levqor alerts list|history|set`. */
export function registerAlerts(program: Command, act: Act): void {
  const alerts = program
    .command('alerts')
    .description("a tenant's alert rules (stored in the database: every process evaluates the same ones) and its alerts");
  alerts
    .command('list')
    .description('the rules, their thresholds and whether each fires now')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { tenant?: string; json?: boolean }) => alertsList(opts)));
  alerts
    .command('history')
    .description('alerts fired and resolved, newest first, with the value at firing and at resolution')
    .option('--limit <n>', 'how many (default 50)', limit)
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { tenant?: string; limit?: number; json?: boolean }) => alertsHistory(opts)));
  alerts
    .command('set <rule>')
    .description(
      `change a rule: ${Object.entries(ALERT_RULE_DOCS)
        .map(([k, v]) => `${k} (${v.doc})`)
        .join('; ')}`,
    )
    .option('--threshold <n>', 'the new threshold, in the rule’s unit', threshold)
    .option('--enable', 'evaluate the rule')
    .addOption(new Option('--disable', 'stop evaluating the rule (a firing alert resolves)').conflicts('enable'))
    .option('--as <name>', 'who is changing the rule')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((rule: string, opts: SetFlags & { disable?: boolean }) =>
        alertsSet(rule, { ...opts, enable: opts.disable ? false : opts.enable ? true : undefined }),
      ),
    );
}
