import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';

// Each experiment records its figures as JSON under the suite's scratch directory; the
// global teardown (test/faults/global-setup.ts) turns them into bench/RESULTS.md's `## Faults`.

declare module 'vitest' {
  export interface ProvidedContext {
    faultsRoot: string;
  }
}

/** What one experiment measured: a title, metric rows, and free-text notes. */
export interface Figures {
  title: string;
  rows: [string, string | number][];
  notes?: string[];
}

/** The scratch directory of this fault-suite run (clusters, embedded data dirs, results). */
export function faultsRoot(): string {
  return inject('faultsRoot');
}

/** Prints an experiment's counts and records them for the `## Faults` section. */
export async function recordFigures(id: string, figures: Figures): Promise<void> {
  console.info(`[faults] ${figures.title}\n${figures.rows.map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  const dir = join(faultsRoot(), 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${id}.json`), JSON.stringify(figures));
}

/** Every recorded experiment, in id order. */
export async function readFigures(root: string): Promise<Figures[]> {
  const dir = join(root, 'results');
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as Figures));
}
