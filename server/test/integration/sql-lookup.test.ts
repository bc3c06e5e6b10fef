import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { SqlLookupError } from '../../src/handoff/index.js';
import { PgLookupDatabase } from '../../src/handoff/sql/pg.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payRefusedScenario, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { PostgresServer } from '../support/postgres-server.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { WsSipAgent } from '../support/ws-sip-agent.js';

/**
 * Profile kind `sql` end to end (sip-profiles/sql-caller.json, README "Routing"): a private
 * PostgreSQL holds pending payment requests by caller number; real SIPp customers call the DID
 * whose profile is sql-caller with their number in P-Asserted-Identity, key the Visa test card by
 * RFC 2833, and the embedded demo provider is paid for the row's amount and order. Ambiguous,
 * unknown and bad rows, and a stopped database, are refused with a Warning naming why; the
 * gateway stays up, and its log never holds the card number.
 */

const OTP = '246810';
const PAN = '4111111111111111';
const DID = '+912240000010';
const KEYS: PayStep[] = [{ pauseMs: 1500 }, { keys: `${PAN}#` }, { keys: '1230' }, { keys: '123' }, { pauseMs: 4000 }, { keys: OTP }];
/** Order references carry no digits: a random one could hold the CVV the leak scan looks for. */
const letters = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join('');
const ORDER = `ORD-SQL-${letters(8)}`;
const INLINE_ORDER = `ORD-SQL-REFER-${letters(6)}`;

/** The example table of sip-profiles/README.md ("SQL lookups"). */
const DDL = `
CREATE TABLE payment_requests (
  id              bigserial PRIMARY KEY,
  caller_number   text NOT NULL,
  amount          numeric(12,2) NOT NULL,
  currency        char(3) NOT NULL DEFAULT 'INR',
  merchant_id     text NOT NULL,
  order_ref       text NOT NULL UNIQUE,
  customer_mobile text NOT NULL,
  agent_id        text,
  language        text,
  status          text NOT NULL DEFAULT 'pending',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_requests_pending ON payment_requests (caller_number) WHERE status = 'pending';
CREATE ROLE tonegate_lookup LOGIN;
GRANT SELECT ON payment_requests TO tonegate_lookup;
CREATE SEQUENCE s;
GRANT USAGE ON SEQUENCE s TO tonegate_lookup;
`;

interface RestSession { outcome: string | null; orderRef: string; amount: string; currency: string; card: { brand: string; first6: string; last4: string } | null }

describe('profile kind sql: pending payment requests by caller number from PostgreSQL', () => {
  let db: PostgresServer;
  let g: { gw: Gateway; logs: LogSink; target: string };
  let agent: WsSipAgent;

  beforeAll(async () => {
    db = await PostgresServer.start();
    await db.sql(DDL);
    const add = (caller: string, amount: string, order: string, status = 'pending', age = '0 s') =>
      db.sql(`INSERT INTO payment_requests (caller_number, amount, merchant_id, order_ref, customer_mobile, agent_id, status, created_at) VALUES ($1, $2, 'M-DEMO-01', $3, $1, 'agent-1', $4, now() - $5::interval)`, [caller, amount, order, status, age]);
    await add('+919812340001', '2750.50', ORDER);
    await add('+919812340001', '99.00', `ORD-SQL-DONE-${letters(6)}`, 'paid'); // paid already: not pending
    await add('+919812340005', '2750.50', 'ORD-SQL-A'); // the README example
    await add('+919812340006', '640.00', INLINE_ORDER); // inline: the agent's REFER
    await add('+919812340002', '100.00', `ORD-SQL-AMB-${letters(6)}`);
    await add('+919812340002', '200.00', `ORD-SQL-AMB-${letters(6)}`);
    await add('+919812340003', '5000000.00', `ORD-SQL-BIG-${letters(6)}`);
    await add('+919812340004', '10.00', `ORD-SQL-OLD-${letters(6)}`, 'pending', '2 hours');
    g = await startTestGateway({
      DEMO_OTP: OTP,
      LOOKUP_DATABASE_URL: db.url('tonegate_lookup'),
      LOOKUP_TIMEOUT_MS: '1000',
      ROUTING_NUMBERS: `${DID} pay sql-caller,+912240000000 pay generic,+9183* support`,
      RING_TIMEOUT_S: '10',
      SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5',
    });
    agent = await WsSipAgent.connect(`ws://127.0.0.1:${g.gw.httpPort}/sip`, { user: 'agent-1', password: 'demo' });
    expect((await agent.register({ expires: 600 })).final.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await g?.gw.close();
    await db?.destroy();
  });

  const pai = (number: string): Record<string, string> => ({ 'P-Asserted-Identity': `<sip:${number}@127.0.0.1;user=phone>` });

  async function sessions(orderRef: string): Promise<RestSession[]> {
    const res = await fetch(`http://127.0.0.1:${g.gw.httpPort}/api/sessions?orderRef=${encodeURIComponent(orderRef)}`, { headers: { authorization: `Bearer ${g.gw.supervisorToken}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { sessions: RestSession[] }).sessions;
  }

  /** An INVITE to the DID refused with `status`; answers the Warning SIPp logged. */
  async function refused(headers: Record<string, string>, status: number, user = DID): Promise<string> {
    const logFile = join(mkdtempSync(join(tmpdir(), 'sql-')), 'sipp.log');
    const r = await runSipp({
      scenario: payRefusedScenario({ user, headers, status }), target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20,
      extra: ['-trace_logs', '-log_file', logFile],
    }).done;
    expect(r.code, r.errors + r.stderr).toBe(0);
    return existsSync(logFile) ? /Warning=(.*)/.exec(readFileSync(logFile, 'utf8'))?.[1]?.trim() ?? '' : '';
  }

  function expectNoCardInLog(): void {
    const log = g.logs.lines.join('\n');
    for (const secret of [PAN, '111111111111', OTP]) expect(log).not.toContain(secret);
  }

  it('the caller +919812340001 (national form 09812340001 in P-Asserted-Identity) calls the DID and pays the row: amount and order from the database', async () => {
    const scenario = payScenario({ user: DID, headers: pai('09812340001'), steps: KEYS });
    const r = await runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
    expect(r.code, `${r.errors}${r.stderr}${g.logs.lines.filter((l) => /"level":(40|50)/.test(l)).join('\n')}`).toBe(0);
    const s = await sessions(ORDER);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ outcome: 'paid', orderRef: ORDER, amount: '2750.50', currency: 'INR', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    expect(g.gw.payments.demo!.payments().filter((p) => p.orderRef === ORDER)).toHaveLength(1);
    expectNoCardInLog();
  }, 120_000);

  it('the README example: e2e/sipp/transfer-pay-caller.xml calls from 09812340005 (From, national form) with no X-Pay-* header and pays ORD-SQL-A', async () => {
    const r = await runSipp({ scenario: 'transfer-pay-caller.xml', service: DID, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
    expect(r.code, `${r.errors}${r.stderr}${g.logs.lines.filter((l) => /"level":(40|50)/.test(l)).join('\n')}`).toBe(0);
    expect(await sessions('ORD-SQL-A')).toMatchObject([{ outcome: 'paid', amount: '2750.50', card: { last4: '1111' } }]);
    expectNoCardInLog();
  }, 120_000);

  it('inline: the customer 09812340006 calls support, agent-1 REFERs to the sql-caller DID; the customer\'s number (not the agent\'s) finds the row and the customer pays', async () => {
    const steps: PayStep[] = [{ pauseMs: 3000 }, ...KEYS.slice(1)];
    const scenario = payScenario({ user: '08312345678', headers: pai('09812340006'), steps, byeTimeoutMs: 90_000 });
    const caller = (async () => runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done)();
    const invite = await agent.nextRequest('INVITE');
    const d = agent.answer(invite, await freeMediaPort(), 'pcmu');
    await agent.nextRequest('ACK');
    // 491 until the customer's ACK has confirmed the call (RFC 3261 14.1: retry later).
    let res = { status: 491 };
    for (let i = 0; i < 20 && res.status === 491; i++) {
      if (i) await new Promise((r) => setTimeout(r, 250));
      res = await agent.inDialog(d, 'REFER', [['Refer-To', `<sip:${DID}@${g.target}>`], ['Referred-By', '<sip:agent-1@tonegate>']]);
    }
    expect(res.status).toBe(202);
    for (;;) {
      const n = await agent.nextRequest('NOTIFY', 60_000);
      agent.respond(n, 200);
      if (!/^SIP\/2\.0 1\d\d/.test(n.body)) break;
    }
    expect(await sessions(INLINE_ORDER)).toMatchObject([{ outcome: 'paid', amount: '640.00', card: { last4: '1111' } }]);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await agent.inDialog(d, 'BYE', [])).status).toBe(200);
    const c = await caller;
    expect(c.code, c.errors + c.stderr).toBe(0);
    expectNoCardInLog();
    agent.clearInbox();
  }, 150_000);

  it.each([
    ['two pending rows for the caller: ambiguous, never guessed', '+919812340002', 400, 'P-Asserted-Identity: ambiguous: more than one pending payment matches; refused rather than guessing'],
    ['a caller with no pending row', '+919812340009', 400, 'P-Asserted-Identity: no pending payment found'],
    ['a row whose amount is over the maximum: named by its column', '+919812340003', 400, 'sql column amount: exceeds the maximum of 1000000.00'],
    ['a row older than the profile\'s maxAgeSeconds', '+919812340004', 400, 'sql column created_at: older than 900 s (maxAgeSeconds)'],
  ])('%s is refused', async (_name, caller, status, text) => {
    expect(await refused(pai(caller), status)).toMatch(new RegExp(`^399 \\S+ "${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"$`));
  }, 60_000);

  it('a caller with no number (From: sip:customer@) is refused naming From, before any query', async () => {
    expect(await refused({}, 400)).toMatch(/"From: no caller number \(E\.164, or national form\) in it"/);
  }, 60_000);

  it('the lookup database is read-only and time-limited: a write is refused (SQLSTATE 25006), a slow query times out', async () => {
    const lookup = new PgLookupDatabase({ url: db.url('tonegate_lookup'), timeoutMs: 300, poolMax: 2 });
    try {
      expect(await lookup.query("SELECT current_setting('transaction_read_only') AS ro WHERE $1 <> ''", ['x'])).toEqual([{ ro: 'on' }]);
      await expect(lookup.query("SELECT nextval('s') AS n WHERE $1 <> ''", ['x'])).rejects.toMatchObject({ failure: 'query-failed', detail: 'SQLSTATE 25006' });
      await expect(lookup.query("SELECT pg_sleep(2) WHERE $1 <> ''", ['x'])).rejects.toBeInstanceOf(SqlLookupError);
      await expect(lookup.query("SELECT pg_sleep(2) WHERE $1 <> ''", ['x'])).rejects.toMatchObject({ failure: 'timeout' });
    } finally {
      await lookup.close();
    }
  }, 30_000);

  it('the database stopped: the call is refused 503 with a clear reason and a log line; the gateway stays up', async () => {
    await db.stop();
    try {
      expect(await refused(pai('+919812340001'), 503)).toMatch(/"P-Asserted-Identity: the database is unavailable"$/);
      expect(g.logs.lines.some((l) => l.includes('payment lookup by SQL failed') && l.includes('"failure":"unavailable"'))).toBe(true);
      // Still up: health, REST and another profile's DID answer.
      expect((await fetch(`http://127.0.0.1:${g.gw.httpPort}/healthz`)).status).toBeLessThan(500);
      expect(await sessions(ORDER)).toHaveLength(1);
      expect(await refused({ 'X-Pay-Amount': '1.00' }, 400, '+912240000000')).toMatch(/"X-Pay-Currency: missing"$/);
    } finally {
      await db.start();
    }
    // Back: the pool reconnects on the next call.
    expect(await refused(pai('+919812340009'), 400)).toMatch(/"P-Asserted-Identity: no pending payment found"$/);
    expectNoCardInLog();
  }, 90_000);
});
