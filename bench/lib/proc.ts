// Child processes, and CPU accounting from /proc.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import type { Readable } from 'node:stream';
import { ROOT } from './env.js';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
  /** performance.now() at exit. */
  endedAt: number;
}

export interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** performance.now() at spawn. */
  startedAt: number;
  done: Promise<ProcessResult>;
}

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Spawns a command now; `done` resolves with its exit code, output and elapsed milliseconds. */
export function startProcess(cmd: string, args: readonly string[], { env = process.env, cwd = ROOT }: ProcessOptions = {}): Started {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ProcessResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0, endedAt: performance.now() }));
  });
  return { child, startedAt: t0, done };
}

/** Spawns a command and resolves when it exits: code, output, and elapsed milliseconds. */
export function runProcess(cmd: string, args: readonly string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  return startProcess(cmd, args, opts).done;
}

/** Calls fn with each line the child writes to stdout. */
export function onLines(child: Started['child'], fn: (line: string) => void): void {
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

/** A TCP port free on 127.0.0.1 just now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

const CLK_TCK = 100; // USER_HZ on every Linux Node supports

interface ProcStat {
  comm: string;
  ppid: number;
  /** utime + stime, in ticks. */
  self: number;
  /** cutime + cstime: reaped children, in ticks. */
  children: number;
}

function procStat(pid: string | number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    // f[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17, ppid 4.
    const at = (i: number) => f[i] ?? 0;
    return { comm, ppid: at(1), self: at(11) + at(12), children: at(13) + at(14) };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU seconds (user + system) a live process has used. */
export function pidCpuSeconds(pid: number): number {
  return (procStat(pid)?.self ?? 0) / CLK_TCK;
}

/** CPU seconds used by this process's exited children (the Levqor processes, pgbench). */
export function childCpuSeconds(): number {
  return (procStat('self')?.children ?? 0) / CLK_TCK;
}

function allProcs(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const s = procStat(pid);
    if (s) stats.set(Number(pid), s);
  }
  return stats;
}

/**
 * CPU seconds used by the local Postgres server: live postgres processes plus the backends
 * the postmaster has reaped. Server-wide, so other sessions' work is counted too. Null
 * when the server is not on this machine.
 */
export function postgresCpuSeconds(): number | null {
  const stats = new Map([...allProcs()].filter(([, s]) => s.comm === 'postgres'));
  if (stats.size === 0) return null;
  let ticks = 0;
  for (const s of stats.values()) ticks += s.self + (stats.has(s.ppid) ? 0 : s.children);
  return ticks / CLK_TCK;
}

/** Processes `pids` and all their descendants. */
export function processTree(pids: readonly number[], procs = allProcs()): Set<number> {
  const tree = new Set(pids);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of procs) {
      if (!tree.has(pid) && tree.has(s.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** CPU ticks used so far by processes `pids` and all their descendants (live ones, plus reaped children). */
export function treeCpuTicks(pids: readonly number[]): number {
  const procs = allProcs();
  let ticks = 0;
  for (const pid of processTree(pids, procs)) {
    const s = procs.get(pid);
    ticks += s ? s.self + s.children : 0;
  }
  return ticks;
}
