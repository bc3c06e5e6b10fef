import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payScenario } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

const OTP = '246810';
let gw: Gateway;
let logs: LogSink;
let target: string;
const events: SessionEvent[] = [];

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP }));
  await gw.bus.subscribe((e) => void events.push(e));
});
afterAll(async () => {
  await gw?.close();
});

async function pay(headers: Record<string, string>, steps: Parameters<typeof payScenario>[0]['steps']) {
  const scenario = payScenario({ headers, steps });
  return runSipp({ scenario, target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
}

describe('transfer mode: SIPp calls sip:pay@gateway and keys the card by RFC 2833', () => {
  it('a Visa card with the right OTP is paid, and nothing but first 6 / last 4 leaves capture', async () => {
    const headers = payHeaders();
    const orderRef = headers['X-Pay-Order-Ref']!;
    const r = await pay(headers, [
      { pauseMs: 1500 },
      { keys: '4111111111111111#' },
      { keys: '1230' },
      { keys: '123' },
      { pauseMs: 9000 },
      { keys: OTP },
    ]);
    expect(r.code, r.errors + r.stderr + logs.lines.filter((l) => /"level":(40|50)/.test(l)).join('\n')).toBe(0);
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
    const body = (await res.json()) as { sessions: { outcome: string; card: unknown; dtmfTransport: string }[] };
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    const charges = gw.payments.demo!.payments().filter((p) => JSON.stringify(p).includes(orderRef));
    expect(charges).toHaveLength(1);
    // Leak scan: logs, events, REST answers and the store never hold the PAN, the CVV or the OTP.
    const everything = [...logs.lines, JSON.stringify(events), JSON.stringify(body), JSON.stringify(await gw.store.list())].join('\n');
    for (const secret of ['4111111111111111', '111111111111', OTP]) expect(everything).not.toContain(secret);
  });
});
