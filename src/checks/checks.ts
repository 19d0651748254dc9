import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, errorMessage } from '../lib/errors.js';
import { parseAnnotations, type Annotation } from './annotations.js';
import { verifyLocal, verifyPullRequest, type GateApprover, type GatePullRequest, type GateResult } from './gate.js';
import { runCommandCheck, type CheckResult } from './run.js';

/** The guide's four checks, in its order. */
export const CHECK_NAMES = ['Frontend Lint', 'Frontend Build', 'Backend Syntax', 'Safety Gate'] as const;

export interface CommandSpec {
  command: string;
  timeoutSeconds: number;
}

export interface ChecksOptions {
  /** The repository root (the gate's files, the syntax check's directory). */
  root: string;
  /** Where lint and build run (the guide's `cd levqor-site`). */
  frontendDir: string;
  lint: CommandSpec;
  build: CommandSpec;
  syntax: CommandSpec;
  gateTimeoutSeconds: number;
  /** Set on pull requests: the gate reads the base branch's manifest. */
  pullRequest?: GatePullRequest;
  approve?: GateApprover;
  /** The gate fails when a critical glob matches no file (otherwise a warning). */
  strict?: boolean;
  /** Run the command checks at once (default) or one after another. */
  parallel?: boolean;
  /** The environment the check commands run with (the caller's choice: the action leaves its inputs out). */
  env: NodeJS.ProcessEnv;
  /** Aborting kills every running check's process tree (a cancelled job). */
  signal?: AbortSignal;
  /** Called as each check ends (progress). */
  onResult?: (r: CheckResult) => void;
}

export interface ChecksReport {
  passed: number;
  total: number;
  result: 'pass' | 'fail';
  checks: CheckResult[];
  annotations: Annotation[];
  gate?: GateResult;
  durationMs: number;
}

/** The guide's commands for checks 1 and 2, run in the frontend directory. */
export const DEFAULT_CHECK_COMMANDS = { lint: 'npm run lint', build: 'npm run build' } as const;

/** A command that fails at once with `message` on stderr (exit 2: a setup problem, not a finding). */
const failWith = (message: string) => `echo ${JSON.stringify(message)} >&2; exit 2`;

/**
 * The default lint or build command: the guide's `npm run …`, or — where `dir` is not an npm
 * project — a check that fails naming the input to set, instead of npm's ENOENT.
 */
export function defaultScriptCommand(dir: string, check: keyof typeof DEFAULT_CHECK_COMMANDS, setting: string): string {
  if (existsSync(join(dir, 'package.json'))) return DEFAULT_CHECK_COMMANDS[check];
  return failWith(
    `no package.json in ${dir}: not an npm project, so "${DEFAULT_CHECK_COMMANDS[check]}" cannot run; set ${setting} (e.g. ruff check ., make build)`,
  );
}

/** The default backend syntax check, in the order defaultSyntaxCommand tries it (for --help and the docs). */
export const DEFAULT_SYNTAX_CHECK =
  "`node --check` (or `python3 -m py_compile` for a .py file) of backend-entry; else `tsc --noEmit` when tsconfig.json exists, `node --check` of package.json main, or the guide's `python3 -m py_compile run.py`";

/**
 * The default backend syntax check: `node --check` or the guide's `python -m py_compile` of the
 * backend entry; else the TypeScript type check when the root has a tsconfig.json, `node --check`
 * of package.json's main, or `py_compile` of the guide's run.py.
 */
export function defaultSyntaxCommand(root: string, backendEntry?: string): string {
  const compile = (file: string) =>
    file.endsWith('.py') ? `python3 -m py_compile ${JSON.stringify(file)}` : `node --check ${JSON.stringify(file)}`;
  if (backendEntry) return compile(backendEntry);
  if (existsSync(join(root, 'tsconfig.json'))) return 'npx --no-install tsc --noEmit --pretty false';
  try {
    const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: unknown }).main;
    if (typeof main === 'string') return compile(main);
  } catch {
    // no package.json: fall through
  }
  if (existsSync(join(root, 'run.py'))) return compile('run.py');
  return failWith('no backend entry: set the syntax-command or backend-entry input');
}

async function runGate(opts: ChecksOptions): Promise<{ result: CheckResult; gate?: GateResult }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.gateTimeoutSeconds * 1000)));
  try {
    const gateOpts = { strict: opts.strict };
    const work = opts.pullRequest
      ? verifyPullRequest(opts.root, opts.pullRequest, opts.approve, gateOpts)
      : Promise.resolve().then(() => verifyLocal(opts.root, gateOpts));
    const gate = await Promise.race([work, timeout]);
    const durationMs = Math.round(performance.now() - started);
    if (gate === 'timeout') {
      return {
        result: {
          name: 'Safety Gate',
          status: 'timeout',
          durationMs,
          exitCode: null,
          output: '',
          detail: `timed out after ${opts.gateTimeoutSeconds} s`,
        },
      };
    }
    const output = [gate.detail, ...gate.lines, ...(gate.diffStat ? ['', gate.diffStat] : [])].join('\n');
    return {
      gate,
      result: {
        name: 'Safety Gate',
        status: gate.passed ? 'pass' : 'fail',
        durationMs,
        exitCode: gate.passed ? 0 : 1,
        output,
        detail: gate.passed ? undefined : gate.detail,
      },
    };
  } catch (err) {
    // Every failure says what is wrong in a line: the gate's own errors name the file or glob.
    const msg = err instanceof AppError ? err.message : `the safety gate could not run: ${errorMessage(err)}`;
    return {
      result: {
        name: 'Safety Gate',
        status: 'error',
        durationMs: Math.round(performance.now() - started),
        exitCode: null,
        output: msg,
        detail: msg,
      },
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the four checks (command checks in parallel, each with its time limit) and reports. */
export async function runChecks(opts: ChecksOptions): Promise<ChecksReport> {
  const started = performance.now();
  const specs = [
    { name: CHECK_NAMES[0], cwd: opts.frontendDir, ...opts.lint },
    { name: CHECK_NAMES[1], cwd: opts.frontendDir, ...opts.build },
    { name: CHECK_NAMES[2], cwd: opts.root, ...opts.syntax },
  ];
  const report = (r: CheckResult) => {
    opts.onResult?.(r);
    return r;
  };
  const gatePromise = runGate(opts).then((g) => (report(g.result), g));
  let commandResults: CheckResult[];
  if (opts.parallel === false) {
    commandResults = [];
    for (const s of specs) commandResults.push(report(await runCommandCheck(s, { env: opts.env, signal: opts.signal })));
  } else {
    commandResults = await Promise.all(specs.map((s) => runCommandCheck(s, { env: opts.env, signal: opts.signal }).then(report)));
  }
  const gate = await gatePromise;
  const checks = [...commandResults, gate.result];
  const annotations = commandResults.flatMap((r) => (r.status === 'pass' ? [] : parseAnnotations(r.output, opts.root, r.name)));
  const passed = checks.filter((c) => c.status === 'pass').length;
  return {
    passed,
    total: checks.length,
    result: passed === checks.length ? 'pass' : 'fail',
    checks,
    annotations,
    gate: gate.gate,
    durationMs: Math.round(performance.now() - started),
  };
}
