import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { waitUntil } from '../support/sip-client.js';
import { TestCa } from '../support/tls-certs.js';
import { RtpSink, WsSipAgent, tagOf, uriIn, type AgentDialog } from '../support/ws-sip-agent.js';

/**
 * What crosses the network on a SIP TLS leg (PCI DSS 4.2.1): a transfer-mode payment whose card,
 * expiry, CVV and OTP are keyed as SIP INFO digits (RFC 6086 legacy DTMF) by a customer on SIP over
 * TLS, while the real `tcpdump` captures the SIP TLS port on the loopback interface. The capture
 * holds TLS records and none of the SIP text, headers or digit bodies; the payment is paid.
 */
const OTP = '246810';
const PAN = '4111111111111111';
let gw: Gateway;
let logs: LogSink;
let ca: TestCa;
let rtp: RtpSink;

beforeAll(async () => {
  ca = TestCa.create();
  const cert = ca.issue('127.0.0.1');
  ({ gw, logs } = await startTestGateway({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, DEMO_OTP: OTP }, { config: { SIP_TLS_PORT: 0 } }));
  rtp = await RtpSink.open();
});
afterAll(async () => {
  await rtp?.close();
  await gw?.close();
});

/** tcpdump on lo for one TCP port, writing a pcap; resolves once it listens. */
async function capture(port: number): Promise<{ stop(): Promise<Buffer> }> {
  const file = join(mkdtempSync(join(tmpdir(), 'tg-pcap-')), 'sip-tls.pcap');
  const child = spawn('tcpdump', ['-i', 'lo', '-U', '-s', '0', '-w', file, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  if (!(await waitUntil(() => /listening on lo/.test(err) || child.exitCode !== null, 5_000, 20)) || child.exitCode !== null) {
    throw new Error(`tcpdump did not start (it needs root or CAP_NET_RAW): ${err}`);
  }
  return {
    stop: async () => {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
      return readFileSync(file);
    },
  };
}

const SDP = (port: number): string =>
  ['v=0', `o=customer ${Date.now()} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', ''].join('\r\n');

describe('a payment over SIP TLS, captured on the wire', () => {
  it('INFO digits of card, expiry, CVV and OTP are paid and the capture of the TLS port holds no SIP text and no digit', async () => {
    const pcap = await capture(gw.sipTlsPort!);
    const customer = await WsSipAgent.connectTls(gw.sipTlsPort!, { user: 'customer', password: 'x', ca: ca.cert });
    const orderRef = `ORD-TLS-${randomBytes(3).toString('hex')}`;
    const callId = randomBytes(10).toString('hex');
    const from = `<sips:customer@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`;
    let byeSeen = false;
    try {
      const ok = await customer.request(
        'INVITE',
        `sips:pay@127.0.0.1:${gw.sipTlsPort}`,
        [
          ['From', from], ['To', '<sips:pay@127.0.0.1>'], ['Call-ID', callId], ['CSeq', '1 INVITE'], ['Contact', customer.contact],
          ['X-Pay-Amount', '1499.00'], ['X-Pay-Currency', 'INR'], ['X-Pay-Merchant-Id', 'M-DEMO-01'], ['X-Pay-Order-Ref', orderRef],
          ['X-Pay-Customer-Mobile', '+919800000001'],
        ],
        { type: 'application/sdp', content: SDP(rtp.port) },
        10_000,
      );
      expect(ok.status).toBe(200);
      const d: AgentDialog = {
        callId, local: from, remote: ok.header('to')!, remoteTarget: uriIn(ok.header('contact')!), localSeq: 1, routeSet: ok.all('record-route').reverse(),
      };
      expect(tagOf(d.remote)).toBeDefined();
      // RFC 3261 13.2.2.4: ACK for the 2xx (no response to wait for).
      customer.send([`ACK ${d.remoteTarget} SIP/2.0`, `Via: SIP/2.0/TLS ${customer.host};branch=z9hG4bK${randomBytes(6).toString('hex')}`, 'Max-Forwards: 70',
        `From: ${d.local}`, `To: ${d.remote}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'));
      const key = async (digits: string): Promise<void> => {
        for (const k of digits) {
          const r = await customer.inDialog(d, 'INFO', [], { type: 'application/dtmf-relay', content: `Signal=${k}\r\nDuration=160\r\n` });
          expect(r.status).toBe(200);
          await new Promise((res) => setTimeout(res, 120));
        }
      };
      await new Promise((r) => setTimeout(r, 1500));
      await key(`${PAN}#`);
      await key('1230');
      await key('123');
      // Nothing typed before the OTP prompt counts as OTP: wait until the session asks for it.
      const otpAsked = async (): Promise<boolean> => (await gw.store.list({ orderRef }))[0]?.field === 'otp';
      for (const end = Date.now() + 15_000; !(await otpAsked()); ) {
        if (Date.now() > end) throw new Error('the session never reached the OTP step');
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 2500)); // the OTP prompt plays; digits during it count
      await key(OTP);
      const bye = await customer.nextRequest('BYE', 30_000);
      customer.respond(bye, 200);
      byeSeen = true;
      const [session] = await gw.store.list({ orderRef });
      expect(session?.outcome).toBe('paid');
      expect(session?.dtmfTransport).toBe('info');
    } finally {
      await customer.close();
    }
    const bytes = await pcap.stop();
    expect(byeSeen).toBe(true);
    const wire = bytes.toString('latin1');
    // The capture did see the exchange: many TLS application-data records (type 23, TLS 1.2/1.3 record version).
    const records = wire.split('\x17\x03\x03').length - 1;
    expect(records).toBeGreaterThan(20);
    // ...and none of it in clear: no SIP start line or header, no digit body, no card, no OTP.
    for (const clear of ['SIP/2.0', 'INFO sip', 'Signal=', 'dtmf-relay', 'X-Pay-', orderRef, 'Call-ID', callId, PAN, OTP]) {
      expect(wire.includes(clear), `"${clear}" in the capture`).toBe(false);
    }
    // Nor in the gateway's own log, and nothing went wrong there.
    expect(logs.lines.some((l) => l.includes(PAN) || l.includes('Signal='))).toBe(false);
    expect(logs.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});
