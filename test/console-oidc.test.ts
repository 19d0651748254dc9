import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcSignIn } from '../src/auth/oidc-client.js';
import { DASHBOARD_COOKIE } from '../src/http/dashboard.js';
import { OIDC_COOKIE } from '../src/http/console/oidc-routes.js';
import { SIGN_IN_LINKER } from '../src/people/sign-in.js';
import { makeApiTenant, startApi, type ApiTenant, type TestApi } from './helpers/api.js';
import { launchChromium, newPage } from './helpers/browser.js';
import { approvalState, requestApproval } from './helpers/console.js';
import { BACKENDS, type TestDb } from './helpers/db.js';
import { capturingLog } from './helpers/deps.js';
import { freeLoopbackPort, startOidcProvider, type TestProvider } from './helpers/oidc-provider.js';
import { addPerson, linkIdentity } from './helpers/people.js';

// Console sign-in with OpenID Connect end to end: Debian's chromium, the real server (on Postgres,
// then on PGlite) at 127.0.0.1, and a real OpenID provider (oidc-provider) at localhost, another site, so the
// browser treats the return from the provider as the cross-site navigation it is in production.

let browser: Browser;
let t: TestDb;
let idp: TestProvider;
let api: TestApi;
let tenant: ApiTenant;
let logged: ReturnType<typeof capturingLog>;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** Signs in at the provider's development form as `login` (the subject), from the console's sign-in page. */
async function signInAt(page: Page, login: string): Promise<void> {
  await page.goto(`${api.baseUrl}/console`);
  await page.getByRole('link', { name: `Sign in with ${new URL(idp.issuer).host}` }).click();
  await page.waitForURL(`${idp.issuer}/**`);
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

const sessionCookie = async (context: BrowserContext) => (await context.cookies()).find((c) => c.name === DASHBOARD_COOKIE);

describe.each(BACKENDS)('console sign-in with OpenID Connect in headless Chromium on $name', ({ open }) => {
  beforeAll(async () => {
    t = await open();
    logged = capturingLog();
    const port = await freeLoopbackPort();
    const redirectUrl = `http://127.0.0.1:${port}/console/oidc/callback`;
    idp = await startOidcProvider(redirectUrl);
    const oidc = createOidcSignIn({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUrl });
    api = await startApi(t.db, { port, oidc, log: logged.log });
    tenant = await makeApiTenant(t.db, { requester: ['actions:write'] }, 'oidc-e2e');
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await idp?.close();
    await t?.close();
  });

  it('signs in by verified email (linking the subject), approves a pending request as the person, and signs out', async () => {
    const alice = await addPerson(t.db, tenant.tenant.id, { handle: 'alice', display_name: 'Alice Approver', email: 'alice@example.com' });
    idp.accounts.set('alice-sub', { email: 'Alice@Example.com', email_verified: true, name: 'Alice' });
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), 'deploy api 5.0.0');

    const context = await browser.newContext();
    const { page, errors } = await newPage(context);
    await page.goto(`${api.baseUrl}/console`);
    // The sign-in page offers the provider beside the token form (token sign-in is on by default).
    expect(await page.getByLabel('Access token').count()).toBe(1);
    await signInAt(page, 'alice-sub');
    await page.waitForURL(`${api.baseUrl}/console/approvals`);
    // From here on only the console's own pages (the provider's development pages load a web font).
    errors.length = 0;
    expect(await page.locator('.who').textContent()).toBe('Alice Approver (approver)');
    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The transaction cookie is gone once used.
    expect((await context.cookies()).find((c) => c.name === OIDC_COOKIE)).toBeUndefined();

    const { rows: links } = await t.db.query<{ identity: string }>('SELECT identity FROM person_identities WHERE person_id = $1', [alice]);
    expect(links).toEqual([{ identity: 'oidc:alice-sub' }]);
    const linked = await t.db.query("SELECT 1 FROM audit_log WHERE actor = $1 AND subject = 'person:alice'", [SIGN_IN_LINKER]);
    expect(linked.rowCount).toBe(1);

    await Promise.all([
      page.waitForURL(`**/console/approvals?decided=${id}`),
      page.getByRole('button', { name: 'Approve deploy api 5.0.0' }).click(),
    ]);
    expect(await page.getByRole('status').first().textContent()).toContain('deploy api 5.0.0: approved by oidc:alice-sub');
    expect(await approvalState(t.db, id)).toMatchObject({ status: 'approved', processed_by: 'oidc:alice-sub' });
    const { rows: votes } = await t.db.query<{ actor: string; channel: string }>(
      'SELECT actor, channel FROM approval_votes WHERE approval_id = $1',
      [id],
    );
    expect(votes).toEqual([{ actor: 'oidc:alice-sub', channel: 'console' }]);

    await Promise.all([page.waitForURL(`${api.baseUrl}/dashboard`), page.getByRole('button', { name: 'Sign out' }).click()]);
    const { rows: sessions } = await t.db.query<{ revoked: boolean }>(
      'SELECT revoked_at IS NOT NULL AS revoked FROM web_sessions WHERE person_id = $1',
      [alice],
    );
    expect(sessions).toEqual([{ revoked: true }]);
    await page.goto(`${api.baseUrl}/console/approvals`);
    expect(await page.getByRole('link', { name: /^Sign in with / }).count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("a person's session follows their role, and ends when they are removed", async () => {
    const bob = await addPerson(t.db, tenant.tenant.id, { handle: 'bob', display_name: 'Bob Builder', role: 'approver' });
    await linkIdentity(t.db, tenant.tenant.id, bob, 'oidc:bob-sub');
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), 'rotate keys');
    const context = await browser.newContext();
    const { page } = await newPage(context);
    await signInAt(page, 'bob-sub');
    await page.waitForURL(`${api.baseUrl}/console/approvals`);
    expect(await page.getByRole('button', { name: 'Approve rotate keys' }).count()).toBe(1);

    await t.db.query("UPDATE people SET role = 'viewer' WHERE id = $1", [bob]);
    await page.reload();
    expect(await page.locator('.who').textContent()).toBe('Bob Builder (viewer)');
    expect(await page.getByRole('button', { name: 'Approve rotate keys' }).count()).toBe(0);

    await t.db.query('DELETE FROM people WHERE id = $1', [bob]);
    await page.reload();
    expect(await page.getByRole('alert').textContent()).toContain('Your session has ended');
    // The old cookie decides nothing: the form post is answered with the sign-in page.
    const cookie = await sessionCookie(context);
    const res = await fetch(`${api.baseUrl}/console/approvals/${id}/approve`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `${DASHBOARD_COOKIE}=${cookie?.value ?? ''}`,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      body: 'csrf=x',
    });
    expect(await res.text()).toContain('Sign in with');
    expect(await approvalState(t.db, id)).toMatchObject({ status: 'pending' });
    await context.close();
  });

  it('an unknown user sees a clear page and gets no session', async () => {
    idp.accounts.set('mallory-sub', { email: 'mallory@example.com', email_verified: true });
    const context = await browser.newContext();
    const { page } = await newPage(context);
    const callback = page.waitForResponse((r) => r.url().startsWith(`${api.baseUrl}/console/oidc/callback`));
    await signInAt(page, 'mallory-sub');
    expect((await callback).status()).toBe(403);
    const problem = await page.locator('#signin-problem').textContent();
    expect(problem).toContain('No person in Levqor matches your account (email mallory@example.com)');
    expect(problem).toContain('oidc:mallory-sub');
    expect(await page.content()).not.toMatch(/at \S+ \(|Error:/);
    expect(await sessionCookie(context)).toBeUndefined();
    await context.close();
  });

  it('a tampered state is refused; a callback without the sign-in cookie is refused', async () => {
    const erin = await addPerson(t.db, tenant.tenant.id, { handle: 'erin', role: 'admin' });
    await linkIdentity(t.db, tenant.tenant.id, erin, 'oidc:erin-sub');
    const context = await browser.newContext();
    const { page } = await newPage(context);
    // The sign-in starts in this browser (its sealed cookie set), then the state it sent is changed.
    const started = await context.request.get(`${api.baseUrl}/console/oidc/login`, { maxRedirects: 0 });
    expect(started.status()).toBe(303);
    const authorize = new URL(started.headers().location ?? '');
    expect(authorize.origin).toBe(idp.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_verifier')).toBeNull();
    const state = authorize.searchParams.get('state') ?? '';
    const sealed = (await context.cookies()).find((c) => c.name === OIDC_COOKIE);
    expect(sealed).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/console/oidc' });
    expect(sealed?.value).not.toContain(state);
    authorize.searchParams.set('state', 'tampered-state');
    const callback = page.waitForResponse((r) => r.url().startsWith(`${api.baseUrl}/console/oidc/callback`));
    await page.goto(authorize.href);
    await page.getByPlaceholder('Enter any login').fill('erin-sub');
    await page.getByPlaceholder('and password').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    expect((await callback).status()).toBe(401);
    expect(await page.locator('#signin-problem').textContent()).toContain('the sign-in response did not verify');
    expect(await sessionCookie(context)).toBeUndefined();
    const sessions = await t.db.query('SELECT 1 FROM web_sessions WHERE person_id = $1', [erin]);
    expect(sessions.rowCount).toBe(0);
    await context.close();

    const bare = await fetch(`${api.baseUrl}/console/oidc/callback?code=abc&state=def`);
    expect(bare.status).toBe(401);
    expect(await bare.text()).toContain('this sign-in was not started in this browser');
  });

  it('an account matching people in two tenants chooses one, and is signed in to that one only', async () => {
    const other = await makeApiTenant(t.db, { requester: ['actions:write'] }, 'oidc-e2e-other');
    await addPerson(t.db, tenant.tenant.id, { handle: 'frank', display_name: 'Frank Here', email: 'frank@example.com', role: 'viewer' });
    const there = await addPerson(t.db, other.tenant.id, { handle: 'frank', display_name: 'Frank There', email: 'frank@example.com' });
    idp.accounts.set('frank-sub', { email: 'frank@example.com', email_verified: true });
    const mine = await requestApproval(api.baseUrl, other.token('requester'), 'restart billing');
    const context = await browser.newContext();
    const { page } = await newPage(context);
    const choice = page.waitForResponse((r) => r.url().startsWith(`${api.baseUrl}/console/oidc/callback`));
    await signInAt(page, 'frank-sub');
    expect((await choice).status()).toBe(409);
    expect(await sessionCookie(context)).toBeUndefined();
    // The provider remembers the account: choosing goes straight back to the console.
    await page.getByRole('link', { name: `Sign in to ${other.tenant.name}` }).click();
    await page.waitForURL(`${api.baseUrl}/console/approvals`);
    expect(await page.locator('.who').textContent()).toBe('Frank There (approver)');
    expect(await page.getByRole('button', { name: 'Approve restart billing' }).count()).toBe(1);
    expect(await approvalState(t.db, mine)).toMatchObject({ status: 'pending' });
    const { rows } = await t.db.query<{ person_id: string }>(
      "SELECT i.person_id FROM person_identities i WHERE i.identity = 'oidc:frank-sub'",
    );
    expect(rows).toEqual([{ person_id: there }]);
    await context.close();
  });

  it("the provider's refusal and an unreachable provider end on clear pages", async () => {
    // Started as a browser would (the sealed cookie), answered by the provider with an error.
    const started = await fetch(`${api.baseUrl}/console/oidc/login?next=/console/runs`, { redirect: 'manual' });
    expect(started.status).toBe(303);
    const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const state = new URL(started.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const refusal = new URLSearchParams({ error: 'access_denied', error_description: 'the user said no', state, iss: idp.issuer });
    const refused = await fetch(`${api.baseUrl}/console/oidc/callback?${refusal.toString()}`, { headers: { cookie } });
    expect(refused.status).toBe(403);
    const page = await refused.text();
    expect(page).toContain('the sign-in provider refused: access_denied (the user said no)');
    expect(page).not.toContain(idp.clientSecret);
    expect(refused.headers.get('set-cookie')).toContain(`${OIDC_COOKIE}=; Path=/console/oidc`);

    const nowhere = createOidcSignIn({
      issuer: `http://127.0.0.1:${await freeLoopbackPort()}`,
      clientId: 'levqor',
      clientSecret: 'not-shown-anywhere',
      redirectUrl: `${api.baseUrl}/console/oidc/callback`,
    });
    const down = await startApi(t.db, { oidc: nowhere });
    try {
      const res = await fetch(`${down.baseUrl}/console/oidc/login`, { redirect: 'manual' });
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(text).toContain('cannot reach the sign-in provider 127.0.0.1:');
      expect(text).not.toContain('not-shown-anywhere');
      expect(res.headers.get('set-cookie')).toBeNull();
    } finally {
      await down.close();
    }
  });

  it('with token sign-in off, the page offers only the provider and a token is refused', async () => {
    const redirectUrl = `${api.baseUrl}/console/oidc/callback`;
    const oidc = createOidcSignIn({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUrl });
    const strict = await startApi(t.db, { oidc, tokenSignIn: false });
    try {
      const page = await (await fetch(`${strict.baseUrl}/console/approvals`)).text();
      expect(page).toContain('Sign in with localhost');
      expect(page).not.toContain('name="token"');
      const res = await fetch(`${strict.baseUrl}/dashboard/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tenant.token('requester') }).toString(),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('Token sign-in is turned off here');
    } finally {
      await strict.close();
    }
  });

  it('the log names who signed in and what failed, never the client secret, a code or a session secret', () => {
    const text = JSON.stringify(logged.lines);
    expect(logged.lines.filter((l) => l.msg === 'console: signed in with OpenID Connect').map((l) => l.person)).toEqual(
      expect.arrayContaining(['alice', 'bob', 'frank']),
    );
    expect(text).toContain('the sign-in response did not verify');
    expect(text).not.toContain(idp.clientSecret);
    expect(text).not.toMatch(/lvs_|code=|code_verifier/);
  });
});
