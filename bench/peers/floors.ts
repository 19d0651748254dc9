// The write floors of bench/peers.ts: each system's unit written by Postgres alone (definitions in bench/peers/floor.ts).
import { withPg } from '../lib/db.js';
import { resetDue } from '../lib/levqor.js';
import { median, round } from '../lib/stats.js';
import { bossReset, type BossDb } from './boss.js';
import { FLOOR_PASSES, N, log, phase } from './common.js';
import { floorUnits, timeFloor } from './floor.js';
import { graphileAddJobs, type GraphileDb } from './graphile.js';
import type { LevqorDb } from './levqor.js';

export interface Floor {
  system: string;
  what: string;
  current: boolean;
  tuples: number;
  statements: number;
  ms: number;
  all: number[];
  perStatement: number[];
  loads: number[];
}

/**
 * Each system's unit written by Postgres alone (bench/peers/floor.ts), FLOOR_PASSES times, round
 * by round across the definitions; the units to write are made ready first (workflows due, jobs
 * added) and the dead tuples the rolled-back writes leave are vacuumed after.
 */
export async function floors({ levqor, graphile, boss }: { levqor: LevqorDb; graphile: GraphileDb; boss: BossDb }): Promise<Floor[]> {
  const urls: Record<string, string> = { Levqor: levqor.url, 'graphile-worker': graphile.url, 'pg-boss': boss.url };
  await withPg(levqor.url, (c) => resetDue(c));
  await withPg(graphile.url, async (c) => {
    await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
    await graphileAddJobs(graphile.url);
    await c.query('VACUUM ANALYZE graphile_worker._private_jobs');
  });
  await withPg(boss.url, (c) => bossReset(c, boss.boss));
  const units = floorUnits(N);
  const tries = units.map((): { ms: number; statementsMs: number[]; load: number }[] => []);
  for (let i = 0; i < FLOOR_PASSES; i++) {
    const { load } = await phase(`write floors, pass ${i + 1}`);
    for (const [k, unit] of units.entries()) {
      const t = await withPg(urls[unit.system] ?? '', (c) => timeFloor(c, unit, N));
      tries[k]?.push({ ...t, load });
      log(
        `floor ${unit.system} (${unit.tuples} tuples a unit) pass ${i + 1}: ${round(t.ms, 0)} ms (${t.statementsMs.map((x) => Math.round(x)).join(' + ')}) → ${Math.round(N / (t.ms / 1000))} units/s`,
      );
    }
  }
  for (const url of Object.values(urls)) await withPg(url, (c) => c.query('VACUUM'));
  return units.map((unit, k) => {
    const unitTries = tries[k] ?? [];
    const ms = median(unitTries.map((t) => t.ms));
    return {
      system: unit.system,
      what: unit.what,
      current: unit.current === true,
      tuples: unit.tuples,
      statements: unit.writes.length,
      ms,
      all: unitTries.map((t) => t.ms),
      perStatement: unit.writes.map((_, j) => median(unitTries.map((t) => t.statementsMs[j] ?? NaN))),
      loads: unitTries.map((t) => t.load),
    };
  });
}
