import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  /** Run the command checks at once (default) or one after another. */
  parallel?: boolean;
  env?: NodeJS.ProcessEnv;
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

/**
 * The default backend syntax check: the TypeScript type check when the root has a
 * tsconfig.json, else `node --check` of the backend entry (or package.json's main).
 */
export function defaultSyntaxCommand(root: string, backendEntry?: string): string {
  if (backendEntry) return `node --check ${JSON.stringify(backendEntry)}`;
  if (existsSync(join(root, 'tsconfig.json'))) return 'npx --no-install tsc --noEmit --pretty false';
  try {
    const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: unknown }).main;
    if (typeof main === 'string') return `node --check ${JSON.stringify(main)}`;
  } catch {
    // no package.json: fall through
  }
  return 'echo "no backend entry: set the syntax-command or backend-entry input" >&2; exit 2';
}

async function runGate(opts: ChecksOptions): Promise<{ result: CheckResult; gate?: GateResult }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.gateTimeoutSeconds * 1000)));
  try {
    const work = opts.pullRequest ? verifyPullRequest(opts.root, opts.pullRequest, opts.approve) : Promise.resolve().then(() => verifyLocal(opts.root));
    const gate = await Promise.race([work, timeout]);
    const durationMs = Math.round(performance.now() - started);
    if (gate === 'timeout') {
      return { result: { name: 'Safety Gate', status: 'timeout', durationMs, exitCode: null, output: '', detail: `timed out after ${opts.gateTimeoutSeconds} s` } };
    }
    const output = [gate.detail, ...gate.lines, ...(gate.diffStat ? ['', gate.diffStat] : [])].join('\n');
    return { gate, result: { name: 'Safety Gate', status: gate.passed ? 'pass' : 'fail', durationMs, exitCode: gate.passed ? 0 : 1, output, detail: gate.passed ? undefined : gate.detail } };
  } catch (err) {
    const msg = (err as Error).message;
    return { result: { name: 'Safety Gate', status: 'error', durationMs: Math.round(performance.now() - started), exitCode: null, output: msg, detail: msg } };
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
