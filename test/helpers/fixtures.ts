import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../../src/db/types.js';
import { createTenant, type TenantRow } from '../../src/tenants/queries.js';
import { applyWorkflow, type WorkflowRow } from '../../src/workflows/queries.js';
import { workflowSchema, type WorkflowInput } from '../../src/workflows/schema.js';

let counter = 0;

/** A tenant with a unique name. */
export async function makeTenant(db: Db, prefix = 't'): Promise<TenantRow> {
  counter += 1;
  return createTenant(db, `${prefix}-${process.pid}-${counter}`);
}

/** Applies a workflow definition (zod-parsed, as a file would be). */
export async function makeWorkflow(db: Db, tenantId: string, input: WorkflowInput): Promise<WorkflowRow> {
  return db.transaction(async (tx) => (await applyWorkflow(tx, tenantId, workflowSchema.parse(input))).workflow);
}

/** Moves a workflow's next slot to `secondsAgo` before the database's now. */
export async function makeDue(db: Db, workflowId: string, secondsAgo = 1): Promise<number> {
  const { rows } = await db.query<{ next_run_at: number }>(
    'UPDATE workflows SET next_run_at = extract(epoch FROM now()) - $2 WHERE id = $1 RETURNING next_run_at',
    [workflowId, secondsAgo],
  );
  return rows[0]?.next_run_at ?? 0;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server that records every request it receives. */
export async function startRecordingServer(
  status = 200,
): Promise<{ server: Server; url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: status < 400, n: requests.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
