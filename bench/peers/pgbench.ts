// The physical limit of the server: pgbench -N -c 4, first and last (bench/peers.ts).
import { load1 } from '../lib/machine.js';
import { pgbench as pgbenchOn, type PgbenchRun } from '../lib/pgbench.js';
import { PGBENCH_SECONDS, databases, log, phase } from './common.js';

export interface PgbenchRow extends PgbenchRun {
  when: string;
  load: number;
}

/** pgbench of the server's major version on one scale-10 database, made at the first pass. */
export function pgbenchPasses(major: number): (when: string) => Promise<PgbenchRow> {
  let run: Awaited<ReturnType<typeof pgbenchOn>> | null = null;
  return async (when) => {
    await phase(`pgbench (${when})`);
    run ??= await pgbenchOn(major, await databases.create('pgbench'), 10);
    const load = load1();
    const r = await run(4, 2, PGBENCH_SECONDS);
    log(`pgbench -N -c 4 (${when}): ${r.tps} tps`);
    return { when, ...r, load };
  };
}
