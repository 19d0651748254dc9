import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: the built CLI is `lib/cli.js` under it (test/global-setup.ts builds it). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = 'lib/cli.js';

/** Variables for a child; `undefined` removes one inherited from the test process. */
export type CliEnv = Record<string, string | undefined>;

export interface CliResult {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a CLI child sees: the test process's, minus anything Levqor reads
 * (so a developer's DATABASE_URL or LEVQOR_TENANT cannot leak in), plus `env`.
 */
export function cliEnv(env: CliEnv = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k.startsWith('LEVQOR_')) continue;
    out[k] = v;
  }
  out.LEVQOR_LOG_PRETTY = 'false';
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

const running = new Set<ChildProcessWithoutNullStreams>();

function spawnCli(args: readonly string[], env: CliEnv): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: cliEnv(env), stdio: 'pipe' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  return child;
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close' waits for stdout/stderr to end, so the output is complete.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Runs `node lib/cli.js ...args` to completion, feeding `input` on standard input. */
export async function runCli(args: readonly string[], opts: { env?: CliEnv; input?: string } = {}): Promise<CliResult> {
  const child = spawnCli(args, opts.env ?? {});
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: string) => (stdout += d));
  child.stderr.on('data', (d: string) => (stderr += d));
  const exited = exitOf(child);
  child.stdin.end(opts.input ?? '');
  const { code, signal } = await exited;
  return { code, signal, stdout, stderr };
}

export interface StartedCli {
  child: ChildProcessWithoutNullStreams;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first stdout line (already printed or still to come) matching
   * `pattern`; rejects if the process exits first, or after `timeoutMs` as a guard.
   */
  waitForLine(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited and its output streams closed. */
  exited: Promise<CliResult>;
}

/** Starts a long-running CLI process (the scheduler loop); synchronise on its output lines. */
export function startCli(args: readonly string[], opts: { env?: CliEnv } = {}): StartedCli {
  const child = spawnCli(args, opts.env ?? {});
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lines: string[] = [];
  const waiters = new Set<(line: string | undefined) => void>();
  child.stdout.on('data', (d: string) => {
    stdout += d;
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) w(line);
    }
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  const exited = exitOf(child).then(({ code, signal }) => {
    if (partial) {
      lines.push(partial);
      for (const w of [...waiters]) w(partial);
    }
    for (const w of [...waiters]) w(undefined);
    return { code, signal, stdout, stderr };
  });
  let done = false;
  void exited.then(() => (done = true));

  const matches = (line: string, pattern: RegExp | string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));

  function waitForLine(pattern: RegExp | string, timeoutMs = 45_000): Promise<string> {
    const seen = lines.find((l) => matches(l, pattern));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const describe = () => `${String(pattern)} in the output of levqor ${args.join(' ')}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      const waiter = (line: string | undefined) => {
        if (line !== undefined && !matches(line, pattern)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        if (line === undefined) reject(new Error(`the process exited (code ${String(child.exitCode)}) before printing ${describe()}`));
        else resolve(line);
      };
      waiters.add(waiter);
      if (done) waiter(undefined);
    });
  }

  return { child, stdout: () => stdout, stderr: () => stderr, waitForLine, exited };
}

/** Kills (SIGKILL) every CLI child still running: for afterEach/afterAll after a failed test. */
export async function killRunningClis(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Parses a command's `--json` standard output, failing with the raw text when it is not JSON. */
export function parseJson<T = Record<string, unknown>[]>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${String(result.code)}):\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}
