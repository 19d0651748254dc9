// Builds the CLI into lib/ (dependencies stay external) after embedding migrations.
import { build } from 'esbuild';
import { embedMigrations } from './embed-migrations.mjs';

await embedMigrations();
await build({
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
