import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { socketPathOf } from '../../src/db/socket-path.js';
import { parseJson, runCli, type CliEnv } from '../helpers/cli.js';
import { killLeftovers, LEVEL, spawnCli } from '../helpers/proc.js';
import { recordFigures, faultsRoot } from './helpers/results.js';

// Experiment 6: the embedded default (PGlite). `levqor serve` owns the data dir and shares it on
// its Unix socket: a second process's command is served through it while serve writes, and a
// second owner (another serve) is refused with a clear message. Then kill -9 of serve while it
// writes runs: a command right after finds the stale socket, falls back to opening the database
// itself, and `levqor runs list` agrees with every run the killed process reported finished.

const WORKFLOWS = 30;
/** PGlite starts in seconds on an idle machine and several times that on a loaded one. */
const PGLITE_MS = 120_000;
const RUN_STATUSES = ['queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled'];

interface ListedRun {
  id: string;
  workflow: string;
  status: string;
  finished: string;
}

describe('embedded database under faults', () => {
  it(
    'serves a second process through the socket, refuses a second owner, survives kill -9 of serve mid-write, and lists consistent runs after the restart',
    { timeout: 300_000 },
    async () => {
      const dataDir = join(await mkdtemp(join(faultsRoot(), 'embedded-')), 'data');
      const env: CliEnv = { LEVQOR_DATA_DIR: dataDir, DATABASE_URL: undefined };
      try {
        const file = join(dataDir, '..', 'workflows.json');
        await writeFile(
          file,
          JSON.stringify({
            workflows: Array.from({ length: WORKFLOWS }, (_, i) => ({
              name: `emb-${i}`,
              schedule_config: { enabled: true, interval_minutes: 0.05 },
              steps: [{ type: 'noop' }],
            })),
          }),
        );
        const created = await runCli(['tenant', 'create', 'embedded'], { env });
        expect(created.code, created.stderr).toBe(0);
        const applied = await runCli(['workflow', 'apply', '-f', file, '--tenant', 'embedded'], { env });
        expect(applied.code, applied.stderr).toBe(0);

        // One workflow per claim: a write every few milliseconds, so the kill lands among them.
        const serve = spawnCli(['serve', '--port', '0', '--interval', '1'], {
          LEVQOR_DATA_DIR: dataDir,
          LEVQOR_RUN_LEASE_SECONDS: '2',
          LEVQOR_SCHEDULER_BATCH_SIZE: '1',
        });
        const finished = (status: string) =>
          serve.logs.filter((l) => l.msg === 'run finished' && l.status === status).map((l) => l.run_id as string);
        await serve.waitForLog(() => finished('succeeded').length >= WORKFLOWS, {
          what: `${WORKFLOWS} runs finished`,
          timeoutMs: PGLITE_MS,
        });

        // A second process on the same data dir, while serve writes: served through its socket.
        const served = await runCli(['runs', 'list', '--tenant', 'embedded', '--json', '--limit', '100000'], { env });
        const servedRuns = served.code === 0 ? parseJson<ListedRun[]>(served).length : -1;
        // A second owner is refused clearly, and serve goes on.
        const refused = await runCli(['serve', '--port', '0'], { env });
        const refusedClearly =
          refused.code === 1 &&
          refused.stderr.includes(`the embedded database at ${dataDir} is in use by another Levqor process (pid ${serve.child.pid}`);
        const beforeKill = finished('succeeded').length;
        // kill -9 just as it reports a run finished: the next claim is being written.
        await serve.waitForLog(() => finished('succeeded').length >= beforeKill + WORKFLOWS + 7, {
          what: 'more runs finished after the second processes',
          timeoutMs: PGLITE_MS,
        });
        serve.signal('SIGKILL');
        expect((await serve.waitForExit()).signal).toBe('SIGKILL');
        const reported = new Set(finished('succeeded'));
        const staleSocket = existsSync(socketPathOf(dataDir));

        // Right after the kill: the stale socket answers nobody, the command opens the database itself.
        const fallback = await runCli(['tenant', 'list', '--json'], { env });
        const fellBack = fallback.code === 0 && fallback.stderr === '' && !existsSync(socketPathOf(dataDir));

        // The restart: the stale lock is taken over, the database opens, and a run the killed
        // process left running is recovered once its lease (2 s) has run out, by this restart or,
        // when it came sooner than that, by the next (at most three).
        const restarts: number[] = [];
        let runs: ListedRun[] = [];
        for (let i = 0; i < 3 && (i === 0 || runs.some((r) => r.status === 'running')); i++) {
          const restart = await runCli(['scheduler', '--once'], { env: { ...env, LEVQOR_RUN_LEASE_SECONDS: '2' } });
          restarts.push(restart.code ?? -1);
          const listed = await runCli(['runs', 'list', '--tenant', 'embedded', '--json', '--limit', '100000'], { env });
          expect(listed.code, listed.stderr).toBe(0);
          runs = parseJson<ListedRun[]>(listed);
        }
        const byId = new Map(runs.map((r) => [r.id, r]));
        const lost = [...reported].filter((id) => byId.get(id)?.status !== 'succeeded');
        const invalid = runs.filter(
          (r) => !RUN_STATUSES.includes(r.status) || (r.finished === '-') !== ['queued', 'running', 'waiting_approval'].includes(r.status),
        );
        const running = runs.filter((r) => r.status === 'running');
        const errors = serve.logs.filter((l) => l.level >= LEVEL.error);
        await recordFigures('6-embedded', {
          title: '6. Embedded default (PGlite): a second process through serve, and kill -9 of serve mid-write',
          rows: [
            [
              'second process (`runs list`) while serve writes',
              served.code === 0 ? `served through the socket: exit 0, ${servedRuns} runs` : `FAILED: exit ${served.code}`,
            ],
            [
              'second owner (another `serve`) on the data dir',
              refusedClearly
                ? `refused, exit ${refused.code}: "${refused.stderr.trim().split('\n')[0]?.slice(0, 120) ?? ''}…"`
                : `NOT refused clearly: exit ${refused.code}`,
            ],
            ['runs the killed serve reported finished', reported.size],
            [
              'socket file left by kill -9 / a command right after',
              `${staleSocket ? 'left' : 'gone'} / ${fellBack ? 'opened the database itself, stale socket removed' : `FAILED: exit ${fallback.code}`}`,
            ],
            ['restarts after kill -9 (`scheduler --once`), exit codes', restarts.join(', ')],
            ['runs listed after the restart', runs.length],
            ['**reported-finished runs missing or not succeeded after the restart**', lost.length],
            ['runs with an impossible status/finish pair', invalid.length],
            ['**runs still `running` after the restarts**', running.length],
            ['distinct run ids', byId.size],
          ],
        });
        expect(served.code, served.stderr).toBe(0);
        expect(servedRuns).toBeGreaterThanOrEqual(WORKFLOWS);
        expect(refusedClearly, refused.stderr).toBe(true);
        expect(staleSocket).toBe(true);
        expect(fellBack, fallback.stderr).toBe(true);
        expect(errors).toEqual([]);
        expect(lost).toEqual([]);
        expect(invalid).toEqual([]);
        expect(byId.size).toBe(runs.length);
        expect(running).toEqual([]);
        expect(runs.filter((r) => r.status === 'failed').every((r) => !reported.has(r.id))).toBe(true);
      } finally {
        await killLeftovers();
      }
    },
  );
});
