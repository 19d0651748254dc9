// The server's GitHub client (src/github/): after-approval repository_dispatch as a GitHub App
// installation (issue 27 part 2), against the local fake GitHub API, which checks the App's JWT
// with its public key and mints installation tokens as GitHub does.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitAction } from '../src/approvals/actions.js';
import { dispatchApproved, type DispatchConfig } from '../src/approvals/dispatch.js';
import { decideApproval } from '../src/approvals/service.js';
import { loadConfig } from '../src/config.js';
import { AppError } from '../src/lib/errors.js';
import { useTestDb } from './helpers/db.js';
import { startFakeGitHub, type FakeGitHub } from './helpers/github.js';
import { insertTenant } from './helpers/proc.js';

const quiet = { info: () => undefined, warn: () => undefined };
const APP_ID = 4242;
const INSTALLATION_ID = 777001;
// GitHub hands out PKCS#1 keys ("BEGIN RSA PRIVATE KEY").
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

describe('dispatch as a GitHub App', () => {
  const t = useTestDb();
  let gh: FakeGitHub;
  let tenantId: string;
  beforeAll(async () => {
    gh = await startFakeGitHub('ghp_notUsedByTheApp', { app: { id: APP_ID, installationId: INSTALLATION_ID, publicKey } });
  });
  afterAll(() => gh.close());

  async function approved(summary: string, repository = 'acme/deployer'): Promise<string> {
    tenantId ??= await insertTenant(t.db, 'acme');
    const a = await submitAction(t.db, {
      tenantId,
      actor: 'token:ci',
      channel: 'api',
      action_type: 'deploy',
      summary,
      payload: { dispatch: { repository, event_type: 'ship' }, v: 1 },
    });
    await decideApproval(t.db, { id: a.id, tenantId, decision: 'approve', actor: 'cli:carol', channel: 'cli' });
    return a.id;
  }

  const config = (): DispatchConfig => {
    const c = loadConfig({
      LEVQOR_GITHUB_API_URL: gh.url,
      LEVQOR_GITHUB_APP_ID: String(APP_ID),
      LEVQOR_GITHUB_APP_INSTALLATION_ID: String(INSTALLATION_ID),
      // As an environment variable often carries it: one line with "\n" escapes.
      LEVQOR_GITHUB_APP_PRIVATE_KEY: PEM.trim().replace(/\n/g, '\\n'),
    });
    expect(c.LEVQOR_GITHUB_APP_PRIVATE_KEY).toBe(PEM.trim());
    return {
      apiUrl: c.LEVQOR_GITHUB_API_URL,
      allowedRepos: [],
      app: { appId: APP_ID, installationId: INSTALLATION_ID, privateKey: c.LEVQOR_GITHUB_APP_PRIVATE_KEY as string },
    };
  };

  it('mints an installation token with a JWT signed by the App key and dispatches with it, once per request', async () => {
    const first = await approved('ship 1');
    const second = await approved('ship 2');
    expect(await dispatchApproved(t.db, config(), quiet)).toEqual({ sent: 2, failed: 0 });
    // One installation token, cached for both dispatches of the sweep.
    expect(gh.mints).toHaveLength(1);
    expect(gh.mints[0]).toMatchObject({ installationId: INSTALLATION_ID, claims: { iss: APP_ID } });
    const dispatchCalls = gh.calls.filter((c) => c.path === '/repos/acme/deployer/dispatches');
    expect(dispatchCalls.map((c) => c.authorization)).toEqual([`token ${gh.mints[0]?.token}`, `token ${gh.mints[0]?.token}`]);
    expect(gh.dispatches.map((d) => (d.client_payload as { approval_id: string }).approval_id).sort()).toEqual([first, second].sort());
    expect(gh.dispatches[0]).toMatchObject({
      event_type: 'ship',
      client_payload: { action_type: 'deploy', approver: 'cli:carol', payload: { v: 1 } },
    });
  });

  it('does not send a dispatch twice when GitHub answers 500 (it may have acted): failed and audited', async () => {
    const id = await approved('ship 500', 'acme/flaky');
    gh.failWith(/\/repos\/acme\/flaky\/dispatches$/, 500, 1);
    expect(await dispatchApproved(t.db, config(), quiet)).toEqual({ sent: 0, failed: 1 });
    expect(gh.calls.filter((c) => c.path === '/repos/acme/flaky/dispatches')).toHaveLength(1);
    const { rows } = await t.db.query<{ detail: { error: string } }>(
      "SELECT detail FROM audit_log WHERE subject = $1 AND action = 'approval.dispatch_failed'",
      [`approval:${id}`],
    );
    expect(rows[0]?.detail.error).toMatch(/^GitHub POST \/repos\/acme\/flaky\/dispatches: 500 /);
  });

  it('refuses an incomplete App configuration naming what is missing, and never prints the key', () => {
    let err: unknown;
    try {
      loadConfig({ LEVQOR_GITHUB_APP_ID: '1', LEVQOR_GITHUB_APP_PRIVATE_KEY: PEM });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).issues).toEqual([
      'LEVQOR_GITHUB_APP_INSTALLATION_ID: required with LEVQOR_GITHUB_APP_ID and LEVQOR_GITHUB_APP_PRIVATE_KEY (a GitHub App needs all three)',
    ]);
    let bad: unknown;
    try {
      loadConfig({ LEVQOR_GITHUB_APP_ID: '1', LEVQOR_GITHUB_APP_INSTALLATION_ID: '2', LEVQOR_GITHUB_APP_PRIVATE_KEY: 'sk_live_notAKey' });
    } catch (e) {
      bad = e;
    }
    expect((bad as AppError).message).toMatch(/LEVQOR_GITHUB_APP_PRIVATE_KEY: must be the App's PEM private key/);
    expect((bad as AppError).message).not.toContain('sk_live_notAKey');
  });
});
