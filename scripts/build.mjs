// Builds the CLI into lib/ (dependencies stay external) after embedding migrations.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { embedMigrations } from './embed-migrations.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

await embedMigrations();
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outfile: 'lib/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
