// Where the key-encryption keys come from: LEVQOR_SECRET_KEY, or LEVQOR_SECRET_KEY_FILE (first
// line current, later lines older keys kept for decrypting until rotate-key has re-wrapped every
// row), plus LEVQOR_SECRET_KEY_PREVIOUS; the embedded database's generated key file otherwise.
import { chmod, link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { AppError } from '../lib/errors.js';
import { deriveKek, generateKeyMaterial, type Kek } from './crypto.js';

/** Where the keys come from (secretStoreFromConfig builds it from the configuration). */
export interface KeySource {
  /** LEVQOR_SECRET_KEY. */
  key?: string;
  /** LEVQOR_SECRET_KEY_FILE. */
  keyFile?: string;
  /** LEVQOR_SECRET_KEY_PREVIOUS: older keys, for decrypting rows not yet re-wrapped. */
  previous: readonly string[];
  /** Embedded database without a configured key: the key file created on first use (mode 0600). */
  generatedFile?: string;
}

export interface Keyring {
  /** The key new values are wrapped with; `create` makes the embedded key file when there is none. */
  current(create: boolean): Promise<Kek>;
  /** Every known key, current first. */
  all(): Promise<Kek[]>;
  /** Embedded only: writes a new current key before the old ones; returns it. */
  addGenerated(): Promise<Kek>;
  /** Embedded only: drops every key but the current one from the generated file. */
  pruneGenerated(): Promise<void>;
}

const NO_KEY =
  'no secret key: set LEVQOR_SECRET_KEY (at least 32 characters, e.g. openssl rand -base64 32) or LEVQOR_SECRET_KEY_FILE; ' +
  'a Postgres server stores no secret without one';

async function readLines(path: string, variable: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && variable === 'generated') return undefined;
    throw new AppError('config', `${variable}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

async function writeKeyFile(path: string, lines: readonly string[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/**
 * Creates the key file only if there is none: two processes storing their first secret at
 * once must not each make a key (one of them would be lost). The loser reads the winner's.
 */
async function createKeyFileOnce(path: string): Promise<string[]> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, `${generateKeyMaterial()}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp);
  }
  return (await readLines(path, 'generated')) ?? [];
}

/** A keyring over one key source; files are read on each use, so a rotated file is picked up. */
export function createKeyring(source: KeySource): Keyring {
  const derive = (lines: readonly string[], variable: string) => lines.map((l) => deriveKek(l, variable));
  async function keys(create: boolean): Promise<Kek[]> {
    const previous = derive(source.previous, 'LEVQOR_SECRET_KEY_PREVIOUS');
    if (source.key) return [deriveKek(source.key, 'LEVQOR_SECRET_KEY'), ...previous];
    if (source.keyFile) {
      const lines = (await readLines(source.keyFile, 'LEVQOR_SECRET_KEY_FILE')) ?? [];
      if (lines.length === 0) throw new AppError('config', `LEVQOR_SECRET_KEY_FILE: ${source.keyFile} holds no key`);
      return [...derive(lines, 'LEVQOR_SECRET_KEY_FILE'), ...previous];
    }
    if (!source.generatedFile) return previous;
    let lines = await readLines(source.generatedFile, 'generated');
    if (!lines && create) lines = await createKeyFileOnce(source.generatedFile);
    return [...derive(lines ?? [], source.generatedFile), ...previous];
  }
  const generated = () => {
    if (source.key || source.keyFile || !source.generatedFile)
      throw new AppError(
        'bad_input',
        'the secret key is configured (LEVQOR_SECRET_KEY or LEVQOR_SECRET_KEY_FILE): put the new key there and the old one in LEVQOR_SECRET_KEY_PREVIOUS, then run rotate-key',
      );
    return source.generatedFile;
  };
  return {
    async current(create) {
      const [first] = await keys(create);
      if (!first) throw new AppError('config', NO_KEY);
      return first;
    },
    all: () => keys(false),
    async addGenerated() {
      const file = generated();
      const material = generateKeyMaterial();
      await writeKeyFile(file, [material, ...((await readLines(file, 'generated')) ?? [])]);
      return deriveKek(material, file);
    },
    async pruneGenerated() {
      const file = generated();
      const [first] = (await readLines(file, 'generated')) ?? [];
      if (first) await writeKeyFile(file, [first]);
    },
  };
}
