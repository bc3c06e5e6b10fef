import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/gateway.js';
import { Kamailio } from '../../devtools/kamailio.js';
import { payHangupScenario, payHeaders } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { refusedScenario } from '../support/trust-scenarios.js';

/**
 * Kamailio's profile (sip-profiles/kamailio/kamailio.cfg) at the trust boundary (docs/security.md):
 * `permissions` lets only the PBXes of its trusted-peers file send payment INVITEs; `pike` drops a
 * source that floods. Real Kamailio 5.6 (Debian package) in front of a real gateway.
 */
let gw: Gateway;
let kamailio: Kamailio;

beforeAll(async () => {
  ({ gw } = await startTestGateway());
  kamailio = await Kamailio.start({ gateways: [{ host: '127.0.0.1', port: gw.sipPort }], trusted: ['127.0.0.2/32'] });
});
afterAll(async () => {
  await kamailio?.stop();
  await gw?.close();
});

const target = () => `127.0.0.1:${kamailio.port}`;

describe('Kamailio permissions: payment INVITEs only from the trusted PBX', () => {
  it('an INVITE sip:pay from 127.0.0.1 gets 403 from Kamailio and never reaches a gateway', async () => {
    const r = await runSipp({ scenario: refusedScenario({ headers: payHeaders(), status: 403 }), target: target(), localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 15 }).done;
    expect(r.code, r.errors + r.stderr + kamailio.lines.slice(-10).join('\n')).toBe(0);
    expect(kamailio.lines.some((l) => /payment INVITE from untrusted 127\.0\.0\.1 refused/.test(l))).toBe(true);
    expect(await gw.store.list()).toEqual([]);
  });

  it('the same INVITE from the trusted PBX (127.0.0.2) is dispatched to the gateway and answered', async () => {
    const headers = payHeaders();
    const r = await runSipp({ scenario: payHangupScenario({ headers, steps: [{ pauseMs: 500 }] }), target: target(), localIp: '127.0.0.2', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20 }).done;
    expect(r.code, r.errors + r.stderr + kamailio.lines.slice(-10).join('\n')).toBe(0);
    expect((await gw.store.list({ orderRef: headers['X-Pay-Order-Ref']! })).length).toBe(1);
  });
});

describe('Kamailio pike: a flooding source is dropped, others are still served', () => {
  async function burst(from: string, n: number): Promise<number> {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, from, () => r()));
    const port = (sock.address() as { port: number }).port;
    let answered = 0;
    sock.on('message', (m) => {
      if (m.toString().startsWith('SIP/2.0 200')) answered++;
    });
    for (let i = 0; i < n; i++) {
      const b = `z9hG4bK-pike-${from}-${i}-${Date.now()}`;
      const msg = [
        `OPTIONS sip:${target()} SIP/2.0`, `Via: SIP/2.0/UDP ${from}:${port};branch=${b};rport`, `From: <sip:probe@${from}>;tag=${i}`,
        `To: <sip:${target()}>`, `Call-ID: ${b}`, `CSeq: 1 OPTIONS`, 'Max-Forwards: 70', 'Content-Length: 0', '', '',
      ].join('\r\n');
      sock.send(msg, kamailio.port, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 1500));
    sock.close();
    return answered;
  }

  it('200 OPTIONS in a burst from 127.0.0.3: the first are answered, then the source is blocked; 127.0.0.4 is still answered', async () => {
    const flooded = await burst('127.0.0.3', 200);
    expect(flooded).toBeGreaterThan(0);
    expect(flooded).toBeLessThan(200);
    expect(kamailio.lines.some((l) => /pike: flood from 127\.0\.0\.3 dropped/.test(l))).toBe(true);
    expect(await burst('127.0.0.4', 5)).toBe(5);
  });
});
