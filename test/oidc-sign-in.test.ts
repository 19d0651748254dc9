import { describe, expect, it } from 'vitest';
import { openTransaction, sealTransaction, transactionKey, type OidcTransaction } from '../src/auth/oidc-transaction.js';
import { openPersonSession, openSession, resolveSession, revokeSession } from '../src/auth/sessions.js';
import { createToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { ROLE_SCOPES } from '../src/people/roles.js';
import { matchSignIn, SIGN_IN_LINKER } from '../src/people/sign-in.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';
import { addPerson, linkIdentity } from './helpers/people.js';

// OpenID Connect sign-in below the browser: who a verified identity signs in as, the sessions a
// person holds (their current role, ended by removal), the sealed transaction cookie, and the
// configuration's checks.

const claims = (sub: string, email?: string, emailVerified = true) => ({ sub, email, emailVerified });

describe.each(BACKENDS)('sign-in and person sessions on $name', ({ open }) => {
  const t = useTestDb(open);

  it('matches a linked subject first, else a verified email (then links it and records the link), never an unverified one', async () => {
    const tenant = await makeTenant(t.db, 'oidc-match');
    const alice = await addPerson(t.db, tenant.id, { handle: 'alice', display_name: 'Alice A', email: 'alice@example.com' });
    const bob = await addPerson(t.db, tenant.id, { handle: 'bob', email: 'bob@example.com', role: 'viewer' });
    await linkIdentity(t.db, tenant.id, bob, 'oidc:sub-bob');

    // The linked subject wins, whatever email the provider sends now.
    const byLink = await matchSignIn(t.db, claims('sub-bob', 'alice@example.com'));
    expect(byLink).toMatchObject({ kind: 'person', linkedByEmail: false, person: { id: bob, role: 'viewer', tenant_name: tenant.name } });

    // An unverified email matches nobody, and links nothing.
    expect(await matchSignIn(t.db, claims('sub-alice', 'alice@example.com', false))).toEqual({ kind: 'unknown' });
    expect(await matchSignIn(t.db, claims('sub-alice'))).toEqual({ kind: 'unknown' });
    const before = await t.db.query('SELECT 1 FROM person_identities WHERE person_id = $1', [alice]);
    expect(before.rowCount).toBe(0);

    const byEmail = await matchSignIn(t.db, claims('sub-alice', 'alice@example.com'));
    expect(byEmail).toMatchObject({ kind: 'person', linkedByEmail: true, person: { id: alice, handle: 'alice', display_name: 'Alice A' } });
    const { rows: links } = await t.db.query<{ identity: string; linked_by: string }>(
      'SELECT identity, linked_by FROM person_identities WHERE person_id = $1',
      [alice],
    );
    expect(links).toEqual([{ identity: 'oidc:sub-alice', linked_by: SIGN_IN_LINKER }]);
    const { rows: audit } = await t.db.query<{ actor: string; action: string; subject: string; detail: Record<string, unknown> }>(
      "SELECT actor, action, subject, detail FROM audit_log WHERE tenant_id = $1 AND action = 'person.autolinked'",
      [tenant.id],
    );
    expect(audit).toEqual([
      {
        actor: SIGN_IN_LINKER,
        action: 'person.autolinked',
        subject: 'person:alice',
        detail: { identity: 'oidc:sub-alice', via: 'verified email at console sign-in', email: 'alice@example.com' },
      },
    ]);
    // Next time the subject is linked: no second link, no second audit entry.
    expect(await matchSignIn(t.db, claims('sub-alice', 'alice@example.com'))).toMatchObject({ kind: 'person', linkedByEmail: false });
    const again = await t.db.query("SELECT 1 FROM audit_log WHERE tenant_id = $1 AND action = 'person.autolinked'", [tenant.id]);
    expect(again.rowCount).toBe(1);

    // Another subject with Alice's verified email does not take her over.
    const other = await matchSignIn(t.db, claims('sub-intruder', 'alice@example.com'));
    expect(other).toMatchObject({ kind: 'other_subject', person: { handle: 'alice' } });
    const intruder = await t.db.query("SELECT 1 FROM person_identities WHERE identity = 'oidc:sub-intruder'");
    expect(intruder.rowCount).toBe(0);
  });

  it('an identity matching people in several tenants signs in to none until one is chosen', async () => {
    const a = await makeTenant(t.db, 'oidc-multi-a');
    const b = await makeTenant(t.db, 'oidc-multi-b');
    const inA = await addPerson(t.db, a.id, { handle: 'carol', email: 'carol@example.com' });
    const inB = await addPerson(t.db, b.id, { handle: 'carol', email: 'carol@example.com', role: 'admin' });
    const several = await matchSignIn(t.db, claims('sub-carol', 'carol@example.com'));
    expect(several).toEqual({ kind: 'several', tenants: [a.name, b.name].sort() });
    expect(await matchSignIn(t.db, claims('sub-carol', 'carol@example.com'), b.name)).toMatchObject({
      kind: 'person',
      person: { id: inB, role: 'admin' },
    });
    // Now linked in b only: the subject alone still names one person; a's email match is not consulted.
    expect(await matchSignIn(t.db, claims('sub-carol', 'carol@example.com'))).toMatchObject({ kind: 'person', person: { id: inB } });
    expect(await matchSignIn(t.db, claims('sub-carol', 'carol@example.com'), a.name)).toMatchObject({
      kind: 'person',
      person: { id: inA },
    });
    expect(await matchSignIn(t.db, claims('sub-carol', 'carol@example.com'))).toEqual({
      kind: 'several',
      tenants: [a.name, b.name].sort(),
    });
    expect(await matchSignIn(t.db, claims('sub-carol', 'carol@example.com'), 'no-such-tenant')).toEqual({ kind: 'unknown' });
  });

  it("a person's session acts with their current role as oidc:<sub>; changing the role, unlinking or removing them applies at once", async () => {
    const tenant = await makeTenant(t.db, 'oidc-session');
    const dana = await addPerson(t.db, tenant.id, { handle: 'dana', display_name: 'Dana D', role: 'approver' });
    await linkIdentity(t.db, tenant.id, dana, 'oidc:sub-dana');
    const secret = await openPersonSession(t.db, { id: dana, tenant_id: tenant.id }, 3600);
    expect(secret).toMatch(/^lvs_/);
    const { rows: stored } = await t.db.query<{ token_id: string | null; person_id: string; secret_hash: string }>(
      'SELECT token_id, person_id, secret_hash FROM web_sessions WHERE person_id = $1',
      [dana],
    );
    expect(stored).toEqual([{ token_id: null, person_id: dana, secret_hash: expect.not.stringContaining(secret.slice(4)) as string }]);

    expect(await resolveSession(t.db, secret)).toMatchObject({
      tenant_id: tenant.id,
      name: 'dana',
      actor: 'oidc:sub-dana',
      scopes: [...ROLE_SCOPES.approver],
      person: { handle: 'dana', display_name: 'Dana D', role: 'approver' },
    });
    await t.db.query("UPDATE people SET role = 'viewer' WHERE id = $1", [dana]);
    const viewer = await resolveSession(t.db, secret);
    expect(viewer?.scopes).toEqual([...ROLE_SCOPES.viewer]);
    expect(viewer?.scopes).not.toContain('approvals:decide');

    await t.db.query("DELETE FROM person_identities WHERE identity = 'oidc:sub-dana'");
    expect(await resolveSession(t.db, secret)).toBeUndefined();
    await linkIdentity(t.db, tenant.id, dana, 'oidc:sub-dana');
    expect(await resolveSession(t.db, secret)).toMatchObject({ name: 'dana' });

    await t.db.query('DELETE FROM people WHERE id = $1', [dana]);
    expect(await resolveSession(t.db, secret)).toBeUndefined();
    const gone = await t.db.query('SELECT 1 FROM web_sessions WHERE person_id = $1', [dana]);
    expect(gone.rowCount).toBe(0);
  });

  it('sign-out revokes a person session; token sessions work as before', async () => {
    const tenant = await makeTenant(t.db, 'oidc-signout');
    const erin = await addPerson(t.db, tenant.id, { handle: 'erin' });
    await linkIdentity(t.db, tenant.id, erin, 'oidc:sub-erin');
    const secret = await openPersonSession(t.db, { id: erin, tenant_id: tenant.id }, 3600);
    expect(await revokeSession(t.db, secret)).toBe(true);
    expect(await resolveSession(t.db, secret)).toBeUndefined();
    expect(await revokeSession(t.db, secret)).toBe(false);

    const { identity } = await createToken(t.db, tenant.id, 'ops', ['approvals:read']);
    const token = await openSession(t.db, identity, 3600);
    expect(await resolveSession(t.db, token.secret)).toMatchObject({ name: 'ops', scopes: ['approvals:read'] });
    expect((await resolveSession(t.db, token.secret))?.person).toBeUndefined();
  });
});

describe('the sealed sign-in transaction', () => {
  const key = transactionKey('a client secret');
  const tx: OidcTransaction = { state: 's', nonce: 'n', verifier: 'v'.repeat(43), next: '/console/approvals', expires_at: 1000 };

  it('opens only unaltered, unexpired, under the same key; never shows its values', () => {
    const sealed = sealTransaction(key, tx);
    expect(sealed).not.toContain('v'.repeat(10));
    expect(openTransaction(key, sealed, 999)).toEqual(tx);
    expect(openTransaction(key, sealed, 1000)).toBeUndefined();
    expect(openTransaction(transactionKey('another secret'), sealed, 999)).toBeUndefined();
    const [iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body ?? '', 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(openTransaction(key, [iv, tag, flipped.toString('base64')].join('.'), 999)).toBeUndefined();
    expect(openTransaction(key, 'garbage', 999)).toBeUndefined();
    expect(openTransaction(key, undefined, 999)).toBeUndefined();
  });
});

describe('OpenID Connect configuration', () => {
  const four = {
    LEVQOR_OIDC_ISSUER: 'https://login.example.com',
    LEVQOR_OIDC_CLIENT_ID: 'levqor',
    LEVQOR_OIDC_CLIENT_SECRET: 'very-secret-value',
    LEVQOR_OIDC_REDIRECT_URL: 'https://levqor.example.com/console/oidc/callback',
  };
  const problems = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it.each([
    ['all four', four, ''],
    ['a loopback http issuer', { ...four, LEVQOR_OIDC_ISSUER: 'http://localhost:9000' }, ''],
    ['token sign-in off beside OIDC', { ...four, LEVQOR_CONSOLE_TOKEN_SIGNIN: 'off' }, ''],
    ['a missing secret', { ...four, LEVQOR_OIDC_CLIENT_SECRET: '' }, 'LEVQOR_OIDC_CLIENT_SECRET: required with'],
    [
      'an http issuer elsewhere',
      { ...four, LEVQOR_OIDC_ISSUER: 'http://login.example.com' },
      'LEVQOR_OIDC_ISSUER: must be an https:// URL',
    ],
    [
      'a redirect elsewhere',
      { ...four, LEVQOR_OIDC_REDIRECT_URL: 'https://levqor.example.com/callback' },
      'LEVQOR_OIDC_REDIRECT_URL: must be',
    ],
    ['token sign-in off alone', { LEVQOR_CONSOLE_TOKEN_SIGNIN: 'off' }, 'LEVQOR_CONSOLE_TOKEN_SIGNIN: off needs OpenID Connect'],
    ['token sign-in maybe', { LEVQOR_CONSOLE_TOKEN_SIGNIN: 'maybe' }, 'LEVQOR_CONSOLE_TOKEN_SIGNIN'],
  ])('%s', (_name, env, expected) => {
    const message = problems(env);
    if (expected) expect(message).toContain(expected);
    else expect(message).toBe('');
    expect(message).not.toContain('very-secret-value');
  });
});
