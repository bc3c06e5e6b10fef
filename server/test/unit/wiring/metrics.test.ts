import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRouter } from '../../../src/wiring/metrics.js';
import { Metrics } from '../../../src/observability/metrics.js';

/** `/metrics` access (docs/security.md, "Production mode"): open, token-only, or not served. */
const metrics = new Metrics({ activeCalls: () => 0, activeCaptures: () => 0, breakers: () => ({}), rtp: async () => ({ packetsIn: 0, packetsOut: 0, lost: 0, wrongSource: 0 }), redis: () => undefined });
const servers: ReturnType<ReturnType<typeof express>['listen']>[] = [];
const urls: Record<'open' | 'token' | 'hidden', string> = { open: '', token: '', hidden: '' };

beforeAll(async () => {
  const opts = { open: {}, token: { token: 'metrics-token-0123456789' }, hidden: { served: false } };
  for (const [name, o] of Object.entries(opts) as [keyof typeof urls, Parameters<typeof metricsRouter>[1]][]) {
    const app = express().use(metricsRouter(metrics, o));
    const s = app.listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    servers.push(s);
    urls[name] = `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
  }
});
afterAll(() => {
  for (const s of servers) s.close();
});

describe('GET /metrics', () => {
  it('without options it is open (demo mode, the internal listener)', async () => {
    const r = await fetch(urls.open);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('tonegate_active_calls');
  });

  it('with METRICS_TOKEN it needs that bearer token: 401 without or with another', async () => {
    expect((await fetch(urls.token)).status).toBe(401);
    expect((await fetch(urls.token, { headers: { authorization: 'Bearer metrics-token-wrong-123456' } })).status).toBe(401);
    const r = await fetch(urls.token, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('tonegate_active_calls');
  });

  it('not served (production without a token) answers 404 and no figures', async () => {
    const r = await fetch(urls.hidden);
    expect(r.status).toBe(404);
    expect(await r.text()).not.toContain('tonegate_');
  });
});
