import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../../lib/errors.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Which otherwise-refused targets workflows may reach (LEVQOR_HTTP_ALLOW). */
export interface NetPolicy {
  /** Hostnames (exact, case-insensitive), IP literals or CIDRs. */
  allow: readonly string[];
}

/** Resolves every address of a name; injectable so tests can play a hostile resolver. */
export type ResolveAll = (hostname: string, options: LookupOptions) => Promise<LookupAddress[]>;

const RANGE_LABELS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT (100.64.0.0/10)',
  private: 'private',
  reserved: 'reserved',
  uniqueLocal: 'unique-local (fc00::/7)',
  benchmarking: 'benchmarking',
  deprecatedSiteLocal: 'site-local',
  teredo: 'Teredo tunnel',
  rfc6052: 'NAT64 local-use',
};

// Cloud metadata endpoints get named in the reason: they are the usual SSRF prize.
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254']);

const defaultResolveAll: ResolveAll = (hostname, options) => dns.promises.lookup(hostname, { ...options, all: true });

/** Returns why `ip` may not be contacted, or undefined when it may; `hostname` is the name it came from. */
export function checkAddress(ip: string, policy: NetPolicy, hostname?: string): string | undefined {
  const bare = stripBrackets(ip);
  if (!ipaddr.isValid(bare)) return `${ip} is not an IP address`;
  const addr = ipaddr.parse(bare);
  const v4 = addr.kind() === 'ipv6' ? embeddedIPv4(addr as ipaddr.IPv6) : undefined;
  if (hostname !== undefined && allowsHostname(policy, hostname)) return undefined;
  if (allowsAddress(policy, addr) || (v4 && allowsAddress(policy, v4))) return undefined;

  const judged = v4 ?? addr;
  const shown = v4 ? `${bare} (IPv4 ${v4.toString()})` : bare;
  if (METADATA.has(addr.toString()) || METADATA.has(judged.toString())) {
    return `${shown} is a cloud metadata address`;
  }
  const range = judged.range();
  if (range === 'unicast') return undefined;
  return `${shown} is ${RANGE_LABELS[range] ?? range}`;
}

/** Throws AppError('blocked_target') unless the URL is http(s) and any IP literal host is allowed. */
export function assertUrlAllowed(url: URL, policy: NetPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('blocked_target', `refusing ${url.protocol} URL: only http and https are allowed`);
  }
  const host = stripBrackets(url.hostname);
  // Names are judged at connect time by the guarded lookup; literals never reach a lookup.
  if (isIP(host) === 0) return;
  const reason = checkAddress(host, policy);
  if (reason !== undefined) {
    throw new AppError('blocked_target', `refusing ${url.host}: ${reason}; allow it with LEVQOR_HTTP_ALLOW`);
  }
}

/** A dns.lookup for http.request that refuses when any address of `hostname` is blocked. */
export function createGuardedLookup(policy: NetPolicy, hostname: string, resolveAll: ResolveAll = defaultResolveAll): LookupFunction {
  const expected = normaliseHostname(hostname);
  return (requested, options, callback) => {
    // The allow decision was made for `hostname`; resolving anything else would bypass it.
    if (normaliseHostname(requested) !== expected) {
      callback(new AppError('blocked_target', `refusing lookup of ${requested}: expected ${hostname}`), '');
      return;
    }
    resolveAll(requested, options).then(
      (addresses) => {
        const first = addresses[0];
        if (!first) {
          callback(new AppError('step_failed', `${hostname} did not resolve to any address`), '');
          return;
        }
        // Every address is checked, not just the first: the socket may fall back to any of them.
        for (const { address } of addresses) {
          const reason = checkAddress(address, policy, hostname);
          if (reason !== undefined) {
            const message = `refusing ${hostname}: resolved address ${reason}; allow it with LEVQOR_HTTP_ALLOW`;
            callback(new AppError('blocked_target', message), '');
            return;
          }
        }
        if (options.all === true) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = addr.parts;
  const fromParts = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (addr.isIPv4MappedAddress()) return addr.toIPv4Address();
  const range = addr.range();
  if (range === 'loopback' || range === 'unspecified') return undefined;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = p;
  // rfc6145 (::ffff:0:a.b.c.d) and IPv4-compatible (::a.b.c.d) carry the IPv4 in the low 32 bits.
  if (range === 'rfc6145' || (a | b | c | d | e | f) === 0) return fromParts(g, h);
  // Only the well-known NAT64 prefix 64:ff9b::/96 has a fixed place for the IPv4.
  if (a === 0x64 && b === 0xff9b && (c | d | e | f) === 0) return fromParts(g, h);
  if (range === '6to4') return fromParts(b, c);
  return undefined;
}

function allowsAddress(policy: NetPolicy, addr: Address): boolean {
  return policy.allow.some((entry) => {
    const cidr = parseAllowEntry(entry);
    if (!cidr) return false;
    const [net, bits] = cidr;
    return net.kind() === addr.kind() && addr.match(net, bits);
  });
}

function allowsHostname(policy: NetPolicy, hostname: string): boolean {
  const name = normaliseHostname(hostname);
  return policy.allow.some((entry) => parseAllowEntry(entry) === undefined && normaliseHostname(entry) === name);
}

/** An IP or CIDR entry as a network; undefined means the entry is a hostname. */
function parseAllowEntry(entry: string): [Address, number] | undefined {
  const text = stripBrackets(entry.trim());
  if (ipaddr.isValidCIDR(text)) {
    const [net, bits] = ipaddr.parseCIDR(text);
    if (net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return [(net as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [net, bits];
  }
  if (ipaddr.isValid(text)) {
    const addr = ipaddr.process(text);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  }
  return undefined;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function normaliseHostname(host: string): string {
  return stripBrackets(host.trim()).toLowerCase().replace(/\.$/, '');
}
