// A GitHub Actions OIDC issuer on loopback: its discovery document and key set, and ID tokens
// signed with its test key (or another, to be refused).
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Issuer {
  url: string;
  /** Requests for the key set so far (a token from an untrusted repository must cost none). */
  keyFetches: number;
  sign(claims: JWTPayload, opts?: { audience?: string; expiresIn?: string | number; key?: CryptoKey; kid?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let url = '';
  const state = { keyFetches: 0 };
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/.well-known/jwks` }));
    else if (req.url === '/.well-known/jwks') {
      state.keyFetches++;
      res.end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get keyFetches() {
      return state.keyFetches;
    },
    sign: (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'test-key' })
        .setIssuer(url)
        .setAudience(opts.audience ?? 'levqor')
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '5m')
        .sign(opts.key ?? privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
