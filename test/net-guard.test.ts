import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/lib/errors.js';
import { assertUrlAllowed, checkAddress, createGuardedLookup } from '../src/workflows/steps/net-guard.js';
import type { NetPolicy, ResolveAll } from '../src/workflows/steps/net-guard.js';

const none: NetPolicy = { allow: [] };

describe('checkAddress', () => {
  const refused: [ip: string, reason: RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.1.2.3', /loopback/],
    ['10.0.0.1', /private/],
    ['172.16.5.4', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /metadata/],
    ['169.254.1.1', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.1', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local/],
    ['fd00:ec2::254', /metadata/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /IPv4 127\.0\.0\.1\) is loopback/],
    ['::ffff:7f00:1', /IPv4 127\.0\.0\.1\) is loopback/],
    ['::ffff:169.254.169.254', /metadata/],
    ['::127.0.0.1', /IPv4 127\.0\.0\.1\) is loopback/],
    ['::ffff:0:10.0.0.1', /IPv4 10\.0\.0\.1\) is private/],
    ['64:ff9b::a00:1', /IPv4 10\.0\.0\.1\) is private/],
    ['64:ff9b:1::1', /NAT64 local-use/],
    ['2002:7f00:1::1', /IPv4 127\.0\.0\.1\) is loopback/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['2001:db8::1', /reserved/],
    ['[::1]', /loopback/],
    ['not-an-ip', /not an IP address/],
  ];
  it.each(refused)('refuses %s', (ip, reason) => {
    expect(checkAddress(ip, none)).toMatch(reason);
  });

  const allowed: [ip: string, policy: NetPolicy, hostname?: string][] = [
    ['93.184.215.14', none],
    ['8.8.8.8', none],
    ['2606:4700:4700::1111', none],
    ['::ffff:93.184.215.14', none],
    ['64:ff9b::5db8:d70e', none],
    ['127.0.0.1', { allow: ['127.0.0.1'] }],
    ['127.0.0.1', { allow: ['127.0.0.0/8'] }],
    ['127.0.0.1', { allow: ['localhost'] }, 'localhost'],
    ['127.0.0.1', { allow: ['LocalHost'] }, 'localhost.'],
    ['::1', { allow: ['::1/128'] }],
    ['::1', { allow: ['[::1]'] }],
    ['::ffff:127.0.0.1', { allow: ['127.0.0.1'] }],
    ['10.1.2.3', { allow: ['api.internal', '10.0.0.0/8'] }, 'api.internal'],
    ['10.1.2.3', { allow: ['api.internal'] }, 'API.internal'],
    ['192.168.1.1', { allow: [' 192.168.0.0/16 '] }],
  ];
  it.each(allowed)('allows %s under %j (host %s)', (ip, policy, hostname) => {
    expect(checkAddress(ip, policy, hostname)).toBeUndefined();
  });

  const stillRefused: [ip: string, policy: NetPolicy, hostname?: string][] = [
    ['127.0.0.2', { allow: ['127.0.0.1'] }],
    ['10.0.0.1', { allow: ['127.0.0.0/8'] }],
    ['127.0.0.1', { allow: ['localhost'] }],
    ['127.0.0.1', { allow: ['localhost'] }, 'evil.example'],
    ['127.0.0.1', { allow: ['::1'] }],
    ['::1', { allow: ['127.0.0.1'] }],
    ['127.0.0.1', { allow: ['10.0.0.0/8'] }, '10.0.0.0/8'],
  ];
  it.each(stillRefused)('still refuses %s under %j (host %s)', (ip, policy, hostname) => {
    expect(checkAddress(ip, policy, hostname)).toBeDefined();
  });
});

describe('assertUrlAllowed', () => {
  const refused: [url: string, policy: NetPolicy][] = [
    ['http://127.0.0.1/', none],
    ['http://10.0.0.1/', none],
    ['http://169.254.169.254/latest/meta-data/', none],
    ['http://[::1]:8080/', none],
    ['http://[::ffff:127.0.0.1]/', none],
    ['http://[::ffff:7f00:1]/', none],
    ['http://2130706433/', none],
    ['http://0177.0.0.1/', none],
    ['http://0x7f.1/', none],
    ['http://100.64.0.1/', none],
    ['http://192.168.1.1/', none],
    ['http://[fc00::1]/', none],
    ['http://[fd00:ec2::254]/', none],
    ['http://0.0.0.0/', none],
    ['https://127.0.0.1/', { allow: ['localhost'] }],
    ['file:///etc/passwd', none],
    ['ftp://93.184.215.14/', none],
    ['gopher://93.184.215.14/', { allow: ['93.184.215.14'] }],
  ];
  it.each(refused)('refuses %s under %j', (url, policy) => {
    let caught: unknown;
    try {
      assertUrlAllowed(new URL(url), policy);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('blocked_target');
  });

  it('names the host and the reason', () => {
    expect(() => assertUrlAllowed(new URL('http://2130706433:81/'), none)).toThrow(/127\.0\.0\.1:81.*loopback/);
  });

  const allowed: [url: string, policy: NetPolicy][] = [
    ['http://93.184.215.14/', none],
    ['https://[2606:4700:4700::1111]/', none],
    ['http://127.0.0.1:3000/', { allow: ['127.0.0.1'] }],
    ['http://127.0.0.1/', { allow: ['127.0.0.0/8'] }],
    ['http://[::1]/', { allow: ['::1'] }],
    // Names are judged at connect time by the guarded lookup, not here.
    ['http://localhost/', none],
    ['https://example.com/', none],
  ];
  it.each(allowed)('allows %s under %j', (url, policy) => {
    expect(() => assertUrlAllowed(new URL(url), policy)).not.toThrow();
  });
});

describe('createGuardedLookup', () => {
  const fakeDns =
    (table: Record<string, LookupAddress[]>): ResolveAll =>
    (hostname) =>
      Promise.resolve(table[hostname] ?? []);
  const dnsTable: Record<string, LookupAddress[]> = {
    'public.example': [{ address: '93.184.215.14', family: 4 }],
    // A rebinding-style answer: one public address hides a private one.
    'mixed.example': [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ],
    'v6.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
    'metadata.example': [{ address: '169.254.169.254', family: 4 }],
    'api.internal': [{ address: '10.1.2.3', family: 4 }],
  };

  function lookup(policy: NetPolicy, hostname: string, all: boolean, requested = hostname) {
    const fn = createGuardedLookup(policy, hostname, fakeDns(dnsTable));
    return new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
      fn(requested, { all }, (err, address, family) => resolve({ err, address, family }));
    });
  }

  it.each([
    ['mixed.example', none, /10\.0\.0\.1 is private/],
    ['v6.example', none, /loopback/],
    ['metadata.example', none, /metadata/],
    ['api.internal', none, /private/],
    ['nowhere.example', none, /did not resolve/],
  ] as const)('refuses %s', async (hostname, policy, reason) => {
    for (const all of [true, false]) {
      const { err } = await lookup(policy, hostname, all);
      expect(err).toBeInstanceOf(AppError);
      expect(err?.message).toMatch(reason);
    }
  });

  it('refuses to resolve a name other than the one it was built for', async () => {
    const { err } = await lookup(none, 'public.example', true, 'mixed.example');
    expect((err as AppError).code).toBe('blocked_target');
  });

  it('answers in the shape the caller asked for', async () => {
    expect(await lookup(none, 'public.example', false)).toEqual({ err: null, address: '93.184.215.14', family: 4 });
    expect(await lookup(none, 'public.example', true)).toEqual({
      err: null,
      address: [{ address: '93.184.215.14', family: 4 }],
      family: undefined,
    });
  });

  it('lets an allowed name or range through', async () => {
    expect((await lookup({ allow: ['api.internal'] }, 'api.internal', true)).err).toBeNull();
    expect((await lookup({ allow: ['10.0.0.0/8'] }, 'mixed.example', false)).err).toBeNull();
  });
});
