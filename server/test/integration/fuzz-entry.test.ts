import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../devtools/prng.js';
import type { Gateway } from '../../src/gateway.js';
import { FakeClock } from '../support/fake-clock.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { headerOf, optionsRequest, parseResponse, pingOptions, respondTo, TcpPeer, UdpPeer, waitUntil } from '../support/sip-client.js';

/**
 * Mutated traffic at the UDP and TCP entry points of a running gateway (fake clock for every
 * protocol timer; the transports' idle timers run on the system clock). The corpus is the 49
 * RFC 4475 messages plus what SIPp sends (INVITE with SDP to support and to agent-1, REGISTER,
 * OPTIONS, BYE, CANCEL, ACK, INFO, REFER, responses). agent-1 is registered for real (digest) by
 * a fake agent that answers the gateway's INVITEs with 486 or 200, so bridged calls start and end
 * during the storm. The gateway must survive, keep answering, log no errors, and hold no state
 * once the fake clock has run 5 minutes on. FUZZ_SEED=<n> replays another seeded run (the UDP
 * sequence is exact; TCP lanes interleave with the event loop).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed4475);
const UDP_MESSAGES = 20_000;
const TCP_MESSAGES = 2_000;
const TCP_LANES = 4;
/** Largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;
const FIXTURES = fileURLToPath(new URL('../fixtures/rfc4475/', import.meta.url));

/** Seeded (the tools' Mulberry32): picks mutations reproducibly. */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Corpus

interface Ctx {
  rng: Rng;
  /** Our address as written in Via/Contact (responses come back there). */
  me: { address: string; port: number };
  transport: 'UDP' | 'TCP';
  gwPort: number;
}

const SDP = [
  'v=0', 'o=sipp 42 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 6000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', '',
].join('\r\n');

function request(c: Ctx, method: string, user: string, opts: { toTag?: boolean; cseq?: number; extra?: string[]; body?: [string, string] } = {}): string {
  const { rng, me, transport } = c;
  const gw = `127.0.0.1:${c.gwPort}`;
  const body = opts.body?.[1] ?? '';
  return [
    `${method} sip:${user}@${gw} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${me.address}:${me.port};branch=z9hG4bK-${rng.hex(10)}`,
    `From: sipp <sip:sipp@${me.address}:${me.port}>;tag=${rng.hex(8)}`,
    `To: <sip:${user}@${gw}>${opts.toTag ? `;tag=${rng.hex(8)}` : ''}`,
    `Call-ID: ${rng.hex(12)}@${me.address}`,
    `CSeq: ${opts.cseq ?? 1 + rng.int(20)} ${method}`,
    `Contact: <sip:sipp@${me.address}:${me.port}${transport === 'TCP' ? ';transport=tcp' : ''}>`,
    'Max-Forwards: 70',
    'User-Agent: SIPp',
    ...(opts.extra ?? []),
    ...(opts.body ? [`Content-Type: ${opts.body[0]}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function response(c: Ctx, status: string, method: string, sdp = false): string {
  const { rng } = c;
  const body = sdp ? SDP : '';
  return [
    `SIP/2.0 ${status}`,
    `Via: SIP/2.0/${c.transport} 127.0.0.1:${c.gwPort};branch=z9hG4bK-${rng.hex(10)};rport`,
    `From: <sip:sipp@127.0.0.1:${c.gwPort}>;tag=${rng.hex(8)}`,
    `To: <sip:agent-1@127.0.0.1:${c.gwPort}>;tag=${rng.hex(8)}`,
    `Call-ID: ${rng.hex(12)}@127.0.0.1`,
    `CSeq: ${1 + rng.int(9)} ${method}`,
    `Contact: <sip:agent-1@${c.me.address}:${c.me.port}>`,
    ...(sdp ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const bogusAuth = (c: Ctx, user: string): string =>
  `Authorization: Digest username="${user}", realm="tonegate", nonce="${c.rng.hex(32)}", uri="sip:127.0.0.1:${c.gwPort}", ` +
  `response="${c.rng.hex(32)}", algorithm=MD5, opaque="${c.rng.hex(22)}", qop=auth, nc=00000001, cnonce="${c.rng.hex(8)}"`;

const payHeaders = ['X-Pay-Amount: 1499.00', 'X-Pay-Currency: INR', 'X-Pay-Merchant-Id: M-77', 'X-Pay-Order-Ref: ORD-123', 'X-Pay-Customer-Mobile: +919800000001'];

/** What SIPp and the other peers in e2e/ send, with fresh ids each time. */
const REALISTIC: readonly ((c: Ctx) => string)[] = [
  (c) => request(c, 'INVITE', 'support', { body: ['application/sdp', SDP], extra: ['Subject: Performance Test'] }),
  (c) => request(c, 'INVITE', 'agent-1', { body: ['application/sdp', SDP] }),
  (c) => request(c, 'INVITE', 'pay', { body: ['application/sdp', SDP], extra: payHeaders }),
  (c) => request(c, 'INVITE', 'agent-1', { toTag: true, body: ['application/sdp', SDP] }),
  (c) => request(c, 'REGISTER', 'agent-1', { extra: ['Expires: 300'] }).replace(/^REGISTER sip:agent-1@/, 'REGISTER sip:'),
  (c) => request(c, 'REGISTER', 'agent-2', { extra: ['Expires: 300', bogusAuth(c, 'agent-2')] }).replace(/^REGISTER sip:agent-2@/, 'REGISTER sip:'),
  (c) => request(c, 'REGISTER', 'agent-3', { extra: ['Expires: 0', bogusAuth(c, 'agent-3')] }).replace(/^REGISTER sip:agent-3@/, 'REGISTER sip:'),
  (c) => request(c, 'OPTIONS', 'support', { extra: ['Accept: application/sdp'] }),
  (c) => request(c, 'BYE', 'agent-1', { toTag: true }),
  (c) => request(c, 'CANCEL', 'support'),
  (c) => request(c, 'ACK', 'support', { toTag: true }),
  (c) => request(c, 'ACK', 'agent-1'),
  (c) => request(c, 'INFO', 'agent-1', { toTag: true, body: ['application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n'] }),
  (c) => request(c, 'REFER', 'agent-1', { toTag: true, extra: ['Refer-To: <sip:pay@127.0.0.1>', 'Referred-By: <sip:agent-1@127.0.0.1>', ...payHeaders] }),
  (c) => request(c, 'NOTIFY', 'agent-1', { toTag: true, extra: ['Event: refer', 'Subscription-State: active'], body: ['message/sipfrag', 'SIP/2.0 100 Trying'] }),
  (c) => request(c, 'MESSAGE', 'agent-1', { body: ['text/plain', 'hello'] }),
  (c) => response(c, '200 OK', 'INVITE', true),
  (c) => response(c, '180 Ringing', 'INVITE'),
  (c) => response(c, '486 Busy Here', 'INVITE'),
  (c) => response(c, '200 OK', 'BYE'),
  (c) => response(c, '100 Trying', 'INVITE'),
];

const TORTURE: readonly Buffer[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.dat'))
  .sort()
  .map((f) => readFileSync(`${FIXTURES}${f}`));

// ---------------------------------------------------------------------------------------------
// Mutations

const SPECIAL = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x3c, 0x3e, 0x22, 0x25, 0x5c, 0x40, 0x3d, 0xff, 0xc3, 0xe2, 0x7f];
const CRLF = Buffer.from('\r\n');

function lines(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let i = b.indexOf(CRLF); i >= 0; i = b.indexOf(CRLF, from)) {
    out.push(b.subarray(from, i));
    from = i + 2;
  }
  out.push(b.subarray(from));
  return out;
}
const joinLines = (ls: Buffer[]): Buffer => Buffer.concat(ls.flatMap((l, i) => (i === 0 ? [l] : [CRLF, l])));

type Mutator = (b: Buffer, r: Rng, corpus: () => Buffer) => Buffer;

const MUTATORS: Record<string, Mutator> = {
  flip: (b, r) => {
    const out = Buffer.from(b);
    for (let k = 1 + r.int(8); k > 0 && out.length > 0; k--) out[r.int(out.length)] ^= 1 + r.int(255);
    return out;
  },
  truncate: (b, r) => b.subarray(0, r.int(b.length + 1)),
  duplicateLine: (b, r) => {
    const ls = lines(b);
    const i = r.int(ls.length);
    ls.splice(i, 0, ls[i]!);
    return joinLines(ls);
  },
  deleteLine: (b, r) => {
    const ls = lines(b);
    ls.splice(r.int(ls.length), 1 + (r.chance(0.2) ? r.int(3) : 0));
    return joinLines(ls);
  },
  insertBytes: (b, r) => {
    const at = r.int(b.length + 1);
    const ins = Buffer.from(Array.from({ length: 1 + r.int(16) }, () => (r.chance(0.6) ? r.pick(SPECIAL) : r.int(256))));
    return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
  },
  hugeHeader: (b, r) => {
    const ls = lines(b);
    const size = r.pick([1_000, 8_000, 17_000, 40_000, 64_000]);
    const pattern = r.pick(['a', 'abc;=,<>"%@: ', 'sip:x@y;', '\\"', '%00', 'z9hG4bK']);
    const fill = pattern.repeat(Math.ceil(size / pattern.length)).slice(r.int(pattern.length), size);
    const i = 1 + r.int(Math.max(1, ls.length - 1));
    if (r.chance(0.5) && ls[i] && ls[i]!.includes(0x3a)) ls[i] = Buffer.concat([ls[i]!, Buffer.from(fill)]);
    else ls.splice(i, 0, Buffer.from(`${r.pick(['X-Huge', 'Via', 'To', 'Contact', 'Call-ID', 'Authorization', 'Require'])}: ${fill}`));
    return joinLines(ls);
  },
  crlfInject: (b, r) => {
    const at = r.int(b.length + 1);
    const ins = Buffer.from(r.pick(['\r\n', '\r\n\r\n', '\n', '\r', '\r\n ', '\r\n\t', '\r\n\r\n\r\n']));
    return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
  },
  contentLength: (b, r) => {
    const text = b.toString('latin1');
    const body = text.indexOf('\r\n\r\n') >= 0 ? b.length - text.indexOf('\r\n\r\n') - 4 : 0;
    const v = r.pick([`${body + 1 + r.int(100)}`, `${Math.max(0, body - 1 - r.int(50))}`, '0', '-1', '99999999999999999999', 'abc', '', ' 12 ', `${body}, ${body}`, '1e3', `${64 * 1024}`]);
    const replaced = text.replace(/\r\n(content-length|l)[ \t]*:[^\r\n]*/i, `\r\n$1: ${v}`);
    const out = replaced === text || r.chance(0.3) ? text.replace('\r\n', `\r\nContent-Length: ${v}\r\n`).replace('\r\n\r\n\r\n', '\r\n\r\n') : replaced;
    return Buffer.from(out, 'latin1');
  },
  startLine: (b, r) => {
    const ls = lines(b);
    const parts = ls[0]!.toString('latin1').split(' ');
    const i = r.int(parts.length);
    parts[i] = r.pick(['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'REFER', 'SIP/2.0', 'SIP/3.0', 'sip/2.0', '200', '180', '999', '0', 'sip:support@127.0.0.1', 'tel:+919800000001', '<sip:x@y>', '', 'SIP/2.0 200']);
    ls[0] = Buffer.from(parts.join(r.chance(0.8) ? ' ' : '  '), 'latin1');
    return joinLines(ls);
  },
  swapHeader: (b, r, corpus) => {
    const ls = lines(b);
    const donor = lines(corpus()).filter((l) => l.includes(0x3a));
    if (donor.length === 0 || ls.length < 2) return b;
    ls[1 + r.int(ls.length - 1)] = r.pick(donor);
    return joinLines(ls);
  },
  splice: (b, r, corpus) => {
    const o = corpus();
    return Buffer.concat([b.subarray(0, r.int(b.length + 1)), o.subarray(r.int(o.length + 1))]);
  },
  fold: (b, r) => {
    const at = b.indexOf(0x20, r.int(b.length + 1));
    if (at < 0) return b;
    return Buffer.concat([b.subarray(0, at), Buffer.from(`\r\n${r.pick([' ', '\t', '   '])}`), b.subarray(at + 1)]);
  },
  dropBlankLine: (b) => {
    const i = b.indexOf('\r\n\r\n');
    return i < 0 ? b : Buffer.concat([b.subarray(0, i), b.subarray(i + 2)]);
  },
  compactNames: (b) => Buffer.from(b.toString('latin1').replace(/\r\nVia:/g, '\r\nv:').replace(/\r\nCall-ID:/g, '\r\ni:').replace(/\r\nContent-Length:/g, '\r\nl:'), 'latin1'),
};
const MUTATOR_NAMES = Object.keys(MUTATORS);

/** A message from the corpus, mutated by 1-3 mutators (10% left intact). */
function nextMessage(c: Ctx, counts: Record<string, number>): Buffer {
  const pickCorpus = (): Buffer => (c.rng.chance(0.5) ? c.rng.pick(TORTURE) : Buffer.from(c.rng.pick(REALISTIC)(c)));
  let b = pickCorpus();
  if (c.rng.chance(0.1)) return b;
  for (let k = 1 + c.rng.int(3); k > 0; k--) {
    const name = c.rng.pick(MUTATOR_NAMES);
    counts[name] = (counts[name] ?? 0) + 1;
    b = MUTATORS[name]!(b, c.rng, pickCorpus);
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// A real agent-1: registers with digest auth and answers the gateway's requests.

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

class FakeAgent {
  invites = 0;
  /** Datagrams sent to the gateway (they count in its UDP statistics too). */
  sent = 0;
  private constructor(
    readonly peer: UdpPeer,
    private readonly gwPort: number,
  ) {
    peer.onDatagram = (m) => this.onMessage(m.toString('utf8'));
  }

  static async start(gwPort: number): Promise<FakeAgent> {
    return new FakeAgent(await UdpPeer.open([5060]), gwPort);
  }

  get contact(): string {
    return `sip:agent-1@${this.peer.address}:${this.peer.port}`;
  }

  private onMessage(text: string): void {
    const method = /^([A-Za-z]+) sip:/.exec(text)?.[1];
    if (!method || method === 'ACK') return; // responses (to our REGISTERs) are read by register()
    const tag = `agent${randomBytes(4).toString('hex')}`;
    let reply: string;
    if (method === 'INVITE') {
      // Two in three calls are refused, one is answered (and never ACKed by the fuzzing caller).
      reply = this.invites++ % 3 === 2
        ? respondTo(text, 200, 'OK', { toTag: tag, sdp: SDP.replace('6000', '6002'), headers: [`Contact: <${this.contact}>`] })
        : respondTo(text, 486, 'Busy Here', { toTag: tag });
    } else {
      reply = respondTo(text, 200, 'OK', { toTag: tag });
    }
    this.sent++;
    void this.peer.send(reply, this.gwPort).catch(() => {});
  }

  /** REGISTER, answer the challenge (RFC 2617 without qop), return the final status. */
  async register(gwPort: number, expires: number): Promise<number | undefined> {
    const callId = `${randomBytes(8).toString('hex')}@${this.peer.address}`;
    const send = async (cseq: number, auth?: string): Promise<string | undefined> => {
      const before = this.peer.received.length;
      const text = [
        `REGISTER sip:127.0.0.1:${gwPort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${this.peer.address}:${this.peer.port};branch=z9hG4bK-${randomBytes(6).toString('hex')};rport`,
        'Max-Forwards: 70',
        `From: <sip:agent-1@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
        'To: <sip:agent-1@127.0.0.1>',
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        // Expires 0 with `Contact: *` removes every binding of agent-1 (RFC 3261 10.2.2).
        expires === 0 ? 'Contact: *' : `Contact: <${this.contact}>`,
        `Expires: ${expires}`,
        ...(auth ? [auth] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      this.sent++;
      await this.peer.send(text, gwPort);
      await waitUntil(() => this.peer.received.slice(before).some((m) => (parseResponse(m.toString())?.status ?? 0) >= 200), 2000);
      return this.peer.received.slice(before).map((m) => m.toString()).find((m) => (parseResponse(m)?.status ?? 0) >= 200);
    };
    const challenge = await send(1);
    const www = challenge && headerOf(challenge, 'www-authenticate');
    const nonce = www && /nonce="([^"]+)"/.exec(www)?.[1];
    const opaque = www && /opaque="([^"]+)"/.exec(www)?.[1];
    if (!nonce) return challenge ? parseResponse(challenge)?.status : undefined;
    const uri = `sip:127.0.0.1:${gwPort}`;
    const res = md5(`${md5('agent-1:tonegate:demo')}:${nonce}:${md5(`REGISTER:${uri}`)}`);
    const auth = `Authorization: Digest username="agent-1", realm="tonegate", nonce="${nonce}", uri="${uri}", response="${res}", algorithm=MD5${opaque ? `, opaque="${opaque}"` : ''}`;
    const ok = await send(2, auth);
    return ok ? parseResponse(ok)?.status : undefined;
  }
}

// ---------------------------------------------------------------------------------------------

const clock = new FakeClock();
let gw: Gateway;
let logs: LogSink;
let agent: FakeAgent;
const processProblems: string[] = [];
const onRejection = (err: unknown): void => void processProblems.push(`unhandledRejection: ${String(err)}`);
const onException = (err: unknown): void => void processProblems.push(`uncaughtException: ${String(err)}`);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  // RING_TIMEOUT_S low so an unanswered agent leg does not outlive the final 5 fake minutes.
  ({ gw, logs } = await startTestGateway({ LOG_LEVEL: 'info', RING_TIMEOUT_S: '10' }, { clock }));
  agent = await FakeAgent.start(gw.sipPort);
});

afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  await agent?.peer.close();
  await gw?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const onlyLineEnds = (b: Buffer): boolean => b.every((x) => x === 0x0d || x === 0x0a);

describe('mutated traffic at the SIP entry points', () => {
  it('survives 20,000 UDP datagrams and 2,000 TCP messages, keeps answering, and leaves no state behind', async () => {
    const started = Date.now();
    expect(await agent.register(gw.sipPort, 3600)).toBe(200);
    expect(gw.registrar.registeredAors()).toEqual(['agent-1']);
    const mutations: Record<string, number> = {};
    const peak = { transactions: 0, calls: 0 };
    const watch = (): void => {
      peak.transactions = Math.max(peak.transactions, gw.sip.stats().transactions);
      peak.calls = Math.max(peak.calls, gw.calls.calls.size);
    };
    const callsSeen = { n: 0 };
    gw.calls.events.on('call', () => void callsSeen.n++);

    // --- UDP: paced in batches; each batch waits until the gateway has read it (same process).
    const udp = await UdpPeer.open([5060]);
    const uctx: Ctx = { rng: new Rng(SEED), me: { address: udp.address, port: 5060 }, transport: 'UDP', gwPort: gw.sipPort };
    const t0 = gw.sip.transport.stats();
    const agentSent0 = agent.sent;
    let barriersSent = 0;
    const seen = (): number => {
      const s = gw.sip.transport.stats();
      return s.udpReceived - t0.udpReceived + s.udpOversizeDropped - t0.udpOversizeDropped - barriersSent - (agent.sent - agentSent0);
    };
    // Barrier: the gateway reads its one UDP socket in order, so once an OPTIONS sent after a batch
    // is answered, the whole batch has been read (or dropped by the kernel, which `seen` shows).
    const barrier = await UdpPeer.open([0]);
    const sync = async (n: number): Promise<boolean> => {
      const cid = `barrier-${n}-${randomBytes(4).toString('hex')}`;
      barrier.received.splice(0);
      barriersSent++;
      await barrier.send(optionsRequest({ address: barrier.address, port: barrier.port }, 'UDP', 'ping', cid), gw.sipPort);
      return waitUntil(() => barrier.received.some((m) => m.includes(cid)), 1000, 1);
    };
    let udpSent = 0;
    let udpExpected = 0;
    let barriersMissed = 0;
    let carry: Buffer | undefined;
    while (udpSent < UDP_MESSAGES) {
      // Up to 64 datagrams or 48 KB a batch (the gateway socket's receive buffer is ~208 KB, and a
      // big datagram takes about twice its size there).
      let bytes = 0;
      const pending: Promise<void>[] = [];
      for (let n = 0; n < 64 && udpSent < UDP_MESSAGES; n++) {
        let dg = carry ?? nextMessage(uctx, mutations);
        carry = undefined;
        if (dg.length > MAX_DATAGRAM) dg = dg.subarray(0, MAX_DATAGRAM);
        if (n > 0 && bytes + dg.length > 48 * 1024) {
          carry = dg;
          break;
        }
        pending.push(udp.send(dg, gw.sipPort));
        udpSent++;
        bytes += dg.length;
        if (!onlyLineEnds(dg)) udpExpected++; // CRLF keep-alives are not counted by the transport
      }
      await Promise.all(pending);
      if (!(await sync(udpSent))) barriersMissed++;
      clock.advance(250); // protocol timers run during the storm too
      watch();
    }
    await barrier.close();
    const udpSeconds = (Date.now() - started) / 1000;
    const udpAnswered = udp.received.length;
    const udpLost = udpExpected - seen();

    // --- TCP: four lanes, each a connection carrying batches of 1-8 messages written in random
    // segments, then an OPTIONS. No 200 to it means a mutation broke the stream's framing (the
    // gateway closed it, or it waits for body bytes): that connection is dropped, a new one opened.
    const tcpStats = { sent: 0, answered: 0, connections: 0, closedByGateway: 0, stalled: 0 };
    const lane = async (id: number, count: number): Promise<void> => {
      const rng = new Rng(SEED + 1 + id);
      let conn = await TcpPeer.connect(gw.sipPort);
      tcpStats.connections++;
      for (let i = 0; i < count; ) {
        const ctx: Ctx = { rng, me: { address: '127.0.0.1', port: conn.localPort }, transport: 'TCP', gwPort: gw.sipPort };
        const parts: Buffer[] = [];
        for (let k = 1 + rng.int(8); k > 0 && i < count; k--, i++) parts.push(nextMessage(ctx, mutations));
        tcpStats.sent += parts.length;
        const stream = Buffer.concat(parts);
        // Segment splits: 1 to 12 writes, some a single byte, with a turn of the event loop between.
        const cuts = Array.from({ length: rng.int(12) }, () => rng.int(stream.length + 1)).sort((a, b) => a - b);
        let from = 0;
        for (const to of [...cuts, stream.length]) {
          if (to > from) await conn.write(stream.subarray(from, to));
          from = to;
          await new Promise((r) => setImmediate(r));
          if (conn.closedByRemote) break;
        }
        const sentinel = `sentinel-${id}-${i}-${rng.hex(6)}`;
        if (!conn.closedByRemote) await conn.write(optionsRequest(ctx.me, 'TCP', 'ping', sentinel));
        let synced = false;
        await waitUntil(() => {
          for (const r of conn.take()) {
            if (r.status === 200 && (r.headers['call-id'] ?? []).includes(sentinel)) synced = true;
            else tcpStats.answered++;
          }
          return synced || conn.closedByRemote;
        }, 150, 2);
        if (!synced) {
          if (conn.closedByRemote) tcpStats.closedByGateway++;
          else tcpStats.stalled++;
          conn.destroy();
          conn = await TcpPeer.connect(gw.sipPort);
          tcpStats.connections++;
        }
        clock.advance(100);
        watch();
      }
      conn.destroy();
    };
    await Promise.all(Array.from({ length: TCP_LANES }, (_, i) => lane(i, TCP_MESSAGES / TCP_LANES)));
    const tcpSeconds = (Date.now() - started) / 1000 - udpSeconds;

    // --- After the storm: alive and answering on both transports.
    expect(await pingOptions(gw.sipPort, 'UDP')).toBe(200);
    expect(await pingOptions(gw.sipPort, 'TCP')).toBe(200);
    expect(await waitUntil(() => gw.sip.transport.stats().connections === 0, 3000)).toBe(true);

    // Only agent-1's own binding: no mutated REGISTER authenticated or touched it.
    expect(gw.registrar.registeredAors()).toEqual(['agent-1']);
    expect(gw.registrar.bindings('agent-1').map((b) => b.uri)).toEqual([agent.contact]);
    expect(await agent.register(gw.sipPort, 0)).toBe(200);

    // Five minutes of protocol time, a second at a time, letting async work (media set-up) run.
    for (let s = 0; s < 300; s++) {
      clock.advance(1000);
      if (s % 10 === 0) await sleep(2);
    }
    await sleep(50);
    clock.advance(1000);
    await sleep(20);

    const stack = gw.sip.stats();
    const statuses: Record<string, number> = {};
    for (const m of udp.received) {
      const s = parseResponse(m.toString('latin1'))?.status;
      const k = s === undefined ? 'requests' : `${Math.floor(s / 100)}xx`;
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    await udp.close();
    const errors = logs.lines.filter((l) => /"level":(50|60)/.test(l));
    console.log(
      [
        `fuzz seed ${SEED}: ${((Date.now() - started) / 1000).toFixed(1)} s (UDP ${udpSeconds.toFixed(1)} s, TCP ${tcpSeconds.toFixed(1)} s)`,
        `UDP: sent ${udpSent} in ${barriersSent} batches, read by the gateway ${seen()}, lost in the kernel ${udpLost}, answered ${udpAnswered} ${JSON.stringify(statuses)}, batch barriers unanswered ${barriersMissed}`,
        `TCP: sent ${tcpStats.sent} messages on ${tcpStats.connections} connections (closed by the gateway on a framing error ${tcpStats.closedByGateway}, ` +
          `waiting for bytes that never came ${tcpStats.stalled}), answered ${tcpStats.answered}`,
        `stack: received ${stack.received}, rejected ${stack.rejected}, dropped ${stack.dropped}, retransmissions absorbed ${stack.retransmissionsAbsorbed}, transactions now ${stack.transactions}`,
        `transport: ${JSON.stringify(gw.sip.transport.stats())}`,
        `calls bridged to agent-1: ${callsSeen.n} (agent saw ${agent.invites} INVITEs); peak transactions ${peak.transactions}, peak calls ${peak.calls}`,
        `mutations: ${JSON.stringify(mutations)}`,
        `error-level log lines: ${errors.length}${errors.length ? `\n${errors.slice(0, 5).join('\n')}` : ''}`,
      ].join('\n'),
    );

    expect(processProblems).toEqual([]);
    expect(errors).toEqual([]);
    expect(udpSent).toBeGreaterThanOrEqual(20_000);
    expect(tcpStats.sent).toBeGreaterThanOrEqual(2_000);
    expect(callsSeen.n, 'some INVITEs were bridged to agent-1').toBeGreaterThan(0);
    expect(stack.transactions).toBe(0);
    expect(gw.calls.calls.size).toBe(0);
    expect(gw.registrar.registeredAors()).toEqual([]);
    // The gateway must have read (nearly) everything: pacing keeps the kernel from dropping.
    expect(udpLost).toBeLessThan(UDP_MESSAGES / 100);
  });
});
