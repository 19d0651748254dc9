import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../../src/db/types.js';
import { createTenant, type TenantRow } from '../../src/tenants/queries.js';
import { applyWorkflow, type WorkflowRow } from '../../src/workflows/queries.js';
import { workflowSchema, type WorkflowInput } from '../../src/workflows/schema.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** A JSON file under test/fixtures/ (e.g. "slack/block-actions.json"), parsed afresh on each call so callers may change it. */
export function readFixture<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8')) as T;
}

/** A change to a fixture: `set` replaces the value at each dotted path ("actions.0.value"), `unset` removes one. */
export interface FixtureVariant {
  name: string;
  set?: Record<string, unknown>;
  unset?: string[];
}

function parentOf(root: Record<string, unknown>, path: string): [Record<string, unknown>, string] {
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node = root;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  return [node, last];
}

/** Replaces each `{name}` in the strings of a JSON value by vars[name]. */
export function fillPlaceholders<T>(value: T, vars: Record<string, string>): T {
  const json = JSON.stringify(value).replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? JSON.stringify(vars[name]).slice(1, -1) : whole,
  );
  return JSON.parse(json) as T;
}

/** Sets the value at each dotted path ("actions.0.value") of a parsed fixture, in place; returns it. */
export function setPaths<T extends Record<string, unknown>>(payload: T, values: Record<string, unknown>): T {
  for (const [path, value] of Object.entries(values)) {
    const [node, key] = parentOf(payload, path);
    node[key] = value;
  }
  return payload;
}

/** The payload with a variant applied (its placeholders filled from vars); the payload itself is left as it was. */
export function applyVariant(
  payload: Record<string, unknown>,
  variant: FixtureVariant,
  vars: Record<string, string> = {},
): Record<string, unknown> {
  const out = setPaths(structuredClone(payload), fillPlaceholders(variant.set ?? {}, vars));
  for (const path of variant.unset ?? []) {
    const [node, key] = parentOf(out, path);
    delete node[key];
  }
  return out;
}

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
