// Runs a benchmark: `node scripts/bench.mjs <name> [args…]` bundles bench/<name>.ts (with the
// entries benchmarks start as processes of their own: the query tracer and the peers' workers)
// into .levqor/bench/ with esbuild (dependencies stay external, src/ is bundled in), then runs
// .levqor/bench/<name>.mjs with the arguments given and exits with its exit code.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(join(root, 'bench', `${name}.ts`))) {
  console.error(`usage: node scripts/bench.mjs <name> [args…], where bench/<name>.ts exists (got ${name ?? 'nothing'})`);
  process.exit(2);
}

/** Entries a benchmark starts with node itself: the query tracer (--import) and the peer workers. */
const CHILD_ENTRIES = ['lib/trace-hook', 'peers/graphile-worker', 'peers/pg-boss-worker'];

await build({
  absWorkingDir: root,
  entryPoints: [...new Set([name, ...CHILD_ENTRIES])].map((e) => `bench/${e}.ts`).filter((f) => existsSync(join(root, f))),
  outdir: '.levqor/bench',
  outbase: 'bench',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});

// Ctrl-C reaches the benchmark too (same process group): it cleans up and exits; we wait for it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);
const child = spawn(process.execPath, ['--enable-source-maps', join(root, '.levqor/bench', `${name}.mjs`), ...args], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
