import net from 'node:net';
import tls from 'node:tls';
import type { TransportContext } from './context.js';
import { TcpTransport, type StreamKind } from './tcp.js';
import type { TlsPeer } from './types.js';

/**
 * SIP over TLS (RFC 3261 26.2, 18; `sips:` per RFC 5630): the TCP transport's framing, limits and
 * connection reuse (RFC 5923 in spirit: a connection either side opened carries requests both ways)
 * over TLS 1.2 or later. Clients are asked for a certificate (RFC 3261 26.3.2.2, mutual TLS between
 * servers) but not required to send one: agents authenticate with digest. A certificate a client
 * sends is bound to the flow as `tlsPeer` (its SHA-256 fingerprint, and whether TRUSTED_PEERS names
 * it), so the layers above can trust a peer by certificate.
 */
export interface TlsTransportOptions {
  cert: Buffer;
  key: Buffer;
  /** `sha256:AB:CD:...` fingerprints from TRUSTED_PEERS (may be empty). */
  trustedFingerprints: ReadonlySet<string>;
}

/** RFC 8996: TLS 1.0 and 1.1 are deprecated; PCI DSS 4.2.1 asks for strong cryptography. */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;
/** A client that has not finished its handshake by then is cut off (slow handshakes hold sockets). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** `AB:CD:..` (Node's fingerprint256) -> `sha256:AB:CD:...`. */
const fp = (nodeFingerprint: string): string => `sha256:${nodeFingerprint.toUpperCase()}`;

export class TlsTransportParts {
  private cert: Buffer;
  private key: Buffer;
  readonly server: tls.Server;

  constructor(
    private readonly ctx: TransportContext,
    private readonly opts: TlsTransportOptions,
  ) {
    this.cert = opts.cert;
    this.key = opts.key;
    this.server = tls.createServer({
      cert: opts.cert,
      key: opts.key,
      minVersion: TLS_MIN_VERSION,
      requestCert: true,
      // The chain of a client certificate is not judged by a CA here: the fingerprint is (TRUSTED_PEERS).
      rejectUnauthorized: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      ctx.stats.tlsHandshakeFailures++;
      ctx.logger.info({ remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.code ?? err.message }, 'sip tls handshake failed');
    });
  }

  /** A renewed certificate: new connections get it, open ones keep theirs (no call is dropped). */
  setCredentials(cert: Buffer, key: Buffer): void {
    this.server.setSecureContext({ cert, key, minVersion: TLS_MIN_VERSION });
    this.cert = cert;
    this.key = key;
  }

  readonly kind: StreamKind = {
    protocol: 'TLS',
    prefix: 'tls',
    acceptEvent: 'secureConnection',
    readyEvent: 'secureConnect',
    open: (target) =>
      tls.connect({
        host: target.address,
        port: target.port,
        // SNI only for names (RFC 6066 3: not for IP literals).
        ...(net.isIP(target.address) ? {} : { servername: target.address }),
        minVersion: TLS_MIN_VERSION,
        // Our certificate as a client certificate (RFC 3261 26.3.2.2) for peers that check it.
        cert: this.cert,
        key: this.key,
        // Judged in peer(): a valid chain for the name, or a fingerprint pinned in TRUSTED_PEERS.
        rejectUnauthorized: false,
      }),
    peer: (socket, direction) => this.peer(socket as tls.TLSSocket, direction),
    certifies: (socket) => {
      const s = socket as tls.TLSSocket;
      return (host) => {
        const cert = s.getPeerCertificate(false);
        if (!cert || !cert.fingerprint256) return false;
        // RFC 5923 5.3: only a certificate we trust (a valid chain, or pinned) that names the host.
        const trusted = s.authorized || this.opts.trustedFingerprints.has(fp(cert.fingerprint256));
        return trusted && tls.checkServerIdentity(host, cert) === undefined;
      };
    },
  };

  private peer(socket: tls.TLSSocket, direction: 'in' | 'out'): TlsPeer | Error {
    const cert = socket.getPeerCertificate(false);
    const fingerprint = cert && cert.fingerprint256 ? fp(cert.fingerprint256) : undefined;
    const pinned = fingerprint !== undefined && this.opts.trustedFingerprints.has(fingerprint);
    if (direction === 'out') {
      // RFC 3261 26.3.1 / RFC 5922: the server's certificate must be valid for where we dialled, or pinned.
      if (!socket.authorized && !pinned) return new Error(`server certificate not trusted (${String(socket.authorizationError ?? 'no certificate')})`);
      return { fingerprint, trusted: true };
    }
    if (fingerprint && this.opts.trustedFingerprints.size > 0 && !pinned) {
      this.ctx.logger.info({ remote: `${socket.remoteAddress}:${socket.remotePort}`, fingerprint }, 'sip tls client certificate not in TRUSTED_PEERS');
    }
    return { fingerprint, trusted: pinned };
  }

  listen(host: string, port: number): Promise<TcpTransport> {
    return TcpTransport.listen(this.ctx, host, port, this.kind, this.server);
  }
}
