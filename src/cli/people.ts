import { InvalidArgumentError, type Command } from 'commander';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { getPeopleSettings, listPeople, type Person } from '../people/queries.js';
import { isRole, ROLES, type Role } from '../people/roles.js';
import { handleSchema, identitySchema, loadPeopleFile, personPatchSchema, personSpecSchema, slackTeamSchema } from '../people/schema.js';
import {
  addPerson,
  applyPeople,
  editPerson,
  linkIdentity,
  removePerson,
  requirePerson,
  setAutolink,
  unlinkIdentity,
} from '../people/service.js';
import { resolveTenant, type TenantRow } from '../tenants/queries.js';
import { iso, printJson, printTable, readStdin, withDb, type GlobalOptions } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';
import { cliActor } from './workflows.js';

type Flags = GlobalOptions & { as?: string };

/** A checked value from a zod schema, or bad input naming the argument. */
function check<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } },
  value: unknown,
  what: string,
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError('bad_input', `${what}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
}

const roleArg = (v: string): Role => {
  if (!isRole(v)) throw new InvalidArgumentError(`a role: ${ROLES.join(', ')}`);
  return v;
};

/** Runs a directory change in one transaction for the resolved tenant. */
function change<T>(flags: Flags, fn: (db: Queryable, tenant: TenantRow, by: string) => Promise<T>): Promise<T> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    return db.transaction((tx) => fn(tx, tenant, cliActor(flags.as)));
  });
}

/** One person as `people show` prints it. */
function printPerson(p: Person, json: boolean | undefined): void {
  if (json) return printJson(p);
  console.log(`${p.handle}: ${p.display_name}${p.email ? ` <${p.email}>` : ''}, ${p.role}`);
  if (p.identities.length === 0) console.log('  no linked identities (levqor people link HANDLE IDENTITY)');
  for (const i of p.identities)
    console.log(`  ${i.identity}${i.slack_team_id ? ` (team ${i.slack_team_id})` : ''}  linked ${iso(i.linked_at)} by ${i.linked_by}`);
}

/** `levqor people …`: the tenant's directory of people, their identities and roles. */
export function registerPeople(program: Command, act: Act): void {
  const people = program
    .command('people')
    .description('people who decide: their linked identities (Slack, GitHub, OIDC, tokens, CLI, email) and roles');
  const cmd = (spec: string, description: string) =>
    people
      .command(spec)
      .description(description)
      .addOption(tenantOption())
      .addOption(jsonOption())
      .option('--as <name>', 'who to record as making the change');

  cmd('list', "the tenant's people with their roles and identities").action(
    act((flags: Flags) =>
      withDb(async ({ db }) => {
        const tenant = await resolveTenant(db, flags.tenant);
        const rows = await listPeople(db, tenant.id);
        if (flags.json) printJson(rows);
        else
          printTable(
            rows.map((p) => ({
              handle: p.handle,
              name: p.display_name,
              email: p.email,
              role: p.role,
              identities: p.identities.map((i) => i.identity).join(' '),
            })),
            false,
            'no people yet: levqor people add HANDLE --name "Full Name"',
          );
        return 0;
      }),
    ),
  );

  cmd('show <handle>', 'one person and their linked identities').action(
    act((handle: string, flags: Flags) =>
      withDb(async ({ db }) => {
        const tenant = await resolveTenant(db, flags.tenant);
        printPerson(await requirePerson(db, tenant.id, handle), flags.json);
        return 0;
      }),
    ),
  );

  cmd('add <handle>', 'add a person (role approver unless --role)')
    .requiredOption('--name <name>', 'display name')
    .option('--email <address>', 'email (used to link Slack users by verified email)')
    .option('--role <role>', `${ROLES.join(' | ')} (default approver)`, roleArg)
    .option(
      '--link <identity>',
      'an identity to link (repeat): slack:U0123, github:octocat, token:NAME …',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(
      act((handle: string, flags: Flags & { name: string; email?: string; role?: Role; link?: string[] }) => {
        const spec = check(
          personSpecSchema,
          { handle, display_name: flags.name, email: flags.email, role: flags.role, identities: flags.link },
          `person ${handle}`,
        );
        return change(flags, async (db, tenant, by) => {
          printPerson(await addPerson(db, tenant.id, spec, by), flags.json);
          return 0;
        });
      }),
    );

  const edit = (handle: string, flags: Flags & { name?: string; email?: string; role?: Role }) => {
    const patch = check(
      personPatchSchema,
      { display_name: flags.name, email: flags.email === '' ? null : flags.email, role: flags.role },
      `person ${handle}`,
    );
    return change(flags, async (db, tenant, by) => {
      printPerson(await editPerson(db, tenant.id, handle, patch, by), flags.json);
      return 0;
    });
  };
  cmd('edit <handle>', "change a person's name, email or role (a role change ends their console sessions)")
    .option('--name <name>', 'display name')
    .option('--email <address>', 'email ("" removes it)')
    .option('--role <role>', ROLES.join(' | '), roleArg)
    .action(act(edit));
  cmd('set-role <handle> <role>', `set a person's role: ${ROLES.join(', ')} (ends their console sessions)`).action(
    act((handle: string, role: string, flags: Flags) => edit(handle, { ...flags, role: roleArg(role) })),
  );

  cmd('rm <handle>', 'remove a person: their identities are unlinked and their console sessions end; past votes keep the handle').action(
    act((handle: string, flags: Flags) =>
      change(flags, async (db, tenant, by) => {
        await removePerson(db, tenant.id, handle, by);
        if (flags.json) printJson({ handle, removed: true });
        else console.log(`removed ${handle} from tenant ${tenant.name}`);
        return 0;
      }),
    ),
  );

  cmd(
    'link <handle> <identity>',
    'link an identity to a person: slack:U0123, github:octocat, oidc:SUBJECT, token:NAME, cli:USER, email:ADDRESS',
  )
    .option('--slack-team <id>', 'the Slack workspace of a slack: identity (T…)')
    .action(
      act((handle: string, identity: string, flags: Flags & { slackTeam?: string }) => {
        check(handleSchema, handle, 'handle');
        check(identitySchema, identity, 'identity');
        const slackTeamId = flags.slackTeam === undefined ? null : check(slackTeamSchema, flags.slackTeam, '--slack-team');
        return change(flags, async (db, tenant, by) => {
          await linkIdentity(db, tenant.id, handle, { identity, slackTeamId }, by);
          printPerson(await requirePerson(db, tenant.id, handle), flags.json);
          return 0;
        });
      }),
    );
  cmd('unlink <handle> <identity>', 'unlink an identity from a person').action(
    act((handle: string, identity: string, flags: Flags) =>
      change(flags, async (db, tenant, by) => {
        await unlinkIdentity(db, tenant.id, handle, identity, by);
        printPerson(await requirePerson(db, tenant.id, handle), flags.json);
        return 0;
      }),
    ),
  );

  cmd('apply', 'people as code: make each person in the file match it (identities included); nothing is written on any error')
    .requiredOption('-f, --file <path>', 'YAML or JSON: people: [{ handle, display_name, email?, role?, identities? }] ("-": stdin)')
    .option('--dry-run', 'validate only')
    .action(
      act(async (flags: Flags & { file: string; dryRun?: boolean }) => {
        const specs = await loadPeopleFile(flags.file, readStdin);
        if (flags.dryRun) {
          printTable(
            specs.map((s) => ({ handle: s.handle, role: s.role, valid: true })),
            flags.json,
          );
          return 0;
        }
        return change(flags, async (db, tenant, by) => {
          printTable(
            (await applyPeople(db, tenant.id, specs, by)).map((o) => ({ ...o })),
            flags.json,
          );
          return 0;
        });
      }),
    );

  cmd('autolink [state]', 'link Slack users to people by verified email (users.info) when they act: on | off (no state: show it)').action(
    act((state: string | undefined, flags: Flags) => {
      if (state !== undefined && state !== 'on' && state !== 'off') throw new AppError('bad_input', `state "${state}": on or off`);
      return withDb(async ({ db }) => {
        const tenant = await resolveTenant(db, flags.tenant);
        if (state) await db.transaction((tx) => setAutolink(tx, tenant.id, state === 'on', cliActor(flags.as)));
        const settings = await getPeopleSettings(db, tenant.id);
        if (flags.json) printJson({ tenant: tenant.name, ...settings });
        else console.log(`tenant ${tenant.name}: Slack auto-linking by verified email is ${settings.slack_autolink ? 'on' : 'off'}`);
        return 0;
      });
    }),
  );
}
