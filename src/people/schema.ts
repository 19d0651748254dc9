import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { AppError } from '../lib/errors.js';
import { readInputFile } from '../lib/read-input.js';
import { unsafeInputProblem } from '../lib/safe-input.js';
import { formatIssues } from '../workflows/schema.js';
import { ROLES } from './roles.js';

/** Identities a person can hold: slack:U…, github:login, oidc:subject, token:name, cli:user, email:address. */
export const LINKABLE = /^(slack|github|oidc|token|cli):[^\s:][^\s]{0,199}$|^email:[^\s@<>,;:]+@[^\s@<>,;:]+\.[^\s@<>,;:]+$/;
const LINKABLE_HINT = 'an identity like slack:U0123, github:octocat, oidc:SUBJECT, token:NAME, cli:alice or email:alice@example.com';

export const HANDLE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const HANDLE_HINT = 'lowercase letters, digits, ".", "_" and "-" (at most 63), starting with a letter or digit';

export const handleSchema = z.string().regex(HANDLE, `a handle: ${HANDLE_HINT}`);
export const identitySchema = z.string().regex(LINKABLE, LINKABLE_HINT);
/** A Slack workspace (team) id. */
export const slackTeamSchema = z.string().regex(/^[TE][A-Z0-9]{2,30}$/, 'a Slack team id like T0123ABCD');
const emailSchema = z
  .string()
  .max(254)
  .regex(/^[^\s@<>,;:]+@[^\s@<>,;:]+\.[^\s@<>,;:]+$/, 'an email address')
  .transform((e) => e.toLowerCase());

/** One linked identity: "slack:U0123", or with its workspace { identity, slack_team_id }. */
const linkSchema = z.union([identitySchema, z.object({ identity: identitySchema, slack_team_id: slackTeamSchema.optional() }).strict()]);

/** A person as a people file or the API gives them. */
export const personSpecSchema = z
  .object({
    handle: handleSchema,
    display_name: z.string().trim().min(1, 'a name is required').max(200),
    email: emailSchema.nullable().optional(),
    role: z.enum(ROLES).default('approver'),
    identities: z.array(linkSchema).max(50).optional(),
  })
  .strict();
export type PersonSpec = z.output<typeof personSpecSchema>;

/** A change to a person (the API's PUT, `levqor people edit`). */
export const personPatchSchema = z
  .object({
    display_name: z.string().trim().min(1).max(200).optional(),
    email: emailSchema.nullable().optional(),
    role: z.enum(ROLES).optional(),
  })
  .strict();

/** A link's identity and Slack team, whichever form it came in. */
export function linkOf(link: z.output<typeof linkSchema>): { identity: string; slackTeamId: string | null } {
  return typeof link === 'string'
    ? { identity: link, slackTeamId: null }
    : { identity: link.identity, slackTeamId: link.slack_team_id ?? null };
}

/**
 * Parses a people file (YAML or JSON): `{ people: [...] }` or a list. Every problem of every
 * person is named with its path, and a handle, email or identity given twice; nothing is
 * returned unless all are valid.
 */
export function parsePeopleText(text: string, source: string): PersonSpec[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const problems: string[] = list.flatMap((d) => d.errors.map((e) => `${source}: ${e.message.split('\n')[0] ?? 'parse error'}`));
  let items: unknown[] = [];
  if (problems.length === 0) {
    if (list.length !== 1) problems.push(`${source}: one YAML document expected (got ${list.length})`);
    try {
      const value: unknown = list[0]?.toJS({ maxAliasCount: 100 });
      if (Array.isArray(value)) items = value;
      else if (value && typeof value === 'object' && 'people' in value && Array.isArray(value.people)) items = value.people as unknown[];
      else problems.push(`${source}: expected "people:" with a list of people`);
    } catch (err) {
      problems.push(`${source}: ${(err as Error).message}`);
    }
  }
  const specs: PersonSpec[] = [];
  const seen = new Map<string, string>();
  const once = (key: string, where: string) => {
    const first = seen.get(key);
    if (first) problems.push(`${where}: ${key} is given twice (also at ${first})`);
    else seen.set(key, where);
  };
  items.forEach((item, i) => {
    const where = `${source}:people[${i}]`;
    const unsafe = unsafeInputProblem(item, where);
    if (unsafe) return void problems.push(unsafe);
    const parsed = personSpecSchema.safeParse(item);
    if (!parsed.success) return void problems.push(...formatIssues(parsed.error, where));
    once(`handle ${parsed.data.handle}`, `${where}.handle`);
    if (parsed.data.email) once(`email ${parsed.data.email}`, `${where}.email`);
    (parsed.data.identities ?? []).forEach((l, j) => once(`identity ${linkOf(l).identity}`, `${where}.identities[${j}]`));
    specs.push(parsed.data);
  });
  if (problems.length === 0 && specs.length === 0) problems.push(`${source}: no person found`);
  if (problems.length > 0)
    throw new AppError('bad_input', `invalid people file; nothing was written:\n  ${problems.join('\n  ')}`, problems);
  return specs;
}

/** Reads and parses a people file ("-" reads standard input). */
export async function loadPeopleFile(path: string, readStdin: () => Promise<string>): Promise<PersonSpec[]> {
  const text = await readInputFile(path, readStdin);
  return parsePeopleText(text, path);
}
