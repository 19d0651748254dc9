// The servers bench/api measures: `levqor serve` and the bare comparison server as child
// processes, one HTTP request at a time against them, and the check that both answer alike.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { levqorEnv } from '../lib/levqor.js';
import { freePort, startProcess, type ProcessResult, type Started } from '../lib/proc.js';
import { traceOptions } from '../lib/trace.js';
import { ENDPOINTS, RATE_LIMIT, log } from './config.js';

export interface Server {
  name: string;
  proc: Started;
  pid: number;
  port: number;
  /** What autocannon requests. */
  url: string;
}

/** Child processes still running, stopped by stopAll(). */
const children = new Set<Started>();

/** Stops a child (SIGTERM, then SIGKILL after 15 s); what it printed. */
export async function stopChild(p: Started): Promise<ProcessResult | null> {
  if (!children.has(p)) return null;
  children.delete(p);
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const kill = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  const r = await p.done;
  clearTimeout(kill);
  return r;
}

export async function stopAll(): Promise<void> {
  for (const p of [...children]) await stopChild(p).catch(() => undefined);
}

export interface Response {
  status: number;
  text: string;
}

/** One HTTP request; resolves with status and body text. */
export function request(
  port: number,
  method: string,
  path: string,
  { token, body, agent }: { token?: string; body?: unknown; agent?: http.Agent } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }),
    };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** `levqor serve --no-scheduler` on a free port, once /healthz answers (optionally query-traced and CPU-profiled). */
export async function startLevqor(
  cli: string,
  url: string,
  { traceFile, profileDir }: { traceFile?: string; profileDir?: string } = {},
): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const trace = traceFile ? traceOptions(traceFile) : { nodeArgs: [], env: {} };
    const args = [
      ...trace.nodeArgs,
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      cli,
      'serve',
      '--no-scheduler',
      '--port',
      String(port),
    ];
    const p = startProcess(process.execPath, args, { env: levqorEnv(url, { LEVQOR_API_RATE_LIMIT: String(RATE_LIMIT), ...trace.env }) });
    children.add(p);
    let exited: ProcessResult | null = null;
    void p.done.then((r) => (exited = r));
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && !exited) {
      const ok = await request(port, 'GET', '/healthz').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { name: 'levqor', proc: p, pid: p.child.pid ?? 0, port, url: `http://127.0.0.1:${port}/api/approvals` };
      await sleep(100);
    }
    await stopChild(p);
    const why = exited === null ? 'no answer on /healthz in 30 s' : describeExit(exited);
    if (attempt >= 3 || !/EADDRINUSE/.test(why)) throw new Error(`levqor serve did not start: ${why}`);
  }
}

const describeExit = (r: ProcessResult): string => `exited ${r.code}: ${r.stderr || r.stdout}`;

/** The bare server (this benchmark's own bundle with `--variant bare`), once it says its port. */
export async function startBare(self: string, env: Record<string, string>): Promise<Server> {
  const p = startProcess(process.execPath, [self, '--variant', 'bare'], { env: { ...process.env, ...env } });
  children.add(p);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    p.child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void p.done.then((r) => reject(new Error(`bare server exited (${r.code}): ${r.stderr}`)));
    setTimeout(() => reject(new Error('bare server did not start in 20 s')), 20_000).unref();
  });
  return { name: 'bare', proc: p, pid: p.child.pid ?? 0, port, url: `http://127.0.0.1:${port}/bench/ok` };
}

export interface SameBody {
  key: string;
  bytes: number;
  sha: string;
}

/** Fails unless Levqor and the bare server answer each endpoint with the same status and byte-identical JSON. */
export async function checkSameBodies(levqor: Server, bare: Server, token: string, approvalId: string): Promise<SameBody[]> {
  const out: SameBody[] = [];
  for (const endpoint of ENDPOINTS) {
    const l = await request(levqor.port, 'GET', endpoint.levqor(approvalId), { token });
    const b = await request(bare.port, 'GET', endpoint.bare(approvalId), { token });
    if (l.status !== 200 || b.status !== 200 || l.text !== b.text) {
      const at = [...l.text].findIndex((ch, i) => ch !== b.text[i]);
      const around = (t: string) => JSON.stringify(t.slice(Math.max(0, at - 40), at + 40));
      throw new Error(
        `${endpoint.label}: Levqor ${l.status} and bare ${b.status} bodies differ (${Buffer.byteLength(l.text)} / ${Buffer.byteLength(b.text)} bytes, ` +
          `first difference at ${at}: ${around(l.text)} / ${around(b.text)})`,
      );
    }
    out.push({ key: endpoint.key, bytes: Buffer.byteLength(l.text), sha: createHash('sha256').update(l.text).digest('hex').slice(0, 12) });
  }
  log(`same bodies: ${out.map((x) => `${x.key} ${x.bytes} bytes (sha256 ${x.sha})`).join(', ')}`);
  return out;
}
