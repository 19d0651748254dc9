// What the console remembers between sending a browser to the OpenID provider and its return:
// state, nonce and the PKCE verifier, sealed (AES-256-GCM) into a short-lived HttpOnly cookie,
// so any replica can finish the sign-in and nothing of it appears in a URL or a log.
import { hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { open, seal } from '../secrets/crypto.js';

/** How long a browser may take at the provider before the sign-in must start again. */
export const TRANSACTION_SECONDS = 600;

const transactionSchema = z.object({
  state: z.string().min(1),
  nonce: z.string().min(1),
  verifier: z.string().min(43),
  next: z.string(),
  /** The tenant the person chose (by name) when their identity matches people in several. */
  tenant: z.string().optional(),
  expires_at: z.number(),
});

/** One sign-in in progress. */
export type OidcTransaction = z.infer<typeof transactionSchema>;

const AAD = 'levqor-oidc-transaction v1';

/** The sealing key, derived from the client secret (every replica has it; nobody else does). */
export function transactionKey(clientSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', clientSecret, 'levqor', 'levqor oidc transaction v1', 32));
}

/** The cookie value for a transaction. */
export function sealTransaction(key: Buffer, tx: OidcTransaction): string {
  return seal(key, Buffer.from(JSON.stringify(tx), 'utf8'), AAD);
}

/** The transaction a cookie carries; undefined when it was altered, sealed by another key or has expired. */
export function openTransaction(key: Buffer, sealed: string | undefined, now: number): OidcTransaction | undefined {
  if (!sealed) return undefined;
  try {
    const tx = transactionSchema.parse(JSON.parse(open(key, sealed, AAD).toString('utf8')));
    return tx.expires_at > now ? tx : undefined;
  } catch {
    return undefined;
  }
}
