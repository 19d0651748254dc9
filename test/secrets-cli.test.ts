import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningClis, parseJson, runCli, type CliEnv, type CliResult } from './helpers/cli.js';
import { createPgDatabase } from './helpers/db.js';

afterAll(killRunningClis);

function expectExit(result: CliResult, code: number): void {
  expect(result.code, `exit code of the CLI\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(code);
}

const both = (r: CliResult) => r.stdout + r.stderr;

describe('levqor secret and the inline-credential refusal, on a Postgres server', () => {
  let url = '';
  let drop: (() => Promise<void>) | undefined;
  let dir = '';
  const key = randomBytes(32).toString('base64');
  const value = `cli-canary-${randomBytes(10).toString('hex')}`;
  beforeAll(async () => {
    ({ url, drop } = await createPgDatabase('levqor_secrets_cli'));
    dir = await mkdtemp(join(tmpdir(), 'levqor-secrets-cli-'));
  });
  afterAll(async () => {
    await drop?.();
    await rm(dir, { recursive: true, force: true });
  });
  const env = (more: CliEnv = {}): CliEnv => ({ DATABASE_URL: url, LEVQOR_TENANT: 'acme', ...more });

  it('stores from stdin only with a key, lists without values, refuses a value on the command line', async () => {
    expectExit(await runCli(['tenant', 'create', 'acme'], { env: env() }), 0);
    const noKey = await runCli(['secret', 'set', 'DEPLOY_TOKEN'], { env: env(), input: value });
    expectExit(noKey, 2);
    expect(noKey.stderr).toContain('set LEVQOR_SECRET_KEY');
    expect(both(noKey)).not.toContain(value);

    const argv = await runCli(['secret', 'set', 'DEPLOY_TOKEN', 'on-the-command-line'], { env: env({ LEVQOR_SECRET_KEY: key }) });
    expect(argv.code).not.toBe(0);
    expect(argv.stderr).toContain('too many arguments');

    const set = await runCli(['secret', 'set', 'DEPLOY_TOKEN'], { env: env({ LEVQOR_SECRET_KEY: key }), input: `${value}\n` });
    expectExit(set, 0);
    expect(set.stdout).toContain('{{secrets.DEPLOY_TOKEN}}');
    expect(both(set)).not.toContain(value);
    const file = join(dir, 'token');
    await writeFile(file, 'from-a-file');
    expectExit(await runCli(['secret', 'set', 'FILE_TOKEN', '--file', file], { env: env({ LEVQOR_SECRET_KEY: key }) }), 0);

    const list = await runCli(['secret', 'list', '--json'], {
      env: env({ LEVQOR_SECRET_KEY: key, LEVQOR_SECRET_FROM_ENV: 'x-env-value' }),
    });
    expectExit(list, 0);
    expect(
      parseJson<{ name: string; provider: string; version: number | null }[]>(list).map((r) => [r.name, r.provider, r.version]),
    ).toEqual([
      ['DEPLOY_TOKEN', 'db', 1],
      ['FILE_TOKEN', 'db', 1],
      ['FROM_ENV', 'env', null],
    ]);
    expect(list.stdout).not.toContain(value);
    expect(list.stdout).not.toContain('x-env-value');

    // Another tenant sees none of them and cannot remove them.
    expectExit(await runCli(['tenant', 'create', 'other'], { env: env() }), 0);
    const otherList = await runCli(['secret', 'list', '--json', '--tenant', 'other'], { env: env({ LEVQOR_SECRET_KEY: key }) });
    expect(parseJson(otherList)).toEqual([]);
    const otherRm = await runCli(['secret', 'rm', 'DEPLOY_TOKEN', '--tenant', 'other'], { env: env({ LEVQOR_SECRET_KEY: key }) });
    expectExit(otherRm, 1);
    expect(otherRm.stderr).toContain('secret DEPLOY_TOKEN is not stored for this tenant');

    const bad = await runCli(['secret', 'set', 'lower'], { env: env({ LEVQOR_SECRET_KEY: key }), input: 'v' });
    expectExit(bad, 2);
    expect(bad.stderr).toContain('must match ^[A-Z][A-Z0-9_]{0,63}$');
  });

  it('workflow apply: refuses an inline credential and an unset secret, accepts a reference, overrides with an audit entry', async () => {
    const wf = (name: string, headers: Record<string, string>, url2 = 'https://deploy.example.com/hook') =>
      JSON.stringify({ name, steps: [{ type: 'http', method: 'POST', url: url2, headers }] });
    const apply = (text: string, ...flags: string[]) =>
      runCli(['workflow', 'apply', '-f', '-', ...flags], { env: env({ LEVQOR_SECRET_KEY: key }), input: text });

    const inline = await apply(wf('inline', { Authorization: 'Bearer sk_live_literal0001' }));
    expectExit(inline, 2);
    expect(inline.stderr).toContain('inline: steps[0].headers.Authorization holds a literal credential');
    expect(inline.stderr).toContain('levqor secret set INLINE_TOKEN');
    expect(inline.stderr).toContain('--allow-inline-credentials');
    expect(inline.stderr).not.toContain('sk_live_literal0001');
    // --dry-run checks the same (and records nothing).
    expectExit(await apply(wf('inline', { Authorization: 'Bearer sk_live_literal0001' }), '--dry-run'), 2);
    const userinfo = await apply(wf('userinfo', {}, 'https://bob:hunter2@deploy.example.com/'));
    expectExit(userinfo, 2);
    expect(userinfo.stderr).toContain('steps[0].url (userinfo) holds a literal credential');

    const unset = await apply(wf('unset', { Authorization: 'Bearer {{secrets.NOT_THERE}}' }));
    expectExit(unset, 2);
    expect(unset.stderr).toContain('secret NOT_THERE is not set for tenant acme: levqor secret set NOT_THERE');

    expectExit(await apply(wf('by-ref', { Authorization: 'Bearer {{secrets.DEPLOY_TOKEN}}' })), 0);
    expectExit(
      await apply(wf('inline', { Authorization: 'Bearer sk_live_literal0001' }), '--allow-inline-credentials', '--as', 'alice'),
      0,
    );

    // A run of it parks at its approval; `approvals show` redacts the literal, the reference stays readable.
    expectExit(await runCli(['run', 'by-ref'], { env: env({ LEVQOR_SECRET_KEY: key }) }), 0);
    expectExit(await runCli(['run', 'inline'], { env: env({ LEVQOR_SECRET_KEY: key }) }), 0);
    const pending = parseJson<{ id: string; summary: string }[]>(await runCli(['approvals', 'list', '--json'], { env: env() }));
    const shown = async (workflow: string) => {
      const id = pending.find((a) => a.summary.startsWith(`${workflow}:`))?.id ?? '';
      const r = await runCli(['approvals', 'show', id], { env: env() });
      expectExit(r, 0);
      return { id, text: r.stdout };
    };
    const inlineShown = await shown('inline');
    expect(inlineShown.text).toContain('"Authorization": "[redacted]"');
    expect(inlineShown.text).not.toContain('sk_live_literal0001');
    expect((await shown('by-ref')).text).toContain('"Authorization": "Bearer {{secrets.DEPLOY_TOKEN}}"');

    const doctor = await runCli(['doctor', 'secrets', '--json'], { env: env({ LEVQOR_SECRET_KEY: key }) });
    expectExit(doctor, 1);
    expect(parseJson<{ inline_credentials: unknown[] }>(doctor).inline_credentials).toEqual([
      { kind: 'workflow', subject: 'inline', fields: ['steps[0].headers.Authorization'] },
      { kind: 'approval', subject: inlineShown.id, fields: ['payload.headers.Authorization'] },
    ]);
    expect(doctor.stdout).not.toContain('sk_live_literal0001');
  });

  it('rm, and rotate-key with the old key as previous', async () => {
    const newKey = randomBytes(32).toString('base64');
    const rotate = await runCli(['secret', 'rotate-key', '--json'], {
      env: env({ LEVQOR_SECRET_KEY: newKey, LEVQOR_SECRET_KEY_PREVIOUS: key }),
    });
    expectExit(rotate, 0);
    expect(parseJson<{ rewrapped: number }>(rotate).rewrapped).toBe(2);
    // The old key alone no longer opens them.
    const rm1 = await runCli(['secret', 'rm', 'FILE_TOKEN'], { env: env({ LEVQOR_SECRET_KEY: newKey }) });
    expectExit(rm1, 0);
    const again = await runCli(['secret', 'rm', 'FILE_TOKEN'], { env: env({ LEVQOR_SECRET_KEY: newKey }) });
    expectExit(again, 1);
    expect(again.stderr).toContain('secret FILE_TOKEN is not stored for this tenant');
  });
});

describe('levqor secret on the embedded database', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'levqor-secrets-embedded-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates an owner-only key file on first use, and rotate-key replaces it', async () => {
    const env = { LEVQOR_DATA_DIR: join(dir, 'data'), LEVQOR_DB_SOCKET: 'false', LEVQOR_TENANT: 'solo' };
    expectExit(await runCli(['tenant', 'create', 'solo'], { env }), 0);
    expectExit(await runCli(['secret', 'set', 'TOKEN'], { env, input: 'embedded-secret-value' }), 0);
    const keyFile = join(dir, 'data.secret.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const before = await readFile(keyFile, 'utf8');
    const rotate = await runCli(['secret', 'rotate-key', '--json'], { env });
    expectExit(rotate, 0);
    expect(parseJson<{ rewrapped: number }>(rotate).rewrapped).toBe(1);
    expect(await readFile(keyFile, 'utf8')).not.toBe(before);
    const list = await runCli(['secret', 'list'], { env });
    expect(list.stdout).toContain('TOKEN');
    expect(list.stdout).not.toContain('embedded-secret-value');
  }, 120_000);
});
