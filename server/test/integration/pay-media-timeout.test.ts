import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payScenario } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * A transfer-mode payment whose customer goes silent mid-capture (its phone died, its BYE was
 * lost): the media timeout (MEDIA_TIMEOUT_S = 4 here) ends the call with BYE, the session is
 * abandoned with reason `media-timeout`, nothing is charged and the RTP ports are free again.
 * Real SIPp customer (RFC 2833 keys), real gateway, demo provider over HTTP.
 */
let gw: Gateway;
let logs: LogSink;
let target: string;
const events: SessionEvent[] = [];

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: '246810', MEDIA_TIMEOUT_S: '4' }));
  await gw.bus.subscribe((e) => void events.push(e));
});
afterAll(async () => {
  await gw?.close();
});

describe('media timeout during a payment', () => {
  it('a customer silent after the expiry: BYE, session abandoned with reason media-timeout, no charge, ports free', { timeout: 60_000 }, async () => {
    const headers = payHeaders();
    const orderRef = headers['X-Pay-Order-Ref']!;
    // Keys every 730 ms keep RTP (RFC 4733 events) flowing; after the expiry nothing more comes.
    const scenario = payScenario({ headers, steps: [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }], byeTimeoutMs: 20_000 });
    const r = await runSipp({ scenario, target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 50 }).done;
    expect(r.code, r.errors + r.stderr).toBe(0); // the gateway's BYE came and was answered
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
    const body = (await res.json()) as { sessions: { outcome: string; state: string }[] };
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]!.outcome).toBe('abandoned');
    const ended = events.find((e) => e.type === 'session.ended') as (SessionEvent & { reason?: string }) | undefined;
    expect(ended?.reason).toBe('media-timeout');
    expect(gw.payments.demo!.payments().filter((p) => JSON.stringify(p).includes(orderRef))).toHaveLength(0);
    expect(logs.messages()).toContain('media timeout: no RTP from the customer for 4 s: ending the payment call');
    for (let i = 0; i < 30 && gw.media.ports().allocated > 0; i++) await new Promise((res2) => setTimeout(res2, 100));
    expect(gw.media.ports().allocated).toBe(0);
    const everything = [...logs.lines, JSON.stringify(events)].join('\n');
    expect(everything).not.toContain('4111111111111111');
  });
});
