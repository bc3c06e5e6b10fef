import { describe, expect, it } from 'vitest';
import {
  DidPoolError,
  MemoryDidPool,
  MemoryHandoffCodeStore,
  decodeTransaction,
  encodeTransaction,
  HandoffCodeError,
  type Transaction,
} from '../../../src/handoff/index.js';
import { FakeClock } from '../../support/fake-clock.js';

const txn = (orderRef: string): Transaction => ({ amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000001' });
const DIDS = ['+912240000100', '+912240000101', '+912240000102'];

describe('MemoryDidPool', () => {
  it('reserves a distinct free DID per transaction until the pool is exhausted, then says when one lapses', async () => {
    const clock = new FakeClock();
    const pool = new MemoryDidPool(DIDS, { clock, ttlMs: 60_000, nowEpochMs: () => 1_000_000 });
    const held = await Promise.all(['A', 'B', 'C'].map((o) => pool.reserve(txn(o))));
    expect(new Set(held.map((h) => h.did))).toEqual(new Set(DIDS));
    expect(held.every((h) => h.expiresAt === 1_060_000)).toBe(true);
    clock.advance(15_500);
    const err = await pool.reserve(txn('D')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DidPoolError);
    expect(err).toMatchObject({ code: 'exhausted', retryAfterS: 45 }); // 44.5 s left, rounded up
  });

  it('a DID redeems its transaction exactly once; the DID is then free again', async () => {
    const pool = new MemoryDidPool(DIDS, { clock: new FakeClock() });
    const { did } = await pool.reserve(txn('ORD-1'));
    const both = await Promise.all([pool.redeem(did), pool.redeem(did)]);
    expect(both.filter(Boolean)).toEqual([txn('ORD-1')]);
    expect(await pool.redeem(did)).toBeUndefined();
    // all three are free again: three more reservations succeed
    for (const o of ['X', 'Y', 'Z']) await pool.reserve(txn(o));
  });

  it('an expired reservation redeems nothing and its DID is reserved anew', async () => {
    const clock = new FakeClock();
    const pool = new MemoryDidPool(['+912240000100'], { clock, ttlMs: 1000 });
    const { did } = await pool.reserve(txn('OLD'));
    await expect(pool.reserve(txn('NEW'))).rejects.toBeInstanceOf(DidPoolError);
    clock.advance(1000);
    expect(await pool.redeem(did)).toBeUndefined();
    await pool.reserve(txn('NEW'));
    clock.advance(999);
    expect(await pool.redeem(did)).toEqual(txn('NEW'));
  });

  it('a DID never reserved, or outside the pool, redeems nothing', async () => {
    const pool = new MemoryDidPool(DIDS, { clock: new FakeClock() });
    expect(await pool.redeem('+912240000100')).toBeUndefined();
    expect(await pool.redeem('+912240000999')).toBeUndefined();
  });

  it('an empty pool is exhausted at once', async () => {
    await expect(new MemoryDidPool([]).reserve(txn('A'))).rejects.toBeInstanceOf(DidPoolError);
  });
});

describe('MemoryHandoffCodeStore code formats', () => {
  it('issues the store default or the format asked, each redeemable once', async () => {
    const s = new MemoryHandoffCodeStore({ format: 'numeric', clock: new FakeClock() });
    const numeric = await s.issue(txn('N'));
    const alnum = await s.issue(txn('A'), 'alnum');
    expect(numeric.code).toMatch(/^\d{16}$/);
    expect(alnum.code).toMatch(/^[0-9a-hjkmnp-tv-z]{12}$/);
    expect(await s.redeem(numeric.code)).toEqual(txn('N'));
    expect(await s.redeem(alnum.code.toUpperCase())).toEqual(txn('A'));
    expect(await s.redeem(numeric.code)).toBeUndefined();
  });
});

describe('stored transactions', () => {
  it('round-trip through JSON', () => {
    const t: Transaction = { ...txn('R'), agentId: 'agent-1', language: 'hi' };
    expect(decodeTransaction(encodeTransaction(t))).toEqual(t);
  });

  it('a language of recorded prompts (checked against prompts.languages when issued) reads back; a malformed one is corrupt', () => {
    const t: Transaction = { ...txn('R'), language: 'mr' };
    expect(decodeTransaction(encodeTransaction(t))).toEqual(t);
    expect(() => decodeTransaction(JSON.stringify({ ...txn('R'), language: 'mr-IN' }))).toThrow(/corrupt|language/);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['an unknown field', JSON.stringify({ ...txn('R'), pan: '4111111111111111' }), /unknown field pan/],
    ['a number where a string goes', JSON.stringify({ ...txn('R'), amount: 5 }), /amount is not a string/],
    ['a field breaking the rules', JSON.stringify({ ...txn('R'), amount: '-1' }), /corrupt|not a valid transaction/],
    ['an overlong value', 'x'.repeat(5000), /longer than 4096/],
  ])('refuse %s with HandoffCodeError, never echoing the value', (_n, json, re) => {
    let err: unknown;
    try {
      decodeTransaction(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HandoffCodeError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('4111111111111111');
  });
});
