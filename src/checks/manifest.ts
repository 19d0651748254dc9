import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../lib/errors.js';
import { listFiles, matchGlobs } from './glob.js';

/** Where the safety-gate manifest lives, relative to the repository root. */
export const MANIFEST_PATH = '.levqor/critical-files.json';

/** The safety gate's record: which globs are critical, and the sha256 of each file they match. */
export interface Manifest {
  version: 1;
  globs: string[];
  files: Record<string, string>;
}

export interface ManifestDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** sha256 of a byte string, hex. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Parses a manifest, naming what is wrong with it. */
export function parseManifest(text: string, where: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('bad_input', `${where}: not JSON (${(err as Error).message})`);
  }
  const m = value as Partial<Manifest>;
  if (!m || typeof m !== 'object') throw new AppError('bad_input', `${where}: expected an object`);
  if (m.version !== 1) throw new AppError('bad_input', `${where}: version must be 1`);
  if (!Array.isArray(m.globs) || m.globs.length === 0 || !m.globs.every((g) => typeof g === 'string' && g.trim() !== '')) {
    throw new AppError('bad_input', `${where}: globs must be a non-empty list of strings`);
  }
  if (!m.files || typeof m.files !== 'object' || !Object.values(m.files).every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
    throw new AppError('bad_input', `${where}: files must map each path to a sha256 (64 hex digits)`);
  }
  return { version: 1, globs: m.globs, files: m.files };
}

/** Hashes every file under root that the globs match (the manifest file itself never is). */
export function computeManifest(root: string, globs: readonly string[]): Manifest {
  const files: Record<string, string> = {};
  for (const path of matchGlobs(listFiles(root), globs)) {
    if (path === MANIFEST_PATH) continue;
    files[path] = sha256(readFileSync(join(root, path)));
  }
  return { version: 1, globs: [...globs], files };
}

/** The manifest as written: stable key order, one file per line, trailing newline. */
export function formatManifest(m: Manifest): string {
  const files = Object.fromEntries(Object.entries(m.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ version: 1, globs: m.globs, files }, null, 2)}\n`;
}

/** Reads the manifest from a working tree. */
export function readManifest(root: string): Manifest {
  const path = join(root, MANIFEST_PATH);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AppError('not_found', `${MANIFEST_PATH} not found: create it with \`levqor gate update --glob 'migrations/**' …\``);
  }
  return parseManifest(text, MANIFEST_PATH);
}

/** Writes the manifest for the given globs (or the current ones) and returns it. */
export function updateManifest(root: string, globs?: readonly string[]): Manifest {
  let use = globs && globs.length > 0 ? globs : undefined;
  if (!use) use = readManifest(root).globs;
  const m = computeManifest(root, use);
  mkdirSync(dirname(join(root, MANIFEST_PATH)), { recursive: true });
  writeFileSync(join(root, MANIFEST_PATH), formatManifest(m));
  return m;
}

/** What differs between the recorded files and the ones on disk. */
export function diffManifest(expected: Manifest, actual: Manifest): ManifestDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [path, hash] of Object.entries(expected.files)) {
    const now = actual.files[path];
    if (now === undefined) removed.push(path);
    else if (now !== hash) changed.push(path);
  }
  for (const path of Object.keys(actual.files)) if (!(path in expected.files)) added.push(path);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

/** Whether a diff has no differences. */
export function isClean(d: ManifestDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length === 0;
}
