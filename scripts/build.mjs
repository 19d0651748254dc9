// Builds the CLI into lib/ (dependencies stay external) after embedding migrations.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { embedMigrations } from './embed-migrations.mjs';
import { buildAction } from './build-action.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

await embedMigrations();
// The CLI, and the Slack bot: a separate bundle that `levqor bot` loads only when it starts.
for (const [entry, outfile] of [['src/cli.ts', 'lib/cli.js'], ['bot/main.ts', 'lib/bot.js']]) {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}
// The GitHub Action's committed dist/: refreshed by every local build; in CI it is left as
// committed, and test/action-dist.test.ts fails when it is stale.
if (!process.env.CI) await buildAction();
