import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import { createPgDatabase } from './helpers/db.js';
import { parseDockerfile, type DockerStage } from './helpers/deploy.js';
import { killLeftovers, spawnCli } from './helpers/proc.js';
import { listeningUrl } from './helpers/server.js';

// The container image without a Docker daemon: the Dockerfile's shape, then the very file layout
// its runtime stage holds (npm pack + the stage's own `npm ci --omit=dev`, offline) running
// `levqor --version`, `migrate` and `serve` against Postgres — production dependencies suffice.

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const [build, runtime] = dockerfile.stages as [DockerStage, DockerStage];
const runs = (s: DockerStage) => s.instructions.filter((i) => i.op === 'RUN').flatMap((i) => i.args.split(/\s*&&\s*/));
const last = (s: DockerStage, op: string) => s.instructions.filter((i) => i.op === op).at(-1)?.args;

describe('Dockerfile', () => {
  it('has two stages, build then runtime, on a node 20 slim base', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of dockerfile.stages) expect(s.from).toBe('${NODE_IMAGE}');
    expect(dockerfile.args.NODE_IMAGE).toMatch(/^node:20(\.\d+)*-(bookworm-)?slim$/);
  });

  it('build stage: every dependency from the lockfile, lib/ built, the package packed', () => {
    expect(runs(build)).toEqual(expect.arrayContaining(['npm ci --ignore-scripts --no-audit --no-fund', 'npm run build']));
    expect(runs(build).some((r) => r.startsWith('npm pack'))).toBe(true);
  });

  it('runtime stage: only the packed package and production dependencies, as a non-root user', () => {
    const copies = runtime.instructions.filter((i) => i.op === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) expect(c.args, 'the runtime stage copies from the build stage only').toMatch(/^--from=build\s/);
    expect(runs(runtime).some((r) => /^npm ci --omit=dev\b/.test(r))).toBe(true);
    const user = last(runtime, 'USER') ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(
      runs(runtime).some((r) => r.includes(`--uid ${user.split(':')[0]}`)),
      'the USER is created in the image',
    ).toBe(true);
  });

  it('levqor is the entrypoint (the bin of package.json), serve the default command, /readyz the health check', () => {
    expect(JSON.parse(last(runtime, 'ENTRYPOINT') ?? '[]')).toEqual(['levqor']);
    expect(JSON.parse(last(runtime, 'CMD') ?? '[]')).toEqual(['serve']);
    expect(runs(runtime)).toContain(`ln -s /app/${pkg.bin.levqor} /usr/local/bin/levqor`);
    expect(last(runtime, 'HEALTHCHECK')).toMatch(/^--interval=\S+ .*CMD .*\/readyz/);
    // A container must listen beyond its own loopback for the health check's peers and the Service.
    expect(runtime.instructions.find((i) => i.op === 'ENV')?.args).toMatch(/\bHOST=0\.0\.0\.0\b/);
  });

  it('.dockerignore keeps dependencies, builds and local state out of the build context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'lib', '.levqor']));
  });
});

describe("the image's file layout, built offline", () => {
  let dir: string;
  let app: string;
  let files: string[];
  let installSeconds: number;
  let database: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'levqor-image-'));
    // lib/ is fresh (test/global-setup.ts builds it): pack it without running prepare again, which
    // would rebuild lib/ under the other test files using it.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, encoding: 'utf8' }),
    ) as { filename: string; files: { path: string }[] }[];
    files = packed[0]?.files.map((f) => f.path) ?? [];
    app = join(dir, 'package');
    execFileSync('tar', ['-xzf', join(dir, packed[0]?.filename ?? ''), '-C', dir]);
    copyFileSync(join(REPO_ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    // The runtime stage's own command, offline: npm may use its cache and nothing else.
    const install = runs(runtime).find((r) => r.startsWith('npm ci')) ?? '';
    const started = performance.now();
    // Without the npm_* variables `npm test` sets (npm_config_local_prefix names the repository).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    await run('npm', [...install.split(/\s+/).slice(1), '--offline'], { cwd: app, env: { ...env, npm_config_update_notifier: 'false' } });
    installSeconds = (performance.now() - started) / 1000;
    database = await createPgDatabase('levqor_image');
  }, 180_000);

  afterEach(killLeftovers);
  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the package holds the built CLI and no sources or tests', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', pkg.bin.levqor as string, 'docs/configuration.md']));
    expect(files.filter((f) => /^(src|test|bench|migrations|scripts)\//.test(f))).toEqual([]);
    console.log(`npm ci --omit=dev --offline: ${installSeconds.toFixed(1)} s`);
  });

  it('has production dependencies only', () => {
    // package-lock.json marks what only development needs ("dev": true): none of it may be there.
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev && path.startsWith('node_modules/'))
      .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(100);
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    expect(existsSync(join(app, 'node_modules/fastify/package.json'))).toBe(true);
  });

  it('levqor --version runs from its bin, outside the repository', async () => {
    const { stdout } = await run(join(app, pkg.bin.levqor as string), ['--version'], { cwd: dir });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('levqor migrate applies the embedded migrations to Postgres', async () => {
    const { stdout } = await run(join(app, pkg.bin.levqor as string), ['migrate'], {
      cwd: dir,
      env: { PATH: process.env.PATH, DATABASE_URL: database.url, LEVQOR_LOG_PRETTY: 'false' },
    });
    expect(stdout).toMatch(/schema at migration \d+ \(applied 0001_init, /);
  });

  it('levqor serve answers /readyz and the health summary, then stops on SIGTERM', async () => {
    const serve = spawnCli(
      ['serve', '--no-scheduler', '--port', '0'],
      { DATABASE_URL: database.url },
      { cliPath: join(app, pkg.bin.levqor as string), cwd: dir },
    );
    const line = await serve.waitForLog((l) => listeningUrl(l.msg) !== undefined, { what: 'the listening line', timeoutMs: 30_000 });
    const base = listeningUrl(line.msg) as string;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const summary = (await (await fetch(`${base}/api/health/summary`)).json()) as { database: { ok: boolean } };
    expect(summary.database.ok).toBe(true);
    serve.signal('SIGTERM');
    expect((await serve.waitForExit(20_000)).code).toBe(0);
  });
});
