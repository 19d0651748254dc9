// Builds the CLI into lib/ (dependencies stay external) after embedding migrations.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedMigrations } from './embed-migrations.mjs';
import { buildAction } from './build-action.mjs';
import { buildClient } from './build-client.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

await embedMigrations();
// The web pages' browser code and styles, embedded in src/http/client-assets.generated.ts.
await buildClient();
// The CLI and the Slack bot (which `levqor bot` loads only when it starts), split into chunks so
// a command loads only what it uses: `levqor scheduler --once` from cron does not load Fastify.
await rm(join(root, 'lib/chunks'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', bot: 'bot/main.ts' },
  outdir: 'lib',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The GitHub Action's committed dist/: refreshed by every local build; in CI it is left as
// committed, and test/action-dist.test.ts fails when it is stale.
if (!process.env.CI) await buildAction();
// docs/configuration.md, generated from src/config.ts by the CLI just built (checked fresh by
// test/deploy-config.test.ts, like dist/).
if (!process.env.CI) {
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const reference = execFileSync(process.execPath, [join(root, 'lib/cli.js'), 'config', 'docs'], { encoding: 'utf8' });
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs/configuration.md'), reference);
}
