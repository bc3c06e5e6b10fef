import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { splitStream } from './sip-client.js';

/**
 * A tiny SIP user agent over WebSocket (RFC 7118), shaped like a browser softphone (sip.js):
 * Via `SIP/2.0/WS <random>.invalid`, Contact `<sip:<user>@<random>.invalid;transport=ws>`.
 * It builds and reads messages by hand and computes Digest responses itself (node:crypto), so
 * the gateway is checked against an independent implementation. Test-only: no retransmissions
 * (WS is reliable), one dialog at a time is enough.
 */

const COMPACT: Record<string, string> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
  e: 'content-encoding', k: 'supported', s: 'subject', r: 'refer-to', o: 'event', u: 'allow-events', b: 'referred-by',
};

export interface SipMessage {
  readonly raw: string;
  readonly isRequest: boolean;
  /** Request method, or the CSeq method of a response. */
  readonly method: string;
  readonly ruri: string;
  readonly status: number;
  readonly reason: string;
  readonly body: string;
  readonly callId: string;
  readonly cseq: number;
  /** First value of a header field (name case-insensitive, compact forms understood). */
  header(name: string): string | undefined;
  /** Every line of a header field, in order (comma-separated values are not split). */
  all(name: string): string[];
}

/** Parses one SIP message (one WebSocket frame). Throws on something that is not SIP. */
export function parseSipMessage(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const lines = head.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  const start = lines.shift() ?? '';
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line: ${line}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  const all = (name: string): string[] => {
    const n = COMPACT[name.toLowerCase()] ?? name.toLowerCase();
    return headers.filter(([k]) => k === n).map(([, v]) => v);
  };
  const cseq = /^(\d+)\s+(\S+)/.exec(all('cseq')[0] ?? '');
  const res = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  const req = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (!res && !req) throw new Error(`not a SIP start line: ${start}`);
  return {
    raw,
    isRequest: !!req,
    method: req ? req[1]! : (cseq?.[2] ?? ''),
    ruri: req ? req[2]! : '',
    status: res ? Number(res[1]) : 0,
    reason: res ? res[2]! : '',
    body,
    callId: all('call-id')[0] ?? '',
    cseq: Number(cseq?.[1] ?? NaN),
    header: (name) => all(name)[0],
    all,
  };
}

/** `tag` parameter of a From/To value. */
export function tagOf(nameAddr: string | undefined): string | undefined {
  const gt = (nameAddr ?? '').lastIndexOf('>');
  return /;\s*tag=([^;\s]+)/i.exec((nameAddr ?? '').slice(Math.max(0, gt)))?.[1];
}

/** URI inside `<...>` (or the whole value up to the first `;`). */
export function uriIn(nameAddr: string): string {
  const lt = nameAddr.indexOf('<');
  const gt = nameAddr.indexOf('>', lt);
  return lt >= 0 && gt > lt ? nameAddr.slice(lt + 1, gt) : nameAddr.split(';')[0]!.trim();
}

/** Digest challenge parameters (RFC 7616 3.3) of one WWW-Authenticate value. */
export function challengeParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.replace(/^\s*Digest\s+/i, '').matchAll(/([A-Za-z-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)/g)) {
    out[m[1]!.toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!;
  }
  return out;
}

export type DigestAlg = 'SHA-256' | 'MD5';

/** RFC 7616 3.4.1 / RFC 8760 request-digest with qop=auth. */
export function digestResponse(a: {
  algorithm: DigestAlg; username: string; realm: string; password: string; method: string; uri: string; nonce: string; nc: string; cnonce: string;
}): string {
  const h = (s: string): string => createHash(a.algorithm === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
  const ha1 = h(`${a.username}:${a.realm}:${a.password}`);
  const ha2 = h(`${a.method}:${a.uri}`);
  return h(`${ha1}:${a.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`);
}

const token = (n = 8): string => randomBytes(n).toString('hex');

/** The agent's side of one dialog (it is the UAS of the INVITE the gateway sends it). */
export interface AgentDialog {
  callId: string;
  /** Our To value, with our tag. */
  local: string;
  /** The gateway's From value, with its tag. */
  remote: string;
  remoteTarget: string;
  localSeq: number;
  routeSet: string[];
}

type Header = readonly [string, string];
interface Pending {
  resolve: (m: SipMessage) => void;
  provisional: SipMessage[];
}

export interface RegisterResult {
  /** The 401 (absent when the first REGISTER was answered otherwise). */
  challenge: SipMessage | undefined;
  final: SipMessage;
}

/** Where the agent's messages go: a WebSocket (one message per frame) or a TLS stream (Content-Length framing). */
interface AgentPipe {
  send(text: string): void;
  readonly open: boolean;
  close(): Promise<void>;
}

function wsPipe(ws: WebSocket, onText: (t: string) => void): AgentPipe {
  ws.on('message', (data, isBinary) => onText(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data)));
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return {
    send: (t) => ws.send(t),
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
    close: async () => {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      await closed;
    },
  };
}

function tlsPipe(socket: tls.TLSSocket, onText: (t: string) => void): AgentPipe {
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const { messages, rest } = splitStream(Buffer.concat([buf, chunk]));
    buf = Buffer.from(rest);
    for (const m of messages) onText(m);
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    send: (t) => void socket.write(t),
    get open() {
      return !socket.destroyed && socket.writable;
    },
    close: async () => {
      socket.end();
      setTimeout(() => socket.destroy(), 500).unref();
      await closed;
    },
  };
}

export class WsSipAgent {
  /** Random host as browsers use (RFC 7118 5.2: the client cannot be reached by address); over TLS our address:port. */
  readonly host: string;
  readonly contact: string;
  /** Over TLS: the socket (its certificates, its local port). */
  tlsSocket: tls.TLSSocket | undefined;
  /** Every message received, in order. */
  readonly received: SipMessage[] = [];
  private readonly regCallId = token(10);
  private regCSeq = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly inbox: SipMessage[] = [];
  private readonly waiters = new Set<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }>();
  private readonly pipe: AgentPipe;

  private constructor(
    makePipe: (onText: (t: string) => void) => AgentPipe,
    readonly user: string,
    private readonly password: string,
    /** Registrar domain used in the REGISTER Request-URI and To/From. */
    readonly domain: string,
    /** Via transport: `WS` (RFC 7118), `WSS`, or `TLS` (RFC 3261 26.2). */
    readonly transport: 'WS' | 'WSS' | 'TLS' = 'WS',
    host?: string,
  ) {
    this.host = host ?? `${token(6)}.invalid`;
    // RFC 5630 3.1.3: over TLS the Contact is a SIPS URI.
    this.contact = transport === 'TLS' ? `<sips:${user}@${this.host}>` : `<sip:${user}@${this.host};transport=${transport.toLowerCase()}>`;
    this.pipe = makePipe((t) => this.onFrame(t));
  }

  /** Opens the WebSocket with subprotocol `sip` (RFC 7118 4); `ca` for a wss: URL with a test CA. */
  static connect(url: string, opts: { user: string; password: string; domain?: string; ca?: Buffer }): Promise<WsSipAgent> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'sip', opts.ca ? { ca: opts.ca } : {});
      ws.once('open', () => {
        if (ws.protocol !== 'sip') reject(new Error(`server chose subprotocol "${ws.protocol}"`));
        else resolve(new WsSipAgent((on) => wsPipe(ws, on), opts.user, opts.password, opts.domain ?? '127.0.0.1', url.startsWith('wss:') ? 'WSS' : 'WS'));
      });
      ws.once('error', reject);
    });
  }

  /**
   * SIP over TLS (RFC 3261 26.2) to 127.0.0.1:port, the server checked against `ca`; `cert`/`key`
   * present a client certificate (RFC 3261 26.3.2.2).
   */
  static connectTls(port: number, opts: { user: string; password: string; domain?: string; ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<WsSipAgent> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: opts.ca, servername: 'localhost', ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}) });
      socket.once('secureConnect', () => {
        socket.removeListener('error', reject);
        const agent = new WsSipAgent((on) => tlsPipe(socket, on), opts.user, opts.password, opts.domain ?? '127.0.0.1', 'TLS', `127.0.0.1:${socket.localPort}`);
        agent.tlsSocket = socket;
        resolve(agent);
      });
      socket.once('error', reject);
    });
  }

  get open(): boolean {
    return this.pipe.open;
  }

  private onFrame(text: string): void {
    if (/^(\r\n)+$/.test(text)) return; // keep-alive pong
    const msg = parseSipMessage(text);
    this.received.push(msg);
    if (!msg.isRequest) {
      const branch = /;\s*branch=([^;,\s]+)/.exec(msg.header('via') ?? '')?.[1] ?? '';
      const p = this.pending.get(`${branch}|${msg.method}`);
      if (!p) return;
      if (msg.status < 200) p.provisional.push(msg);
      else {
        this.pending.delete(`${branch}|${msg.method}`);
        p.resolve(msg);
      }
      return;
    }
    for (const w of this.waiters) {
      if (w.match(msg)) {
        this.waiters.delete(w);
        return w.resolve(msg);
      }
    }
    this.inbox.push(msg);
  }

  /** The next request (already received or yet to come) that matches `method` / the predicate. */
  nextRequest(match: string | ((m: SipMessage) => boolean), timeoutMs = 10_000): Promise<SipMessage> {
    const pred = typeof match === 'string' ? (m: SipMessage) => m.method === match : match;
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        match: pred,
        resolve: (m: SipMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`${this.user}: no ${typeof match === 'string' ? match : 'matching request'} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Requests received and not yet taken by nextRequest. */
  unclaimed(): SipMessage[] {
    return [...this.inbox];
  }

  /** Forgets unclaimed requests (between tests, so one test's leftovers never satisfy the next). */
  clearInbox(): void {
    this.inbox.length = 0;
  }

  send(text: string): void {
    this.pipe.send(text);
  }

  /** Sends a request; resolves with its final response (provisionals on `.provisional`). */
  request(
    method: string,
    ruri: string,
    headers: readonly Header[],
    body?: { type: string; content: string },
    timeoutMs = 5_000,
  ): Promise<SipMessage> {
    const branch = `z9hG4bK${token(8)}`;
    const lines = [`${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/${this.transport} ${this.host};branch=${branch}`, 'Max-Forwards: 70'];
    for (const [k, v] of headers) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Type: ${body.type}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body?.content ?? '')}`);
    const text = `${lines.join('\r\n')}\r\n\r\n${body?.content ?? ''}`;
    const cseqMethod = method;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(`${branch}|${cseqMethod}`);
        reject(new Error(`${this.user}: no final response to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(`${branch}|${cseqMethod}`, {
        provisional: [],
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.send(text);
    });
  }

  /**
   * REGISTER (RFC 3261 10.2) and, on a 401, once more with credentials for the challenge of
   * `algorithm` (RFC 8760: the server offers one challenge per algorithm).
   */
  async register(opts: { expires?: number; algorithm?: DigestAlg; password?: string; contact?: string } = {}): Promise<RegisterResult> {
    const ruri = `sip:${this.domain}`;
    const aor = `<sip:${this.user}@${this.domain}>`;
    const base = (): Header[] => [
      ['From', `${aor};tag=${token(5)}`],
      ['To', aor],
      ['Call-ID', this.regCallId],
      ['CSeq', `${++this.regCSeq} REGISTER`],
      ['Contact', opts.contact ?? this.contact],
      ...(opts.expires !== undefined ? [['Expires', String(opts.expires)] as const] : []),
      ['Allow', 'ACK, CANCEL, INVITE, MESSAGE, BYE, OPTIONS, INFO, NOTIFY, REFER'],
      ['Supported', 'path, gruu, outbound'],
    ];
    const first = await this.request('REGISTER', ruri, base());
    if (first.status !== 401) return { challenge: undefined, final: first };
    const algorithm = opts.algorithm ?? 'SHA-256';
    const offer = first.all('www-authenticate').map(challengeParams).find((p) => (p.algorithm ?? 'MD5').toUpperCase() === algorithm);
    if (!offer) throw new Error(`no ${algorithm} challenge in: ${first.all('www-authenticate').join(' | ')}`);
    const cnonce = token(8);
    const nc = '00000001';
    const response = digestResponse({
      algorithm, username: this.user, realm: offer.realm!, password: opts.password ?? this.password, method: 'REGISTER', uri: ruri, nonce: offer.nonce!, nc, cnonce,
    });
    const authz =
      `Digest username="${this.user}", realm="${offer.realm}", nonce="${offer.nonce}", uri="${ruri}", response="${response}", ` +
      `algorithm=${algorithm}, cnonce="${cnonce}", qop=auth, nc=${nc}` + (offer.opaque !== undefined ? `, opaque="${offer.opaque}"` : '');
    const final = await this.request('REGISTER', ruri, [...base(), ['Authorization', authz]]);
    return { challenge: first, final };
  }

  /** Answers `req` (RFC 3261 8.2.6): Via, From, To (plus `toTag` if it has none), Call-ID, CSeq copied. */
  respond(req: SipMessage, status: number, opts: { reason?: string; toTag?: string; headers?: readonly Header[]; body?: { type: string; content: string } } = {}): void {
    const lines = [`SIP/2.0 ${status} ${opts.reason ?? (status === 200 ? 'OK' : status === 180 ? 'Ringing' : 'Response')}`];
    for (const v of req.all('via')) lines.push(`Via: ${v}`);
    lines.push(`From: ${req.header('from')}`);
    const to = req.header('to') ?? '';
    lines.push(`To: ${tagOf(to) || !opts.toTag ? to : `${to};tag=${opts.toTag}`}`);
    lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.header('cseq')}`);
    for (const [k, v] of opts.headers ?? []) lines.push(`${k}: ${v}`);
    if (opts.body) lines.push(`Content-Type: ${opts.body.type}`);
    lines.push(`Content-Length: ${Buffer.byteLength(opts.body?.content ?? '')}`);
    this.send(`${lines.join('\r\n')}\r\n\r\n${opts.body?.content ?? ''}`);
  }

  /**
   * Answers an INVITE from the gateway: 180 then 200 with an SDP answer naming `rtpPort` on
   * 127.0.0.1 (PCMA + telephone-event, as the SIPp callers offer, or PCMU). Returns the dialog (RFC 3261 12.1.1).
   */
  answer(invite: SipMessage, rtpPort: number, codec: 'pcma' | 'pcmu' = 'pcma'): AgentDialog {
    const tag = token(5);
    // RFC 3261 12.1.1: a dialog-creating response copies the Record-Route of the request (a proxy
    // such as Kamailio in front of the gateways stays in the dialog).
    const rr = invite.all('record-route').map((v): Header => ['Record-Route', v]);
    this.respond(invite, 180, { toTag: tag, headers: [...rr, ['Contact', this.contact]] });
    const [pt, name] = codec === 'pcma' ? [8, 'PCMA'] : [0, 'PCMU'];
    const sdp = [
      'v=0', `o=${this.user} ${Date.now()} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${rtpPort} RTP/AVP ${pt} 101`, `a=rtpmap:${pt} ${name}/8000`, 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', '',
    ].join('\r\n');
    this.respond(invite, 200, {
      toTag: tag,
      headers: [...rr, ['Contact', this.contact], ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REFER']],
      body: { type: 'application/sdp', content: sdp },
    });
    return {
      callId: invite.callId,
      local: `${invite.header('to')};tag=${tag}`,
      remote: invite.header('from') ?? '',
      remoteTarget: uriIn(invite.header('contact') ?? invite.header('from') ?? ''),
      localSeq: Math.floor(Math.random() * 10_000) + 1,
      routeSet: invite.all('record-route'),
    };
  }

  /** Sends a request inside `d` (RFC 3261 12.2.1.1); resolves with the final response. */
  inDialog(d: AgentDialog, method: string, headers: readonly Header[] = [], body?: { type: string; content: string }): Promise<SipMessage> {
    const cseq = ++d.localSeq;
    return this.request(
      method,
      d.remoteTarget,
      [
        ...d.routeSet.map((r): Header => ['Route', r]),
        ['From', d.local],
        ['To', d.remote],
        ['Call-ID', d.callId],
        ['CSeq', `${cseq} ${method}`],
        ...(method === 'BYE' ? [] : [['Contact', this.contact] as const]),
        ...headers,
      ],
      body,
    );
  }

  /** Closes the WebSocket (as a browser tab closing would) or the TLS connection, and waits for it to be closed. */
  async close(): Promise<void> {
    await this.pipe.close();
  }
}

/** A UDP socket on 127.0.0.1 that counts the RTP packets it receives (version 2 headers only). */
export class RtpSink {
  packets = 0;
  payloadTypes = new Set<number>();
  /** Every packet's arrival (performance.now()), payload type and payload (12-byte header assumed: no CSRC/extension). */
  readonly received: { at: number; pt: number; payload: Buffer }[] = [];

  private constructor(private readonly sock: Socket) {
    sock.on('message', (m) => {
      if (m.length >= 12 && m[0]! >> 6 === 2) {
        this.packets++;
        this.payloadTypes.add(m[1]! & 0x7f);
        if (this.received.length < 100_000) this.received.push({ at: performance.now(), pt: m[1]! & 0x7f, payload: m.subarray(12) });
      }
    });
  }

  static open(): Promise<RtpSink> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => resolve(new RtpSink(s)));
    });
  }

  get port(): number {
    return this.sock.address().port;
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}
