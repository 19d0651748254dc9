import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_DOCS, envSchema, PROCESSES } from '../src/config.js';
import { listEnvVariables, renderConfigReference } from '../src/config-reference.js';
import { REPO_ROOT, runCli } from './helpers/cli.js';

// docs/configuration.md is generated from src/config.ts (zod schemas + ENV_DOCS), like dist/:
// stale when a variable changes without `npm run build`.

const committed = readFileSync(join(REPO_ROOT, 'docs/configuration.md'), 'utf8');

describe('configuration reference', () => {
  it('docs/configuration.md is fresh (run npm run build after changing src/config.ts)', () => {
    expect(committed).toBe(renderConfigReference());
  });

  it('levqor config docs prints the same reference', async () => {
    const r = await runCli(['config', 'docs']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(committed);
  });

  it('lists every variable of the one schema (Slack included), each annotated with its processes', () => {
    const vars = listEnvVariables();
    expect(vars.map((v) => v.name)).toEqual(Object.keys(envSchema.shape));
    expect(vars.map((v) => v.name)).toEqual(expect.arrayContaining(['SLACK_BOT_TOKEN', 'LEVQOR_BOT_PORT', 'LEVQOR_DEMO_HISTORY']));
    expect(Object.keys(ENV_DOCS).sort()).toEqual(vars.map((v) => v.name).sort());
    for (const v of vars) {
      expect(v.uses.length, v.name).toBeGreaterThan(0);
      for (const p of v.uses) expect(PROCESSES, v.name).toContain(p);
      expect(committed).toContain(`| \`${v.name}\` |`);
    }
  });

  it('shows types, bounds and parsed defaults from the schema', () => {
    const byName = Object.fromEntries(listEnvVariables().map((v) => [v.name, v]));
    expect(byName.LEVQOR_DB_POOL_MAX).toMatchObject({ type: 'integer ≥ 1, ≤ 200', default: '10' });
    expect(byName.LEVQOR_DASHBOARD_PUBLIC).toMatchObject({ type: 'boolean (`true`/`false`/`1`/`0`)', default: 'false' });
    expect(byName.LEVQOR_LOG_LEVEL?.type).toContain('`silent`');
    expect(byName.DATABASE_URL).toMatchObject({ default: '', uses: PROCESSES });
    expect(byName.SLACK_SIGNING_SECRET?.uses).toEqual(['bot']);
  });

  it('README points to it', () => {
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain('(docs/configuration.md)');
  });
});
