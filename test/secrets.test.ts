import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactPayload, withRedactedPayload } from '../src/lib/redact.js';
import { decryptSecret, deriveKek, encryptSecret } from '../src/secrets/crypto.js';
import { generatedKeyFile, secretStoreFromConfig } from '../src/secrets/from-config.js';
import { inlineCredentials } from '../src/secrets/inline.js';
import { createScrubber, secretRefNames, substituteSecrets } from '../src/workflows/secret-refs.js';
import { workflowSchema } from '../src/workflows/schema.js';
import { renderTemplates } from '../src/workflows/templates.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { testConfig } from './helpers/deps.js';
import { appErrorOf } from './helpers/errors.js';
import { makeTenant } from './helpers/fixtures.js';

/** The AppError a synchronous call throws. */
const thrown = (fn: () => unknown) => appErrorOf(Promise.resolve().then(fn));

const KEY_A = 'a'.repeat(40);
const KEY_B = 'b'.repeat(40);

describe('secret references in steps', () => {
  const wf = (headers: Record<string, string>, url = 'https://example.com/deploy') => ({
    name: 'deploy',
    steps: [{ type: 'http', method: 'POST', url, headers }],
  });

  it('accepts {{secrets.NAME}} and keeps it through rendering, for the approval to bind to', () => {
    const parsed = workflowSchema.parse(wf({ Authorization: 'Bearer {{secrets.DEPLOY_TOKEN}}' }));
    const scope = {
      workflow: { id: 'w', name: 'deploy' },
      run: { id: 'r', attempt: 1, scheduled_for: null, trigger: 'manual' },
      steps: {},
      vars: {},
    };
    const rendered = renderTemplates(parsed.steps, scope);
    expect(rendered[0]).toMatchObject({ headers: { Authorization: 'Bearer {{secrets.DEPLOY_TOKEN}}' } });
    expect(secretRefNames(rendered)).toEqual(['DEPLOY_TOKEN']);
  });

  it.each([
    ['{{secrets.deploy_token}}', 'must match'],
    ['{{secrets}}', 'a secret reference is {{secrets.NAME}}'],
    ['{{secrets.A.B}}', 'a secret reference is {{secrets.NAME}}'],
    ['{{secrets.TOKEN | default: "x"}}', 'a secret has no default'],
    [`{{secrets.${'A'.repeat(65)}}}`, 'must match'],
  ])('refuses %s at apply time', (value, message) => {
    const parsed = workflowSchema.safeParse(wf({ 'X-Deploy': value }));
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(message);
  });

  it.each([
    { type: 'slack_message', channel: 'C0123ABCD', text: 'token {{secrets.TOKEN}}' },
    { type: 'log', message: '{{secrets.TOKEN}}' },
    { type: 'transform', set: { t: '{{secrets.TOKEN}}' } },
  ])('refuses a secret in a $type step, which would record or show it', (step) => {
    const parsed = workflowSchema.safeParse({ name: 'leaky', steps: [step] });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('a secret is used only by http, email, github steps');
  });

  it('substitutes values in memory and scrubs them (and their encoded forms) from what comes back', () => {
    const values = new Map([['TOKEN', 's3cr3t/value+1']]);
    expect(substituteSecrets({ h: 'Bearer {{ secrets.TOKEN }}' }, values)).toEqual({ h: 'Bearer s3cr3t/value+1' });
    const scrub = createScrubber(values);
    expect(scrub('echo s3cr3t/value+1 and s3cr3t%2Fvalue%2B1')).toBe('echo [secrets.TOKEN] and [secrets.TOKEN]');
    expect(scrub(Buffer.from('s3cr3t/value+1').toString('base64'))).toBe('[secrets.TOKEN]');
  });
});

describe('inline credentials', () => {
  it.each([
    [{ Authorization: 'Bearer sk_live_abc123' }, ['steps[0].headers.Authorization']],
    [{ 'proxy-authorization': 'Basic dXNlcjpwYXNz' }, ['steps[0].headers.proxy-authorization']],
    [{ 'X-Api-Key': 'k-123' }, ['steps[0].headers.X-Api-Key']],
    [{ 'X-Auth-Token': 'abc' }, ['steps[0].headers.X-Auth-Token']],
    [{ Cookie: 'session=abc' }, ['steps[0].headers.Cookie']],
    [{ Authorization: 'Bearer {{secrets.T}}' }, []],
    [{ Authorization: '{{steps.login.body.token}}' }, []],
    [{ 'Content-Type': 'application/json' }, []],
  ])('headers %j → %j', (headers, fields) => {
    expect(inlineCredentials('wf', [{ type: 'http', url: 'https://x.test', headers }]).map((f) => f.field)).toEqual(fields);
  });

  it('finds a password in URL userinfo, not a templated one', () => {
    expect(inlineCredentials('wf', [{ url: 'https://bob:hunter2@x.test/' }]).map((f) => f.field)).toEqual(['steps[0].url (userinfo)']);
    expect(inlineCredentials('wf', [{ url: 'https://bob:{{secrets.PW}}@x.test/' }])).toEqual([]);
  });
});

describe('shared redaction', () => {
  it('shows references, hides literals', () => {
    expect(
      redactPayload({ headers: { Authorization: 'Bearer {{secrets.DEPLOY_TOKEN}}', 'X-Api-Key': 'literal' }, note: 'Bearer abc.def' }),
    ).toEqual({ headers: { Authorization: 'Bearer {{secrets.DEPLOY_TOKEN}}', 'X-Api-Key': '[redacted]' }, note: 'Bearer [redacted]' });
    expect(redactPayload({ url: 'https://bob:{{secrets.PW}}@x.test/', old: 'https://bob:hunter2@x.test/' })).toEqual({
      url: 'https://bob:{{secrets.PW}}@x.test/',
      old: 'https://bob:[redacted]@x.test/',
    });
    expect(withRedactedPayload({ payload: {}, summary: 'deploy: POST https://bob:hunter2@x.test/' }).summary).toBe(
      'deploy: POST https://bob:[redacted]@x.test/',
    );
  });
});

describe('envelope encryption', () => {
  it('round-trips, binds to tenant and name, and a wrong key says so without the ciphertext', async () => {
    const a = deriveKek(KEY_A, 'LEVQOR_SECRET_KEY');
    const b = deriveKek(KEY_B, 'LEVQOR_SECRET_KEY');
    const sealed = encryptSecret(a, 't1', 'TOKEN', 'value-1');
    expect(sealed.ciphertext).not.toContain('value-1');
    expect(decryptSecret(a, 't1', 'TOKEN', sealed)).toBe('value-1');
    const wrong = await thrown(() => decryptSecret({ ...b, id: a.id }, 't1', 'TOKEN', sealed));
    expect(wrong.message).toContain('cannot decrypt secret TOKEN');
    expect(wrong.message).not.toContain(sealed.ciphertext);
    expect(wrong.message).not.toContain(sealed.wrapped_key);
    expect((await thrown(() => decryptSecret(a, 't2', 'TOKEN', sealed))).message).toContain('cannot decrypt');
    expect((await thrown(() => deriveKek('short', 'LEVQOR_SECRET_KEY'))).message).toContain(
      'LEVQOR_SECRET_KEY: a secret key needs at least 32',
    );
  });
});

describe.each(BACKENDS)('the secret store on $name', ({ open }) => {
  const t = useTestDb(open);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'levqor-secrets-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const server = (env: Record<string, string> = {}) =>
    secretStoreFromConfig(testConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', LEVQOR_DATA_DIR: join(dir, 'data'), ...env }));

  it('stores encrypted per tenant, lists metadata only, and never reaches another tenant', async () => {
    const store = server({ LEVQOR_SECRET_KEY: KEY_A });
    const acme = await makeTenant(t.db);
    const other = await makeTenant(t.db);
    const meta = await store.set(t.db, acme.id, 'DEPLOY_TOKEN', 'tok-acme-1', 'cli:alice');
    expect(meta).toMatchObject({ name: 'DEPLOY_TOKEN', version: 1, updated_by: 'cli:alice' });
    expect((await store.set(t.db, acme.id, 'DEPLOY_TOKEN', 'tok-acme-2', 'cli:bob')).version).toBe(2);
    const { rows } = await t.db.query<Record<string, unknown>>('SELECT * FROM secrets');
    expect(JSON.stringify(rows)).not.toContain('tok-acme');
    const listed = await store.list(t.db, acme.id);
    expect(listed).toEqual([expect.objectContaining({ name: 'DEPLOY_TOKEN', provider: 'db', version: 2, updated_by: 'cli:bob' })]);
    expect(JSON.stringify(listed)).not.toContain('tok-acme');
    expect((await store.resolve(t.db, acme.id, ['DEPLOY_TOKEN'])).get('DEPLOY_TOKEN')).toBe('tok-acme-2');
    expect(await store.list(t.db, other.id)).toEqual([]);
    const err = await appErrorOf(store.resolve(t.db, other.id, ['DEPLOY_TOKEN']));
    expect(err.message).toBe('secret DEPLOY_TOKEN is not set for this tenant: levqor secret set DEPLOY_TOKEN');
    expect(await store.missing(t.db, other.id, ['DEPLOY_TOKEN'])).toEqual(['DEPLOY_TOKEN']);
    expect((await appErrorOf(store.remove(t.db, other.id, 'DEPLOY_TOKEN'))).code).toBe('not_found');
    await store.remove(t.db, acme.id, 'DEPLOY_TOKEN');
    expect(await store.list(t.db, acme.id)).toEqual([]);
  });

  it('refuses to store on a Postgres server without a key, naming the variable', async () => {
    const tenant = await makeTenant(t.db);
    const err = await appErrorOf(server().set(t.db, tenant.id, 'TOKEN', 'v', 'cli:x'));
    expect(err.message).toContain('set LEVQOR_SECRET_KEY');
  });

  it('a wrong key cannot decrypt and says so, without printing ciphertext', async () => {
    const tenant = await makeTenant(t.db);
    await server({ LEVQOR_SECRET_KEY: KEY_A }).set(t.db, tenant.id, 'TOKEN', 'value-x', 'cli:x');
    const err = await appErrorOf(server({ LEVQOR_SECRET_KEY: KEY_B }).resolve(t.db, tenant.id, ['TOKEN']));
    expect(err.message).toMatch(/cannot decrypt secret TOKEN: it is wrapped by key [0-9a-f]{16}, which is not configured/);
    const { rows } = await t.db.query<{ ciphertext: string }>('SELECT ciphertext FROM secrets WHERE tenant_id = $1', [tenant.id]);
    expect(err.message).not.toContain(rows[0]?.ciphertext.slice(0, 16));
  });

  it('rotate-key re-wraps every row with the new key; old processes keep decrypting via LEVQOR_SECRET_KEY_PREVIOUS', async () => {
    const tenant = await makeTenant(t.db);
    const old = server({ LEVQOR_SECRET_KEY: KEY_A });
    await old.set(t.db, tenant.id, 'ONE', 'value-one', 'cli:x');
    await old.set(t.db, tenant.id, 'TWO', 'value-two', 'cli:x');
    const before = await t.db.query<{ ciphertext: string }>('SELECT ciphertext FROM secrets WHERE tenant_id = $1 ORDER BY name', [
      tenant.id,
    ]);
    const rotating = server({ LEVQOR_SECRET_KEY: KEY_B, LEVQOR_SECRET_KEY_PREVIOUS: KEY_A });
    // During the rotation, both keys decrypt.
    expect((await rotating.resolve(t.db, tenant.id, ['ONE'])).get('ONE')).toBe('value-one');
    const result = await rotating.rotateKey(t.db, { generate: false });
    expect(result.key_id).toBe(deriveKek(KEY_B, 'x').id);
    expect(result.rewrapped).toBeGreaterThanOrEqual(2);
    const after = await t.db.query<{ ciphertext: string; key_id: string }>(
      'SELECT ciphertext, key_id FROM secrets WHERE tenant_id = $1 ORDER BY name',
      [tenant.id],
    );
    expect(after.rows.map((r) => r.key_id)).toEqual([result.key_id, result.key_id]);
    // Values are not re-encrypted: only their data keys are re-wrapped.
    expect(after.rows.map((r) => r.ciphertext)).toEqual(before.rows.map((r) => r.ciphertext));
    const onlyNew = server({ LEVQOR_SECRET_KEY: KEY_B });
    expect([...(await onlyNew.resolve(t.db, tenant.id, ['ONE', 'TWO'])).values()]).toEqual(['value-one', 'value-two']);
    expect((await appErrorOf(old.resolve(t.db, tenant.id, ['ONE']))).message).toContain('cannot decrypt secret ONE');
  });

  it('env and file providers, with the tenant value first, then the directory, then the variable', async () => {
    const tenant = await makeTenant(t.db);
    const secretsDir = join(dir, `mounted-${tenant.name}`);
    await mkdir(secretsDir);
    await writeFile(join(secretsDir, 'FROM_FILE'), 'file-value\n');
    await writeFile(join(secretsDir, 'BOTH'), 'file-wins');
    await writeFile(join(secretsDir, 'not-a-name'), 'ignored');
    const store = server({
      LEVQOR_SECRET_KEY: KEY_A,
      LEVQOR_SECRETS_DIR: secretsDir,
      LEVQOR_SECRET_FROM_ENV: 'env-value',
      LEVQOR_SECRET_BOTH: 'env-loses',
      LEVQOR_SECRET_STORED: 'env-loses-too',
    });
    await store.set(t.db, tenant.id, 'STORED', 'db-wins', 'cli:x');
    const values = await store.resolve(t.db, tenant.id, ['FROM_FILE', 'FROM_ENV', 'BOTH', 'STORED']);
    expect(Object.fromEntries(values)).toEqual({ FROM_FILE: 'file-value', FROM_ENV: 'env-value', BOTH: 'file-wins', STORED: 'db-wins' });
    expect((await store.list(t.db, tenant.id)).map((s) => [s.name, s.provider])).toEqual([
      ['STORED', 'db'],
      ['BOTH', 'file'],
      ['FROM_FILE', 'file'],
      ['FROM_ENV', 'env'],
    ]);
    expect(await store.missing(t.db, tenant.id, ['FROM_FILE', 'FROM_ENV', 'NOPE'])).toEqual(['NOPE']);
    // The key settings are not secrets of the env provider.
    expect(testConfig({ LEVQOR_SECRET_KEY: KEY_A, LEVQOR_SECRET_X: 'y' }).secretEnv).toEqual({ X: 'y' });
  });
});

describe.each(BACKENDS)('the embedded default key on $name', ({ open }) => {
  const t = useTestDb(open);
  it('creates a 0600 key file on first use and rotates it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'levqor-key-'));
    try {
      const config = testConfig({ LEVQOR_DATA_DIR: join(dir, 'data') });
      const store = secretStoreFromConfig(config);
      const tenant = await makeTenant(t.db);
      const keyFile = generatedKeyFile(config.LEVQOR_DATA_DIR);
      await expect(stat(keyFile)).rejects.toThrow();
      // Two processes storing their first secret at once end up with one key between them.
      await Promise.all([
        store.set(t.db, tenant.id, 'TOKEN', 'embedded-value', 'cli:x'),
        secretStoreFromConfig(config).set(t.db, tenant.id, 'OTHER', 'other-value', 'cli:y'),
      ]);
      expect(Object.fromEntries(await secretStoreFromConfig(config).resolve(t.db, tenant.id, ['TOKEN', 'OTHER']))).toEqual({
        TOKEN: 'embedded-value',
        OTHER: 'other-value',
      });
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const firstKey = await readFile(keyFile, 'utf8');
      const rotated = await store.rotateKey(t.db, { generate: true });
      const secondKey = await readFile(keyFile, 'utf8');
      expect(secondKey).not.toBe(firstKey);
      expect(secondKey.trim().split('\n')).toHaveLength(1);
      expect(rotated.rewrapped).toBe(2);
      expect((await secretStoreFromConfig(config).resolve(t.db, tenant.id, ['TOKEN'])).get('TOKEN')).toBe('embedded-value');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
