import type { Command } from 'commander';
import { addTrust, listTrust, removeTrust } from '../github/trust.js';
import { AppError } from '../lib/errors.js';
import { resolveTenant } from '../tenants/queries.js';
import { iso, printJson, printTable, withDb } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';
import { cliActor } from './workflows.js';

interface TrustAddFlags {
  tenant?: string;
  repo: string;
  ref: string;
  environment?: string;
  actionType: string[];
  as?: string;
  json?: boolean;
}

/** `levqor github trust add`: a repository's workflows may request these action types without an API token. */
async function trustAdd(flags: TrustAddFlags): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    const actionTypes = flags.actionType
      .flatMap((t) => t.split(','))
      .map((t) => t.trim())
      .filter(Boolean);
    const policy = await db.transaction((tx) =>
      addTrust(tx, tenant.id, { repository: flags.repo, ref: flags.ref, environment: flags.environment, actionTypes }, cliActor(flags.as)),
    );
    if (flags.json) printJson({ tenant: tenant.name, ...policy });
    else
      console.log(
        `tenant ${tenant.name} trusts GitHub Actions OIDC tokens of ${policy.repository} at ${policy.ref}${policy.environment ? ` in environment ${policy.environment}` : ''} for ${policy.action_types.join(', ')} (policy ${policy.id}); the workflow needs permissions: id-token: write`,
      );
    return 0;
  });
}

/** `levqor github trust list`. */
async function trustList(flags: { tenant?: string; json?: boolean }): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    printTable(
      (await listTrust(db, tenant.id)).map((p) => ({
        id: p.id,
        repository: p.repository,
        ref: p.ref,
        environment: p.environment ?? '(any)',
        action_types: p.action_types.join(','),
        created: iso(p.created_at),
        created_by: p.created_by,
      })),
      flags.json,
      'no trust policies: GitHub Actions need an API token (levqor github trust add --repo OWNER/REPO --ref refs/heads/main --action-type deploy)',
    );
    return 0;
  });
}

/** `levqor github trust rm ID`. */
async function trustRemove(id: string, flags: { tenant?: string; as?: string }): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    if (!(await db.transaction((tx) => removeTrust(tx, tenant.id, id, cliActor(flags.as)))))
      throw new AppError('not_found', `tenant ${tenant.name} has no trust policy ${id} (levqor github trust list)`);
    console.log(`removed trust policy ${id}; its repository's tokens are refused from now on`);
    return 0;
  });
}

/** `levqor github …`: how GitHub Actions reach this Levqor without a stored API token. */
export function registerGitHub(program: Command, act: Act): void {
  const trust = program
    .command('github')
    .description('GitHub integration')
    .command('trust')
    .description('which repositories may call the API with their GitHub Actions OIDC token instead of an API token');
  trust
    .command('add')
    .description('trust a repository (at a ref, optionally in a deployment environment) for some action types')
    .requiredOption('--repo <owner/repo>', 'the repository claim to trust')
    .requiredOption('--ref <ref>', 'the ref claim: refs/heads/main, or a pattern like refs/tags/v*')
    .option('--environment <name>', 'only jobs in this deployment environment (the environment claim)')
    .requiredOption(
      '--action-type <type>',
      'action types its requests may have (repeat or comma-separate; deploy.critical_files for the safety gate; * for any)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--as <name>', 'who to record as adding it')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((flags: TrustAddFlags) => trustAdd(flags)));
  trust
    .command('list')
    .description("the tenant's trust policies")
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((flags: { tenant?: string; json?: boolean }) => trustList(flags)));
  trust
    .command('rm <id>')
    .description('remove a trust policy (levqor github trust list shows ids)')
    .option('--as <name>', 'who to record as removing it')
    .addOption(tenantOption())
    .action(act((id: string, flags: { tenant?: string; as?: string }) => trustRemove(id, flags)));
}
