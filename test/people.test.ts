// People: the directory (CRUD, people as code), decisions counted by person across channels,
// self-approval by person, a people policy refusing unlinked identities, roles (viewers do not
// decide, a person's token never exceeds their role), and a database from before people.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../src/approvals/deciders.js';
import { eligibleIdentities } from '../src/approvals/policy.js';
import { getApproval, listVotes, setPolicy } from '../src/approvals/queries.js';
import { decideApproval } from '../src/approvals/service.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { openSession, resolveSession } from '../src/auth/sessions.js';
import { createAuthenticator, SCOPES } from '../src/auth/tokens.js';
import { migrate } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations.generated.js';
import { AppError } from '../src/lib/errors.js';
import { getPerson, listPeople } from '../src/people/queries.js';
import { parsePeopleText } from '../src/people/schema.js';
import { formatIsoWeek, isoWeekOfDate } from '../src/reports/week.js';
import { generateWeeklyReport } from '../src/reports/weekly.js';
import { addPerson, applyPeople, editPerson, linkIdentity, removePerson, unlinkIdentity } from '../src/people/service.js';
import { makeApiTenant, requestDeploy, useTestApi, type DecisionJson } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { csrfOf, getPage, postForm, signInCookie } from './helpers/console.js';
import { BACKENDS, openPgTestDb, useTestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';

const BY = 'cli:admin';

/** The error a promise rejects with (failing when it resolves). */
async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe.each(BACKENDS)('people on $name', ({ open }) => {
  const { t, api } = useTestApi(open);

  const person = (handle: string, identities: string[], role: 'viewer' | 'approver' | 'admin' = 'approver') => ({
    handle,
    display_name: `${handle[0]?.toUpperCase()}${handle.slice(1)} Example`,
    email: `${handle}@example.com`,
    role,
    identities,
  });
  const auditActions = async (tenantId: string) =>
    (
      await t.db.query<{ action: string; subject: string }>(
        "SELECT action, subject FROM audit_log WHERE tenant_id = $1 AND action LIKE 'person%' ORDER BY id",
        [tenantId],
      )
    ).rows.map((r) => `${r.action} ${r.subject}`);

  it('adds, links, edits, unlinks and removes people, each change in audit_log; conflicts name the holder', async () => {
    const tenant = await makeTenant(t.db, 'dir');
    await t.db.transaction((tx) => addPerson(tx, tenant.id, person('alice', ['slack:UALICE', 'github:alice']), BY));
    await t.db.transaction((tx) => addPerson(tx, tenant.id, person('bob', []), BY));
    const dup = await refusal(t.db.transaction((tx) => addPerson(tx, tenant.id, person('alice', []), BY)));
    expect([dup.code, dup.message]).toEqual(['conflict', expect.stringContaining('handle "alice" already exists')]);
    const held = await refusal(
      t.db.transaction((tx) => linkIdentity(tx, tenant.id, 'bob', { identity: 'slack:UALICE', slackTeamId: null }, BY)),
    );
    expect(held.message).toContain('slack:UALICE is already linked to alice');
    await t.db.transaction((tx) => linkIdentity(tx, tenant.id, 'bob', { identity: 'token:bob-laptop', slackTeamId: null }, BY));
    await t.db.transaction((tx) => editPerson(tx, tenant.id, 'bob', { role: 'viewer' }, BY));
    await t.db.transaction((tx) => unlinkIdentity(tx, tenant.id, 'alice', 'github:alice', BY));
    expect((await getPerson(t.db, tenant.id, 'bob'))?.role).toBe('viewer');
    expect((await getPerson(t.db, tenant.id, 'alice'))?.identities.map((i) => i.identity)).toEqual(['slack:UALICE']);
    await t.db.transaction((tx) => removePerson(tx, tenant.id, 'bob', BY));
    expect((await listPeople(t.db, tenant.id)).map((p) => p.handle)).toEqual(['alice']);
    // Removing a person frees their identities.
    const freed = await t.db.query('SELECT 1 FROM person_identities WHERE tenant_id = $1 AND identity = $2', [
      tenant.id,
      'token:bob-laptop',
    ]);
    expect(freed.rows).toHaveLength(0);
    expect(await auditActions(tenant.id)).toEqual([
      'person.added person:alice',
      'person.linked person:alice',
      'person.linked person:alice',
      'person.added person:bob',
      'person.linked person:bob',
      'person.role_changed person:bob',
      'person.unlinked person:alice',
      'person.removed person:bob',
    ]);
  });

  it('people as code: a file is validated whole (every problem named, nothing written), then applied declaratively', async () => {
    const tenant = await makeTenant(t.db, 'apply');
    const bad = `people:
  - handle: Alice
    display_name: Alice
  - handle: bob
    display_name: Bob
    role: boss
    identities: [slack:UBOB, "nope"]
  - handle: carol
    display_name: Carol
    identities: [slack:UCAROL]
  - handle: dan
    display_name: Dan
    identities: [slack:UCAROL]
`;
    const err = await refusal(Promise.resolve().then(() => parsePeopleText(bad, 'people.yaml')));
    expect(err.message).toContain('nothing was written');
    expect(err.issues.join('\n')).toMatch(/people\[0\]\.handle: a handle/);
    expect(err.issues.join('\n')).toMatch(/people\[1\]\.role/);
    expect(err.issues.join('\n')).toMatch(/people\[1\]\.identities\[1\]/);
    expect(err.issues.join('\n')).toMatch(
      /people\[3\]\.identities\[0\]: identity slack:UCAROL is given twice \(also at people\.yaml:people\[2\]/,
    );

    const first = parsePeopleText(
      'people:\n  - { handle: alice, display_name: Alice, email: Alice@Example.com, role: admin, identities: [slack:UALICE, github:alice] }\n  - { handle: bob, display_name: Bob, identities: [slack:UBOB] }\n',
      'people.yaml',
    );
    expect(await t.db.transaction((tx) => applyPeople(tx, tenant.id, first, BY))).toEqual([
      { handle: 'alice', outcome: 'created' },
      { handle: 'bob', outcome: 'created' },
    ]);
    expect((await getPerson(t.db, tenant.id, 'alice'))?.email).toBe('alice@example.com');
    // Declarative: github:alice goes, slack:UBOB moves from bob to alice; bob (unlisted) stays as he is.
    const second = parsePeopleText(
      'people:\n  - { handle: alice, display_name: Alice A., email: alice@example.com, role: admin, identities: [slack:UALICE] }\n',
      'people.yaml',
    );
    expect(await t.db.transaction((tx) => applyPeople(tx, tenant.id, second, BY))).toEqual([{ handle: 'alice', outcome: 'updated' }]);
    expect(await t.db.transaction((tx) => applyPeople(tx, tenant.id, second, BY))).toEqual([{ handle: 'alice', outcome: 'unchanged' }]);
    expect((await getPerson(t.db, tenant.id, 'alice'))?.identities.map((i) => i.identity)).toEqual(['slack:UALICE']);
    expect((await getPerson(t.db, tenant.id, 'bob'))?.identities.map((i) => i.identity)).toEqual(['slack:UBOB']);

    // A file that conflicts with the database (slack:UBOB is bob's, and bob is not in it): nothing is written.
    const before = await listPeople(t.db, tenant.id);
    const auditBefore = await auditActions(tenant.id);
    const clash = parsePeopleText(
      'people:\n  - { handle: carol, display_name: Carol }\n  - { handle: alice, display_name: Alice, identities: [slack:UALICE, slack:UBOB] }\n',
      'people.yaml',
    );
    const conflict = await refusal(t.db.transaction((tx) => applyPeople(tx, tenant.id, clash, BY)));
    expect(conflict.message).toContain('slack:UBOB is already linked to bob');
    expect(await listPeople(t.db, tenant.id)).toEqual(before);
    expect(await auditActions(tenant.id)).toEqual(auditBefore);
  });

  it('the same person approving through the API and the CLI counts once: 409 naming the first channel, quorum not met', async () => {
    const at = await makeApiTenant(t.db, { ops: 'all', alice: 'all', bob: 'all' }, 'quorum');
    await setPolicy(
      t.db,
      at.tenant.id,
      { ...DEFAULT_POLICY, approvers: ['group:leads'], groups: { leads: ['person:alice', 'person:bob'] }, required_approvals: 2 },
      BY,
    );
    await t.db.transaction(async (tx) => {
      await addPerson(tx, at.tenant.id, person('alice', ['token:alice', 'cli:alice']), BY);
      await addPerson(tx, at.tenant.id, person('bob', ['token:bob']), BY);
    });
    const a = await requestDeploy(t.db, at.tenant.id, { actor: 'token:ops' });
    const first = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/approve`, { token: at.token('alice') });
    expect([first.status, first.json.outcome]).toEqual([200, 'vote_recorded']);
    const again = await refusal(
      decideApproval(t.db, { id: a.id, tenantId: at.tenant.id, decision: 'approve', actor: 'cli:alice', channel: 'cli' }),
    );
    expect([again.code, again.message]).toEqual(['conflict', expect.stringContaining('alice already approved via api')]);
    expect((await getApproval(t.db, a.id))?.status).toBe('pending');
    const bob = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/approve`, { token: at.token('bob') });
    expect([bob.status, bob.json.outcome]).toEqual([200, 'approved']);
    const shown = await api.request<{ votes: { actor: string; person: string; person_name: string; channel: string }[] }>(
      'GET',
      `/api/approvals/${a.id}`,
      { token: at.token('ops') },
    );
    expect(shown.json.votes.map((v) => [v.person, v.person_name, v.actor])).toEqual([
      ['alice', 'Alice Example', 'token:alice'],
      ['bob', 'Bob Example', 'token:bob'],
    ]);
    const audit = await t.db.query<{ detail: { person: string; identity: string; channel: string } }>(
      "SELECT detail FROM audit_log WHERE tenant_id = $1 AND subject = $2 AND action LIKE 'approval.%' ORDER BY id",
      [at.tenant.id, `approval:${a.id}`],
    );
    expect(audit.rows.map((r) => [r.detail.person, r.detail.identity, r.detail.channel])).toEqual([
      ['alice', 'token:alice', 'api'],
      ['bob', 'token:bob', 'api'],
    ]);
    const events = await t.db.query<{ type: string; payload: { by: string; person: string } }>(
      "SELECT type, payload FROM approval_events WHERE approval_id = $1 AND type IN ('vote', 'approved') ORDER BY id",
      [a.id],
    );
    expect(events.rows.map((e) => [e.type, e.payload.by, e.payload.person])).toEqual([
      ['vote', 'token:alice', 'alice'],
      ['approved', 'token:bob', 'bob'],
    ]);
    // The weekly report names the people who decided.
    const week = formatIsoWeek(isoWeekOfDate((await listVotes(t.db, a.id))[0]!.created_at * 1000));
    expect(await generateWeeklyReport(t.db, { tenantId: at.tenant.id, week })).toContain(
      'Decisions by person: Alice Example (1), Bob Example (1)',
    );
  });

  it('in the console: the same person after the CLI gets 409 naming cli; the history shows who decided by name', async () => {
    const at = await makeApiTenant(t.db, { ops: 'all', alice: 'all', bob: 'all' }, 'console');
    await setPolicy(t.db, at.tenant.id, { ...DEFAULT_POLICY, approvers: ['person:alice', 'person:bob'], required_approvals: 2 }, BY);
    await t.db.transaction(async (tx) => {
      await addPerson(tx, at.tenant.id, person('alice', ['token:alice', 'cli:alice']), BY);
      await addPerson(tx, at.tenant.id, person('bob', ['token:bob']), BY);
    });
    const a = await requestDeploy(t.db, at.tenant.id, { actor: 'token:ops', summary: 'deploy console 1' });
    await t.db.query('UPDATE approval_queue SET required_approvals = 2 WHERE id = $1', [a.id]);
    await decideApproval(t.db, { id: a.id, tenantId: at.tenant.id, decision: 'approve', actor: 'cli:alice', channel: 'cli' });
    const alice = await signInCookie(api.baseUrl, at.token('alice'));
    const csrf = csrfOf((await getPage(api.baseUrl, '/console/approvals', alice)).html);
    const again = await postForm(api.baseUrl, `/console/approvals/${a.id}/approve`, alice, { csrf });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('alice already approved via cli (as cli:alice)');
    const bob = await signInCookie(api.baseUrl, at.token('bob'));
    const bobCsrf = csrfOf((await getPage(api.baseUrl, '/console/approvals', bob)).html);
    expect((await postForm(api.baseUrl, `/console/approvals/${a.id}/approve`, bob, { csrf: bobCsrf })).status).toBe(303);
    const history = await getPage(api.baseUrl, '/console/approvals?status=approved', bob);
    expect(history.html).toMatch(/token:bob <span class="person">\(Bob Example\)<\/span>/);
  });

  it('one person voting through two identities at once: exactly one vote counts (the row lock and the unique index)', async () => {
    const tenant = await makeTenant(t.db, 'race');
    await t.db.transaction((tx) => addPerson(tx, tenant.id, person('alice', ['slack:URACE', 'cli:alice', 'token:alice']), BY));
    const a = await requestDeploy(t.db, tenant.id, { actor: 'token:ops' });
    await t.db.query('UPDATE approval_queue SET required_approvals = 3 WHERE id = $1', [a.id]);
    const settled = await Promise.allSettled(
      (['slack:URACE', 'cli:alice', 'token:alice'] as const).map((actor) =>
        decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor, channel: actor.split(':')[0] ?? 'api' }),
      ),
    );
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusals = settled.flatMap((r) => (r.status === 'rejected' ? [(r.reason as AppError).message] : []));
    expect(refusals).toEqual([expect.stringMatching(/^alice already approved via/), expect.stringMatching(/^alice already approved via/)]);
    expect((await getApproval(t.db, a.id))?.approvals_count).toBe(1);
    expect((await listVotes(t.db, a.id)).map((v) => v.person)).toEqual(['alice']);
  });

  it('self-approval compares people: the requester (github:<actor>) may not approve as their token; a viewer may not decide', async () => {
    const at = await makeApiTenant(t.db, { ops: 'all', alice: 'all', vera: 'all' }, 'self');
    await t.db.transaction(async (tx) => {
      await addPerson(tx, at.tenant.id, person('alice', ['github:alice-gh', 'token:alice']), BY);
      await addPerson(tx, at.tenant.id, person('vera', [], 'viewer'), BY);
      await linkIdentity(tx, at.tenant.id, 'vera', { identity: 'cli:vera', slackTeamId: null }, BY);
    });
    const a = await requestDeploy(t.db, at.tenant.id, { actor: 'github:alice-gh', channel: 'github' });
    const own = await api.request('POST', `/api/approvals/${a.id}/approve`, { token: at.token('alice') });
    expect([own.status, own.json.message]).toEqual([403, expect.stringContaining('alice requested this action (as github:alice-gh)')]);
    const viewer = await refusal(
      decideApproval(t.db, { id: a.id, tenantId: at.tenant.id, decision: 'approve', actor: 'cli:vera', channel: 'cli' }),
    );
    expect([viewer.code, viewer.message]).toEqual(['forbidden', expect.stringContaining('vera is a viewer')]);
    expect(await listVotes(t.db, a.id)).toEqual([]);
    // request-approval through the API with a CI token records the run's actor in the payload: the same person.
    const viaApi = await requestDeploy(t.db, at.tenant.id, {
      actor: 'token:ops',
      payload: { service: 'web', github: { actor: 'alice-gh' } },
    });
    const ownAgain = await api.request('POST', `/api/approvals/${viaApi.id}/approve`, { token: at.token('alice') });
    expect([ownAgain.status, ownAgain.json.message]).toEqual([
      403,
      expect.stringContaining('alice requested this action (as github:alice-gh)'),
    ]);
  });

  it('under a policy naming people an unlinked identity is refused with how to get linked; without one, nothing changes', async () => {
    const at = await makeApiTenant(t.db, { ops: 'all', stranger: 'all' }, 'unlinked');
    const a = await requestDeploy(t.db, at.tenant.id, { actor: 'token:ops' });
    await setPolicy(t.db, at.tenant.id, { ...DEFAULT_POLICY, approvers: ['person:alice', 'token:stranger'] }, BY);
    const refused = await api.request('POST', `/api/approvals/${a.id}/approve`, { token: at.token('stranger') });
    expect([refused.status, refused.json.message]).toEqual([
      403,
      expect.stringContaining(
        'token:stranger is not linked to a person of this tenant, and its approval policy names people: ask an admin to link you (levqor people link HANDLE token:stranger',
      ),
    ]);
    // The same tenant, policy without people: the token decides as before.
    await setPolicy(t.db, at.tenant.id, { ...DEFAULT_POLICY, approvers: ['token:stranger'] }, BY);
    const ok = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/approve`, { token: at.token('stranger') });
    expect([ok.status, ok.json.outcome]).toEqual([200, 'approved']);
    expect((await listVotes(t.db, a.id)).map((v) => [v.actor, v.person])).toEqual([['token:stranger', null]]);
  });

  it("a person's token is clamped to their role at authentication; a role change ends their console sessions", async () => {
    const at = await makeApiTenant(t.db, { ops: 'all', dana: 'all' }, 'clamp');
    const dana = await t.db.transaction((tx) => addPerson(tx, at.tenant.id, person('dana', ['token:dana'], 'viewer'), BY));
    const a = await requestDeploy(t.db, at.tenant.id, { actor: 'token:ops' });
    const decide = await api.request('POST', `/api/approvals/${a.id}/approve`, { token: at.token('dana') });
    expect([decide.status, decide.json.message]).toEqual([403, 'this token lacks the approvals:decide scope']);
    expect((await api.request('GET', `/api/approvals/${a.id}`, { token: at.token('dana') })).status).toBe(200);
    const write = await api.request('POST', '/api/people', { token: at.token('dana'), body: person('eve', []) });
    expect(write.status).toBe(403);
    // A console session opened with her token (token sign-in) holds no more than her role either.
    const auth = await createAuthenticator(t.db, 0)(at.token('dana'));
    expect(auth?.scopes).toEqual(['approvals:read', 'workflows:read', 'runs:read', 'audit:read', 'analytics:read']);
    const { secret } = await openSession(t.db, { ...auth!, scopes: [...SCOPES] }, 600);
    expect((await resolveSession(t.db, secret))?.scopes).not.toContain('approvals:decide');
    // A console session of hers (as OIDC sign-in opens them) ends when her role changes.
    await t.db.query(
      "INSERT INTO web_sessions (tenant_id, person_id, secret_hash, csrf, expires_at) VALUES ($1, $2, 'h-dana', 'c', extract(epoch FROM now()) + 3600)",
      [at.tenant.id, dana.id],
    );
    await t.db.transaction((tx) => editPerson(tx, at.tenant.id, 'dana', { role: 'admin' }, BY));
    const session = await t.db.query<{ revoked: boolean }>(
      "SELECT revoked_at IS NOT NULL AS revoked FROM web_sessions WHERE secret_hash = 'h-dana'",
    );
    expect(session.rows).toEqual([{ revoked: true }]);
    // An admin's token keeps its scopes (a token the authenticator has not cached yet).
    const fresh = await makeApiTenant(t.db, { root: 'all' }, 'clamp2');
    await t.db.transaction((tx) => addPerson(tx, fresh.tenant.id, person('root', ['token:root'], 'admin'), BY));
    const made = await api.request('POST', '/api/people', { token: fresh.token('root'), body: person('eve', []) });
    expect(made.status).toBe(201);
  });

  it('notifiers expand person:HANDLE to the identities linked to that person (Slack DMs, emails), groups included', async () => {
    const tenant = await makeTenant(t.db, 'notify');
    await t.db.transaction(async (tx) => {
      await addPerson(tx, tenant.id, person('alice', ['slack:UALICE', 'email:alice@example.com', 'token:alice']), BY);
      await addPerson(tx, tenant.id, person('bob', ['slack:UBOB']), BY);
    });
    await setPolicy(
      t.db,
      tenant.id,
      { ...DEFAULT_POLICY, approvers: ['person:alice', 'group:oncall'], groups: { oncall: ['person:bob', 'slack:UCAROL'] } },
      BY,
    );
    const a = await requestDeploy(t.db, tenant.id, { actor: 'token:ops' });
    const policy = await loadPolicy(t.db, tenant.id);
    expect(eligibleIdentities(policy, a).sort()).toEqual([
      'email:alice@example.com',
      'slack:UALICE',
      'slack:UBOB',
      'slack:UCAROL',
      'token:alice',
    ]);
    // A tenant whose policy names no people is not looked up at all.
    const plain = await makeTenant(t.db, 'notify-plain');
    await setPolicy(t.db, plain.id, { ...DEFAULT_POLICY, approvers: ['slack:UX'] }, BY);
    expect((await loadPolicy(t.db, plain.id)).people).toBeUndefined();
  });

  it('REST: people listed, shown, added, edited, linked, unlinked and removed with people:write; settings turn auto-link on', async () => {
    const at = await makeApiTenant(t.db, { ops: 'all', reader: ['approvals:read'] }, 'rest');
    const ops = { token: at.token('ops') };
    expect((await api.request('POST', '/api/people', { ...ops, body: person('alice', ['slack:UALICE']) })).status).toBe(201);
    expect((await api.request('POST', '/api/people', { ...ops, body: person('alice', []) })).status).toBe(409);
    expect((await api.request('POST', '/api/people', { token: at.token('reader'), body: person('bob', []) })).status).toBe(403);
    const edited = await api.request<{ person: { role: string } }>('PUT', '/api/people/alice', { ...ops, body: { role: 'admin' } });
    expect([edited.status, edited.json.person.role]).toEqual([200, 'admin']);
    const linked = await api.request<{ person: { identities: { identity: string }[] } }>('POST', '/api/people/alice/identities', {
      ...ops,
      body: { identity: 'github:alice' },
    });
    expect(linked.json.person.identities.map((i) => i.identity)).toEqual(['github:alice', 'slack:UALICE']);
    expect((await api.request('DELETE', `/api/people/alice/identities/${encodeURIComponent('github:alice')}`, ops)).status).toBe(200);
    const listed = await api.request<{ people: { handle: string }[] }>('GET', '/api/people', { token: at.token('reader') });
    expect(listed.json.people.map((p) => p.handle)).toEqual(['alice']);
    expect((await api.request('GET', '/api/people/nobody', ops)).status).toBe(404);
    const settings = await api.request<{ slack_autolink: boolean }>('PUT', '/api/people-settings', {
      ...ops,
      body: { slack_autolink: true },
    });
    expect(settings.json).toEqual({ slack_autolink: true });
    expect((await api.request('DELETE', '/api/people/alice', ops)).status).toBe(200);
    expect((await api.request('GET', '/api/people/alice', ops)).status).toBe(404);
  });
});

describe.each(BACKENDS)('a database from before people on $name', ({ open }) => {
  const t = useTestDb(() => open({ template: false, migrate: false }));

  it('keeps its votes and decisions: an old vote counts toward the quorum after the upgrade', async () => {
    await migrate(
      t.db,
      migrations.filter((m) => m.id < 18),
    );
    const tenant = await makeTenant(t.db, 'old');
    const a = await requestDeploy(t.db, tenant.id, { actor: 'token:ops' });
    // A quorum of two with one vote cast, as the schema before people stored it (no person column).
    await t.db.query('UPDATE approval_queue SET required_approvals = 2, approvals_count = 1 WHERE id = $1', [a.id]);
    await t.db.query(
      "INSERT INTO approval_votes (tenant_id, approval_id, actor, channel, vote) VALUES ($1, $2, 'slack:UOLD', 'slack', 'approve')",
      [tenant.id, a.id],
    );
    const result = await migrate(t.db, migrations);
    expect(result.applied.length).toBeGreaterThan(0);
    const decided = await decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor: 'cli:new', channel: 'cli' });
    expect(decided.outcome).toBe('approved');
    expect((await listVotes(t.db, a.id)).map((v) => v.person)).toEqual([null, null]);
  });
});

// Each command is a process of its own that opens (and on the embedded database, starts) the database: minutes, not seconds.
describe.each(['postgres', 'embedded'] as const)('`levqor people` (the built CLI) on %s', { timeout: 240_000 }, (kind) => {
  const t = kind === 'postgres' ? useTestDb(openPgTestDb) : undefined;

  it('adds, links and lists people; a bad people file writes nothing (exit 2); policies refuse unknown people; autolink toggles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'levqor-people-'));
    const env = t ? { DATABASE_URL: t.url, USER: 'ops' } : { LEVQOR_DATA_DIR: join(dir, 'data'), DATABASE_URL: undefined, USER: 'ops' };
    try {
      expect((await runCli(['tenant', 'create', 'ppl'], { env })).code).toBe(0);
      const added = await runCli(
        ['people', 'add', 'alice', '--name', 'Alice Ng', '--email', 'Alice@Example.com', '--link', 'slack:U0ALICE'],
        { env },
      );
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toContain('alice: Alice Ng <alice@example.com>, approver');
      expect((await runCli(['people', 'set-role', 'alice', 'admin'], { env })).code).toBe(0);
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'people:\n  - { handle: bob, display_name: Bob }\n  - { handle: carol, display_name: Carol, role: boss }\n');
      const refused = await runCli(['people', 'apply', '-f', bad], { env });
      expect([refused.code, refused.stderr]).toEqual([
        2,
        expect.stringMatching(/bad\.yaml:people\[1\]\.role.*[\s\S]*nothing was written|nothing was written[\s\S]*people\[1\]\.role/),
      ]);
      const good = join(dir, 'good.yaml');
      await writeFile(good, 'people:\n  - { handle: bob, display_name: Bob, identities: [github:bob, token:bob-ci] }\n');
      const applied = await runCli(['people', 'apply', '-f', good, '--json'], { env });
      expect(JSON.parse(applied.stdout)).toEqual([{ handle: 'bob', outcome: 'created' }]);
      const listed = JSON.parse((await runCli(['people', 'list', '--json'], { env })).stdout) as { handle: string; role: string }[];
      expect(listed.map((p) => [p.handle, p.role])).toEqual([
        ['alice', 'admin'],
        ['bob', 'approver'],
      ]);
      const ghost = await runCli(['approvals', 'policy', 'set', '--approvers', 'person:alice,person:ghost'], { env });
      expect([ghost.code, ghost.stderr]).toEqual([2, expect.stringContaining("person:ghost is not in this tenant's directory")]);
      expect((await runCli(['approvals', 'policy', 'set', '--approvers', 'person:alice,person:bob'], { env })).code).toBe(0);
      const on = await runCli(['people', 'autolink', 'on'], { env });
      expect(on.stdout).toContain('Slack auto-linking by verified email is on');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
