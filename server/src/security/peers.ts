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

/**
 * Where a request came from: a SIP flow satisfies it as it is (`remote.address`, `protocol`,
 * `tlsPeer`; sip/transport/types.ts), so the certificate a TLS client proved it holds reaches the
 * decision without any copying.
 */
export interface PeerSource {
  readonly remote: { readonly address: string };
  readonly protocol: string;
  /**
   * TLS flows: the SHA-256 fingerprint of the certificate the client presented and proved it
   * holds the key of (RFC 8446 4.4.3, CertificateVerify); `fingerprint` undefined when it sent
   * none. Absent on UDP, TCP and WS.
   */
  readonly tlsPeer?: { readonly fingerprint: string | undefined } | undefined;
}

export type TrustDecision = { readonly ok: true; readonly why: 'no-list' | 'cidr' | 'fingerprint' } | { readonly ok: false; readonly reason: 'untrusted-peer' };

export class TrustedPeersError extends Error {
  constructor(readonly entry: string, why: string) {
    super(`TRUSTED_PEERS entry "${entry.slice(0, 100)}" ${why}`);
    this.name = 'TrustedPeersError';
  }
}

/** 32 hex octets, all joined by `:` or none, after an optional `sha256:` (any case). */
const FINGERPRINT = /^(?:sha256:)?((?:[0-9a-f]{2}:){31}[0-9a-f]{2}|[0-9a-f]{64})$/i;

/**
 * A SHA-256 certificate fingerprint as configured or as Node reports it: `sha256:AB:CD:...` (the
 * RFC 8122 5 form, as `openssl x509 -fingerprint -sha256` prints it), `AB:CD:...` or 64 plain hex
 * digits, any case. Returns the canonical `sha256:AB:CD:...` (upper case), or undefined when
 * `text` is not one. No IP address or CIDR has this shape (an IPv6 address has at most 8 groups).
 */
export function parseFingerprint(text: string): string | undefined {
  const m = FINGERPRINT.exec(text.trim());
  if (!m) return undefined;
  return `sha256:${m[1]!.replace(/:/g, '').toUpperCase().match(/../g)!.join(':')}`;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, RFC 4291 2.5.5.2) is the IPv4 address it carries. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

function normaliseFingerprint(fp: string): string {
  return fp.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
}

/** Whether an entry is meant as a fingerprint (so a malformed one is named as such). */
function looksLikeFingerprint(entry: string): boolean {
  return /^sha256:/i.test(entry) || /^[0-9a-f]{2}(?::[0-9a-f]{2}){8,}:?$/i.test(entry) || /^[0-9a-f]{40,}$/i.test(entry);
}

/**
 * Parses `TRUSTED_PEERS`: comma-separated `a.b.c.d[/n]`, `v6addr[/n]`, fingerprints ({@link parseFingerprint}). An address
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
    const fp = parseFingerprint(entry);
    if (fp) {
      fingerprints.add(normaliseFingerprint(fp));
      continue;
    }
    if (looksLikeFingerprint(entry)) throw new TrustedPeersError(entry, 'must be a SHA-256 fingerprint: sha256: and 32 hex octets (AB:CD:... or 64 hex digits)');
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
  const fp = source.tlsPeer?.fingerprint;
  if (fp && peers.fingerprints.has(normaliseFingerprint(fp))) return { ok: true, why: 'fingerprint' };
  const addr = plainAddress(source.remote.address);
  const family = isIP(addr);
  if (family !== 0 && peers.cidrs.check(addr, family === 4 ? 'ipv4' : 'ipv6')) return { ok: true, why: 'cidr' };
  return { ok: false, reason: 'untrusted-peer' };
}
