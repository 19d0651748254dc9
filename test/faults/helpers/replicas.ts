import { schedulerOwner, spawnCli, type CliProcess, type ExitInfo } from '../../helpers/proc.js';

/** A `levqor scheduler` loop process and the lease owner it logged. */
export interface Replica {
  proc: CliProcess;
  owner: string;
}

/** Starts `levqor scheduler --interval SECONDS` loop processes and waits for each one's start line. */
export async function startReplicas(count: number, env: Record<string, string>, intervalSeconds = 1): Promise<Replica[]> {
  return Promise.all(Array.from({ length: count }, () => startReplica(env, intervalSeconds)));
}

/** One scheduler loop process, started and logging its owner. */
export async function startReplica(env: Record<string, string>, intervalSeconds = 1): Promise<Replica> {
  const proc = spawnCli(['scheduler', '--interval', String(intervalSeconds)], env);
  return { proc, owner: await schedulerOwner(proc) };
}

/** SIGTERMs every replica still running and waits for their exits. */
export async function stopReplicas(replicas: readonly Replica[], timeoutMs = 60_000): Promise<ExitInfo[]> {
  for (const r of replicas) r.proc.signal('SIGTERM');
  return Promise.all(replicas.map((r) => r.proc.waitForExit(timeoutMs)));
}

/** Sums a numeric field over every `tick` log line of the replicas. */
export function tickTotal(replicas: readonly Replica[], key: string): number {
  return replicas.reduce(
    (n, r) => n + r.proc.logs.filter((l) => l.msg === 'tick').reduce((m, l) => m + (typeof l[key] === 'number' ? l[key] : 0), 0),
    0,
  );
}

/** Tick lines per replica. */
export function tickCounts(replicas: readonly Replica[]): number[] {
  return replicas.map((r) => r.proc.logs.filter((l) => l.msg === 'tick').length);
}
