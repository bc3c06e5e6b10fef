import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEMO_OTP_TEMPLATE } from '../../../../src/calls/payment/setup.js';
import { PaymentGate, type PaymentRequest } from '../../../../src/calls/payment/gate.js';
import { loadSipProfile, MemoryHandoffCodeStore, openSqlLookups, type SqlDatabase } from '../../../../src/handoff/index.js';
import type { SipFlow } from '../../../../src/sip/transport/types.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { compileNumberPlan } from '../../../../src/config/number-plan.js';

const DIR = fileURLToPath(new URL('../../../../../sip-profiles', import.meta.url));
const flow = { id: 'udp:127.0.0.1:5070' } as SipFlow;
const GOOD = { 'x-pay-amount': '1499.00', 'x-pay-currency': 'INR', 'x-pay-merchant-id': 'M-DEMO-01', 'x-pay-order-ref': 'ORD-1', 'x-pay-customer-mobile': '+919800000001' };

function gate() {
  const payment = { lookupTransaction: () => Promise.reject(new Error('not used')) };
  const g = new PaymentGate(
    { payment: payment as never, otpTemplate: DEMO_OTP_TEMPLATE },
    { configured: loadSipProfile(DIR, 'generic', {}), api: loadSipProfile(DIR, 'api', {}) },
    new MemoryHandoffCodeStore({ clock: new FakeClock() }),
  );
  return g;
}
const req = (kind: 'invite' | 'refer', user: string, h: Record<string, string>): PaymentRequest => ({ kind, user, headers: (n) => h[n.toLowerCase()], flow });

describe('PaymentGate: the one place deciding whether a request may start a payment', () => {
  it.each([['pay', true], ['pay-abcdefabcdef', true], ['pay-1234567890123456', true], ['pay-', false], ['payx', false], ['agent-1', false]])('%s is a pay URI user: %s', (user, yes) => {
    expect(gate().isPayUser(user)).toBe(yes);
  });

  it('an INVITE and a REFER with the same valid headers are both admitted with the same transaction', async () => {
    const g = gate();
    const a = await g.admit(req('invite', 'pay', GOOD));
    const b = await g.admit(req('refer', 'pay', GOOD));
    expect(a).toMatchObject({ ok: true, profile: 'generic', txn: { amount: '1499.00', orderRef: 'ORD-1' } });
    expect(b).toMatchObject({ ok: true, txn: { amount: '1499.00', orderRef: 'ORD-1' } });
  });

  it('a missing field is refused naming it, and an order reference the OTP SMS cannot carry too', async () => {
    const g = gate();
    const { ['x-pay-amount']: _a, ...noAmount } = GOOD;
    expect(await g.admit(req('invite', 'pay', noAmount))).toMatchObject({ ok: false, error: { field: 'X-Pay-Amount', status: 400 } });
    expect(await g.admit(req('refer', 'pay', { ...GOOD, 'x-pay-order-ref': 'O'.repeat(31) }))).toMatchObject({ ok: false, error: { field: 'X-Pay-Order-Ref' } });
  });

  it('a handoff code (pay-<code> or X-Pay-Handoff) is read with the api profile', async () => {
    const g = gate();
    expect(g.profileFor(req('invite', 'pay-abcdefabcdef', {})).profile.name).toBe('api');
    expect(g.profileFor(req('refer', 'pay', { 'x-pay-handoff': 'abcdefabcdef' })).profile.name).toBe('api');
    expect(g.profileFor(req('invite', 'pay', GOOD)).profile.name).toBe('generic');
    expect(await g.admit(req('invite', 'pay-abcdefabcdef', {}))).toMatchObject({ ok: false, profile: 'api' });
  });
});

describe('PaymentGate with a number plan and the api profile\'s requestUriPrefix', () => {
  const plan = compileNumberPlan(
    [{ number: '+912240000000', kind: 'pay', profile: 'generic' }, { number: '+912240000001', kind: 'pay', profile: 'uui' }, { prefix: '+9180', kind: 'pay' }, { prefix: '+9181', kind: 'support' }],
    { countryCode: '91', nationalPrefix: '0' },
  );
  const api = loadSipProfile(DIR, 'api', {});
  const KEYED = { HANDOFF_HMAC_KEY: 'k'.repeat(16) };
  function planned(prefix = 'pay-') {
    const payment = { lookupTransaction: () => Promise.reject(new Error('not used')) };
    return new PaymentGate(
      { payment: payment as never, otpTemplate: DEMO_OTP_TEMPLATE },
      {
        configured: loadSipProfile(DIR, 'reference', {}),
        api: { ...api, profile: { ...api.profile, api: { ...api.profile.api, requestUriPrefix: prefix } } },
        named: new Map([['generic', loadSipProfile(DIR, 'generic', {})], ['uui', loadSipProfile(DIR, 'uui', KEYED)]]),
      },
      new MemoryHandoffCodeStore({ clock: new FakeClock() }),
      undefined,
      plan,
    );
  }

  it.each([
    ['pay', 'reference'],
    ['pay-abcdefabcdef', 'api'],
    ['+912240000000', 'generic'],
    ['02240000000', 'generic'],
    ['912240000001', 'uui'],
    ['+918012345678', 'reference'], // a pay entry without a profile: the configured one
    ['+918112345678', undefined], // support, not pay
    ['+912240000002', undefined],
  ])('%s pays with profile %s', (user, profile) => {
    expect(planned().payProfile(user)?.profile.name).toBe(profile);
  });

  it('the Request-URI prefix of handoff codes is the api profile\'s, not a fixed pay-', () => {
    const g = planned('code');
    expect(g.isPayUser('codeabcdefabcdef')).toBe(true);
    expect(g.isPayUser('pay-abcdefabcdef')).toBe(false);
    expect(g.profileFor(req('invite', 'codeabcdefabcdef', {})).profile.name).toBe('api');
  });

  it('a DID with its own profile reads that profile: the uui DID refuses X-Pay-* headers naming User-to-User', async () => {
    expect(await planned().admit(req('invite', '+912240000001', GOOD))).toMatchObject({ ok: false, profile: 'uui', error: { field: 'User-to-User', status: 400 } });
    expect(await planned().admit(req('invite', '+912240000000', GOOD))).toMatchObject({ ok: true, profile: 'generic' });
  });
});

describe('PaymentGate with a profile of kind sql (handoff/sql/)', () => {
  const plan = compileNumberPlan([{ number: '+912240000010', kind: 'pay', profile: 'sql-caller' }], { countryCode: '91', nationalPrefix: '0' });
  const row = { amount: '2750.50', currency: 'INR', merchant_id: 'M-DEMO-01', order_ref: 'ORD-SQL', customer_mobile: '+919812340001', created_at: new Date() };
  function sqlGate(rows: Record<string, unknown>[]) {
    const bound: (readonly string[])[] = [];
    const db: SqlDatabase = { query: async (_t, values) => (bound.push(values), rows), close: async () => {} };
    const base = { configured: loadSipProfile(DIR, 'generic', {}), api: loadSipProfile(DIR, 'api', {}), named: new Map([['sql-caller', loadSipProfile(DIR, 'sql-caller', { LOOKUP_DATABASE_URL: 'postgres://u@h/d' })]]) };
    const { profiles } = openSqlLookups(base, { LOOKUP_DATABASE_URL: 'postgres://u@h/d', LOOKUP_TIMEOUT_MS: 1000, LOOKUP_POOL_MAX: 1 }, { countryCode: '91', nationalPrefix: '0' }, () => {}, () => db);
    const g = new PaymentGate({ payment: {} as never, otpTemplate: DEMO_OTP_TEMPLATE }, profiles, new MemoryHandoffCodeStore({ clock: new FakeClock() }), undefined, plan);
    return { g, bound };
  }

  it('an INVITE to the DID is read with sql-caller: the caller from its own From, the row as the transaction', async () => {
    const { g, bound } = sqlGate([row]);
    const r = await g.admit(req('invite', '02240000010', { from: '<sip:09812340001@pbx>;tag=1' }));
    expect(r).toMatchObject({ ok: true, profile: 'sql-caller', txn: { amount: '2750.50', orderRef: 'ORD-SQL', customerMobile: '+919812340001' } });
    expect(bound).toEqual([['+919812340001']]);
  });

  it('a REFER to the DID binds the customer\'s number (callerHeaders: the customer INVITE), not the agent\'s', async () => {
    const { g, bound } = sqlGate([row]);
    const r = await g.admit({ ...req('refer', '+912240000010', { from: '<sip:agent-1@gw>' }), callerHeaders: (n) => (n === 'From' ? '<sip:+919812340001@pbx>;tag=2' : undefined) });
    expect(r).toMatchObject({ ok: true, profile: 'sql-caller' });
    expect(bound).toEqual([['+919812340001']]);
  });

  it('two rows are refused as ambiguous, naming the caller header', async () => {
    const { g } = sqlGate([row, { ...row, order_ref: 'ORD-SQL-B' }]);
    expect(await g.admit(req('invite', '+912240000010', { from: '<sip:+919812340001@pbx>' }))).toMatchObject({ ok: false, profile: 'sql-caller', error: { field: 'From', status: 400, reason: expect.stringMatching(/^ambiguous/) } });
  });
});
