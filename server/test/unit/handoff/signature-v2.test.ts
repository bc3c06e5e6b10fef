import { describe, expect, it } from 'vitest';
import { extractHandoff, loadSipProfile } from '../../../src/handoff/index.js';
import { PaymentAdmission } from '../../../src/handoff/admission.js';
import { canonicalStringV2, MemoryNonceGuard, signHandoffV2, verifyHandoffV2 } from '../../../src/handoff/signature-v2.js';
import { configSchema } from '../../../src/config/schema.js';
import { trustConfigOf } from '../../../src/security/trust-config.js';
import { fileURLToPath } from 'node:url';

const KEY = 'k'.repeat(32);
const DIR = fileURLToPath(new URL('../../../../sip-profiles', import.meta.url));
const NOW = 1_760_000_000;
const fields = { amount: '1499.00', currency: 'INR', merchantId: 'M-1', orderRef: 'ORD-1', customerMobile: '+919800000001' };
const bound = { requestUri: 'sip:pay@gw.example.com', callId: 'abc@pbx', nonce: 'n0nce-0123456789ab' };

function headersOf(sig: string, nonce = bound.nonce): (n: string) => string | undefined {
  const h: Record<string, string> = {
    'x-pay-amount': fields.amount, 'x-pay-currency': fields.currency, 'x-pay-merchant-id': fields.merchantId,
    'x-pay-order-ref': fields.orderRef, 'x-pay-customer-mobile': fields.customerMobile, 'x-pay-signature': sig, 'x-pay-nonce': nonce,
  };
  return (n) => h[n.toLowerCase()];
}

describe('handoff signature v2 (Request-URI, Call-ID and a single-use nonce signed)', () => {
  it('the canonical string is version, t, nonce, Request-URI, Call-ID, then the nine fields', () => {
    expect(canonicalStringV2(fields, 7, bound).split('\n')).toEqual(['tonegate-handoff-v2', '7', bound.nonce, bound.requestUri, bound.callId, '1499.00', 'INR', 'M-1', 'ORD-1', '+919800000001', '', '', '', '']);
  });

  it('matches the worked example in sip-profiles/README.md (computed there with openssl dgst -hmac)', () => {
    const f = { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1001', customerMobile: '+919800000001', agentId: 'agent-1' };
    const b2 = { requestUri: 'sip:pay@gw.example.com', callId: '8a4f2c@pbx.example.com', nonce: 'n-3f9c2a7e51d04b6a' };
    expect(signHandoffV2(f, 'demo-handoff-key-change-me', 1750000000, b2)).toBe('t=1750000000,v2=82c414544bf8a6fb1c38451cdedd818250949cc12fe503c312c04483987b7ec1');
  });

  it('verifies once; the same nonce again is replayed; another Request-URI or Call-ID is a mismatch', async () => {
    const guard = new MemoryNonceGuard(() => NOW * 1000);
    const sig = signHandoffV2(fields, KEY, NOW, bound);
    const o = { key: KEY, nowSeconds: NOW, guard };
    expect(await verifyHandoffV2(sig, fields, { ...bound, requestUri: 'sip:pay@evil' }, o)).toEqual({ ok: false, problem: 'mismatch' });
    expect(await verifyHandoffV2(sig, fields, { ...bound, callId: 'other' }, o)).toEqual({ ok: false, problem: 'mismatch' });
    expect(await verifyHandoffV2(sig, fields, bound, o)).toEqual({ ok: true });
    expect(await verifyHandoffV2(sig, fields, bound, o)).toEqual({ ok: false, problem: 'replayed' });
  });

  it('a forged signature does not burn the nonce; a short nonce and an old timestamp are refused', async () => {
    const guard = new MemoryNonceGuard(() => NOW * 1000);
    const o = { key: KEY, nowSeconds: NOW, guard };
    expect(await verifyHandoffV2(`t=${NOW},v2=${'0'.repeat(64)}`, fields, bound, o)).toEqual({ ok: false, problem: 'mismatch' });
    expect(await verifyHandoffV2(signHandoffV2(fields, KEY, NOW, bound), fields, bound, o)).toEqual({ ok: true });
    expect(await verifyHandoffV2(signHandoffV2(fields, KEY, NOW, { ...bound, nonce: 'short' }), fields, { ...bound, nonce: 'short' }, o)).toEqual({ ok: false, problem: 'bad-nonce' });
    const old = { ...bound, nonce: 'another-nonce-123456' };
    expect(await verifyHandoffV2(signHandoffV2(fields, KEY, NOW - 301, old), fields, old, o)).toEqual({ ok: false, problem: 'stale' });
  });

  it('production: an unsigned or v1-signed INVITE handoff is 403; a v2 one passes once', async () => {
    const { profile } = loadSipProfile(DIR, 'generic', { HANDOFF_HMAC_KEY: KEY });
    const admission = new PaymentAdmission({ trust: trustConfigOf(configSchema.parse({ TONEGATE_MODE: 'production' })), now: () => NOW * 1000 });
    const deps = { ...admission.handoffDeps, signingKey: KEY, nowEpochMs: () => NOW * 1000 };
    const src = (sig: string) => ({ headers: headersOf(sig), requestUri: bound.requestUri, callId: bound.callId });
    const unsigned = await extractHandoff(profile, { ...src(''), headers: (n) => (n.toLowerCase() === 'x-pay-signature' ? undefined : headersOf('')(n)) }, deps);
    expect(unsigned).toEqual({ ok: false, error: { field: 'X-Pay-Signature', reason: 'missing (required in production)', status: 403 } });
    const v1 = await extractHandoff(profile, src(`t=${NOW},v1=${'a'.repeat(64)}`), deps);
    expect(v1).toMatchObject({ ok: false, error: { status: 403 } });
    const sig = signHandoffV2(fields, KEY, NOW, bound);
    expect(await extractHandoff(profile, src(sig), deps)).toMatchObject({ ok: true, txn: { orderRef: 'ORD-1' } });
    expect(await extractHandoff(profile, src(sig), deps)).toEqual({ ok: false, error: { field: 'X-Pay-Signature', reason: 'already used', status: 403 } });
  });

  it('demo: a v2 signature is checked too when sent (and v1 still works as before)', async () => {
    const { profile } = loadSipProfile(DIR, 'generic', { HANDOFF_HMAC_KEY: KEY });
    const admission = new PaymentAdmission({ trust: trustConfigOf(configSchema.parse({})), now: () => NOW * 1000 });
    const deps = { ...admission.handoffDeps, signingKey: KEY, nowEpochMs: () => NOW * 1000 };
    const bad = await extractHandoff(profile, { headers: headersOf(signHandoffV2(fields, KEY, NOW, bound)), requestUri: 'sip:pay@elsewhere', callId: bound.callId }, deps);
    expect(bad).toMatchObject({ ok: false, error: { reason: 'does not match the signed fields', status: 403 } });
  });
});
