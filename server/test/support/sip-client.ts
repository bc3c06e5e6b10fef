import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Raw SIP peers for black-box tests: they send exact bytes (no SIP library in between) and read
 * back whatever the gateway answers, on UDP and on TCP.
 */

export interface SipResponse {
  status: number;
  reason: string;
  /** Header field values by lower-case name (compact forms are not expanded: the gateway writes long ones). */
  headers: Record<string, string[]>;
  raw: string;
}

/** Reads a response's status line and header fields; undefined for anything that is not a response. */
export function parseResponse(text: string): SipResponse | undefined {
  const m = /^SIP\/2\.0 ([0-9]{3}) ([^\r\n]*)\r\n/.exec(text);
  if (!m) return undefined;
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string[]> = {};
  for (const line of text.slice(0, end < 0 ? text.length : end).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(i + 1).trim());
  }
  return { status: Number(m[1]), reason: m[2] ?? '', headers, raw: text };
}

/** Splits a TCP byte stream into messages on Content-Length (RFC 3261 18.3); `rest` is incomplete. */
export function splitStream(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let off = 0;
  for (;;) {
    while (off + 1 < buf.length && buf[off] === 0x0d && buf[off + 1] === 0x0a) off += 2; // CRLF keep-alives
    const end = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (end < 0) break;
    const head = buf.toString('latin1', off, end);
    const cl = Number(/\r\n(?:content-length|l)[ \t]*:[ \t]*([0-9]+)/i.exec(head)?.[1] ?? '0');
    if (end + 4 + cl > buf.length) break;
    messages.push(buf.toString('utf8', off, end + 4 + cl));
    off = end + 4 + cl;
  }
  return { messages, rest: buf.subarray(off) };
}

/**
 * The port a UDP response to `msg` goes to (RFC 3261 18.2.2): the top Via's sent-by port, 5060 by
 * default (`rport` sends it to the source port instead, which the peer listens on anyway).
 */
export function viaReplyPort(msg: Buffer): number {
  const m = /\r\n(?:via|v)[ \t]*:[ \t]*SIP[ \t]*\/[ \t]*[^/\s]+[ \t]*\/[ \t]*[^ \t]+[ \t]+(?:\[[^\]]*\]|[^\s:;,]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?/i.exec(
    msg.toString('latin1'),
  );
  const port = Number(m?.[1] ?? 5060);
  return port > 0 && port < 65536 ? port : 5060;
}

export async function waitUntil(cond: () => boolean, ms: number, step = 5): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, step));
  }
  return true;
}

const isFinal = (r: SipResponse): boolean => r.status >= 200;

/** Binds a UDP socket; rejects on EADDRINUSE and the like. */
function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(port, address, () => {
      s.removeAllListeners('error');
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/**
 * A UDP peer on its own loopback address (127.x.y.z, Linux routes all of 127/8 to lo) listening on
 * `ports`, sending from the first. Responses are routed by the request's Via (RFC 3261 18.2.2:
 * `received` = our address, the sent-by port, 5060 by default), so a test that sends messages it
 * did not write itself must listen where those Vias point. A fresh address per peer keeps
 * messages apart and never touches 127.0.0.1:5060, where a developer's gateway may be running.
 */
export class UdpPeer {
  readonly received: Buffer[] = [];
  /** Called for every datagram too (after it is stored), e.g. by a fake UAS that answers. */
  onDatagram: ((m: Buffer) => void) | undefined;

  private constructor(
    readonly address: string,
    private readonly sockets: dgram.Socket[],
  ) {
    for (const s of sockets) {
      s.on('message', (m) => {
        this.received.push(m);
        this.onDatagram?.(m);
      });
    }
  }

  static async open(ports: readonly number[] = [5060]): Promise<UdpPeer> {
    const wanted = [...new Set(ports)];
    let lastErr: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(2, 255)}`;
      const sockets: dgram.Socket[] = [];
      try {
        for (const p of wanted) sockets.push(await bindUdp(address, p));
        return new UdpPeer(address, sockets);
      } catch (err) {
        lastErr = err;
        for (const s of sockets) s.close();
      }
    }
    throw new Error(`no loopback address with UDP ports ${wanted.join(', ')} free: ${String(lastErr)}`);
  }

  get port(): number {
    return this.sockets[0]!.address().port;
  }

  send(data: Buffer | string, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.sockets[0]!.send(data, port, host, (err) => (err ? reject(err) : resolve())));
  }

  responses(): SipResponse[] {
    return this.received.map((b) => parseResponse(b.toString('utf8'))).filter((r): r is SipResponse => r !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** A TCP connection to the gateway that collects the byte stream and notices when the gateway closes. */
export class TcpPeer {
  private chunks: Buffer[] = [];
  private closedAt: 'open' | 'remote' | 'local' = 'open';
  private readonly done: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => this.chunks.push(c));
    socket.on('error', () => {});
    socket.on('end', () => {
      if (this.closedAt === 'open') this.closedAt = 'remote';
    });
    this.done = new Promise((r) => socket.once('close', () => r()));
    void this.done.then(() => {
      if (this.closedAt === 'open') this.closedAt = 'remote';
    });
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    const socket = net.connect({ port, host, allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new TcpPeer(socket);
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** True once the gateway ended or reset the connection (before we closed our side). */
  get closedByRemote(): boolean {
    return this.closedAt === 'remote';
  }

  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  responses(): SipResponse[] {
    return splitStream(this.data()).messages.map(parseResponse).filter((r): r is SipResponse => r !== undefined);
  }

  /** Removes the complete messages received so far from the buffer and returns the responses among them. */
  take(): SipResponse[] {
    const { messages, rest } = splitStream(this.data());
    this.chunks = rest.length > 0 ? [rest] : [];
    return messages.map(parseResponse).filter((r): r is SipResponse => r !== undefined);
  }

  /** Half-closes our side (FIN) and waits up to `ms` for the gateway to close the connection. */
  async end(ms = 2000): Promise<boolean> {
    if (this.closedAt === 'open') this.closedAt = 'local';
    this.socket.end();
    const closed = await Promise.race([this.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    this.socket.destroy();
    return closed;
  }

  destroy(): void {
    if (this.closedAt === 'open') this.closedAt = 'local';
    this.socket.destroy();
  }
}

export const branch = (): string => `z9hG4bK-${randomBytes(8).toString('hex')}`;

/** A well-formed OPTIONS (RFC 3261 11) from `local` over `transport`. */
export function optionsRequest(
  local: { address: string; port: number },
  transport: 'UDP' | 'TCP',
  target = 'ping',
  callId = `${randomBytes(8).toString('hex')}@${local.address}`,
): string {
  const tag = randomBytes(4).toString('hex');
  return [
    `OPTIONS sip:${target}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${transport} ${local.address}:${local.port};branch=${branch()};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${local.address}>;tag=${tag}`,
    `To: <sip:${target}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends an OPTIONS on a new socket / connection and returns the final status (undefined: none in time). */
export async function pingOptions(gatewayPort: number, transport: 'UDP' | 'TCP', ms = 2000): Promise<number | undefined> {
  if (transport === 'UDP') {
    const s = await bindUdp('127.0.0.1', 0);
    let final: SipResponse | undefined;
    s.on('message', (m) => {
      const r = parseResponse(m.toString());
      if (r && isFinal(r)) final ??= r;
    });
    s.send(optionsRequest({ address: '127.0.0.1', port: s.address().port }, 'UDP'), gatewayPort, '127.0.0.1');
    await waitUntil(() => final !== undefined, ms);
    await new Promise<void>((r) => s.close(() => r()));
    return final?.status;
  }
  const peer = await TcpPeer.connect(gatewayPort);
  await peer.write(optionsRequest({ address: '127.0.0.1', port: peer.localPort }, 'TCP'));
  await waitUntil(() => peer.responses().some(isFinal), ms);
  const status = peer.responses().find(isFinal)?.status;
  peer.destroy();
  return status;
}

/** The header section of a message (all of it when there is no empty line). */
function headSection(text: string): string {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? text : text.slice(0, end);
}

/** The value of the first header field `name` (long or compact form) of a message's header section. */
export function headerOf(text: string, name: string, compact?: string): string | undefined {
  const head = headSection(text);
  const names = compact ? `${name}|${compact}` : name;
  return new RegExp(`\r\n(?:${names})[ \t]*:[ \t]*([^\r\n]*)`, 'i').exec(head)?.[1];
}

/**
 * A UAS response to a request we received (RFC 3261 8.2.6): Via (all), From, To (with `toTag` when
 * it has none), Call-ID and CSeq copied; for a fake agent answering the gateway.
 */
export function respondTo(request: string, status: number, reason: string, opts: { toTag?: string; headers?: string[]; sdp?: string } = {}): string {
  const head = headSection(request);
  const vias = head.split('\r\n').filter((l) => /^(?:via|v)[ \t]*:/i.test(l)).map((l) => `Via: ${l.slice(l.indexOf(':') + 1).trim()}`);
  let to = headerOf(request, 'to', 't') ?? '';
  if (opts.toTag && !/;\s*tag=/i.test(to)) to += `;tag=${opts.toTag}`;
  const body = opts.sdp ?? '';
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...vias,
    `From: ${headerOf(request, 'from', 'f') ?? ''}`,
    `To: ${to}`,
    `Call-ID: ${headerOf(request, 'call-id', 'i') ?? ''}`,
    `CSeq: ${headerOf(request, 'cseq') ?? ''}`,
    ...(opts.headers ?? []),
    ...(opts.sdp === undefined ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
