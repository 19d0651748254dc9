import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One readiness condition: resolves undefined when met, or a short reason when not. */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Runs a check, turning a throw or a check slower than `ms` into a reason. */
async function settle(check: ReadinessCheck, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms)));
  try {
    return await Promise.race([Promise.resolve().then(check), late]);
  } catch {
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The bot's probe port (LEVQOR_BOT_HEALTH_PORT): `GET /healthz` answers 200 while the process
 * runs (liveness); `GET /readyz` answers 200 when every check passes and 503 naming the ones that
 * do not (readiness). Socket Mode opens no other port, so this is what compose and k8s probe.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  checks: Record<string, ReadinessCheck>;
  timeoutMs?: number;
}): Promise<HealthServer> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      const names = Object.keys(opts.checks);
      void Promise.all(names.map((n) => settle(opts.checks[n] as ReadinessCheck, timeoutMs))).then((reasons) => {
        const checks = Object.fromEntries(names.map((n, i) => [n, reasons[i] ?? 'ok']));
        const ready = reasons.every((r) => r === undefined);
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks }));
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /healthz (liveness) or /readyz (readiness)');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
