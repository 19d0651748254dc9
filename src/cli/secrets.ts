import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError } from '../lib/errors.js';
import { findInlineCredentials } from '../secrets/doctor.js';
import { secretStoreFromConfig } from '../secrets/from-config.js';
import { assertSecretName } from '../workflows/secret-refs.js';
import { resolveTenant } from '../tenants/queries.js';
import { iso, printJson, printTable, readStdin, withDb, type GlobalOptions } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';
import { cliActor } from './workflows.js';

/** The value to store: from --file, or standard input; never from argv (it would sit in shell history and ps). */
async function readValue(file: string | undefined): Promise<string> {
  let text: string;
  if (file) {
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new AppError('bad_input', `--file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  } else {
    if (process.stdin.isTTY) process.stderr.write('value (end with Ctrl-D): ');
    text = await readStdin();
  }
  // A trailing newline from `echo` or an editor is not part of a credential.
  return text.replace(/\r?\n$/, '');
}

/** `levqor secret set NAME`: encrypts and stores the tenant's value. */
async function secretSet(name: string, opts: GlobalOptions & { file?: string; as?: string }): Promise<number> {
  assertSecretName(name);
  const value = await readValue(opts.file);
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const meta = await secretStoreFromConfig(config).set(db, tenant.id, name, value, cliActor(opts.as));
    if (opts.json) printJson({ tenant: tenant.name, ...meta, provider: 'db' });
    else
      console.log(
        `secret ${name} stored for tenant ${tenant.name} (version ${meta.version}, key ${meta.key_id}); use it as {{secrets.${name}}}`,
      );
    return 0;
  });
}

/** `levqor secret list`: names, providers and versions, never values. */
async function secretList(opts: GlobalOptions): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const rows = await secretStoreFromConfig(config).list(db, tenant.id);
    printTable(
      rows.map((r) => ({
        name: r.name,
        provider: r.provider,
        version: r.version,
        updated_at: iso(r.updated_at),
        updated_by: r.updated_by,
      })),
      opts.json,
      'no secrets yet: levqor secret set NAME (value on stdin)',
    );
    return 0;
  });
}

/** `levqor secret rm NAME`. */
async function secretRm(name: string, opts: GlobalOptions): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    await secretStoreFromConfig(config).remove(db, tenant.id, name);
    if (opts.json) printJson({ tenant: tenant.name, name, removed: true });
    else console.log(`secret ${name} removed from tenant ${tenant.name}`);
    return 0;
  });
}

/** `levqor secret rotate-key`: re-wraps every stored secret's data key with the current key. */
async function secretRotateKey(opts: { json?: boolean }): Promise<number> {
  return withDb(async ({ config, db }) => {
    const generate = !config.DATABASE_URL && !config.LEVQOR_SECRET_KEY && !config.LEVQOR_SECRET_KEY_FILE;
    const result = await secretStoreFromConfig(config).rotateKey(db, { generate });
    if (opts.json) printJson(result);
    else console.log(`${result.rewrapped} secret(s) re-wrapped with key ${result.key_id}${generate ? ' (a new key was generated)' : ''}`);
    return 0;
  });
}

/** `levqor doctor secrets`: exit 1 when a workflow or pending approval still carries an inline credential. */
export async function doctorSecrets(opts: GlobalOptions): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, opts.tenant);
    const found = await findInlineCredentials(db, tenant.id);
    if (opts.json) printJson({ tenant: tenant.name, inline_credentials: found });
    else if (found.length === 0) console.log(`tenant ${tenant.name}: no inline credentials in workflows or pending approvals`);
    else {
      console.log(`tenant ${tenant.name}: inline credentials (store each with levqor secret set NAME and write {{secrets.NAME}})`);
      for (const f of found) console.log(`  ✗ ${f.kind} ${f.subject}: ${f.fields.join(', ')}`);
    }
    return found.length === 0 ? 0 : 1;
  });
}

/** `levqor secret …`. */
export function registerSecrets(program: Command, act: Act): void {
  const secret = program.command('secret').description('secrets for {{secrets.NAME}} in steps: stored encrypted per tenant, never shown');
  secret
    .command('set <name>')
    .description('store a value (read from standard input or --file, never from the command line)')
    .option('--file <path>', 'read the value from this file')
    .option('--as <name>', 'who to record as setting it')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((name: string, opts: GlobalOptions & { file?: string; as?: string }) => secretSet(name, opts)));
  secret
    .command('list')
    .description('names, providers (db, file, env), versions and who updated them; never values')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: GlobalOptions) => secretList(opts)));
  secret
    .command('rm <name>')
    .description("remove the tenant's stored value")
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((name: string, opts: GlobalOptions) => secretRm(name, opts)));
  secret
    .command('rotate-key')
    .description('re-wrap every stored secret with the current key (LEVQOR_SECRET_KEY; embedded default: a new generated key)')
    .addOption(jsonOption())
    .action(act((opts: { json?: boolean }) => secretRotateKey(opts)));
}
