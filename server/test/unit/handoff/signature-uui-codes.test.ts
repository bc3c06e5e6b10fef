import { describe, expect, it } from 'vitest';
import {
  canonicalString,
  CODE_PATTERN,
  encodeUui,
  HandoffCodeError,
  MemoryHandoffCodeStore,
  parseUui,
  ReplayGuard,
  signHandoff,
  verifyHandoff,
  type Transaction,
} from '../../../src/handoff/index.js';
import { FakeClock } from '../../support/fake-clock.js';

const KEY = 'k'.repeat(32);
const fields = { amount: '1499.00', currency: 'INR', merchantId: 'M-1', orderRef: 'ORD-1', customerMobile: '+919800000001' };
const T = 1_750_000_000;

describe('handoff signature (HMAC-SHA256 over the canonical string)', () => {
  it('the canonical string is 11 LF-joined lines, absent fields empty', () => {
    expect(canonicalString(fields, T)).toBe('tonegate-handoff-v1\n1750000000\n1499.00\nINR\nM-1\nORD-1\n+919800000001\n\n\n\n');
  });

  it('a signature verifies inside the window and fails outside, on any changed field, or a wrong key', () => {
    const sig = signHandoff(fields, KEY, T);
    expect(sig).toMatch(/^t=1750000000,v1=[0-9a-f]{64}$/);
    expect(verifyHandoff(sig, fields, { key: KEY, nowSeconds: T + 300 })).toEqual({ ok: true });
    expect(verifyHandoff(sig, fields, { key: KEY, nowSeconds: T + 301 })).toEqual({ ok: false, problem: 'stale' });
    expect(verifyHandoff(sig, { ...fields, amount: '1.00' }, { key: KEY, nowSeconds: T })).toEqual({ ok: false, problem: 'mismatch' });
    expect(verifyHandoff(sig, fields, { key: 'x'.repeat(32), nowSeconds: T })).toEqual({ ok: false, problem: 'mismatch' });
    expect(verifyHandoff('v1=abc', fields, { key: KEY, nowSeconds: T })).toEqual({ ok: false, problem: 'malformed' });
  });

  it('with a ReplayGuard a signature is accepted once inside its window', () => {
    const replay = new ReplayGuard();
    const sig = signHandoff(fields, KEY, T);
    expect(verifyHandoff(sig, fields, { key: KEY, nowSeconds: T, replay }).ok).toBe(true);
    expect(verifyHandoff(sig, fields, { key: KEY, nowSeconds: T + 1, replay })).toEqual({ ok: false, problem: 'replayed' });
  });
});

describe('User-to-User (RFC 7433)', () => {
  const opts = { maxOctets: 1024 };
  it('round-trips key=value data through hex with encoding=hex', () => {
    const h = encodeUui({ amount: '1499.00', order: 'ORD 1&2' });
    expect(h).toMatch(/^[0-9a-f]+;encoding=hex$/);
    const r = parseUui(h, opts);
    expect(r.ok && Object.fromEntries(r.values)).toEqual({ amount: '1499.00', order: 'ORD 1&2' });
  });

  it('reads the captured Avaya-style sample with a protocol discriminator and purpose', () => {
    // 04 (IA5) + "amount=5"
    const r = parseUui('04616d6f756e743d35;encoding=hex;purpose=isdn-uui', { ...opts, discriminator: '04', purpose: 'isdn-uui' });
    expect(r.ok && r.values.get('amount')).toBe('5');
  });

  const bad: [string, string][] = [
    ['odd-length hex', '616;encoding=hex'],
    ['non-hex data', 'zz;encoding=hex'],
    ['another encoding', '616d;encoding=base64'],
    ['a duplicated key', `${Buffer.from('a=1&a=2').toString('hex')};encoding=hex`],
    ['control characters', `${Buffer.from('a=\u0001').toString('hex')};encoding=hex`],
    ['invalid UTF-8', 'ff;encoding=hex'],
    ['bad %-encoding', `${Buffer.from('a=%zz').toString('hex')};encoding=hex`],
  ];
  it.each(bad)('refuses %s', (_n, header) => {
    expect(parseUui(header, opts).ok).toBe(false);
  });

  it('refuses data over maxOctets', () => {
    expect(parseUui(`${'61'.repeat(40)};encoding=hex`, { maxOctets: 32 }).ok).toBe(false);
  });
});

describe('MemoryHandoffCodeStore', () => {
  const txn: Transaction = { ...fields };

  it('issues random 12-character codes that redeem exactly once', async () => {
    const s = new MemoryHandoffCodeStore();
    const a = await s.issue(txn);
    const b = await s.issue(txn);
    expect(a.code).toMatch(CODE_PATTERN);
    expect(a.code).not.toBe(b.code);
    expect(await s.redeem(a.code.toUpperCase())).toEqual(txn);
    expect(await s.redeem(a.code)).toBeUndefined();
  });

  it('codes expire after the TTL', async () => {
    const clock = new FakeClock();
    const s = new MemoryHandoffCodeStore({ clock, ttlMs: 60_000, format: 'numeric' });
    const { code } = await s.issue(txn);
    expect(code).toMatch(/^\d{16}$/);
    clock.advance(60_000);
    expect(await s.redeem(code)).toBeUndefined();
  });

  it('refuses to issue beyond maxOutstanding', async () => {
    const s = new MemoryHandoffCodeStore({ maxOutstanding: 1 });
    await s.issue(txn);
    await expect(s.issue(txn)).rejects.toBeInstanceOf(HandoffCodeError);
  });
});
