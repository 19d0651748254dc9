import { z } from 'zod';
import { actorOf } from '../../auth/tokens.js';
import type { Db } from '../../db/types.js';
import { AppError } from '../../lib/errors.js';
import { SECRET_MAX_BYTES, type SecretStore } from '../../secrets/store.js';
import { SECRET_NAME } from '../../workflows/secret-refs.js';
import { secretListReply, secretRemovedReply, secretStoredReply } from '../responses.js';
import type { createRouter } from '../route.js';

const nameParams = z.object({ name: z.string().regex(SECRET_NAME, `a secret name: ${SECRET_NAME.source} (e.g. DEPLOY_TOKEN)`) }).strict();
const valueBody = z
  .object({
    value: z
      .string()
      .min(1, 'the value is empty')
      .refine((v) => Buffer.byteLength(v) <= SECRET_MAX_BYTES, `at most ${SECRET_MAX_BYTES} bytes`),
  })
  .strict();

/** Secrets: write-only values, metadata to read, never a value in any response. */
export function secretRoutes(router: ReturnType<typeof createRouter>, db: Db, store: SecretStore): void {
  router.add({
    method: 'GET',
    url: '/api/secrets',
    operationId: 'listSecrets',
    tag: 'secrets',
    scope: 'secrets:read',
    summary: "The tenant's secret names with their provider (db, file, env), version and last update; never values",
    replies: { 200: secretListReply },
    handler: async ({ auth }) => ({ secrets: await store.list(db, auth.tenant_id) }),
  });
  router.add({
    method: 'PUT',
    url: '/api/secrets/:name',
    operationId: 'setSecret',
    tag: 'secrets',
    scope: 'secrets:write',
    params: nameParams,
    body: valueBody,
    summary: 'Store a secret (encrypted; write-only: no route returns the value)',
    replies: { 200: secretStoredReply },
    handler: async ({ params, body, auth }) => {
      try {
        const meta = await store.set(db, auth.tenant_id, params.name, body.value, actorOf(auth));
        return { secret: { ...meta, provider: 'db' as const } };
      } catch (err) {
        // No key configured: the server refuses to store secrets (403, not a failure); the message says what to set.
        if (err instanceof AppError && err.code === 'config') throw new AppError('forbidden', err.message);
        throw err;
      }
    },
  });
  router.add({
    method: 'DELETE',
    url: '/api/secrets/:name',
    operationId: 'removeSecret',
    tag: 'secrets',
    scope: 'secrets:write',
    params: nameParams,
    summary: "Remove the tenant's stored secret",
    replies: { 200: secretRemovedReply },
    errors: { 404: 'no stored secret of that name for this tenant (one from the environment or LEVQOR_SECRETS_DIR is not removable here)' },
    handler: async ({ params, auth }) => {
      await store.remove(db, auth.tenant_id, params.name);
      return { name: params.name, removed: true as const };
    },
  });
}
