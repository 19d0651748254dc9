import { getPolicy, setPolicy } from '../approvals/queries.js';
import { assertPeopleExist } from '../approvals/deciders.js';
import { isIdentity } from '../approvals/policy.js';
import { DEFAULT_POLICY, type ApprovalPolicy } from '../approvals/types.js';
import { listTokens, revokeToken } from '../auth/queries.js';
import { createToken, parseScopes } from '../auth/tokens.js';
import { AppError } from '../lib/errors.js';
import { resolveTenant } from '../tenants/queries.js';
import { iso, printJson, printTable, withDb, type GlobalOptions } from './context.js';
import { cliActor } from './workflows.js';

/** `levqor token create --name N [--scopes …]`: prints the token once. */
export async function tokenCreate(opts: GlobalOptions & { name: string; scopes?: string }): Promise<number> {
  const scopes = parseScopes(opts.scopes);
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const { token, identity } = await createToken(db, tenant.id, opts.name, scopes);
    if (opts.json) printJson({ token, name: identity.name, tenant: tenant.name, scopes: identity.scopes });
    else
      console.log(
        `token "${identity.name}" for tenant ${tenant.name} (${identity.scopes.join(', ')}):\n${token}\nIt is shown once; store it now. Decisions made with it are recorded as token:${identity.name}.`,
      );
    return 0;
  });
}

/** `levqor token revoke --name N`. */
export async function tokenRevoke(opts: GlobalOptions & { name: string }): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    if (!(await revokeToken(db, tenant.id, opts.name)))
      throw new AppError('not_found', `no active token "${opts.name}" for tenant ${tenant.name}`);
    console.log(`revoked token "${opts.name}" (tenant ${tenant.name}); requests with it are refused within 5 s`);
    return 0;
  });
}

/** `levqor token list`. */
export async function tokenList(opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    printTable(
      (await listTokens(db, tenant.id)).map((t) => ({
        name: t.name,
        scopes: t.scopes.join(','),
        created: iso(t.created_at),
        last_used: iso(t.last_used_at),
        revoked: iso(t.revoked_at),
      })),
      opts.json,
      'no tokens',
    );
    return 0;
  });
}

export interface PolicyFlags extends GlobalOptions {
  approvers?: string;
  group?: string[];
  required?: number;
  allowSelfApproval?: boolean;
  ttlHours?: number;
  as?: string;
}

/** Builds a policy from flags on top of the current one, naming every bad identity. */
function policyFromFlags(current: ApprovalPolicy, flags: PolicyFlags): ApprovalPolicy {
  const problems: string[] = [];
  const identities = (text: string, where: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .filter(
        (id) =>
          isIdentity(id) ||
          (problems.push(
            `${where}: "${id}" is not an identity like token:NAME, slack:U123, github:login, cli:user, person:HANDLE or group:NAME`,
          ),
          false),
      );
  const groups = { ...current.groups };
  for (const g of flags.group ?? []) {
    const [name, members] = g.split('=');
    if (!name || !/^[a-z0-9][\w-]{0,62}$/.test(name) || members === undefined)
      problems.push(`--group: "${g}" should look like NAME=slack:U1,github:bob`);
    else groups[name] = identities(members, `--group ${name}`);
  }
  const policy: ApprovalPolicy = {
    approvers: flags.approvers !== undefined ? identities(flags.approvers, '--approvers') : current.approvers,
    groups,
    required_approvals: flags.required ?? current.required_approvals,
    allow_self_approval: flags.allowSelfApproval ?? current.allow_self_approval,
    ttl_seconds: flags.ttlHours !== undefined ? Math.round(flags.ttlHours * 3600) : current.ttl_seconds,
  };
  if (policy.required_approvals < 1 || policy.required_approvals > 10) problems.push('--required: between 1 and 10');
  if (policy.ttl_seconds < 60 || policy.ttl_seconds > 7_776_000) problems.push('--ttl-hours: between 1 minute and 90 days');
  for (const a of policy.approvers)
    if (a.startsWith('group:') && !groups[a.slice(6)])
      problems.push(`--approvers: group "${a.slice(6)}" is not defined (add --group ${a.slice(6)}=…)`);
  if (problems.length) throw new AppError('bad_input', `invalid approval policy:\n  ${problems.join('\n  ')}`, problems);
  return policy;
}

/** `levqor approvals policy set …`. */
export async function policySet(flags: PolicyFlags): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    const policy = policyFromFlags((await getPolicy(db, tenant.id)) ?? DEFAULT_POLICY, flags);
    await assertPeopleExist(db, tenant.id, [...policy.approvers, ...Object.values(policy.groups).flat()], 'approval policy');
    await setPolicy(db, tenant.id, policy, cliActor(flags.as));
    printJson({ tenant: tenant.name, ...policy });
    return 0;
  });
}

/** `levqor approvals policy show`. */
export async function policyShow(opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    printJson({ tenant: tenant.name, ...((await getPolicy(db, tenant.id)) ?? { ...DEFAULT_POLICY, default: true }) });
    return 0;
  });
}
