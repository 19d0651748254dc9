import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { listEnvVariables } from '../../src/config-reference.js';
import { REPO_ROOT } from './cli.js';
import { CLI_PATH } from './proc.js';

// Readers for the deployment files (Dockerfile, docker-compose.yml, deploy/k8s/) and the checks
// the deploy tests share: a command is a real `levqor` command, a variable one src/config.ts reads.

/** Every variable src/config.ts reads, from its zod schemas (never a hand copy). */
export const CONFIG_VARIABLES: ReadonlySet<string> = new Set(listEnvVariables().map((v) => v.name));

/** The variables in `env` that src/config.ts does not read, as "where: NAME" lines. */
export function unknownVariables(where: string, names: Iterable<string>): string[] {
  return [...names].filter((n) => !CONFIG_VARIABLES.has(n)).map((n) => `${where}: ${n}`);
}

/** One Dockerfile instruction, continuation lines joined. */
export interface DockerInstruction {
  op: string;
  args: string;
}

/** A Dockerfile stage: its FROM image, its name (`AS name`) and its instructions. */
export interface DockerStage {
  from: string;
  name?: string;
  instructions: DockerInstruction[];
}

/** Parses a Dockerfile: global ARGs and stages (comments and line continuations handled). */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: DockerStage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1).trim()} `;
    else {
      logical.push(`${current}${line}`.trim());
      current = '';
    }
  }
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const l of logical.filter(Boolean)) {
    const [op = '', ...rest] = l.split(/\s+/);
    const instr = { op: op.toUpperCase(), args: rest.join(' ') };
    if (instr.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instr.args);
      stages.push({ from: m?.[1] ?? instr.args, name: m?.[2], instructions: [] });
    } else if (stages.length === 0 && instr.op === 'ARG') {
      const [k = '', v = ''] = instr.args.split('=');
      args[k] = v;
    } else stages.at(-1)?.instructions.push(instr);
  }
  return { args, stages };
}

/** Parses every YAML document of a repository file (merge keys `<<:` resolved). */
export function readYamlDocuments<T = Record<string, unknown>>(path: string): T[] {
  return parseAllDocuments(readFileSync(join(REPO_ROOT, path), 'utf8'), { merge: true }).map((d) => {
    if (d.errors.length) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as T;
  });
}

/**
 * What is wrong with `levqor <argv>` as a command line, asked of the built CLI's own help: an
 * unknown command, a command group, or an option the command does not declare. Empty when fine.
 */
export function commandProblems(argv: readonly string[]): string[] {
  const help = execFileSync(process.execPath, [CLI_PATH, ...commandPath(argv), '--help'], { encoding: 'utf8' });
  const usage = help.split('\n')[0] ?? '';
  const cmd = commandPath(argv).join(' ');
  if (!usage.startsWith(`Usage: levqor ${cmd} `)) return [`levqor ${argv.join(' ')}: no command "${cmd}" (help says "${usage}")`];
  if (usage.includes('[command]')) return [`levqor ${argv.join(' ')}: "${cmd}" is a command group, not a command`];
  // The Options section: "  -t, --tenant <name>   description" — the flags before the wide gap.
  const declared = new Set(
    help
      .split('\n')
      .filter((l) => /^ {2}-/.test(l))
      .flatMap((l) => (l.trim().split(/\s{2,}/)[0] ?? '').split(/,\s*/).map((f) => f.split(' ')[0])),
  );
  return argv
    .filter((w) => w.startsWith('-'))
    .map((w) => w.split('=')[0] as string)
    .filter((f) => !declared.has(f))
    .map((f) => `levqor ${argv.join(' ')}: ${cmd} has no option ${f}`);
}

/** The command words of a command line: everything before the first option. */
function commandPath(argv: readonly string[]): string[] {
  const i = argv.findIndex((w) => w.startsWith('-'));
  return [...(i < 0 ? argv : argv.slice(0, i))];
}
