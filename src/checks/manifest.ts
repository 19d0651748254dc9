import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../lib/errors.js';
import { listFiles, scanGlobs } from './glob.js';

/** Where the safety-gate manifest lives, relative to the repository root. */
export const MANIFEST_PATH = '.levqor/critical-files.json';

/** A file's git mode: a regular file, an executable one, a symbolic link. */
export type FileMode = '100644' | '100755' | '120000';
const FILE_MODES: readonly string[] = ['100644', '100755', '120000'];

/**
 * The safety gate's record: which globs are critical, the sha256 of each file they match (what
 * reading it gives, through a symlink too), and the git mode of each file that is not a plain
 * 100644 one. Version 1 (written before modes were recorded) has no modes.
 */
export interface Manifest {
  version: 1 | 2;
  globs: string[];
  files: Record<string, string>;
  modes: Record<string, FileMode>;
}

export interface ManifestDiff {
  added: string[];
  removed: string[];
  /** Files whose content or mode differs (a mode change alone is a change: a file swapped for a symlink to the same bytes). */
  changed: string[];
  /** The changed files whose mode differs, from the recorded mode to the current one. */
  modes: { path: string; from: FileMode; to: FileMode }[];
}

/** A manifest computed from the working tree, with the globs that matched no file (a typo protects nothing). */
export interface ManifestScan {
  manifest: Manifest;
  emptyGlobs: string[];
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
  if (m.version !== 1 && m.version !== 2) throw new AppError('bad_input', `${where}: version must be 1 or 2`);
  if (!Array.isArray(m.globs) || m.globs.length === 0 || !m.globs.every((g) => typeof g === 'string' && g.trim() !== '')) {
    throw new AppError('bad_input', `${where}: globs must be a non-empty list of strings`);
  }
  if (!m.files || typeof m.files !== 'object' || !Object.values(m.files).every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
    throw new AppError('bad_input', `${where}: files must map each path to a sha256 (64 hex digits)`);
  }
  const modes = m.modes ?? {};
  if (typeof modes !== 'object' || !Object.values(modes).every((v) => typeof v === 'string' && FILE_MODES.includes(v))) {
    throw new AppError('bad_input', `${where}: modes must map paths to a git mode (${FILE_MODES.join(', ')})`);
  }
  return { version: m.version, globs: m.globs, files: m.files, modes };
}

/** What reading a critical file gives, and its mode; a symlink that leads nowhere readable is an error naming it. */
function readCritical(root: string, path: string): { hash: string; mode: FileMode } {
  const full = join(root, path);
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  try {
    const st = lstatSync(full);
    if (!st.isSymbolicLink()) return { hash: sha256(readFileSync(full)), mode: st.mode & 0o100 ? '100755' : '100644' };
  } catch (err) {
    throw new AppError('bad_input', `critical file ${path} cannot be read (${code(err)})`, [path], { cause: err });
  }
  const target = readlinkSync(full);
  try {
    return { hash: sha256(readFileSync(full)), mode: '120000' };
  } catch (err) {
    const why: Record<string, string> = {
      ENOENT: 'which does not exist',
      ENOTDIR: 'which does not exist',
      ELOOP: 'which is a loop of symlinks',
      EISDIR: 'which is a directory (critical globs must match files)',
    };
    throw new AppError(
      'bad_input',
      `critical file ${path} is a symlink to "${target}", ${why[code(err)] ?? `which cannot be read (${code(err)})`}: point it at a file, or remove it and run \`levqor gate update\``,
      [path],
      { cause: err },
    );
  }
}

/** Hashes every file under root that the globs match (the manifest file itself never is), and names the globs that match none. */
export function scanCritical(root: string, globs: readonly string[]): ManifestScan {
  const { matched, empty } = scanGlobs(
    listFiles(root).filter((p) => p !== MANIFEST_PATH),
    globs,
  );
  const files: Record<string, string> = {};
  const modes: Record<string, FileMode> = {};
  for (const path of matched) {
    const { hash, mode } = readCritical(root, path);
    files[path] = hash;
    if (mode !== '100644') modes[path] = mode;
  }
  return { manifest: { version: 2, globs: [...globs], files, modes }, emptyGlobs: empty };
}

/** The manifest of the working tree for these globs. */
export function computeManifest(root: string, globs: readonly string[]): Manifest {
  return scanCritical(root, globs).manifest;
}

const byKey = <T>(entries: [string, T][]) => Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The manifest as written: stable key order, one file per line, trailing newline; modes only when a file has one. */
function formatManifest(m: Manifest): string {
  const modes = Object.entries(m.modes);
  return `${JSON.stringify(
    { version: 2, globs: m.globs, files: byKey(Object.entries(m.files)), ...(modes.length > 0 ? { modes: byKey(modes) } : {}) },
    null,
    2,
  )}\n`;
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

/** Writes the manifest for the given globs (or the current ones) and returns it, with the globs that matched nothing. */
export function updateManifest(root: string, globs?: readonly string[]): ManifestScan {
  let use = globs && globs.length > 0 ? globs : undefined;
  if (!use) use = readManifest(root).globs;
  const scan = scanCritical(root, use);
  mkdirSync(dirname(join(root, MANIFEST_PATH)), { recursive: true });
  writeFileSync(join(root, MANIFEST_PATH), formatManifest(scan.manifest));
  return scan;
}

/**
 * The mode a manifest recorded for a file. Version 1 recorded none (and hashed through symlinks):
 * every file it lists was taken to be a plain file, so only a symlink now counts as a mode change
 * (an executable bit it could not see does not).
 */
function recordedMode(m: Manifest, path: string, now: FileMode): FileMode {
  if (m.version === 1) return now === '120000' ? '100644' : now;
  return m.modes[path] ?? '100644';
}

/** What differs between the recorded files and the ones on disk: content, presence, and mode. */
export function diffManifest(expected: Manifest, actual: Manifest): ManifestDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  const modes: ManifestDiff['modes'] = [];
  for (const [path, hash] of Object.entries(expected.files)) {
    const now = actual.files[path];
    if (now === undefined) {
      removed.push(path);
      continue;
    }
    const to = actual.modes[path] ?? '100644';
    const from = recordedMode(expected, path, to);
    if (from !== to) modes.push({ path, from, to });
    if (now !== hash || from !== to) changed.push(path);
  }
  for (const path of Object.keys(actual.files)) if (!(path in expected.files)) added.push(path);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort(), modes: modes.sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

/** Whether a diff has no differences. */
export function isClean(d: ManifestDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length === 0;
}
