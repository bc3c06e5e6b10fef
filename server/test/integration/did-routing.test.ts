import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { encodeUui, signHandoff } from '../../src/handoff/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payRefusedScenario, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { WsSipAgent } from '../support/ws-sip-agent.js';
import { agentReferScenario, registerScenario } from '../support/agent-refer-scenario.js';

/**
 * Routing by number plan (README, "Routing") and every handoff profile end to end: real SIPp
 * customers call DIDs of the gateway's number plan (or sip:pay-<code>@), key a test card by
 * RFC 2833, and the embedded demo provider is paid over HTTP. Each call is checked through the
 * REST API (`GET /api/sessions?orderRef=`), and the gateway's log never holds the card number.
 */

const OTP = '246810';
const KEY = 'did-routing-hmac-key-0123456789';
const PAN = '4111111111111111';
/** Greeting barged in, card, expiry, CVV (type-ahead), then the OTP once its prompt plays. */
const KEYS: PayStep[] = [{ pauseMs: 1500 }, { keys: `${PAN}#` }, { keys: '1230' }, { keys: '123' }, { pauseMs: 4000 }, { keys: OTP }];

interface Gw {
  gw: Gateway;
  logs: LogSink;
  target: string;
}

async function call(g: Gw, user: string, headers: Record<string, string>, steps: PayStep[] = KEYS): Promise<SippResult> {
  const scenario = payScenario({ user, headers, steps });
  return runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
}

interface RestSession {
  outcome: string | null;
  orderRef: string;
  amount: string;
  card: { brand: string; first6: string; last4: string } | null;
}

/** The sessions of an order, through the REST API with the supervisor token. */
async function sessions(g: Gw, orderRef: string): Promise<RestSession[]> {
  const res = await fetch(`http://127.0.0.1:${g.gw.httpPort}/api/sessions?orderRef=${encodeURIComponent(orderRef)}`, { headers: { authorization: `Bearer ${g.gw.supervisorToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { sessions: RestSession[] }).sessions;
}

/** The call ended `paid` with the Visa test card (first 6 / last 4 only), and the log never held the PAN. */
async function expectPaid(g: Gw, r: SippResult, orderRef: string, amount = '1499.00'): Promise<void> {
  expect(r.code, `${r.errors}${r.stderr}${g.logs.lines.filter((l) => /"level":(40|50)/.test(l)).join('\n')}`).toBe(0);
  const s = await sessions(g, orderRef);
  expect(s).toHaveLength(1);
  expect(s[0]).toMatchObject({ outcome: 'paid', orderRef, amount, card: { brand: 'visa', first6: '411111', last4: '1111' } });
  expectNoCardInLog(g);
}

function expectNoCardInLog(g: Gw): void {
  const log = g.logs.lines.join('\n');
  for (const secret of [PAN, '111111111111', OTP]) expect(log).not.toContain(secret);
}

/** A call the gateway refuses with 480 and nothing else (e2e/sipp/caller-480.xml). */
async function expect480(g: Gw, user: string): Promise<void> {
  const r = await runSipp({ scenario: 'caller-480.xml', service: user, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20 }).done;
  expect(r.code, r.errors + r.stderr).toBe(0);
}

describe('demo mode out of the box: the DID +912240000000 pays like sip:pay@', () => {
  let g: Gw;
  beforeAll(async () => {
    g = await startTestGateway({ DEMO_OTP: OTP });
  });
  afterAll(async () => {
    await g?.gw.close();
  });

  it.concurrent('a PBX-style transfer INVITE to sip:+912240000000@gateway with X-Pay-* headers ends paid', async () => {
    const headers = payHeaders();
    await expectPaid(g, await call(g, '+912240000000', headers), headers['X-Pay-Order-Ref']!);
  });

  it.concurrent('the same DID dialled in national form, sip:02240000000@gateway, ends paid (the README example, e2e/sipp/transfer-pay.xml)', async () => {
    const r = await runSipp({ scenario: 'transfer-pay.xml', service: '02240000000', target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
    await expectPaid(g, r, 'ORD-DID-1');
  });

  it('a number outside the plan gets the same 480 as an unknown user', async () => {
    await expect480(g, '+912240000009');
    await expect480(g, 'nobody');
  });
});

describe('a number plan with a profile per DID: uui, reference, api and refer-uri end to end', () => {
  let g: Gw;
  let agent: WsSipAgent;
  beforeAll(async () => {
    g = await startTestGateway({
      DEMO_OTP: OTP,
      HANDOFF_HMAC_KEY: KEY,
      RING_TIMEOUT_S: '10',
      SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5',
      ROUTING_NUMBERS: [
        '+912240000000 pay generic',
        '+912240000001 pay uui',
        '+912240000002 pay refer-uri',
        '+912240000003 pay reference',
        '+912240000004 pay api',
        '+9183* support',
      ].join(','),
    });
    agent = await WsSipAgent.connect(`ws://127.0.0.1:${g.gw.httpPort}/sip`, { user: 'agent-1', password: 'demo' });
    expect((await agent.register({ expires: 600 })).final.status).toBe(200);
  });
  afterAll(async () => {
    await agent?.close();
    await g?.gw.close();
  });

  it.concurrent('uui: an Avaya-style User-to-User (RFC 7433) with a signature, to the uui DID in national form, ends paid', async () => {
    const orderRef = `ORD-UUI-${Date.now()}`;
    const fields = { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000001' };
    const sig = signHandoff(fields, KEY, Math.floor(Date.now() / 1000));
    const uui = encodeUui({ amount: fields.amount, currency: fields.currency, merchant: fields.merchantId, order: orderRef, mobile: fields.customerMobile, sig });
    await expectPaid(g, await call(g, '02240000001', { 'User-to-User': uui }), orderRef);
  });

  it.concurrent('uui: the same DID refuses the X-Pay-* headers its profile does not read (400), and no session starts', async () => {
    const headers = payHeaders();
    const scenario = payRefusedScenario({ user: '+912240000001', headers, status: 400 });
    const r = await runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20 }).done;
    expect(r.code, r.errors + r.stderr).toBe(0);
    expect(await sessions(g, headers['X-Pay-Order-Ref']!)).toHaveLength(0);
  });

  it.concurrent('reference: only X-Pay-Txn-Ref, the details fetched from the demo provider, ends paid', async () => {
    await expectPaid(g, await call(g, '+912240000003', { 'X-Pay-Txn-Ref': 'TXN-1001' }), 'ORD-1001');
  });

  it.concurrent('api: POST /api/handoffs, then the call to the sip:pay-<code>@ URI it returns ends paid', async () => {
    const orderRef = `ORD-API-${Date.now()}`;
    const { code, sipUri } = await handoff(g, orderRef);
    expect(sipUri).toBe(`sip:pay-${code}@${g.target}`);
    await expectPaid(g, await call(g, `pay-${code}`, {}), orderRef);
  });

  it.concurrent('api: the code in X-Pay-Handoff on a transfer to the api DID ends paid; the spent code is refused after', async () => {
    const orderRef = `ORD-APIH-${Date.now()}`;
    const { code } = await handoff(g, orderRef);
    await expectPaid(g, await call(g, '+912240000004', { 'X-Pay-Handoff': code }), orderRef);
    const scenario = payRefusedScenario({ user: '+912240000004', headers: { 'X-Pay-Handoff': code }, status: 400 });
    const again = await runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20 }).done;
    expect(again.code, again.errors + again.stderr).toBe(0);
    expect(await sessions(g, orderRef)).toHaveLength(1);
  });

  it('refer-uri: the agent REFERs the customer to the refer-uri DID with the transaction in Refer-To URI headers; the customer pays', async () => {
    const orderRef = `ORD-RURI-${Date.now()}`;
    // The customer dials a support number of the plan (prefix +9183): it rings the one free agent, agent-1.
    const steps: PayStep[] = [{ pauseMs: 3000 }, ...KEYS.slice(1)];
    const scenario = payScenario({ user: '08312345678', headers: {}, steps, byeTimeoutMs: 90_000 });
    const caller = (async () => runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done)();
    const invite = await agent.nextRequest('INVITE');
    const d = agent.answer(invite, await freeMediaPort(), 'pcmu');
    await agent.nextRequest('ACK');
    const q = new URLSearchParams({ 'X-Pay-Amount': '1499.00', 'X-Pay-Currency': 'INR', 'X-Pay-Merchant-Id': 'M-DEMO-01', 'X-Pay-Order-Ref': orderRef, 'X-Pay-Customer-Mobile': '+919800000001' });
    const res = await agent.inDialog(d, 'REFER', [['Refer-To', `<sip:+912240000002@${g.target}?${q.toString()}>`], ['Referred-By', '<sip:agent-1@tonegate>']]);
    expect(res.status).toBe(202);
    for (;;) {
      const n = await agent.nextRequest('NOTIFY', 60_000);
      agent.respond(n, 200);
      if (!/^SIP\/2\.0 1\d\d/.test(n.body)) break;
    }
    const s = await sessions(g, orderRef);
    expect(s).toMatchObject([{ outcome: 'paid', orderRef, card: { brand: 'visa', first6: '411111', last4: '1111' } }]);
    // The customer's keys are over (its scenario now waits for the BYE): the agent hangs up.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await agent.inDialog(d, 'BYE', [])).status).toBe(200);
    const c = await caller;
    expect(c.code, c.errors + c.stderr).toBe(0);
    expectNoCardInLog(g);
    agent.clearInbox();
  });
});

describe.each([
  ['UDP', 'u1', 'agent-2', '08112345678'],
  ['TCP', 't1', 'agent-3', '08212345678'],
] as const)('a plain SIP agent (SIPp) over %s sends the payment REFER inline', (_name, transport, agentId, did) => {
  let g: Gw;
  beforeAll(async () => {
    g = await startTestGateway({ DEMO_OTP: OTP, RING_TIMEOUT_S: '10', ROUTING_NUMBERS: '+9181* agent:agent-2,+9182* agent:agent-3' });
  });
  afterAll(async () => {
    await g?.gw.close();
  });

  it(`the customer dials a DID routed to ${agentId}; the agent REFERs with X-Pay-* headers; NOTIFY says paid; the session is paid`, async () => {
    const headers = payHeaders({ 'X-Pay-Agent-Id': agentId });
    const orderRef = headers['X-Pay-Order-Ref']!;
    const agentPort = await freePort();
    const agent = runSipp({
      scenario: agentReferScenario({ gateway: g.target, headers, byeAfterMs: 3000 }), service: agentId, transport, localPort: agentPort, mediaPort: await freeMediaPort(), timeoutS: 120,
    });
    // Registered over UDP; the Contact says where calls go, over UDP or TCP (RFC 3261 10.3).
    const reg = await runSipp({
      scenario: registerScenario(), target: g.target, service: agentId, localPort: await freePort(),
      set: { contact_port: agentPort, expires: 300, contact_transport: transport === 't1' ? 'tcp' : 'udp' }, extra: ['-au', agentId, '-ap', 'demo'],
    }).done;
    expect(reg.code, reg.errors + reg.stderr).toBe(0);
    // The customer's keys start once the REFER is taken (1 s after the answer) and the greeting plays.
    const customer = await call(g, did, {}, [{ pauseMs: 3500 }, ...KEYS.slice(1)]);
    const a = await agent.done;
    expect(a.code, a.errors + a.stderr).toBe(0);
    expect(customer.code, customer.errors + customer.stderr).toBe(0);
    const s = await sessions(g, orderRef);
    expect(s).toMatchObject([{ outcome: 'paid', orderRef, agentId, card: { brand: 'visa', first6: '411111', last4: '1111' } }]);
    expectNoCardInLog(g);
  });
});

async function handoff(g: Gw, orderRef: string): Promise<{ code: string; sipUri: string }> {
  const res = await fetch(`http://127.0.0.1:${g.gw.httpPort}/api/handoffs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.gw.handoffApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000001' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { code: string; sipUri: string };
}
