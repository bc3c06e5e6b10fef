import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/calls/b2bua/call.js';
import { CallState } from '../../src/calls/b2bua/call-state.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';

/**
 * Calls that would otherwise never end (docs/architecture.md, "Timers that end stuck calls"), with
 * real SIPp on both sides of a real gateway: a caller that never ACKs our 200 (RFC 3261 13.3.1.4,
 * RFC 6026 7.1: RFC timer values, T1 = 500 ms, so 64*T1 = 32 s), and a caller whose BYE is lost
 * (the media timeout, MEDIA_TIMEOUT_S = 3 here). Each ends with BYE on both legs, /healthz counting
 * no call and every RTP port pair free again.
 */
let gw: Gateway;
let logs: LogSink;
let target: string;
const MEDIA_TIMEOUT_S = 3;

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ RING_TIMEOUT_S: '10', MEDIA_TIMEOUT_S: String(MEDIA_TIMEOUT_S) }));
});
afterAll(async () => {
  await gw?.close();
});

const ok = (r: SippResult, what: string): void => {
  expect(r.code, `${what} failed:\n${r.errors}\n${r.stderr}`).toBe(0);
};

async function agent(id: string, timeoutS: number) {
  const port = await freePort();
  const run = runSipp({ scenario: 'agent-patient.xml', localPort: port, mediaPort: await freeMediaPort(), rtpEcho: true, timeoutS });
  const reg = await runSipp({
    scenario: 'register.xml', target, service: id, localPort: await freePort(),
    set: { contact_port: port, expires: 300 }, extra: ['-au', id, '-ap', 'demo'], timeoutS: 10,
  }).done;
  ok(reg, `REGISTER ${id}`);
  return run;
}

/** Follows the next call: when it was answered (our 200 sent) and when and why it ended. */
function follow(): Promise<{ answeredAt: Promise<number>; ended: Promise<{ at: number; reason: string }> }> {
  return new Promise((resolve) => {
    const off = gw.calls.events.on('call', (c: Call) => {
      off();
      resolve({
        answeredAt: new Promise((r) => c.events.on('state', (s) => s === CallState.Answered && r(performance.now()))),
        ended: new Promise((r) => c.events.on('ended', (reason) => r({ at: performance.now(), reason }))),
      });
    });
  });
}

interface Health {
  details: { calls: number; payments: number; rtpPorts?: { allocated: number; capacity: number } };
}

async function health(): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
  return (await res.json()) as Health;
}

/** Waits (up to `ms`) until /healthz counts no call and no RTP port pair in use; returns the last answer. */
async function drained(ms: number): Promise<Health> {
  const until = performance.now() + ms;
  let h = await health();
  while ((h.details.calls !== 0 || h.details.rtpPorts?.allocated !== 0) && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    h = await health();
  }
  return h;
}

describe('stuck calls end on their own', () => {
  it('a caller that never ACKs our 200: 2xx retransmitted, after 64*T1 BYE on both legs, ports free (RFC 6026 7.1)', { timeout: 60_000 }, async () => {
    const ag = await agent('agent-1', 50);
    const followed = follow();
    const caller = runSipp({ scenario: 'caller-no-ack.xml', target, service: 'agent-1', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 50 });
    const f = await followed;
    const answeredAt = await f.answeredAt;
    expect((await health()).details.calls).toBe(1);
    expect((await health()).details.rtpPorts?.allocated).toBe(2);
    const ended = await f.ended;
    const waited = ended.at - answeredAt;
    // 13.3.1.4: given up after 64*T1 = 32 s (not before), well within 40 s.
    expect(waited).toBeGreaterThanOrEqual(31_500);
    expect(waited).toBeLessThan(40_000);
    expect(ended.reason).toMatch(/no ACK for our 2xx/);
    ok(await caller.done, 'caller (BYE after Timer L)');
    ok(await ag.done, 'agent (ACK then BYE)');
    const h = await drained(3_000);
    expect(h.details).toMatchObject({ calls: 0, rtpPorts: { allocated: 0 } });
    // 13.3.1.4: the 2xx was retransmitted (T1, 2*T1 ... capped at T2) while the ACK was awaited:
    // about 10 in 32 s. SIPp's final screen counts them: "200 <---- messages retransmissions ...".
    const r = await caller.done;
    const row = /^\s*200 <-+\s+(\d+)\s+(\d+)/m.exec(r.stdout);
    expect(row, r.stdout).not.toBeNull();
    expect(Number(row![2])).toBeGreaterThanOrEqual(7);
  });

  it("a caller whose BYE is lost: media stops, the call is ended after MEDIA_TIMEOUT_S with BYE on both legs and a logged reason", { timeout: 60_000 }, async () => {
    const ag = await agent('agent-2', 40);
    const followed = follow();
    const caller = runSipp({ scenario: 'caller-lost-bye.xml', target, service: 'agent-2', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 40 });
    const f = await followed;
    const answeredAt = await f.answeredAt;
    const ended = await f.ended;
    expect(ended.reason).toBe(`media timeout: no RTP from the customer leg for ${MEDIA_TIMEOUT_S} s`);
    // SIPp's recording lasts about 7 s: the call must live through it (RTP flowing is never a timeout).
    expect(ended.at - answeredAt).toBeGreaterThan(7_000);
    ok(await caller.done, 'caller (BYE from the gateway)');
    ok(await ag.done, 'agent (BYE from the gateway)');
    const h = await drained(3_000);
    expect(h.details).toMatchObject({ calls: 0, rtpPorts: { allocated: 0 } });
    expect(logs.messages()).toContain(`media timeout: no RTP from the customer leg for ${MEDIA_TIMEOUT_S} s: ending the call`);
  });
});
