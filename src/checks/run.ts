import { spawn } from 'node:child_process';

/** One check as a shell command. */
export interface CommandCheck {
  name: string;
  command: string;
  cwd: string;
  timeoutSeconds: number;
}

export type CheckStatus = 'pass' | 'fail' | 'timeout' | 'error';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  durationMs: number;
  exitCode: number | null;
  /** Output (stdout and stderr interleaved), the last OUTPUT_LIMIT bytes at most. */
  output: string;
  /** One line on why it did not pass. */
  detail?: string;
  command?: string;
}

/** Output kept per check: enough for annotations and the summary, bounded for huge logs. */
const OUTPUT_LIMIT = 1024 * 1024;

function keepTail(chunks: Buffer[], total: number): { chunks: Buffer[]; total: number } {
  while (total > OUTPUT_LIMIT && chunks.length > 1) total -= (chunks.shift() as Buffer).length;
  return { chunks, total };
}

/** Kills the whole process group (the shell and everything it started). */
function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs a check's command in its own process group under `sh -c`, capturing output, and
 * kills the group when the time limit passes (or `signal` aborts).
 */
export function runCommandCheck(check: CommandCheck, opts: { env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let total = 0;
    let timedOut = false;
    const child = spawn('sh', ['-c', check.command], {
      cwd: check.cwd,
      env: { ...opts.env, FORCE_COLOR: '0', NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const collect = (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      ({ chunks, total } = keepTail(chunks, total));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child.pid);
    }, check.timeoutSeconds * 1000);
    const onAbort = () => killTree(child.pid);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (exitCode: number | null, detail?: string) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const output = Buffer.concat(chunks).toString('utf8');
      const status: CheckStatus = timedOut ? 'timeout' : detail ? 'error' : exitCode === 0 ? 'pass' : 'fail';
      resolve({
        name: check.name,
        status,
        durationMs: Math.round(performance.now() - started),
        exitCode,
        output,
        command: check.command,
        detail: timedOut
          ? `timed out after ${check.timeoutSeconds} s (process tree killed)`
          : (detail ?? (exitCode === 0 ? undefined : `\`${check.command}\` exited with ${exitCode ?? 'a signal'}`)),
      });
    };
    child.once('error', (err) => finish(null, `could not start \`${check.command}\`: ${err.message}`));
    // A background process the command left behind would hold the pipes open: end the group when the shell exits.
    child.once('exit', () => killTree(child.pid));
    child.once('close', (code) => finish(code));
  });
}

/** The last `n` non-empty lines of an output. */
export function lastLines(output: string, n: number): string[] {
  return output
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-n);
}
