// Envelope encryption with node:crypto: each value under its own random data key (AES-256-GCM),
// the data key under a key-encryption key (KEK). The row's tenant and name are authenticated
// data, so a ciphertext copied to another tenant's or name's row does not decrypt.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '../lib/errors.js';

/** A key-encryption key and the id stored beside every row it wraps. */
export interface Kek {
  id: string;
  key: Buffer;
}

/** What the database keeps of a value: base64 text only. */
export interface Sealed {
  ciphertext: string;
  wrapped_key: string;
  key_id: string;
}

/** The KEK from key material (LEVQOR_SECRET_KEY or its file): at least 32 characters, stretched with HKDF-SHA256. */
export function deriveKek(material: string, variable: string): Kek {
  const text = material.trim();
  if (text.length < 32)
    throw new AppError('config', `${variable}: a secret key needs at least 32 characters (e.g. openssl rand -base64 32)`);
  const key = Buffer.from(hkdfSync('sha256', text, 'levqor', 'levqor secrets kek v1', 32));
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/** New random key material for a generated key file. */
export function generateKeyMaterial(): string {
  return randomBytes(32).toString('base64');
}

/** AES-256-GCM under key, with aad authenticated: "iv.tag.body" in base64. */
export function seal(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
}

/** Opens what seal made with the same key and aad; throws when it does not verify. */
export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64'));
  if (!iv || !tag || !body) throw new Error('malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

const aadOf = (tenantId: string, name: string) => `levqor-secret:${tenantId}:${name}`;

/** Encrypts a value for (tenant, name) under a fresh data key wrapped by kek. */
export function encryptSecret(kek: Kek, tenantId: string, name: string, value: string): Sealed {
  const dataKey = randomBytes(32);
  const aad = aadOf(tenantId, name);
  return { ciphertext: seal(dataKey, Buffer.from(value, 'utf8'), aad), wrapped_key: seal(kek.key, dataKey, aad), key_id: kek.id };
}

function unwrap(kek: Kek, tenantId: string, name: string, wrapped: string): Buffer {
  try {
    return open(kek.key, wrapped, aadOf(tenantId, name));
  } catch {
    // Never the ciphertext, never the key: only what is wrong and what to check.
    throw new AppError('config', `cannot decrypt secret ${name}: key ${kek.id} does not open it (wrong LEVQOR_SECRET_KEY?)`);
  }
}

/** Decrypts a sealed value with kek (whose id must be the row's). */
export function decryptSecret(kek: Kek, tenantId: string, name: string, sealed: Sealed): string {
  const dataKey = unwrap(kek, tenantId, name, sealed.wrapped_key);
  try {
    return open(dataKey, sealed.ciphertext, aadOf(tenantId, name)).toString('utf8');
  } catch {
    throw new AppError('config', `cannot decrypt secret ${name}: its ciphertext does not verify (altered or copied from another row)`);
  }
}

/** The same data key wrapped by another KEK: rotation re-wraps, the value's ciphertext stays. */
export function rewrapSecret(from: Kek, to: Kek, tenantId: string, name: string, wrapped: string): { wrapped_key: string; key_id: string } {
  const dataKey = unwrap(from, tenantId, name, wrapped);
  return { wrapped_key: seal(to.key, dataKey, aadOf(tenantId, name)), key_id: to.id };
}
