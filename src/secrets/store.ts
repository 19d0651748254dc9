// A tenant's secrets from three providers, in this order (the first that has the name wins):
//   db    the tenant's own, encrypted in the `secrets` table (levqor secret set, PUT /api/secrets/:name)
//   file  LEVQOR_SECRETS_DIR/NAME (a mounted Kubernetes secret volume), for every tenant of the deployment
//   env   LEVQOR_SECRET_NAME (a Kubernetes Secret or compose .env mapped onto variables), likewise
// The tenant's own value is the most specific, so it wins, as an environment secret does over a
// repository one in GitHub Actions.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { assertSecretName, SECRET_NAME } from '../workflows/secret-refs.js';
import { decryptSecret, encryptSecret, rewrapSecret } from './crypto.js';
import type { Keyring } from './keyring.js';
import { deleteSecret, getSecretRows, listSecretMeta, lockRowsToRewrap, saveRewrapped, upsertSecret, type SecretMeta } from './queries.js';

export type SecretProvider = 'db' | 'file' | 'env';

/** One name a tenant can use, where its value comes from: never the value. */
export interface SecretListing {
  name: string;
  provider: SecretProvider;
  version: number | null;
  key_id: string | null;
  updated_at: number | null;
  updated_by: string | null;
}

export interface SecretStoreOptions {
  keyring: Keyring;
  /** LEVQOR_SECRET_<NAME> values, by NAME. */
  env: Readonly<Record<string, string>>;
  /** LEVQOR_SECRETS_DIR. */
  dir?: string;
}

/** The largest value stored or read from a file: a credential, not a document. */
export const SECRET_MAX_BYTES = 64 * 1024;

async function readDirSecret(dir: string | undefined, name: string): Promise<string | undefined> {
  if (!dir) return undefined;
  try {
    // A mounted secret's file often ends with a newline the credential does not have.
    return (await readFile(join(dir, name), 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    throw new AppError('config', `LEVQOR_SECRETS_DIR: cannot read secret ${name}: ${code ?? 'error'}`);
  }
}

async function dirHas(dir: string | undefined, name: string): Promise<boolean> {
  return (await readDirSecret(dir, name)) !== undefined;
}

/** The secret store: the engine's resolver, the faces' set/list/rm, and key rotation. */
export function createSecretStore(opts: SecretStoreOptions) {
  const { keyring } = opts;

  /** Values for names, for one execution; a name no provider has is an error naming the command that sets it. */
  async function resolve(db: Queryable, tenantId: string, names: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const values = new Map<string, string>();
    const rows = await getSecretRows(db, tenantId, names);
    if (rows.length > 0) {
      const keys = await keyring.all();
      for (const row of rows) {
        const kek = keys.find((k) => k.id === row.key_id);
        if (!kek)
          throw new AppError(
            'config',
            `cannot decrypt secret ${row.name}: it is wrapped by key ${row.key_id}, which is not configured (LEVQOR_SECRET_KEY, LEVQOR_SECRET_KEY_PREVIOUS)`,
          );
        values.set(row.name, decryptSecret(kek, tenantId, row.name, row));
      }
    }
    for (const name of names) {
      if (values.has(name)) continue;
      const value = (await readDirSecret(opts.dir, name)) ?? opts.env[name];
      if (value === undefined) throw new AppError('not_found', `secret ${name} is not set for this tenant: levqor secret set ${name}`);
      values.set(name, value);
    }
    return values;
  }

  /** The names no provider has for the tenant (checked when a workflow is applied). */
  async function missing(db: Queryable, tenantId: string, names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const stored = new Set((await getSecretRows(db, tenantId, names)).map((r) => r.name));
    const out: string[] = [];
    for (const name of names) if (!stored.has(name) && opts.env[name] === undefined && !(await dirHas(opts.dir, name))) out.push(name);
    return out;
  }

  /** Encrypts and stores a tenant's value (a new version when it exists). */
  async function set(db: Queryable, tenantId: string, name: string, value: string, actor: string): Promise<SecretMeta> {
    assertSecretName(name);
    if (value.length === 0) throw new AppError('bad_input', `secret ${name}: the value is empty`);
    if (Buffer.byteLength(value) > SECRET_MAX_BYTES)
      throw new AppError('bad_input', `secret ${name}: the value is over ${SECRET_MAX_BYTES} bytes`);
    const kek = await keyring.current(true);
    return upsertSecret(db, tenantId, name, encryptSecret(kek, tenantId, name, value), actor);
  }

  /** Every name the tenant can use, with its provider: stored ones, then the deployment's files and variables. */
  async function list(db: Queryable, tenantId: string): Promise<SecretListing[]> {
    const out: SecretListing[] = (await listSecretMeta(db, tenantId)).map((m) => ({ ...m, provider: 'db' as const }));
    const seen = new Set(out.map((s) => s.name));
    const add = (name: string, provider: SecretProvider) => {
      if (seen.has(name)) return;
      seen.add(name);
      out.push({ name, provider, version: null, key_id: null, updated_at: null, updated_by: null });
    };
    if (opts.dir) {
      const files = await readdir(opts.dir).catch(() => [] as string[]);
      for (const f of files.sort()) if (SECRET_NAME.test(f)) add(f, 'file');
    }
    for (const name of Object.keys(opts.env).sort()) add(name, 'env');
    return out;
  }

  /** Deletes a tenant's stored secret; an env or file secret is the deployment's, not removable here. */
  async function remove(db: Queryable, tenantId: string, name: string): Promise<void> {
    assertSecretName(name);
    if (await deleteSecret(db, tenantId, name)) return;
    const elsewhere =
      opts.env[name] !== undefined ? 'LEVQOR_SECRET_' + name : (await dirHas(opts.dir, name)) ? `LEVQOR_SECRETS_DIR/${name}` : undefined;
    throw new AppError(
      'not_found',
      `secret ${name} is not stored for this tenant${elsewhere ? ` (it comes from ${elsewhere}, which the deployment sets)` : ''}`,
    );
  }

  /**
   * Re-wraps every row's data key with the current key, in batches (values are not re-encrypted;
   * processes holding the old key as previous keep decrypting meanwhile). Embedded key file: a
   * new key is generated first and the old one dropped once every row is re-wrapped.
   */
  async function rotateKey(db: Db, opts2: { generate: boolean }): Promise<{ key_id: string; rewrapped: number }> {
    const current = opts2.generate ? await keyring.addGenerated() : await keyring.current(false);
    const keys = await keyring.all();
    let rewrapped = 0;
    for (;;) {
      const n = await db.transaction(async (tx) => {
        const rows = await lockRowsToRewrap(tx, current.id, 200);
        for (const row of rows) {
          const from = keys.find((k) => k.id === row.key_id);
          if (!from)
            throw new AppError(
              'config',
              `secret ${row.name}: wrapped by key ${row.key_id}, which is not configured: add it to LEVQOR_SECRET_KEY_PREVIOUS`,
            );
          await saveRewrapped(tx, row, rewrapSecret(from, current, row.tenant_id, row.name, row.wrapped_key));
        }
        return rows.length;
      });
      rewrapped += n;
      if (n === 0) break;
    }
    if (opts2.generate) await keyring.pruneGenerated();
    return { key_id: current.id, rewrapped };
  }

  return { resolve, missing, set, list, remove, rotateKey };
}

export type SecretStore = ReturnType<typeof createSecretStore>;
