import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { createDecisionLink, emailApprovers, type EmailNotifyDeps } from '../src/notify/decision-links.js';
import { createSmtpMailer } from '../src/workflows/steps/email.js';
import { requestDeploy, startApi, type TestApi } from './helpers/api.js';
import { approvalState } from './helpers/console.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';
import { cleanups, startSmtp, type FakeSmtp } from './helpers/smtp.js';

// Email decision links, end to end: a real SMTP server on loopback captures the mail, the real
// server answers the link. GET never decides; a link decides once, for its own person, before
// it expires, and only the action it was sent for.

let t: TestDb;
let api: TestApi;
let smtp: FakeSmtp;
let deps: EmailNotifyDeps;

beforeAll(async () => {
  t = await openPgTestDb({ poolMax: 6 });
  api = await startApi(t.db);
  smtp = await startSmtp();
  const mailer = createSmtpMailer(`smtp://127.0.0.1:${smtp.port}`);
  deps = {
    db: t.db,
    log: { info: () => undefined, warn: () => undefined },
    mailer,
    from: 'levqor@example.com',
    publicUrl: api.baseUrl,
    linkTtlSeconds: 3600,
    settleSeconds: 0,
  };
});
afterAll(async () => {
  deps.mailer.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await api.close();
  await t.close();
});

/** The decision link in the mail to an address (quoted-printable soft breaks undone). */
function linkFor(address: string): string {
  const mail = [...smtp.messages].reverse().find((m) => m.to.includes(address));
  if (!mail) throw new Error(`no mail to ${address}`);
  const text = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = /(http:\/\/127\.0\.0\.1:\d+\/console\/decide\/lvd_[\w-]+)/.exec(text);
  if (!m?.[1]) throw new Error(`no link in the mail to ${address}`);
  return m[1];
}

const post = (url: string, form: Record<string, string>, site = 'same-origin') =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': site },
    body: new URLSearchParams(form).toString(),
  });

describe('email decision links', () => {
  it('mails each email: approver a link; GET only shows it; it decides once, as its person', async () => {
    const tenant = await makeTenant(t.db, 'links');
    await setPolicy(
      t.db,
      tenant.id,
      { ...DEFAULT_POLICY, approvers: ['email:alice@example.com', 'email:bob@example.com', 'slack:U1'] },
      'test',
    );
    // The notifier starts at the feed's end (history is not mailed): let it take its place first.
    await emailApprovers(deps);
    const a = await requestDeploy(t.db, tenant.id, {
      summary: 'deploy links 1.0',
      payload: { version: '1.0', token: 'sk_live_abcdef123456' },
    });
    // Two replicas at once: each person gets one mail.
    const sent = await Promise.all([emailApprovers(deps), emailApprovers(deps)]);
    expect(sent.reduce((n, x) => n + x, 0)).toBe(2);
    expect(
      smtp.messages
        .filter((m) => m.raw.includes('deploy links 1.0'))
        .flatMap((m) => m.to)
        .sort(),
    ).toEqual(['alice@example.com', 'bob@example.com']);
    expect(await emailApprovers(deps)).toBe(0);

    const alice = linkFor('alice@example.com');
    const page = await fetch(alice);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('You are deciding as <strong>email:alice@example.com</strong>');
    expect(html).toContain(a.payload_hash);
    expect(html).not.toContain('sk_live_abcdef123456');
    expect((await approvalState(t.db, a.id)).status).toBe('pending'); // a GET (a mail scanner) decides nothing

    const noReason = await post(alice, { verb: 'reject' });
    expect(noReason.status).toBe(400);
    expect((await approvalState(t.db, a.id)).status).toBe('pending');
    expect((await post(alice, { verb: 'approve' }, 'cross-site')).status).toBe(403);

    const approved = await post(alice, { verb: 'approve', reason: 'looks right' });
    expect(approved.status).toBe(200);
    expect(await approved.text()).toContain('Approved as email:alice@example.com.');
    expect(await approvalState(t.db, a.id)).toMatchObject({
      status: 'approved',
      processed_by: 'email:alice@example.com',
      reason: 'looks right',
    });
    const { rows } = await t.db.query<{ channel: string }>('SELECT channel FROM approval_votes WHERE approval_id = $1', [a.id]);
    expect(rows).toEqual([{ channel: 'email' }]);

    const again = await post(alice, { verb: 'approve' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('This link was already used');
    const bob = await fetch(linkFor('bob@example.com'));
    expect(bob.status).toBe(410);
    expect(await bob.text()).toContain('This request is already approved (by email:alice@example.com).');
  });

  it('refuses an expired link, a link for someone who may not decide, and a link for a changed request', async () => {
    const tenant = await makeTenant(t.db, 'links-refused');
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, approvers: ['email:carol@example.com'] }, 'test');
    const a = await requestDeploy(t.db, tenant.id, { summary: 'deploy links 2.0' });
    const base = `${api.baseUrl}/console/decide/`;
    const expired = await createDecisionLink(t.db, a, 'email:carol@example.com', 3600);
    await t.db.query('UPDATE decision_links SET expires_at = extract(epoch FROM now()) - 1 WHERE approval_id = $1', [a.id]);
    expect((await fetch(base + expired)).status).toBe(410);
    const late = await post(base + expired, { verb: 'approve' });
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('This link has expired.');

    const mallory = await createDecisionLink(t.db, a, 'email:mallory@example.com', 3600);
    const refused = await post(base + mallory, { verb: 'approve' });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('email:mallory@example.com is not an approver for this tenant');

    const carol = await createDecisionLink(t.db, a, 'email:carol@example.com', 3600);
    await t.db.query(
      "UPDATE decision_links SET payload_hash = 'another' WHERE approval_id = $1 AND identity = 'email:carol@example.com' AND used_at IS NULL AND expires_at > extract(epoch FROM now())",
      [a.id],
    );
    const changed = await post(base + carol, { verb: 'approve' });
    expect(changed.status).toBe(409);
    expect(await changed.text()).toContain('not the action this link was for');
    expect((await fetch(`${base}lvd_${'x'.repeat(43)}`)).status).toBe(404);
    expect((await approvalState(t.db, a.id)).status).toBe('pending');
  });
});
