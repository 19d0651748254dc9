import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CHECK_NAMES,
  DEFAULT_CHECK_COMMANDS,
  DEFAULT_SYNTAX_CHECK,
  defaultScriptCommand,
  defaultSyntaxCommand,
  runChecks,
} from '../checks/checks.js';
import { emptyGlobWarning, verifyLocal, verifyPullRequest, type GateResult } from '../checks/gate.js';
import { git } from '../checks/git.js';
import { MANIFEST_PATH, updateManifest } from '../checks/manifest.js';
import { renderJson } from '../checks/render.js';
import { lastLines } from '../checks/run.js';
import { inheritedEnv } from '../config.js';
import type { Act } from './options.js';

interface ChecksFlags {
  root: string;
  frontendDir: string;
  lint?: string;
  build?: string;
  syntax?: string;
  backendEntry?: string;
  timeout: number;
  sequential?: boolean;
  strict?: boolean;
  json?: boolean;
}

/** Tells each gate warning (a critical glob that matches no file) on stderr. */
function warnGate(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

const seconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
};

/** `levqor checks`: the guide's `python scripts/ci/run_all_checks.py` — all 4/4 must pass. */
async function checksCommand(flags: ChecksFlags): Promise<number> {
  const root = resolve(flags.root);
  const spec = (command: string) => ({ command, timeoutSeconds: flags.timeout });
  const frontendDir = resolve(root, flags.frontendDir);
  const report = await runChecks({
    root,
    frontendDir,
    lint: spec(flags.lint ?? defaultScriptCommand(frontendDir, 'lint', '--lint')),
    build: spec(flags.build ?? defaultScriptCommand(frontendDir, 'build', '--build')),
    syntax: spec(flags.syntax ?? defaultSyntaxCommand(root, flags.backendEntry)),
    gateTimeoutSeconds: flags.timeout,
    strict: flags.strict,
    parallel: !flags.sequential,
    // The checks run as the shell that started `levqor checks` would run them.
    env: inheritedEnv(),
    onResult: flags.json
      ? undefined
      : (r) => process.stderr.write(`${r.status === 'pass' ? '✓' : '✗'} ${r.name}: ${r.status} (${(r.durationMs / 1000).toFixed(1)} s)\n`),
  });
  if (flags.json) {
    process.stdout.write(`${renderJson(report)}\n`);
  } else {
    warnGate(report.gate?.warnings ?? []);
    for (const c of report.checks.filter((x) => x.status !== 'pass')) {
      process.stdout.write(`\n── ${c.name}: ${c.detail ?? c.status}\n${lastLines(c.output, 30).join('\n')}\n`);
    }
    process.stdout.write(
      `\n${report.passed}/${report.total} checks passed${report.result === 'pass' ? '' : ` — all ${report.total}/${report.total} must pass before deployment`}\n`,
    );
  }
  return report.result === 'pass' ? 0 : 1;
}

function printGate(result: GateResult, json: boolean | undefined): number {
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    warnGate(result.warnings);
    process.stdout.write(
      `${[result.detail, ...result.lines.map((l) => `  ${l}`), ...(result.diffStat ? ['', result.diffStat] : [])].join('\n')}\n`,
    );
  }
  return result.passed ? 0 : 1;
}

/** Registers `levqor checks` and `levqor gate update|verify`. */
export function registerChecks(program: Command, act: Act): void {
  program
    .command('checks')
    .description(`the four CI safety checks (${CHECK_NAMES.join(', ')}) at once; exit 0 only when 4/4 pass`)
    .option('--root <dir>', 'repository root', '.')
    .option('--frontend-dir <dir>', 'where lint and build run', '.')
    .option('--lint <command>', `frontend lint command (default: ${DEFAULT_CHECK_COMMANDS.lint})`)
    .option('--build <command>', `frontend build command (default: ${DEFAULT_CHECK_COMMANDS.build})`)
    .option('--syntax <command>', `backend syntax command (default: ${DEFAULT_SYNTAX_CHECK})`)
    .option(
      '--backend-entry <file>',
      'backend entry for the default syntax check (`node --check FILE`, or `python3 -m py_compile FILE` for .py)',
    )
    .option('--timeout <seconds>', 'time limit per check', seconds, 900)
    .option('--sequential', 'run the checks one after another')
    .option('--strict', 'fail the safety gate when a critical glob matches no file (otherwise a warning)')
    .addOption(new Option('--json', 'print the report as JSON'))
    .action(act((flags: ChecksFlags) => checksCommand(flags)));

  const gate = program.command('gate').description(`the safety gate: critical files and their sha256 in ${MANIFEST_PATH}`);
  gate
    .command('update')
    .description('write the manifest: hash every file the globs match (default: the globs already in it)')
    .option(
      '--glob <glob>',
      'a critical-file glob, e.g. migrations/** (repeatable; replaces the stored globs)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--root <dir>', 'repository root', '.')
    .action(
      act((flags: { glob?: string[]; root: string }) => {
        const { manifest: m, emptyGlobs } = updateManifest(resolve(flags.root), flags.glob);
        process.stdout.write(`${MANIFEST_PATH}: ${Object.keys(m.files).length} critical files (${m.globs.join(', ')})\n`);
        warnGate(emptyGlobs.map(emptyGlobWarning));
        return Promise.resolve(0);
      }),
    );
  gate
    .command('verify')
    .description('fail when a critical file is missing, added or changed; --base compares with a base commit as on a pull request')
    .option('--root <dir>', 'repository root', '.')
    .option('--base <ref>', 'read the manifest from this commit (e.g. origin/main) and list what would need approval')
    .option('--strict', 'fail when a critical glob matches no file (otherwise a warning)')
    .addOption(new Option('--json', 'print the result as JSON'))
    .action(
      act(async (flags: { root: string; base?: string; strict?: boolean; json?: boolean }) => {
        const root = resolve(flags.root);
        const opts = { strict: flags.strict };
        if (!flags.base) return printGate(verifyLocal(root, opts), flags.json);
        const sha = (await git(root, ['rev-parse', '--verify', `${flags.base}^{commit}`])).trim();
        const head = (await git(root, ['rev-parse', 'HEAD'])).trim();
        return printGate(
          await verifyPullRequest(root, { repository: 'local', number: 0, baseSha: sha, headSha: head }, undefined, opts),
          flags.json,
        );
      }),
    );
}
