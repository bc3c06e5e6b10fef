import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  encodeUui,
  extractHandoff,
  loadSipProfile,
  MemoryHandoffCodeStore,
  parseSipProfile,
  ReplayGuard,
  signHandoff,
  type HandoffSource,
  type SipProfile,
} from '../../../src/handoff/index.js';

const DIR = fileURLToPath(new URL('../../../../sip-profiles/', import.meta.url));
const KEY = 'test-signing-key-0123456789';
const env = { HANDOFF_HMAC_KEY: KEY, LOOKUP_DATABASE_URL: 'postgres://tonegate@127.0.0.1:5432/lookup' };
const load = (name: string): SipProfile => loadSipProfile(DIR, name, env).profile;
const NOW = 1_750_000_000_000;
const T = NOW / 1000;

const X = {
  'X-Pay-Amount': '1499.00',
  'X-Pay-Currency': 'INR',
  'X-Pay-Merchant-Id': 'M-DEMO-01',
  'X-Pay-Order-Ref': 'ORD-1001',
  'X-Pay-Customer-Mobile': '+919800000001',
  'X-Pay-Agent-Id': 'agent-1',
};
const fields = { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1001', customerMobile: '+919800000001', agentId: 'agent-1' };

function src(headers: Record<string, string>, more: Partial<HandoffSource> = {}): HandoffSource {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: (n) => lower.get(n.toLowerCase()), ...more };
}
const deps = { signingKey: KEY, nowEpochMs: () => NOW };

describe('sip-profiles/', () => {
  it('every JSON file parses against the schema and loads by its name', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['api.json', 'generic.json', 'refer-uri.json', 'reference.json', 'sql-caller.json', 'uui.json']);
    for (const f of files) expect(load(f.replace('.json', '')).name).toBe(f.replace('.json', ''));
  });

  it('a profile that requires signatures fails fast without its key in the environment', () => {
    expect(() => loadSipProfile(DIR, 'uui', {})).toThrow(/HANDOFF_HMAC_KEY is not set/);
  });

  it('a profile with an unknown key or kind is refused with its path', () => {
    expect(() => parseSipProfile({ name: 'x', kind: 'headers', extra: 1 })).toThrow(/invalid SIP profile/);
    expect(() => parseSipProfile({ name: 'x', kind: 'carrier-pigeon' })).toThrow(/kind/);
    expect(() => parseSipProfile({ name: 'x', kind: 'uui' })).toThrow(/uui/);
  });
});

describe('extractHandoff', () => {
  it('generic: X-Pay-* headers give a validated transaction', async () => {
    expect(await extractHandoff(load('generic'), src(X), deps)).toEqual({ ok: true, txn: fields });
  });

  it('generic: a REFER may carry them as Refer-To URI headers instead', async () => {
    expect(await extractHandoff(load('generic'), src({}, { referToHeaders: X }), deps)).toEqual({ ok: true, txn: fields });
  });

  it('REFER without X-Pay-Amount is answered 400 naming X-Pay-Amount', async () => {
    const { 'X-Pay-Amount': _drop, ...rest } = X;
    expect(await extractHandoff(load('generic'), src(rest), deps)).toEqual({ ok: false, error: { field: 'X-Pay-Amount', reason: 'missing', status: 400 } });
  });

  it('a header with control characters or over 512 characters is refused', async () => {
    const r = await extractHandoff(load('generic'), src({ ...X, 'X-Pay-Order-Ref': 'A'.repeat(600) }), deps);
    expect(r).toMatchObject({ ok: false, error: { field: 'X-Pay-Order-Ref' } });
  });

  it('refer-uri: reads only Refer-To URI headers', async () => {
    expect((await extractHandoff(load('refer-uri'), src(X), deps)).ok).toBe(false);
    expect(await extractHandoff(load('refer-uri'), src({}, { referToHeaders: X }), deps)).toEqual({ ok: true, txn: fields });
  });

  it('generic: a present signature is checked; a good one passes, a tampered amount fails', async () => {
    const sig = signHandoff(fields, KEY, T);
    expect((await extractHandoff(load('generic'), src({ ...X, 'X-Pay-Signature': sig }), deps)).ok).toBe(true);
    const r = await extractHandoff(load('generic'), src({ ...X, 'X-Pay-Amount': '1.00', 'X-Pay-Signature': sig }), deps);
    expect(r).toMatchObject({ ok: false, error: { field: 'X-Pay-Signature', reason: 'does not match the signed fields' } });
  });

  it('a replayed signature is refused the second time', async () => {
    const sig = signHandoff(fields, KEY, T);
    const d = { ...deps, replay: new ReplayGuard() };
    expect((await extractHandoff(load('generic'), src({ ...X, 'X-Pay-Signature': sig }), d)).ok).toBe(true);
    expect(await extractHandoff(load('generic'), src({ ...X, 'X-Pay-Signature': sig }), d)).toMatchObject({ ok: false, error: { reason: 'already used' } });
  });

  it('uui: hex key=value data with the required signature', async () => {
    const p = load('uui');
    const values = { amount: '1499.00', currency: 'INR', merchant: 'M-DEMO-01', order: 'ORD-1001', mobile: '+919800000001', agent: 'agent-1' };
    const sig = signHandoff(fields, KEY, T);
    expect(await extractHandoff(p, src({ 'User-to-User': encodeUui({ ...values, sig }) }), deps)).toEqual({ ok: true, txn: fields });
    expect(await extractHandoff(p, src({ 'User-to-User': encodeUui(values) }), deps)).toMatchObject({
      ok: false,
      error: { field: 'User-to-User sig', reason: 'missing (required by this profile)' },
    });
    const badCurrency = encodeUui({ ...values, currency: 'RUPEES', sig: signHandoff({ ...fields, currency: 'RUPEES' }, KEY, T) });
    expect(await extractHandoff(p, src({ 'User-to-User': badCurrency }), deps)).toMatchObject({ ok: false, error: { field: 'User-to-User currency' } });
  });

  it('reference: fetches the details by X-Pay-Txn-Ref; unknown -> 400, provider down -> 503', async () => {
    const p = load('reference');
    const lookupTransaction = async (ref: string) =>
      ref === 'TXN-1001' ? { ref, amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1001', customerMobile: '+919800000001' } : null;
    const r = await extractHandoff(p, src({ 'X-Pay-Txn-Ref': 'TXN-1001', 'X-Pay-Language': 'hi' }), { ...deps, lookupTransaction });
    expect(r).toEqual({ ok: true, txn: { ...fields, agentId: undefined, language: 'hi', txnRef: 'TXN-1001' } });
    expect(await extractHandoff(p, src({ 'X-Pay-Txn-Ref': 'NOPE' }), { ...deps, lookupTransaction })).toMatchObject({
      ok: false,
      error: { field: 'X-Pay-Txn-Ref', reason: 'unknown reference', status: 400 },
    });
    const down = async () => {
      throw new Error('breaker-open');
    };
    expect(await extractHandoff(p, src({ 'X-Pay-Txn-Ref': 'TXN-1001' }), { ...deps, lookupTransaction: down })).toMatchObject({ ok: false, error: { status: 503 } });
  });

  it('reference: the provider answer is held to our limits too', async () => {
    const lookupTransaction = async (ref: string) => ({ ref, amount: '5000000.00', currency: 'INR', merchantId: 'M', orderRef: 'O', customerMobile: '+919800000001' });
    const r = await extractHandoff(load('reference'), src({ 'X-Pay-Txn-Ref': 'TXN-9' }), { ...deps, lookupTransaction });
    expect(r).toMatchObject({ ok: false, error: { field: 'X-Pay-Txn-Ref (provider)', reason: expect.stringContaining('maximum') } });
  });

  it('api: a single-use code as X-Pay-Handoff or as the Request-URI user pay-<code>', async () => {
    const p = load('api');
    const codes = new MemoryHandoffCodeStore();
    const a = await codes.issue(fields);
    const b = await codes.issue(fields);
    expect(await extractHandoff(p, src({ 'X-Pay-Handoff': a.code }), { codes })).toEqual({ ok: true, txn: fields });
    expect(await extractHandoff(p, src({ 'X-Pay-Handoff': a.code }), { codes })).toMatchObject({ ok: false, error: { reason: 'unknown, used or expired code' } });
    expect(await extractHandoff(p, src({}, { requestUriUser: `pay-${b.code}` }), { codes })).toEqual({ ok: true, txn: fields });
    expect(await extractHandoff(p, src({}), { codes })).toMatchObject({ ok: false, error: { field: 'X-Pay-Handoff', reason: 'missing' } });
  });
});
