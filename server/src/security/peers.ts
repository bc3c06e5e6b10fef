import { BlockList, isIP } from 'node:net';

/**
 * Who may start a payment (docs/security.md, "Trust boundary"): the `TRUSTED_PEERS` list of CIDRs
 * (IPv4 and IPv6) and TLS client-certificate fingerprints (`sha256:<64 hex>`, colons allowed, as
 * `openssl x509 -fingerprint -sha256` prints them). Pure: no I/O, no clock.
 */
export interface TrustedPeers {
  /** The entries as configured, for logs and /healthz. */
  readonly entries: readonly string[];
  readonly cidrs: BlockList;
  /** Lower-case hex without colons. */
  readonly fingerprints: ReadonlySet<string>;
}

/** Where a request came from: a SIP flow satisfies it (`remote.address`, `protocol`). */
export interface PeerSource {
  readonly remote: { readonly address: string };
  readonly protocol: string;
  /**
   * SHA-256 of the verified TLS client certificate (hex, any case, colons allowed), when the
   * transport verified one. Absent on UDP, TCP and plain WS.
   */
  readonly tlsFingerprint?: string | undefined;
}

export type TrustDecision = { readonly ok: true; readonly why: 'no-list' | 'cidr' | 'fingerprint' } | { readonly ok: false; readonly reason: 'untrusted-peer' };

export class TrustedPeersError extends Error {
  constructor(readonly entry: string, why: string) {
    super(`TRUSTED_PEERS entry "${entry.slice(0, 100)}" ${why}`);
    this.name = 'TrustedPeersError';
  }
}

const FINGERPRINT = /^sha256:((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})$/i;

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, RFC 4291 2.5.5.2) is the IPv4 address it carries. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

function normaliseFingerprint(fp: string): string {
  return fp.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
}

/**
 * Parses `TRUSTED_PEERS`: comma-separated `a.b.c.d[/n]`, `v6addr[/n]`, `sha256:<hex>`. An address
 * without a prefix length is a single host. Throws {@link TrustedPeersError} naming the bad entry.
 * An empty string gives an empty list, which trusts nobody (unset is `undefined`: no list).
 */
export function parseTrustedPeers(text: string): TrustedPeers {
  const cidrs = new BlockList();
  const fingerprints = new Set<string>();
  const entries: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    entries.push(entry);
    if (/^sha256:/i.test(entry)) {
      if (!FINGERPRINT.test(entry)) throw new TrustedPeersError(entry, 'must be sha256: followed by 64 hex digits');
      fingerprints.add(normaliseFingerprint(entry));
      continue;
    }
    const [addr = '', len, ...rest] = entry.split('/');
    const family = isIP(addr);
    if (family === 0 || rest.length > 0) throw new TrustedPeersError(entry, 'must be an IPv4/IPv6 address or CIDR, or sha256:<fingerprint>');
    const max = family === 4 ? 32 : 128;
    const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
    if (!(prefix >= 0 && prefix <= max)) throw new TrustedPeersError(entry, `has a prefix length outside 0-${max}`);
    cidrs.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { entries, cidrs, fingerprints };
}

/**
 * The one decision "may this source start a payment?" (docs/security.md): with no list
 * (`TRUSTED_PEERS` unset, demo) anyone may; with a list, only a source address inside one of its
 * CIDRs or a TLS peer whose verified certificate fingerprint is listed.
 */
export function mayStartPayment(source: PeerSource, peers: TrustedPeers | undefined): TrustDecision {
  if (!peers) return { ok: true, why: 'no-list' };
  const fp = source.tlsFingerprint;
  if (fp && peers.fingerprints.has(normaliseFingerprint(fp))) return { ok: true, why: 'fingerprint' };
  const addr = plainAddress(source.remote.address);
  const family = isIP(addr);
  if (family !== 0 && peers.cidrs.check(addr, family === 4 ? 'ipv4' : 'ipv6')) return { ok: true, why: 'cidr' };
  return { ok: false, reason: 'untrusted-peer' };
}
