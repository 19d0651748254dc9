import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { load1 } from '../../bench/lib/machine.js';
import { replaceSection, table } from '../../bench/lib/markdown.js';
import { stopClusterDir } from './helpers/cluster.js';
import { readFigures } from './helpers/results.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = join(REPO, 'bench', 'RESULTS.md');
/** Experiments the suite runs; the section is written only when every one recorded its figures. */
const EXPERIMENTS = 7;

function machine(loadStart: number): string[] {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const pgVersion = execFileSync('/usr/lib/postgresql/15/bin/postgres', ['--version'], { encoding: 'utf8' }).trim();
  return [
    `- CPU: ${model}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`,
    `- ${pgVersion}, a throwaway cluster per experiment (initdb into a temp dir, own port; fsync=off, synchronous_commit=on)`,
    `- 1-minute load average at start / end: ${loadStart} / ${load1()} (the machine is shared with other sessions)`,
  ];
}

async function writeSection(root: string, startedAt: Date, loadStart: number): Promise<void> {
  const figures = await readFigures(root);
  if (figures.length < EXPERIMENTS) {
    console.info(`[faults] ${figures.length} of ${EXPERIMENTS} experiments recorded figures: bench/RESULTS.md left as it is`);
    return;
  }
  const body = [
    `_Written by \`npm run test:faults\` (test/faults/) on ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}. Rerun it to refresh this section._`,
    '',
    '### Machine',
    '',
    ...machine(loadStart),
    '',
    ...figures.flatMap((f) => [
      `### ${f.title}`,
      '',
      table(['measure', 'value'], f.rows),
      ...(f.notes?.length ? ['', ...f.notes] : []),
      '',
    ]),
  ].join('\n');
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  await writeFile(RESULTS, replaceSection(old, 'Faults', body));
  console.info('[faults] wrote the ## Faults section of bench/RESULTS.md');
}

/** Builds the CLI, makes the run's scratch directory; afterwards stops any cluster left and writes the results. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = new Date();
  const loadStart = load1();
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, stdio: 'inherit' });
  const root = await mkdtemp(join(tmpdir(), 'levqor-faults-'));
  // The clusters under it belong to the postgres user, which must reach them.
  await chmod(root, 0o711);
  project.provide('faultsRoot', root);
  return async () => {
    try {
      await writeSection(root, startedAt, loadStart);
    } finally {
      // A test file that died before its afterAll leaves its cluster running: stop it here.
      const left = (await readdir(root).catch(() => [])).filter((d) => d.startsWith('pg-'));
      await Promise.all(left.map((d) => stopClusterDir(join(root, d))));
      await rm(root, { recursive: true, force: true });
    }
  };
}
