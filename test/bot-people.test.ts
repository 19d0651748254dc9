// People through Slack: signed clicks to the running Bolt app decide as the person behind the
// Slack user. One person counts once across Slack and the API; the requester from GitHub Actions
// cannot approve as themselves in Slack; an unlinked user under a people policy is told how to
// get linked; auto-linking by verified email (users.info) links only a confirmed address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../bot/app.js';
import { listVotes, setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { personForIdentity } from '../src/people/queries.js';
import { addPerson, setAutolink } from '../src/people/service.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { makeApiTenant, requestDeploy, startApi, type TestApi } from './helpers/api.js';
import { BACKENDS, type TestDb } from './helpers/db.js';
import { blockAction, blockText, sendInteraction, startFakeSlack, startTestBot, type FakeSlack } from './helpers/slack.js';

const BY = 'cli:admin';
let teams = 0;

describe.each(BACKENDS)('people in Slack on $name', ({ open }) => {
  let t: TestDb;
  let fake: FakeSlack;
  let bot: RunningBot;
  let api: TestApi;
  beforeAll(async () => {
    t = await open();
    fake = await startFakeSlack();
    bot = await startTestBot(t.db, fake);
    api = await startApi(t.db);
  });
  afterAll(async () => {
    await bot.stop();
    await api.close();
    await fake.close();
    await t.close();
  });

  /** A tenant connected to a workspace of its own, with its policy, people and tokens; and a posted request. */
  async function setUp(o: { approvers: string[]; required?: number; people: [string, string[]][]; requestedBy?: string }) {
    const at = await makeApiTenant(t.db, { ops: 'all', alice: 'all' }, 'slackppl');
    const team = `TPPL${process.pid}X${++teams}`;
    const channel = `CPPL${teams}`;
    await setSlackSettings(t.db, at.tenant.id, { team_id: team, approvals_channel: channel });
    await setPolicy(t.db, at.tenant.id, { ...DEFAULT_POLICY, approvers: o.approvers, required_approvals: o.required ?? 1 }, BY);
    await t.db.transaction(async (tx) => {
      for (const [handle, identities] of o.people)
        await addPerson(
          tx,
          at.tenant.id,
          { handle, display_name: `${handle} Person`, email: `${handle}@example.com`, role: 'approver', identities },
          BY,
        );
    });
    const approval = await requestDeploy(t.db, at.tenant.id, {
      actor: o.requestedBy ?? 'token:ops',
      channel: o.requestedBy ? 'github' : 'api',
    });
    if (o.required) await t.db.query('UPDATE approval_queue SET required_approvals = $2 WHERE id = $1', [approval.id, o.required]);
    const posted = await fake.waitFor('chat.postMessage', (m) => m.args.channel === channel && blockText(m.args).includes(approval.id));
    return { ...at, team, channel, approval, posted };
  }
  const click = (s: { team: string; channel: string; approval: { id: string } }, user: string) =>
    sendInteraction(bot, blockAction({ user, team: s.team, actionId: 'levqor_approve', approvalId: s.approval.id, channel: s.channel }));
  const ephemeralFor = (user: string, text: RegExp) =>
    fake.waitFor('chat.postEphemeral', (c) => c.args.user === user && text.test(String(c.args.text)));

  it('one person approving in Slack and then through the API does not meet a quorum of 2: 409 naming slack', async () => {
    const s = await setUp({
      approvers: ['person:alice', 'person:bob'],
      required: 2,
      people: [
        ['alice', ['slack:UALICE1', 'token:alice']],
        ['bob', ['slack:UBOB1']],
      ],
    });
    expect((await click(s, 'UALICE1')).status).toBe(200);
    await ephemeralFor('UALICE1', /Your approval is recorded \(1 of 2\)/);
    const again = await api.request('POST', `/api/approvals/${s.approval.id}/approve`, { token: s.token('alice') });
    expect([again.status, again.json.message]).toEqual([
      409,
      expect.stringContaining('alice already approved via slack (as slack:UALICE1)'),
    ]);
    expect((await listVotes(t.db, s.approval.id)).map((v) => [v.person, v.channel])).toEqual([['alice', 'slack']]);
    // Bob, another person, meets the quorum; the message names people by their display names.
    await click(s, 'UBOB1');
    const update = await fake.waitFor('chat.update', (c) => c.args.channel === s.channel && blockText(c.args).includes('Approved'));
    expect(blockText(update.args)).toContain('bob Person');
  });

  it('the requester from GitHub Actions (github:<actor> linked to a person) cannot approve in Slack as the same person', async () => {
    const s = await setUp({
      approvers: ['person:alice', 'person:bob'],
      people: [
        ['alice', ['github:alice-gh', 'slack:UALICE2']],
        ['bob', []],
      ],
      requestedBy: 'github:alice-gh',
    });
    await click(s, 'UALICE2');
    await ephemeralFor('UALICE2', /alice requested this action \(as github:alice-gh\) and cannot decide it as slack:UALICE2/);
    expect(await listVotes(t.db, s.approval.id)).toEqual([]);
  });

  it('an unlinked Slack user under a people policy is told, privately, how to get linked; nothing is decided', async () => {
    const s = await setUp({ approvers: ['person:alice'], people: [['alice', ['slack:UALICE3']]] });
    await click(s, 'USTRANGER3');
    const told = await ephemeralFor('USTRANGER3', /not linked to a person/);
    expect(String(told.args.text)).toContain('levqor people link HANDLE slack:USTRANGER3');
    expect(told.args.channel).toBe(s.channel);
    expect(await listVotes(t.db, s.approval.id)).toEqual([]);
  });

  it('auto-linking (turned on) links a Slack user by a confirmed email from users.info, audited; an unconfirmed one stays unlinked', async () => {
    const s = await setUp({
      approvers: ['person:carol', 'person:mallory'],
      people: [
        ['carol', []],
        ['mallory', []],
      ],
    });
    await t.db.transaction((tx) => setAutolink(tx, s.tenant.id, true, BY));
    fake.users.set('UCAROL4', { id: 'UCAROL4', team_id: s.team, is_email_confirmed: true, profile: { email: 'Carol@Example.com' } });
    fake.users.set('UEVE4', { id: 'UEVE4', team_id: s.team, is_email_confirmed: false, profile: { email: 'mallory@example.com' } });
    await click(s, 'UEVE4');
    await ephemeralFor('UEVE4', /not linked to a person/);
    expect(await personForIdentity(t.db, s.tenant.id, 'slack:UEVE4')).toBeUndefined();
    await click(s, 'UCAROL4');
    await fake.waitFor('chat.update', (c) => c.args.channel === s.channel && blockText(c.args).includes('Approved'));
    expect((await personForIdentity(t.db, s.tenant.id, 'slack:UCAROL4'))?.handle).toBe('carol');
    expect((await listVotes(t.db, s.approval.id)).map((v) => [v.person, v.actor])).toEqual([['carol', 'slack:UCAROL4']]);
    const audit = await t.db.query<{ actor: string; detail: Record<string, unknown> }>(
      "SELECT actor, detail FROM audit_log WHERE tenant_id = $1 AND action = 'person.autolinked'",
      [s.tenant.id],
    );
    expect(audit.rows).toEqual([
      {
        actor: 'levqor:slack-autolink',
        detail: { identity: 'slack:UCAROL4', slack_team_id: s.team, email: 'carol@example.com', via: 'users.info' },
      },
    ]);
  });
});
