import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback counter for `http` steps: counts requests per path. While held, it answers no
 * one (the step stays in flight, so a test can kill the process making it); release()
 * answers every held request and all later ones at once.
 */
export interface Counter {
  url: string;
  hits: Map<string, number>;
  /** Requests waiting for release(). */
  held(): number;
  release(): void;
  close(): Promise<void>;
}

/** Starts a counter on a loopback port, holding requests when `hold` is true. */
export async function startCounter(opts: { hold?: boolean } = {}): Promise<Counter> {
  const hits = new Map<string, number>();
  let holding = opts.hold ?? false;
  const waiting: ServerResponse[] = [];
  const answer = (res: ServerResponse) => {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (holding) waiting.push(res);
      else answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    held: () => waiting.filter((r) => !r.destroyed).length,
    release() {
      holding = false;
      for (const res of waiting.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
