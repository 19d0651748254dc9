import { execFile } from 'node:child_process';
import { AppError } from '../lib/errors.js';

/** Runs git in `cwd`; resolves stdout, rejects with git's message. */
export function git(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', [...args], { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new AppError('git_failed', `git ${args.join(' ')}: ${(stderr || err.message).trim()}`, [], { cause: err }));
      else resolve(stdout);
    });
  });
}

/** Whether a commit is present locally (a shallow checkout may lack the base). */
async function hasCommit(cwd: string, sha: string): Promise<boolean> {
  return git(cwd, ['cat-file', '-e', `${sha}^{commit}`]).then(
    () => true,
    () => false,
  );
}

/** Makes sure `sha` is present, fetching it from origin when the checkout is shallow. */
export async function ensureCommit(cwd: string, sha: string): Promise<void> {
  if (await hasCommit(cwd, sha)) return;
  await git(cwd, ['fetch', '--no-tags', '--depth=1', 'origin', sha]);
  if (!(await hasCommit(cwd, sha))) throw new AppError('git_failed', `commit ${sha} is not in this checkout and could not be fetched`);
}

/** A file's content at a commit, or undefined when it does not exist there. */
export async function showFile(cwd: string, sha: string, path: string): Promise<string | undefined> {
  try {
    return await git(cwd, ['show', `${sha}:${path}`]);
  } catch (err) {
    if (/does not exist|exists on disk, but not in|bad object|invalid object name/i.test((err as Error).message)) return undefined;
    throw err;
  }
}
