// The bare comparison server (`--variant bare`): Fastify and a pg pool, no auth, rate limit,
// validation or hooks. `/bench/ok` → `{"ok":true}`; `/bench/approvals` and `/bench/approvals/:id`
// send the statements src/approvals/queries.ts sends (imported, so the two cannot drift) for the
// benchmark tenant and build the same bodies as src/http/routes/approvals.ts, serialised by Fastify.
import Fastify from 'fastify';
import process from 'node:process';
import pg from 'pg';
import { GET_APPROVAL_SQL, LIST_APPROVALS_SQL, LIST_VOTES_SQL } from '../../src/approvals/queries.js';
import type { ApprovalRow } from '../../src/approvals/types.js';
import { encodeCursor } from '../../src/http/routes/approvals.js';
import { POOL_MAX } from './config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Serves until SIGTERM; prints `listening <port>` once it listens. */
export async function serveBare(): Promise<void> {
  const app = Fastify();
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DB_URL, max: POOL_MAX, application_name: 'levqor-bench-bare' });
  const tenant = process.env.BENCH_TENANT_ID;
  app.get('/bench/ok', () => ({ ok: true }));
  app.get('/bench/approvals', async () => {
    const { rows } = await pool.query<ApprovalRow>(LIST_APPROVALS_SQL, [tenant, 'pending', 51, null, null]);
    const page = rows.slice(0, 50);
    const last = page.at(-1);
    return { approvals: page, next_cursor: rows.length > 50 && last ? encodeCursor(last) : null };
  });
  app.get<{ Params: { id: string } }>('/bench/approvals/:id', async (request, reply) => {
    const { id } = request.params;
    const approval = UUID.test(id) ? (await pool.query<ApprovalRow>(GET_APPROVAL_SQL, [id, tenant])).rows[0] : undefined;
    if (!approval) return reply.status(404).send({ error: 'not_found', message: `approval ${id} not found` });
    const { rows: votes } = await pool.query(LIST_VOTES_SQL, [approval.id]);
    return { ...approval, votes };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
  const stop = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
