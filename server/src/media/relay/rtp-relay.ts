/**
 * A call's media relay: two legs (A, B), each an RTP socket on an even port and an RTCP socket on
 * the next port (RFC 3550 §11), bound on the gateway's media address. What arrives on one leg
 * goes out of the other leg's socket of the same kind, unchanged.
 *
 * Latching (symmetric RTP, RFC 4961 §3; the usual answer to NAT): the first valid packet on a
 * socket from an acceptable source fixes that source. Acceptable is the signalled address
 * (`latch: 'signalled'`, IP only, the port is learnt) or anything (`latch: 'any-first'`, for peers
 * behind NAT whose SDP carries a private address). After that only the latched source is accepted,
 * so nobody else can inject media into the call, and the leg's media is sent back to it. A new
 * signalled destination (`setRemote` with a different value, e.g. after a re-INVITE) unlatches.
 *
 * Hot path: no allocation per packet beyond the Buffer and rinfo that dgram hands us.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { PortAllocator } from './port-allocator.js';

export type LegId = 'A' | 'B';
export type LatchMode = 'signalled' | 'any-first';

export interface Endpoint {
  address: string;
  port: number;
}

/** The destination signalled in SDP; RTCP defaults to port + 1 (RFC 3550 §11) unless a=rtcp said otherwise (RFC 3605). */
export interface RemoteSpec extends Endpoint {
  rtcpPort?: number;
}

/** pino-compatible subset. */
export interface RelayLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RelayOptions {
  /** Local media address to bind (IPv4 or IPv6). */
  address: string;
  allocator: PortAllocator;
  logger?: RelayLogger;
  /** Default latch mode for both legs (default 'signalled'); setRemote may override per leg. */
  latch?: LatchMode;
  /** Port pairs to try when a bind fails with the port taken by someone else (default 8). */
  bindAttempts?: number;
}

export interface StreamCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  droppedWrongSource: number;
  droppedMalformed: number;
  /** Valid packets that had nowhere to go: the other leg has no remote and nothing latched. */
  droppedNoDestination: number;
}

export interface LegStats {
  readonly rtp: Readonly<StreamCounters>;
  readonly rtcp: Readonly<StreamCounters>;
}

export interface RelayLeg {
  readonly id: LegId;
  readonly local: { readonly address: string; readonly rtpPort: number; readonly rtcpPort: number };
  readonly remote: Readonly<RemoteSpec> | null;
  readonly latchMode: LatchMode;
  readonly latched: { readonly rtp: Readonly<Endpoint> | null; readonly rtcp: Readonly<Endpoint> | null };
  /** Live counters: in = from this leg's peer, out = sent to it. */
  readonly stats: LegStats;
}

export interface Relay {
  readonly legA: RelayLeg;
  readonly legB: RelayLeg;
  readonly closed: boolean;
  /** The signalled media destination of a leg (from its SDP). Unlatches the leg if it changed. Throws after close(). */
  setRemote(leg: LegId, remote: RemoteSpec, opts?: { latch?: LatchMode }): void;
  /** Close the four sockets and release both port pairs. Idempotent. */
  close(): Promise<void>;
}

/** Minimal sanity check until the RTP parser lands: version 2 (RFC 3550 §5.1), fixed header 12 bytes. */
export function isRtp(buf: Buffer): boolean {
  return buf.length >= 12 && buf[0]! >> 6 === 2;
}

/** RTCP: version 2 and at least header + SSRC, 8 bytes (RFC 3550 §6.4.2, an empty RR). */
export function isRtcp(buf: Buffer): boolean {
  return buf.length >= 8 && buf[0]! >> 6 === 2;
}

const noopLogger: RelayLogger = { debug: () => {}, warn: () => {} };

const newCounters = (): StreamCounters => ({
  packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, droppedWrongSource: 0, droppedMalformed: 0, droppedNoDestination: 0,
});

/** One socket of a leg. The destination is kept in two fields so sending needs no object. */
class Stream {
  readonly counters = newCounters();
  latched: Endpoint | null = null;
  destAddress: string | null = null;
  destPort = 0;
  peer!: Stream;

  constructor(
    readonly kind: 'rtp' | 'rtcp',
    readonly leg: LegState,
    readonly socket: dgram.Socket,
    readonly valid: (buf: Buffer) => boolean,
  ) {}

  /** Destination: the latched source, else the signalled one. */
  refreshDestination(): void {
    const remote = this.leg.remote;
    if (this.latched) {
      this.destAddress = this.latched.address;
      this.destPort = this.latched.port;
    } else if (remote) {
      this.destAddress = remote.address;
      this.destPort = this.kind === 'rtp' ? remote.port : remote.rtcpPort ?? remote.port + 1;
    } else {
      this.destAddress = null;
    }
  }
}

class LegState implements RelayLeg {
  remote: RemoteSpec | null = null;
  rtp!: Stream;
  rtcp!: Stream;
  readonly stats: LegStats;

  constructor(readonly id: LegId, readonly local: RelayLeg['local'], public latchMode: LatchMode, rtp: dgram.Socket, rtcp: dgram.Socket) {
    this.rtp = new Stream('rtp', this, rtp, isRtp);
    this.rtcp = new Stream('rtcp', this, rtcp, isRtcp);
    this.stats = { rtp: this.rtp.counters, rtcp: this.rtcp.counters };
  }

  get latched(): RelayLeg['latched'] {
    return { rtp: this.rtp.latched, rtcp: this.rtcp.latched };
  }
}

function bindSocket(address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
    const onError = (err: Error): void => {
      try { socket.close(); } catch { /* never bound */ }
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function bindPair(opts: RelayOptions): Promise<{ port: number; rtp: dgram.Socket; rtcp: dgram.Socket }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (opts.bindAttempts ?? 8); attempt++) {
    const port = opts.allocator.allocate(); // PortExhaustedError propagates
    let rtp: dgram.Socket | undefined;
    try {
      rtp = await bindSocket(opts.address, port);
      const rtcp = await bindSocket(opts.address, port + 1);
      return { port, rtp, rtcp };
    } catch (err) {
      rtp?.close();
      opts.allocator.release(port); // round-robin: this port is not offered again right away
      lastError = err;
      (opts.logger ?? noopLogger).warn({ err, port }, 'rtp relay: bind failed, trying another port');
    }
  }
  throw lastError;
}

class RtpRelay implements Relay {
  readonly legA: LegState;
  readonly legB: LegState;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly opts: RelayOptions,
    a: { port: number; rtp: dgram.Socket; rtcp: dgram.Socket },
    b: { port: number; rtp: dgram.Socket; rtcp: dgram.Socket },
    private readonly log: RelayLogger,
  ) {
    const mode = opts.latch ?? 'signalled';
    this.legA = new LegState('A', { address: opts.address, rtpPort: a.port, rtcpPort: a.port + 1 }, mode, a.rtp, a.rtcp);
    this.legB = new LegState('B', { address: opts.address, rtpPort: b.port, rtcpPort: b.port + 1 }, mode, b.rtp, b.rtcp);
    this.legA.rtp.peer = this.legB.rtp;
    this.legB.rtp.peer = this.legA.rtp;
    this.legA.rtcp.peer = this.legB.rtcp;
    this.legB.rtcp.peer = this.legA.rtcp;
    for (const s of [this.legA.rtp, this.legA.rtcp, this.legB.rtp, this.legB.rtcp]) {
      s.socket.on('message', (msg, rinfo) => this.onPacket(s, msg, rinfo));
      s.socket.on('error', (err) => this.log.warn({ err, leg: s.leg.id, kind: s.kind }, 'rtp relay: socket error'));
    }
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  private onPacket(stream: Stream, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closing) return;
    const c = stream.counters;
    if (!stream.valid(msg)) {
      c.droppedMalformed++; // checked before latching: garbage never latches
      return;
    }
    const latched = stream.latched;
    if (latched) {
      if (rinfo.port !== latched.port || rinfo.address !== latched.address) {
        c.droppedWrongSource++;
        return;
      }
    } else {
      const leg = stream.leg;
      if (leg.latchMode === 'signalled' && rinfo.address !== leg.remote?.address) {
        c.droppedWrongSource++;
        return;
      }
      stream.latched = { address: rinfo.address, port: rinfo.port };
      stream.refreshDestination(); // symmetric RTP: send back where it comes from (RFC 4961)
      this.log.debug({ leg: leg.id, kind: stream.kind, source: stream.latched }, 'rtp relay: latched');
    }
    c.packetsIn++;
    c.bytesIn += msg.length;
    const out = stream.peer;
    if (out.destAddress === null) {
      c.droppedNoDestination++;
      return;
    }
    try {
      out.socket.send(msg, out.destPort, out.destAddress);
      out.counters.packetsOut++;
      out.counters.bytesOut += msg.length;
    } catch (err) {
      this.log.warn({ err, leg: out.leg.id, kind: out.kind }, 'rtp relay: send failed');
    }
  }

  setRemote(legId: LegId, remote: RemoteSpec, opts: { latch?: LatchMode } = {}): void {
    if (this.closing) throw new Error('rtp relay: setRemote after close');
    const validPort = (p: number): boolean => Number.isInteger(p) && p > 0 && p <= 65535;
    if (isIP(remote.address) === 0 || !validPort(remote.port) || (remote.rtcpPort !== undefined && !validPort(remote.rtcpPort))) {
      throw new TypeError(`rtp relay: bad remote ${remote.address}:${remote.port}`);
    }
    const leg = legId === 'A' ? this.legA : this.legB;
    const prev = leg.remote;
    const mode = opts.latch ?? leg.latchMode;
    const changed = !prev || prev.address !== remote.address || prev.port !== remote.port ||
      prev.rtcpPort !== remote.rtcpPort || mode !== leg.latchMode;
    if (!changed) return; // e.g. a session refresh re-INVITE: keep the latch, no hijack window
    leg.remote = { ...remote };
    leg.latchMode = mode;
    for (const s of [leg.rtp, leg.rtcp]) {
      s.latched = null;
      s.refreshDestination();
    }
    this.log.debug({ leg: legId, remote, latch: mode }, 'rtp relay: remote set');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const streams = [this.legA.rtp, this.legA.rtcp, this.legB.rtp, this.legB.rtcp];
      await Promise.all(streams.map((s) => new Promise<void>((resolve) => {
        s.socket.removeAllListeners('message');
        try {
          s.socket.close(() => resolve());
        } catch (err) {
          this.log.warn({ err, leg: s.leg.id, kind: s.kind }, 'rtp relay: close failed');
          resolve();
        }
      })));
      this.opts.allocator.release(this.legA.local.rtpPort);
      this.opts.allocator.release(this.legB.local.rtpPort);
    })();
    return this.closing;
  }
}

/** Bind both legs' sockets on `address` with ports from `allocator`. Rejects with PortExhaustedError when none is free. */
export async function createRelay(opts: RelayOptions): Promise<Relay> {
  if (isIP(opts.address) === 0) throw new TypeError(`rtp relay: "${opts.address}" is not an IP address`);
  const log = opts.logger ?? noopLogger;
  const a = await bindPair(opts);
  let b: Awaited<ReturnType<typeof bindPair>>;
  try {
    b = await bindPair(opts);
  } catch (err) {
    a.rtp.close();
    a.rtcp.close();
    opts.allocator.release(a.port);
    throw err;
  }
  return new RtpRelay(opts, a, b, log);
}
