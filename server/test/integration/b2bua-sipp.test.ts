import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/calls/b2bua/call.js';
import type { Gateway } from '../../src/gateway.js';
import type { BridgeStats, LegStats } from '../../src/media/plane.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';

/**
 * Real SIPp (Debian sip-tester) as caller and as registered agent, through a real gateway.
 * Each SIPp run must end with exit code 0 (every call of its scenario succeeded).
 */
let gw: Gateway;
let logs: LogSink;
let target: string;

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ RING_TIMEOUT_S: '10' }));
});
afterAll(async () => {
  await gw?.close();
});

const ok = (r: SippResult, what: string): void => {
  expect(r.code, `${what} failed:\n${r.errors}\n${r.stderr}`).toBe(0);
};

async function register(agent: string, contactPort: number, transport: 'u1' | 't1' = 'u1', password = 'demo'): Promise<SippResult> {
  return runSipp({
    scenario: 'register.xml',
    target,
    service: agent,
    transport,
    localPort: await freePort(),
    set: { contact_port: contactPort, expires: 300 },
    extra: ['-au', agent, '-ap', password],
    timeoutS: 10,
  }).done;
}

/** Starts a SIPp agent (UAS) on a fresh port and registers it. */
async function agent(id: string, scenario: string, opts: { rtpEcho?: boolean } = {}) {
  const port = await freePort();
  const run = runSipp({
    scenario,
    localPort: port,
    mediaPort: await freeMediaPort(),
    rtpEcho: opts.rtpEcho ?? false,
    timeoutS: 30,
  });
  ok(await register(id, port), `REGISTER ${id}`);
  return run;
}

async function caller(scenario: string, service: string, transport: 'u1' | 't1' = 'u1'): Promise<SippResult> {
  return runSipp({ scenario, target, service, transport, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 30 }).done;
}

function nextCall(): Promise<Call> {
  return new Promise((resolve) => {
    const off = gw.calls.events.on('call', (c) => {
      off();
      resolve(c);
    });
  });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50 && gw.calls.calls.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(gw.calls.calls.size).toBe(0);
}

describe('SIPp through the gateway', () => {
  it('a caller with no registered agent gets 480 for support', async () => {
    ok(await caller('caller-480.xml', 'support'), 'caller');
  });

  it('an unknown user gets 480, the same answer as an agent who is not registered (no enumeration)', async () => {
    ok(await caller('caller-480.xml', 'nobody-here'), 'caller');
    ok(await caller('caller-480.xml', 'agent-3'), 'caller');
  });

  it('REGISTER without credentials is challenged with 401', async () => {
    ok(await runSipp({ scenario: 'register-noauth.xml', target, service: 'agent-1', localPort: await freePort(), timeoutS: 10 }).done, 'register');
    expect(gw.registrar.isRegistered('agent-1')).toBe(false);
  });

  it('REGISTER with a wrong password is refused with 403 and registers nothing', async () => {
    const r = await runSipp({
      scenario: 'register-wrong.xml', target, service: 'agent-2', localPort: await freePort(), timeoutS: 10, extra: ['-au', 'agent-2', '-ap', 'wrong'],
    }).done;
    ok(r, 'register');
    expect(gw.registrar.isRegistered('agent-2')).toBe(false);
  });

  it('a call is bridged to the registered agent and RTP from SIPp pcap reaches the agent and comes back', async () => {
    const a = await agent('agent-1', 'agent.xml', { rtpEcho: true });
    expect(gw.registrar.isRegistered('agent-1')).toBe(true);
    const callSeen = nextCall();
    const c = caller('caller.xml', 'agent-1');
    const call = await callSeen;
    // The bridge's counters, read while the call is up (the bridge is gone once it ends).
    let last: BridgeStats | undefined;
    const poll = setInterval(() => {
      if (call.media && !call.ended) call.media.bridge.stats().then((st) => (last = st), () => {});
    }, 200);
    try {
      ok(await c, 'caller');
      ok(await a.done, 'agent');
    } finally {
      clearInterval(poll);
    }
    await settle();
    const leg = (id: string): LegStats => last!.legs.find((l) => l.id === id)!;
    const [customer, agentLeg] = [leg('customer'), leg('agent')];
    // g711a.pcap sends 30 ms packets; 3 s of call carry ~100 of them, all accepted as audio.
    expect(customer.rx.packets).toBeGreaterThan(50);
    expect(customer.codec).toBe('pcma');
    expect(customer.latched).not.toBeNull();
    expect(customer.rx.malformed + customer.rx.wrongSource + customer.rx.wrongPayloadType).toBe(0);
    // The agent leg was sent the call's audio, and the agent's SIPp echoes what it receives:
    // packets back on the agent leg prove they reached it.
    expect(agentLeg.tx.packets).toBeGreaterThan(50);
    expect(agentLeg.rx.packets).toBeGreaterThan(50);
    expect(agentLeg.rx.malformed + agentLeg.rx.wrongSource + agentLeg.rx.wrongPayloadType).toBe(0);
  });

  it('support rings a free agent', async () => {
    const a = await agent('agent-3', 'agent.xml');
    ok(await caller('caller.xml', 'support'), 'caller');
    ok(await a.done, 'agent');
    await settle();
  });

  it('CANCEL before answer reaches the agent and the caller gets 487', async () => {
    const a = await agent('agent-1', 'agent-ring.xml');
    ok(await caller('caller-cancel.xml', 'agent-1'), 'caller');
    ok(await a.done, 'agent');
    await settle();
  });

  it('BYE from the agent side ends both legs', async () => {
    const a = await agent('agent-1', 'agent-bye.xml');
    ok(await caller('caller-wait-bye.xml', 'agent-1'), 'caller');
    ok(await a.done, 'agent');
    await settle();
  });

  it('a caller over TCP reaches a UDP agent', async () => {
    const a = await agent('agent-2', 'agent.xml');
    ok(await caller('caller.xml', 'agent-2', 't1'), 'caller');
    ok(await a.done, 'agent');
    await settle();
  });

  it('an agent registers over TCP', async () => {
    ok(await register('agent-3', await freePort(), 't1'), 'register');
  });

  it('a busy agent gets 486 for a second direct call, and the gateway logged no errors', async () => {
    const a = await agent('agent-1', 'agent-bye.xml');
    const first = caller('caller-wait-bye.xml', 'agent-1');
    await new Promise((r) => setTimeout(r, 500));
    const second = await runSipp({
      scenario: 'caller-480.xml', target, service: 'agent-1', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 10,
    }).done;
    // caller-480 expects 480; a busy agent answers 486, which SIPp reports as an unexpected message.
    expect(second.errors).toContain('486 Busy Here');
    ok(await first, 'caller');
    ok(await a.done, 'agent');
    await settle();
    const errors = logs.lines.filter((l) => l.includes('"level":50') || l.includes('"level":60'));
    expect(errors).toEqual([]);
  });
});
