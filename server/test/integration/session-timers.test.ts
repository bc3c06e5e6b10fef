import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/calls/b2bua/call.js';
import { CallState } from '../../src/calls/b2bua/call-state.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';

/**
 * RFC 4028 session timers with real SIPp on both legs of a real gateway (SESSION_EXPIRES_S and
 * MIN_SE_S at 90, the smallest RFC 4028 4 allows; the media timeout off so only the session timer
 * can end a call). The SIPp scenarios check the headers themselves (ereg check_it): a wrong or
 * missing Session-Expires / Min-SE / Require fails the SIPp run.
 */
let gw: Gateway;
let logs: LogSink;
let target: string;

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ RING_TIMEOUT_S: '10', SESSION_EXPIRES_S: '90', MIN_SE_S: '90', MEDIA_TIMEOUT_S: '0' }));
});
afterAll(async () => {
  await gw?.close();
});

const ok = (r: SippResult, what: string): void => {
  expect(r.code, `${what} failed:\n${r.errors}\n${r.stderr}`).toBe(0);
};

async function agent(id: string, scenario: string) {
  const port = await freePort();
  const run = runSipp({ scenario, localPort: port, mediaPort: await freeMediaPort(), rtpEcho: true, timeoutS: 110 });
  const reg = await runSipp({
    scenario: 'register.xml', target, service: id, localPort: await freePort(),
    set: { contact_port: port, expires: 300 }, extra: ['-au', id, '-ap', 'demo'], timeoutS: 10,
  }).done;
  ok(reg, `REGISTER ${id}`);
  return run;
}

async function caller(scenario: string, service: string, timeoutS = 110) {
  return runSipp({ scenario, target, service, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS });
}

/** The next call the gateway takes: when it was confirmed (ACK in) and when and why it ended. */
function follow(): Promise<{ confirmedAt: Promise<number>; ended: Promise<{ at: number; reason: string }> }> {
  return new Promise((resolve) => {
    const off = gw.calls.events.on('call', (c: Call) => {
      off();
      resolve({
        confirmedAt: new Promise((r) => c.events.on('state', (s) => s === CallState.Confirmed && r(performance.now()))),
        ended: new Promise((r) => c.events.on('ended', (reason) => r({ at: performance.now(), reason }))),
      });
    });
  });
}

describe('RFC 4028 session timers', () => {
  it('a Session-Expires below Min-SE gets 422 with Min-SE: 90; the agent is never rung and no media is taken', async () => {
    // agent-3 is registered at a plain UDP socket that counts what reaches it.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    let received = 0;
    sock.on('message', () => received++);
    try {
      const reg = await runSipp({
        scenario: 'register.xml', target, service: 'agent-3', localPort: await freePort(),
        set: { contact_port: sock.address().port, expires: 300 }, extra: ['-au', 'agent-3', '-ap', 'demo'], timeoutS: 10,
      }).done;
      ok(reg, 'REGISTER agent-3');
      const before = gw.media.ports().allocated;
      ok(await (await caller('caller-422.xml', 'agent-3', 10)).done, 'caller (422 with Min-SE: 90)');
      await new Promise((r) => setTimeout(r, 500));
      expect(received).toBe(0);
      expect(gw.calls.calls.size).toBe(0);
      expect(gw.media.ports().allocated).toBe(before);
    } finally {
      sock.close();
    }
  });

  it('refreshes are sent at half the interval and answered on both legs; a missing refresh ends the call with BYE after 60 s', { timeout: 120_000 }, async () => {
    // Call 1: the caller asks the gateway to refresh (refresher=uas), so does the agent
    // (refresher=uac): the gateway's UPDATE goes to each at 45 s; then the caller hangs up.
    const ag1 = await agent('agent-1', 'agent-timer.xml');
    const f1 = follow();
    const c1 = await caller('caller-timer-refreshed.xml', 'agent-1');
    const call1 = await f1;
    // Call 2: the caller agreed to refresh (refresher=uac) and never does.
    const ag2 = await agent('agent-2', 'agent-patient.xml');
    const f2 = follow();
    const c2 = await caller('caller-timer-silent.xml', 'agent-2');
    const call2 = await f2;

    const t1 = await call1.confirmedAt;
    const e1 = await call1.ended;
    ok(await c1.done, 'caller 1 (got the UPDATE at half the interval, answered it, hung up)');
    ok(await ag1.done, 'agent 1 (got the UPDATE, answered it, then BYE)');
    expect(e1.reason).toBe('normal'); // the caller's own BYE, not an expiry
    expect(e1.at - t1).toBeGreaterThan(45_000);

    const t2 = await call2.confirmedAt;
    const e2 = await call2.ended;
    expect(e2.reason).toBe('session expired on the caller leg: no session refresh within 90 s (RFC 4028 10)');
    // RFC 4028 10: BYE at interval - min(32, interval/3) = 60 s after the session started.
    expect(e2.at - t2).toBeGreaterThanOrEqual(59_500);
    expect(e2.at - t2).toBeLessThan(64_000);
    ok(await c2.done, 'caller 2 (BYE after 60 s)');
    ok(await ag2.done, 'agent 2 (BYE after 60 s)');
    expect(gw.calls.calls.size).toBe(0);
    for (let i = 0; i < 30 && gw.media.ports().allocated > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(gw.media.ports().allocated).toBe(0);
    expect(logs.messages()).toContain('session timer expired: ending the call (RFC 4028 10)');
  });
});
