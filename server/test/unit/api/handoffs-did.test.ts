import { afterEach, describe, expect, it } from 'vitest';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handoffsRouter } from '../../../src/api/handoffs.js';
import { finishApp } from '../../../src/api/http.js';
import { MemoryDidPool, MemoryHandoffCodeStore, type CodeFormat, type DidPool } from '../../../src/handoff/index.js';
import { FakeClock } from '../../support/fake-clock.js';

/** `POST /api/handoffs` with `via` and `format`, over HTTP, against the memory stores. */
const KEY = 'handoff-key-0123456789';
const txn = { amount: '1499.00', currency: 'INR', merchantId: 'M-1', orderRef: 'ORD-9', customerMobile: '+919876543210' };
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function start(o: { pool?: DidPool; codeFormat?: CodeFormat; formatChoice?: boolean } = {}) {
  const codes = new MemoryHandoffCodeStore();
  const app = express();
  app.use(handoffsRouter(codes, (t) => (t === KEY ? { kind: 'handoff-client' } : undefined), { sipAuthority: () => '127.0.0.1:5070', ...o }));
  finishApp(app, () => {});
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/handoffs`;
  const post = async (body: object) => {
    const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as Record<string, string> };
  };
  return { post, codes };
}

describe('POST /api/handoffs "via": "did"', () => {
  it('reserves a DID of the pool and answers its SIP URI and expiry; the reservation holds the transaction', async () => {
    const pool = new MemoryDidPool(['+912240000100', '+912240000101']);
    const { post } = await start({ pool });
    const r = await post({ ...txn, via: 'did' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ via: 'did', sipUri: `sip:${r.body['did']}@127.0.0.1:5070` });
    expect(['+912240000100', '+912240000101']).toContain(r.body['did']);
    expect(Date.parse(r.body['expiresAt']!) - Date.now()).toBeGreaterThan(290_000);
    expect(r.body['code']).toBeUndefined();
    expect(await pool.redeem(r.body['did']!)).toEqual(txn);
  });

  it('an exhausted pool is 503 with Retry-After (seconds to the soonest lapse) and reserves nothing', async () => {
    const clock = new FakeClock();
    const pool = new MemoryDidPool(['+912240000100'], { clock, ttlMs: 120_000 });
    const { post } = await start({ pool });
    const first = await post({ ...txn, via: 'did' });
    expect(first.status).toBe(201);
    clock.advance(30_000);
    const r = await post({ ...txn, orderRef: 'ORD-10', via: 'did' });
    expect(r).toMatchObject({ status: 503, retryAfter: '90', body: { error: 'pool-exhausted' } });
    expect(await pool.redeem('+912240000100')).toEqual(txn); // still the first transaction
  });

  it('no pool configured, or a bad via, is 400 naming the field via', async () => {
    const { post } = await start({ pool: new MemoryDidPool([]) });
    expect(await post({ ...txn, via: 'did' })).toMatchObject({ status: 400, body: { field: 'via', message: 'no DID pool is configured (routing.didPool)' } });
    expect(await post({ ...txn, via: 'fax' })).toMatchObject({ status: 400, body: { field: 'via' } });
    expect(await post({ ...txn, via: 1 })).toMatchObject({ status: 400, body: { field: 'via' } });
    await expect((await start()).post({ ...txn, via: 'did' })).resolves.toMatchObject({ status: 400, body: { field: 'via' } });
  });

  it('a bad transaction is refused before any DID is reserved', async () => {
    const pool = new MemoryDidPool(['+912240000100']);
    const { post } = await start({ pool });
    expect(await post({ ...txn, amount: '1.005', via: 'did' })).toMatchObject({ status: 400, body: { field: 'amount' } });
    expect((await post({ ...txn, via: 'did' })).status).toBe(201); // the one DID was still free
  });
});

describe('POST /api/handoffs "format"', () => {
  it('the profile codeFormat is the default; "format" picks the other only with formatChoice', async () => {
    const numeric = await start({ codeFormat: 'numeric' });
    const a = await numeric.post(txn);
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ via: 'code', sipUri: `sip:pay-${a.body['code']}@127.0.0.1:5070` });
    expect(a.body['code']).toMatch(/^\d{16}$/);
    expect(await numeric.post({ ...txn, format: 'numeric' })).toMatchObject({ status: 201 });
    expect(await numeric.post({ ...txn, format: 'alnum' })).toMatchObject({ status: 400, body: { field: 'format' } });
    const choice = await start({ formatChoice: true });
    expect((await choice.post(txn)).body['code']).toMatch(/^[0-9a-hjkmnp-tv-z]{12}$/);
    const n = await choice.post({ ...txn, format: 'numeric' });
    expect(n.body['code']).toMatch(/^\d{16}$/);
    expect(await choice.codes.redeem(n.body['code']!)).toEqual(txn);
    expect(await choice.post({ ...txn, format: 'hex' })).toMatchObject({ status: 400, body: { field: 'format', message: 'must be "alnum" or "numeric"' } });
  });
});
