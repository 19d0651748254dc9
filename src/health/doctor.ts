import { describeListen, type PoolerConfig } from '../db/pooler.js';
import type { Queryable } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { approvalCountsByTenant, countOrphanedWaitingRuns } from './queries.js';

/** One line of a `levqor doctor` checklist (a type, not an interface: it prints as a table row). */
export type DoctorCheck = { ok: boolean; check: string; detail: string };

/**
 * The database half of the guide's "Approval Queue Empty but Actions Pending" checklist:
 * pending requests by tenant (`tenant`: the one asked about, found or not), the tenant_id
 * filter, and runs waiting for approval without a request.
 */
export async function approvalQueueChecks(
  db: Queryable,
  asked: { name: string | undefined; tenant: { name: string } | undefined },
): Promise<DoctorCheck[]> {
  const lines: DoctorCheck[] = [];
  const rows = await approvalCountsByTenant(db);
  const pendingBy = rows.filter((r) => r.status === 'pending');
  const { tenant } = asked;
  const mine = tenant ? (pendingBy.find((r) => r.tenant === tenant.name)?.n ?? 0) : pendingBy.reduce((n, r) => n + r.n, 0);
  lines.push({
    ok: mine > 0,
    check: "status = 'pending'",
    detail: `${mine} pending${tenant ? ` for tenant ${tenant.name}` : ' in all tenants'}; by status: ${rows.map((r) => `${r.tenant}/${r.status} ${r.n}`).join(', ') || 'no requests at all'}`,
  });
  if (asked.name && !tenant) lines.push({ ok: false, check: 'tenant_id filter', detail: `tenant "${asked.name}" does not exist` });
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
  const orphaned = await countOrphanedWaitingRuns(db);
  lines.push({
    ok: orphaned === 0,
    check: 'runs waiting without a request',
    detail: `${orphaned} runs wait for approval without a pending request (a scheduler tick settles them)`,
  });
  return lines;
}

/** "Confirm API endpoint is accessible": GET /api/approvals answers (401 without a token counts as up). */
export async function apiReachableCheck(url: string): Promise<DoctorCheck> {
  try {
    const res = await fetch(`${url}/api/approvals`, { signal: AbortSignal.timeout(2000) });
    return {
      ok: res.status === 401 || res.status === 200,
      check: 'API endpoint reachable',
      detail: `${url}/api/approvals answered ${res.status}${res.status === 401 ? ' (up; send a token)' : ''}`,
    };
  } catch (err) {
    return {
      ok: false,
      check: 'API endpoint reachable',
      detail: `${url}/api/approvals: ${errorMessage(err)} — is \`levqor serve\` running (HOST/PORT)?`,
    };
  }
}

/** How the process reaches Postgres: the pooler mode and whether LISTEN is direct, through the pooler, or polling (with the fix). */
export function poolerCheck(config: Partial<PoolerConfig>): DoctorCheck {
  if (!config.DATABASE_URL) return { ok: true, check: 'pooler and LISTEN', detail: 'embedded database: no pooler; LISTEN in process' };
  return { check: 'pooler and LISTEN', ...describeListen({ ...config, DATABASE_URL: config.DATABASE_URL }) };
}
