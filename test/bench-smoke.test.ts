import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The benchmarks in smoke mode (BENCH_SMOKE=1: tiny sizes, nothing written to bench/RESULTS.md),
// each bundled and run as `npm run bench:<name>` runs it, against the real Postgres: so that bench
// code, which no other test runs, cannot rot. They run at once (each waits mostly on its processes).

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench/RESULTS.md');
/** Each benchmark with the section it prints and a heading that section must hold. */
const BENCHES = [
  { name: 'api', section: 'API', heading: '### Approve throughput' },
  { name: 'scheduler', section: 'Scheduler', heading: '### Due-scan cost' },
  { name: 'cleanup', section: 'Cleanup', heading: '### Claim latency (ms)' },
] as const;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

const children = new Set<ReturnType<typeof spawn>>();
const runs = new Map<string, Run>();
const sha = () => createHash('sha256').update(readFileSync(RESULTS)).digest('hex');
let resultsBefore = '';

function runBench(name: string): Promise<Run> {
  const child = spawn(process.execPath, ['scripts/bench.mjs', name], {
    cwd: ROOT,
    env: { ...process.env, BENCH_SMOKE: '1', BENCH_ADMIN_URL: inject('pgAdminUrl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out });
    }),
  );
}

beforeAll(async () => {
  resultsBefore = sha();
  const done = await Promise.all(BENCHES.map(async (b) => [b.name, await runBench(b.name)] as const));
  for (const [name, run] of done) runs.set(name, run);
}, 280_000);

afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
});

describe('benchmarks in smoke mode (BENCH_SMOKE=1)', () => {
  for (const { name, section, heading } of BENCHES) {
    it(`bench:${name} completes and prints its section's tables`, () => {
      const run = runs.get(name);
      expect(run, `bench:${name} did not run`).toBeDefined();
      const { code, signal, out } = run as Run;
      expect({ code, signal }, `bench:${name} failed:\n${out.slice(-3000)}`).toEqual({ code: 0, signal: null });
      const start = out.indexOf(`--- ${section} (smoke run: not written to bench/RESULTS.md) ---`);
      const end = out.indexOf(`--- end of ${section} ---`);
      expect(start, out.slice(-3000)).toBeGreaterThanOrEqual(0);
      expect(end).toBeGreaterThan(start);
      const body = out.slice(start, end);
      expect(body).toContain(heading);
      // Markdown tables: a header separator line, and rows below it.
      expect(body).toMatch(/^\| --- \|/m);
      expect(body.match(/^\| .* \|$/gm)?.length ?? 0).toBeGreaterThan(4);
      expect(body).not.toMatch(/\bNaN\b|undefined|\[object Object\]/);
    });
  }

  it('leaves bench/RESULTS.md as committed', () => {
    expect(sha()).toBe(resultsBefore);
  });
});
