import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitAction } from '../src/approvals/actions.js';
import type { ApprovalRow } from '../src/approvals/types.js';
import { createToken } from '../src/auth/tokens.js';
import type { TenantRow } from '../src/tenants/queries.js';
import type { WorkflowRow } from '../src/workflows/queries.js';
import { secretStoreFromConfig } from '../src/secrets/from-config.js';
import { deployAction } from './helpers/api.js';
import { testConfig } from './helpers/deps.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';

/** Tables the migration puts under the tenant policy, with their tenant column. */
const TENANT_TABLES = [
  'api_tokens',
  'workflows',
  'workflow_runs',
  'workflow_events',
  'approval_queue',
  'approval_policies',
  'approval_votes',
  'approval_events',
  'audit_log',
  'secrets',
  'alert_rules',
  'alert_evaluations',
  'alerts',
  'github_trust',
  'approval_routes',
  'approval_webhooks',
  'webhook_deliveries',
  'decision_links',
  'people',
  'person_identities',
  'people_settings',
];

describe('row-level security for levqor_app members (Postgres)', () => {
  let t: TestDb;
  // Roles are cluster-wide and test files run in parallel: a name of our own.
  const role = `levqor_rls_${randomBytes(6).toString('hex')}`;
  const service = `levqor_svc_${randomBytes(6).toString('hex')}`;
  let serviceCreated = false;
  const password = randomBytes(12).toString('hex');
  let roleCreated = false;
  const clients: pg.Client[] = [];
  let tenantA: TenantRow;
  let tenantB: TenantRow;
  let wfA: WorkflowRow;
  let wfB: WorkflowRow;
  let approvalA: ApprovalRow;
  let approvalB: ApprovalRow;

  /** A new connection to the test database as a login role of this file. */
  async function connect(user: string): Promise<pg.Client> {
    const url = new URL(t.url ?? '');
    url.username = user;
    url.password = password;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    clients.push(client);
    return client;
  }
  /** A new connection as the confined login role. */
  const connectAsApp = () => connect(role);
  const setTenant = (c: pg.Client, tenantId: string) => c.query("SELECT set_config('levqor.tenant_id', $1, false)", [tenantId]);
  const tenantsIn = async (c: pg.Client, table: string) =>
    (await c.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id::text AS tenant_id FROM ${table} ORDER BY 1`)).rows.map(
      (r) => r.tenant_id,
    );

  beforeAll(async () => {
    t = await openPgTestDb();
    tenantA = await makeTenant(t.db, 'rls-a');
    tenantB = await makeTenant(t.db, 'rls-b');
    wfA = await makeWorkflow(t.db, tenantA.id, { name: 'alpha', steps: [{ type: 'noop' }] });
    wfB = await makeWorkflow(t.db, tenantB.id, { name: 'bravo', steps: [{ type: 'noop' }] });
    approvalA = await submitAction(t.db, { tenantId: tenantA.id, actor: 'token:ops', channel: 'api', ...deployAction('a deploy') });
    approvalB = await submitAction(t.db, { tenantId: tenantB.id, actor: 'token:ops', channel: 'api', ...deployAction('b deploy') });
    await createToken(t.db, tenantA.id, 'ops', ['approvals:read']);
    await createToken(t.db, tenantB.id, 'ops', ['approvals:read']);
    const secrets = secretStoreFromConfig(testConfig({ DATABASE_URL: t.url ?? '', LEVQOR_SECRET_KEY: 'k'.repeat(40) }));
    await secrets.set(t.db, tenantA.id, 'DEPLOY_TOKEN', 'a-value', 'test');
    await secrets.set(t.db, tenantB.id, 'DEPLOY_TOKEN', 'b-value', 'test');
    const dbName = new URL(t.url ?? '').pathname.slice(1);
    await t.db.exec(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE levqor_app`);
    roleCreated = true;
    await t.db.exec(`GRANT CONNECT ON DATABASE ${dbName} TO ${role}`);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    for (const [name, created] of [
      [role, roleCreated],
      [service, serviceCreated],
    ] as const) {
      if (!created) continue;
      await t.db.exec(`REASSIGN OWNED BY ${name} TO CURRENT_USER; DROP OWNED BY ${name}; DROP ROLE ${name}`);
      const { rows } = await t.db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      expect(rows).toHaveLength(0);
    }
    await t?.close();
  });

  it('the migration installed forced policies on every tenant table', async () => {
    const { rows } = await t.db.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      'SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1::text[]) ORDER BY relname',
      [TENANT_TABLES],
    );
    expect(rows).toHaveLength(TENANT_TABLES.length);
    expect(rows.every((r) => r.relrowsecurity && r.relforcerowsecurity)).toBe(true);
    const member = await t.db.query<{ ok: boolean }>("SELECT pg_has_role($1, 'levqor_app', 'MEMBER') AS ok", [role]);
    expect(member.rows[0]?.ok).toBe(true);
  });

  it("with levqor.tenant_id = A a member sees only A's workflows, approvals and other rows", async () => {
    const c = await connectAsApp();
    await setTenant(c, tenantA.id);
    const workflows = await c.query<{ id: string; name: string }>('SELECT id::text AS id, name FROM workflows ORDER BY name');
    expect(workflows.rows).toEqual([{ id: wfA.id, name: 'alpha' }]);
    const approvals = await c.query<{ id: string }>('SELECT id::text AS id FROM approval_queue');
    expect(approvals.rows).toEqual([{ id: approvalA.id }]);
    for (const table of TENANT_TABLES) {
      const seen = await tenantsIn(c, table);
      expect(
        seen.filter((id) => id !== tenantA.id),
        table,
      ).toEqual([]);
    }
    expect(await tenantsIn(c, 'approval_events')).toEqual([tenantA.id]);
    expect(await tenantsIn(c, 'api_tokens')).toEqual([tenantA.id]);
    expect(await tenantsIn(c, 'secrets')).toEqual([tenantA.id]);
    // B's rows are invisible to a direct lookup and to writes, not only to scans.
    expect((await c.query('SELECT 1 FROM approval_queue WHERE id = $1', [approvalB.id])).rows).toEqual([]);
    const update = await c.query("UPDATE approval_queue SET status = 'approved' WHERE id = $1", [approvalB.id]);
    expect(update.rowCount).toBe(0);
    const del = await c.query('DELETE FROM workflows WHERE id = $1', [wfB.id]);
    expect(del.rowCount).toBe(0);
    // Switching the setting switches the tenant.
    await setTenant(c, tenantB.id);
    expect((await c.query<{ name: string }>('SELECT name FROM workflows')).rows).toEqual([{ name: 'bravo' }]);
  });

  it('cannot insert a row for tenant B while acting as A (WITH CHECK), but can for A', async () => {
    const c = await connectAsApp();
    await setTenant(c, tenantA.id);
    const insert = (tenantId: string, name: string) =>
      c.query('INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, $2, \'[{"type": "noop"}]\'::jsonb) RETURNING id', [
        tenantId,
        name,
      ]);
    await expect(insert(tenantB.id, 'smuggled')).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining('row-level security') as string,
    });
    // Moving one of A's rows to B is refused the same way.
    await expect(c.query('UPDATE workflows SET tenant_id = $1 WHERE id = $2', [tenantB.id, wfA.id])).rejects.toMatchObject({
      code: '42501',
    });
    const ok = await insert(tenantA.id, 'allowed');
    expect(ok.rowCount).toBe(1);
    const { rows } = await t.db.query<{ tenant_id: string; name: string }>('SELECT tenant_id, name FROM workflows ORDER BY name');
    expect(rows).toEqual([
      { tenant_id: tenantA.id, name: 'allowed' },
      { tenant_id: tenantA.id, name: 'alpha' },
      { tenant_id: tenantB.id, name: 'bravo' },
    ]);
  });

  it('with no tenant set a member sees nothing and can write nothing', async () => {
    const fresh = await connectAsApp();
    for (const table of TENANT_TABLES) {
      expect((await fresh.query(`SELECT count(*)::int AS n FROM ${table}`)).rows, table).toEqual([{ n: 0 }]);
    }
    await expect(
      fresh.query("INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'orphan', '[]'::jsonb)", [tenantA.id]),
    ).rejects.toMatchObject({ code: '42501' });
    // An emptied setting behaves the same as an unset one.
    const reset = await connectAsApp();
    await setTenant(reset, tenantA.id);
    expect((await reset.query('SELECT 1 FROM workflows')).rows.length).toBeGreaterThan(0);
    await setTenant(reset, '');
    expect((await reset.query('SELECT 1 FROM workflows')).rows).toEqual([]);
    // tenants has no policy: the role reads it, as granted.
    expect((await fresh.query('SELECT 1 FROM tenants')).rows.length).toBeGreaterThanOrEqual(2);
  });

  it('a role outside levqor_app (a scheduler with plain grants) is not confined either', async () => {
    await t.db.exec(`CREATE ROLE ${service} LOGIN PASSWORD '${password}'`);
    serviceCreated = true;
    await t.db.exec(
      `GRANT CONNECT ON DATABASE ${new URL(t.url ?? '').pathname.slice(1)} TO ${service}; GRANT SELECT ON workflows, approval_queue TO ${service}`,
    );
    const c = await connect(service);
    expect(await tenantsIn(c, 'approval_queue')).toEqual([tenantA.id, tenantB.id].sort());
    expect(await tenantsIn(c, 'workflows')).toEqual([tenantA.id, tenantB.id].sort());
  });

  it('the owner connection is not confined: it sees both tenants', async () => {
    const { rows } = await t.db.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id::text AS tenant_id FROM approval_queue ORDER BY 1');
    expect(rows.map((r) => r.tenant_id)).toEqual([tenantA.id, tenantB.id].sort());
    const wf = await t.db.query<{ name: string }>('SELECT name FROM workflows WHERE name IN ($1, $2) ORDER BY name', ['alpha', 'bravo']);
    expect(wf.rows.map((r) => r.name)).toEqual(['alpha', 'bravo']);
    // The test server's owner is a superuser, which row-level security never binds.
    const who = await t.db.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(who.rows[0]?.rolsuper).toBe(true);
  });
});
