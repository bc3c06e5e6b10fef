import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { FakeClock } from '../support/fake-clock.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { pingOptions, TcpPeer, UdpPeer, viaReplyPort, waitUntil, type SipResponse } from '../support/sip-client.js';

/**
 * The 49 messages of RFC 4475 (server/test/fixtures/rfc4475, expectations in its README), sent as
 * exact bytes to a running gateway over UDP and over TCP. After each one an OPTIONS on a new
 * socket / connection must be answered 200, and nothing may be left behind.
 *
 * UDP: responses follow the message's own Via (RFC 3261 18.2.2: received = our address, the
 * sent-by port, 5060 by default), so each message is sent from a fresh loopback address on port
 * 5060 that also listens on the Via's port (quotbal says 5050).
 *
 * TCP, where it differs from UDP (RFC 3261 18.3: a stream is framed by Content-Length):
 *  - clerr: Content-Length 9999 exceeds the body, so the gateway waits for the rest: no reply; when
 *    we half-close, the gateway closes the connection (else its partial-message timer would).
 *  - ncl (Content-Length -999), mcl01 (two different Content-Lengths): the stream cannot be framed;
 *    the gateway closes the connection without a reply (no message boundary to answer within).
 *  - dblreq: the bytes after the REGISTER's empty body are a complete INVITE on a stream, so both
 *    are answered: 401 to the REGISTER, 480 to the INVITE (joe is not an agent: answered like an
 *    agent who is not registered, so agent ids cannot be enumerated, docs/security.md).
 *  - inv2543: no Content-Length, which a stream reads as an empty body: the INVITE is answered 480
 *    and its SDP lines stay an unfinished message until we half-close.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/rfc4475/', import.meta.url));
/** How long to wait for replies that may come (or must not). */
const WINDOW_MS = 300;
/** After the expected replies arrived: a little longer, to see any that should not. */
const GRACE_MS = 30;

type Kind = 'valid' | 'invalid' | 'robust' | 'response' | 'extension';
type Transport = 'UDP' | 'TCP';

interface Case {
  file: string;
  kind: Kind;
  /** Statuses of every response, in order; [] = no reply at all. */
  udp: number[];
  tcp?: number[];
  /** TCP: the gateway closes the connection by itself (framing error). */
  tcpClosedByGateway?: boolean;
  why: string;
  check?: (r: SipResponse) => void;
}

const header = (r: SipResponse, name: string): string => (r.headers[name] ?? []).join(', ');

const CASES: Case[] = [
  // 3.1.1 valid messages: processed normally, never 400.
  { file: 'wsinv', kind: 'valid', udp: [481], why: 'has a To tag: a re-INVITE for no dialog we know (RFC 3261 12.2.2)' },
  { file: 'intmeth', kind: 'valid', udp: [501], why: 'unknown method (RFC 3261 8.2.1)' },
  { file: 'esc01', kind: 'valid', udp: [480], why: 'INVITE for a user that is not an agent (answered like an unregistered one)' },
  { file: 'escnull', kind: 'valid', udp: [401], why: 'REGISTER without credentials is challenged' },
  { file: 'esc02', kind: 'valid', udp: [501], why: 'RE%47IST%45R is not REGISTER: unknown method' },
  { file: 'lwsdisp', kind: 'valid', udp: [200], why: 'OPTIONS' },
  { file: 'longreq', kind: 'valid', udp: [480], why: 'INVITE for a user that is not an agent (answered like an unregistered one)' },
  {
    file: 'dblreq', kind: 'valid', udp: [401], tcp: [401, 480],
    why: 'REGISTER challenged; UDP discards the bytes after Content-Length, TCP frames them as an INVITE',
  },
  { file: 'semiuri', kind: 'valid', udp: [200], why: 'OPTIONS' },
  { file: 'transports', kind: 'valid', udp: [200], why: 'OPTIONS' },
  { file: 'mpart01', kind: 'valid', udp: [405], why: 'MESSAGE is not offered here (Allow lists what is)', check: (r) => expect(header(r, 'allow')).toContain('INVITE') },
  { file: 'unreason', kind: 'response', udp: [], why: 'response matching no transaction: dropped' },
  { file: 'noreason', kind: 'response', udp: [], why: 'response matching no transaction: dropped' },
  // 3.1.2 invalid messages.
  { file: 'badinv01', kind: 'invalid', udp: [400], why: 'broken Via, answered at the packet source' },
  { file: 'clerr', kind: 'invalid', udp: [400], tcp: [], why: 'Content-Length larger than the body' },
  { file: 'scalar02', kind: 'invalid', udp: [400], why: 'CSeq number out of range' },
  { file: 'scalarlg', kind: 'response', udp: [], why: 'response with overlarge values: dropped' },
  { file: 'quotbal', kind: 'invalid', udp: [400], why: 'unbalanced quotes in To' },
  { file: 'ltgtruri', kind: 'invalid', udp: [400], why: 'Request-URI in <>' },
  { file: 'lwsruri', kind: 'invalid', udp: [400], why: 'LWS inside the Request-URI' },
  { file: 'lwsstart', kind: 'invalid', udp: [400], why: 'several SPs in the Request-Line' },
  { file: 'trws', kind: 'robust', udp: [400], why: 'trailing SPs after the version' },
  { file: 'escruri', kind: 'invalid', udp: [400], why: 'header fields in the Request-URI' },
  { file: 'baddate', kind: 'robust', udp: [480], why: 'tolerated non-GMT Date; INVITE for a user that is not an agent' },
  { file: 'regbadct', kind: 'robust', udp: [400], why: 'Contact URI with unquoted params and LWS' },
  { file: 'badaspec', kind: 'robust', udp: [400], why: 'addr-spec with a comma in the display name' },
  { file: 'baddn', kind: 'robust', udp: [400], why: 'unquoted display name with a comma' },
  { file: 'badvers', kind: 'invalid', udp: [505], why: 'SIP/7.0' },
  { file: 'mismatch01', kind: 'invalid', udp: [400], why: 'CSeq method differs from the Request-Line' },
  { file: 'mismatch02', kind: 'invalid', udp: [400], why: 'CSeq method differs from the Request-Line' },
  { file: 'multi01', kind: 'invalid', udp: [400], why: 'several single-value header fields' },
  { file: 'mcl01', kind: 'invalid', udp: [400], tcp: [], tcpClosedByGateway: true, why: 'two Content-Lengths' },
  { file: 'bcast', kind: 'response', udp: [], why: 'response with two Vias: dropped' },
  { file: 'bigcode', kind: 'response', udp: [], why: 'status code 4294967301: dropped' },
  { file: 'insuf', kind: 'invalid', udp: [400], why: 'mandatory header fields missing' },
  { file: 'ncl', kind: 'invalid', udp: [400], tcp: [], tcpClosedByGateway: true, why: 'negative Content-Length' },
  // 3.2 transaction layer.
  { file: 'badbranch', kind: 'valid', udp: [200], why: 'bare z9hG4bK branch: RFC 2543 matching' },
  // 3.3 application layer.
  { file: 'unkscm', kind: 'extension', udp: [416], why: 'unknown Request-URI scheme' },
  { file: 'novelsc', kind: 'extension', udp: [416], why: 'soap.beep Request-URI scheme' },
  { file: 'unksm2', kind: 'valid', udp: [401], why: 'unknown schemes in To/From/Contact are fine: REGISTER challenged' },
  {
    file: 'bext01', kind: 'extension', udp: [420], why: 'Require names unsupported extensions',
    check: (r) => {
      expect(header(r, 'unsupported')).toContain('nothingSupportsThis');
      expect(header(r, 'unsupported')).toContain('nothingSupportsThisEither');
    },
  },
  { file: 'invut', kind: 'extension', udp: [415], why: 'body type application/unknownformat', check: (r) => expect(header(r, 'accept')).toContain('application/sdp') },
  {
    file: 'regaut01', kind: 'extension', udp: [401], why: 'unknown auth scheme: challenged, never accepted',
    check: (r) => expect(header(r, 'www-authenticate')).toMatch(/^Digest /),
  },
  { file: 'zeromf', kind: 'valid', udp: [200], why: 'Max-Forwards 0 on an OPTIONS we answer ourselves (not forwarded)' },
  { file: 'cparam01', kind: 'valid', udp: [401], why: 'REGISTER challenged (contact params are the registrar unit tests\' business)' },
  { file: 'cparam02', kind: 'valid', udp: [401], why: 'REGISTER challenged' },
  { file: 'regescrt', kind: 'valid', udp: [401], why: 'REGISTER challenged' },
  { file: 'sdp01', kind: 'extension', udp: [406], why: 'Accept: text/nobodyKnowsThis rules out SDP (RFC 3261 21.4.7)' },
  // 3.4 backward compatibility.
  { file: 'inv2543', kind: 'valid', udp: [480], why: 'RFC 2543 INVITE, processed: not an agent' },
];

interface Result {
  file: string;
  transport: Transport;
  statuses: number[];
  reasons: string[];
  closedByGateway?: boolean;
  options: number | undefined;
}

const results: Result[] = [];
const clock = new FakeClock();
let gw: Gateway;
let logs: LogSink;

beforeAll(async () => {
  ({ gw, logs } = await startTestGateway({}, { clock }));
});

afterAll(async () => {
  await gw?.close();
  if (results.length === 0) return;
  const perCode = (t: Transport): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const r of results.filter((x) => x.transport === t)) {
      const key = r.statuses.length === 0 ? (r.closedByGateway ? 'closed' : 'none') : r.statuses.join('+');
      (out[key] ??= []).push(r.file);
    }
    return out;
  };
  const summary = { generatedAt: new Date().toISOString(), perCode: { UDP: perCode('UDP'), TCP: perCode('TCP') }, results };
  mkdirSync(`${ROOT}.test-results`, { recursive: true });
  writeFileSync(`${ROOT}.test-results/torture.json`, `${JSON.stringify(summary, null, 2)}\n`);
  const rows = results.map((r) => `${r.file.padEnd(11)} ${r.transport}  ${(r.statuses.join(',') || (r.closedByGateway ? 'closed' : '-')).padEnd(8)} OPTIONS ${r.options ?? '-'}`);
  console.log(`RFC 4475 torture results (file, transport, status, OPTIONS after):\n${rows.join('\n')}`);
  for (const t of ['UDP', 'TCP'] as const) {
    console.log(`${t}: ${Object.entries(perCode(t)).map(([k, v]) => `${k}: ${v.join(' ')}`).join(' | ')}`);
  }
});

describe('RFC 4475 fixtures', () => {
  it('the fixture set holds the 49 messages and the table covers each once', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.dat')).map((f) => f.slice(0, -4)).sort();
    expect(files).toHaveLength(49);
    expect(CASES.map((c) => c.file).sort()).toEqual(files);
  });
});

const describeName = (statuses: number[], closed?: boolean): string =>
  statuses.length === 0 ? (closed ? 'closes the connection without a reply' : 'draws no reply') : `is answered ${statuses.join(', ')}`;

const table = (t: Transport) =>
  CASES.map((c) => {
    const statuses = t === 'UDP' ? c.udp : (c.tcp ?? c.udp);
    const closed = t === 'TCP' && c.tcpClosedByGateway === true;
    return { ...c, statuses, closed, name: `${c.file} over ${t} ${describeName(statuses, closed)}` };
  });

/** Assertions every transport shares. */
function expectOutcome(c: Case & { statuses: number[] }, got: SipResponse[], options: number | undefined): void {
  const statuses = got.map((r) => r.status);
  // The README's classes first, so a failure says which rule broke.
  if (c.kind === 'valid') expect(statuses, 'a valid request is never refused for its syntax').not.toContain(400);
  if (c.kind === 'response') expect(statuses, 'a response is never answered').toEqual([]);
  if (c.file === 'regaut01') expect(statuses).not.toContain(200);
  expect(statuses, `${c.file}: ${c.why}`).toEqual(c.statuses);
  const final = got.find((r) => r.status >= 200);
  if (final && c.check) c.check(final);
  expect(options, 'OPTIONS right after is answered 200').toBe(200);
}

function fixture(file: string): Buffer {
  return readFileSync(`${FIXTURES}${file}.dat`);
}

/** Ends every transaction the message started, so the next file (some share a branch) starts clean. */
function flushTransactions(): void {
  clock.advance(5 * 60_000);
}

describe('RFC 4475 torture messages over UDP', () => {
  it.each(table('UDP'))('$name', async (c) => {
    const bytes = fixture(c.file);
    const peer = await UdpPeer.open([5060, viaReplyPort(bytes)]);
    try {
      await peer.send(bytes, gw.sipPort);
      if (c.statuses.length > 0) {
        await waitUntil(() => peer.responses().length >= c.statuses.length, WINDOW_MS);
        await new Promise((r) => setTimeout(r, GRACE_MS));
      } else {
        await new Promise((r) => setTimeout(r, WINDOW_MS));
      }
      // The gateway reads its one UDP socket in order: once the OPTIONS is answered, any reply to
      // the torture message has been sent too.
      const options = await pingOptions(gw.sipPort, 'UDP');
      const got = peer.responses();
      results.push({ file: c.file, transport: 'UDP', statuses: got.map((r) => r.status), reasons: got.map((r) => r.reason), options });
      expectOutcome(c, got, options);
    } finally {
      await peer.close();
      flushTransactions();
    }
  });
});

describe('RFC 4475 torture messages over TCP (a fresh connection each)', () => {
  it.each(table('TCP'))('$name', async (c) => {
    const bytes = fixture(c.file);
    const peer = await TcpPeer.connect(gw.sipPort);
    try {
      await peer.write(bytes);
      if (c.statuses.length > 0) {
        await waitUntil(() => peer.responses().length >= c.statuses.length || peer.closedByRemote, WINDOW_MS);
        await new Promise((r) => setTimeout(r, GRACE_MS));
      } else {
        await waitUntil(() => peer.closedByRemote, WINDOW_MS);
      }
      // A new connection works while this one is still open (clerr: half a message pending).
      const options = await pingOptions(gw.sipPort, 'TCP');
      const got = peer.responses();
      const closedByGateway = peer.closedByRemote;
      results.push({ file: c.file, transport: 'TCP', statuses: got.map((r) => r.status), reasons: got.map((r) => r.reason), closedByGateway, options });
      expectOutcome(c, got, options);
      expect(closedByGateway, 'the gateway closed the connection by itself').toBe(c.closed);
      // Our FIN: the gateway must close its side too, whatever it had buffered.
      expect(await peer.end()).toBe(true);
    } finally {
      peer.destroy();
      flushTransactions();
    }
  });
});

describe('after the torture messages', () => {
  it('no transaction, call, registration or connection is left, and nothing was logged at error level', async () => {
    flushTransactions();
    expect(gw.sip.stats().transactions).toBe(0);
    expect(gw.calls.calls.size).toBe(0);
    expect(gw.registrar.registeredAors()).toEqual([]);
    expect(await waitUntil(() => gw.sip.transport.stats().connections === 0, 2000)).toBe(true);
    expect(logs.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});
