// The write floors of bench/peers.mjs: each system's unit written by Postgres alone (definitions in bench/peers/floor.mjs).
import { withPg } from '../lib.mjs';
import { bossReset } from './boss.mjs';
import { FLOOR_PASSES, N, log, median, phase, round } from './common.mjs';
import { floorUnits, timeFloor } from './floor.mjs';
import { graphileAddJobs } from './graphile.mjs';
import { resetDue } from './levqor.mjs';

/**
 * Each system's unit written by Postgres alone (bench/peers/floor.mjs), FLOOR_PASSES times, round
 * by round across the definitions; the units to write are made ready first (workflows due, jobs
 * added) and the dead tuples the rolled-back writes leave are vacuumed after.
 */
export async function floors({ levqor, graphile, boss }) {
  const urls = { Levqor: levqor.url, 'graphile-worker': graphile.url, 'pg-boss': boss.url };
  await withPg(levqor.url, (c) => resetDue(c));
  await withPg(graphile.url, async (c) => {
    await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
    await graphileAddJobs(graphile.url);
    await c.query('VACUUM ANALYZE graphile_worker._private_jobs');
  });
  await withPg(boss.url, (c) => bossReset(c, boss.boss));
  const units = floorUnits(N);
  const tries = units.map(() => []);
  for (let i = 0; i < FLOOR_PASSES; i++) {
    const { load } = await phase(`write floors, pass ${i + 1}`);
    for (const [k, unit] of units.entries()) {
      const t = await withPg(urls[unit.system], (c) => timeFloor(c, unit, N));
      tries[k].push({ ...t, load });
      log(
        `floor ${unit.system} (${unit.tuples} tuples a unit) pass ${i + 1}: ${round(t.ms, 0)} ms (${t.statementsMs.map((x) => Math.round(x)).join(' + ')}) → ${Math.round(N / (t.ms / 1000))} units/s`,
      );
    }
  }
  for (const url of Object.values(urls)) await withPg(url, (c) => c.query('VACUUM'));
  return units.map((unit, k) => {
    const ms = median(tries[k].map((t) => t.ms));
    return {
      system: unit.system,
      what: unit.what,
      current: unit.current === true,
      tuples: unit.tuples,
      statements: unit.writes.length,
      ms,
      all: tries[k].map((t) => t.ms),
      perStatement: unit.writes.map((_, j) => median(tries[k].map((t) => t.statementsMs[j]))),
      loads: tries[k].map((t) => t.load),
    };
  });
}
