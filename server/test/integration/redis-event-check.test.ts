import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSessionEvent } from '../../src/capture/event-schema.js';
import type { SessionEvent } from '../../src/capture/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RedisEventBus, RedisKeys, RedisLink } from '../../src/store/index.js';
import { RedisServer } from '../../devtools/redis-server.js';

/**
 * Events from Redis are checked before they are relayed (docs/security.md): whoever can write to
 * Redis cannot push arbitrary frames, or card data, to the widgets. Real redis-server.
 */
let redis: RedisServer;
const links: RedisLink[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

const at = '2025-01-01T10:00:00.000Z';

describe('a gateway instance reading events from Redis', () => {
  it('relays a well-formed event from the channel and drops one with a stray field, a wrong type or a PAN as last4', async () => {
    const keys = new RedisKeys(`t${randomBytes(4).toString('hex')}:`);
    const link = await RedisLink.open({ url: redis.url, logger: silentLogger });
    links.push(link);
    const bus = new RedisEventBus<SessionEvent>({ link, logger: silentLogger, instanceId: 'gw-2', keys, parseEvent: parseSessionEvent });
    await bus.start();
    const got: SessionEvent[] = [];
    await bus.subscribe((e) => void got.push(e));
    const publish = (e: unknown) => link.client.publish(keys.channel(), JSON.stringify({ i: 'gw-evil', e }));
    await publish({ type: 'card.identified', sessionId: 's1', agentId: 'agent-1', seq: 1, at, brand: 'visa', complete: true, pan: '4111111111111111' });
    await publish({ type: 'card.identified', sessionId: 's1', agentId: 'agent-1', seq: 2, at, brand: 'visa', complete: true, last4: '4111111111111111' });
    await publish({ type: 'ui.render', sessionId: 's1', agentId: 'agent-1', seq: 3, at, html: '<script>' });
    await publish({ type: 'otp.sent', sessionId: 's1', agentId: 'agent-1', seq: 4, at, mobile: '+919800000001', route: 'primary', resend: 0, failedRoutes: [] });
    await publish('not an object');
    await link.client.publish(keys.channel(), '{broken json');
    await publish({ type: 'digit.entered', sessionId: 's1', agentId: 'agent-1', seq: 5, at, field: 'pan', count: 3 });
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([{ type: 'digit.entered', sessionId: 's1', agentId: 'agent-1', seq: 5, at, field: 'pan', count: 3 }]);
    await bus.close();
  });
});
