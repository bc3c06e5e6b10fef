import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisOutbox } from '../../src/outcomes/index.js';
import { startTestGateway } from '../support/gateway.js';
import { payHangupScenario, payHeaders } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const entry = (id: string, at = 1) => ({ id, body: JSON.stringify({ id }), createdAt: at });

describe('RedisOutbox (real redis-server)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares waiting entries between instances, enqueues an outcome once, and lets one instance at a time claim it', async () => {
    const a = await RedisOutbox.open(redis.url);
    const b = await RedisOutbox.open(redis.url);
    expect(await a.append(entry('s1:paid', 1))).toBe(true);
    expect(await b.append(entry('s1:paid', 1))).toBe(false); // the other instance saw the same event
    expect((await b.pending()).map((e) => e.id)).toEqual(['s1:paid']);
    expect(await a.claim('s1:paid', 'gw-a', 5_000)).toBe(true);
    expect(await b.claim('s1:paid', 'gw-b', 5_000)).toBe(false);
    await a.settle('s1:paid', 'delivered');
    expect(await b.pending()).toEqual([]);
    expect(await b.append(entry('s1:paid', 1))).toBe(false); // delivered: never again
    await Promise.all([a.close(), b.close()]);
  });

  it('a gateway with REDIS_URL delivers the outcome through the Redis outbox and leaves nothing waiting', async () => {
    const secret = 'whsec-redis-0123456789abc';
    const receiver = await WebhookReceiver.start(secret);
    receiver.answer = (_k, n) => (n === 1 ? 500 : 200);
    const { gw, target } = await startTestGateway({ REDIS_URL: redis.url, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_RETRY_BASE_MS: '200', INSTANCE_ID: 'gw-wh' });
    try {
      const headers = payHeaders();
      const r = await runSipp({ scenario: payHangupScenario({ headers, steps: [{ pauseMs: 1500 }] }), target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 60 }).done;
      expect(r.code, r.errors.slice(0, 300)).toBe(0);
      const [s] = await gw.store.list({ orderRef: headers['X-Pay-Order-Ref']! });
      const key = `${s!.id}:abandoned`;
      const end = Date.now() + 15_000;
      while (!receiver.accepted.has(key) && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
      expect(receiver.of(key).map((q) => [q.status, q.signatureOk])).toEqual([[500, true], [200, true]]);
      const c = createClient({ url: redis.url });
      await c.connect();
      expect(await c.hLen('tonegate:webhook:outbox')).toBe(0);
      expect(await c.get(`tonegate:webhook:done:{${key}}`)).toBe('delivered');
      await c.quit();
    } finally {
      await gw.close();
      await receiver.close();
    }
  }, 90_000);
});
