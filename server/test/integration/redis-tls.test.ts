import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RedisKeys, RedisLink, RedisSessionStore } from '../../src/store/index.js';
import { startTestGateway } from '../support/gateway.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { rec } from '../support/store-contract.js';
import { TestCa } from '../support/tls-certs.js';

/**
 * Redis over TLS with AUTH (docs/security.md, "Encryption"): a real redis-server (Debian's 7.0 is
 * built with TLS) listening only on a TLS port (`--port 0 --tls-port N`) with `--requirepass`, its
 * certificate signed by a test CA made with openssl here.
 */
let redis: RedisServer;
let ca: TestCa;
const password = randomBytes(12).toString('hex');
const links: RedisLink[] = [];

beforeAll(async () => {
  ca = TestCa.create('tonegate redis test CA');
  const leaf = ca.issue('localhost');
  redis = await RedisServer.start({ certFile: leaf.certFile, keyFile: leaf.keyFile, caFile: ca.certFile, ca: ca.cert, password });
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

async function open(o: { password?: string; tlsCa?: Buffer; url?: string }): Promise<RedisLink> {
  const l = await RedisLink.open({ url: o.url ?? redis.url, logger: silentLogger, connectWaitMs: 1_500, password: o.password, tlsCa: o.tlsCa });
  links.push(l);
  return l;
}

describe('rediss:// with AUTH', () => {
  it('with the password and the test CA the link is up and a session record round-trips through the TLS server', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const link = await open({ password, tlsCa: ca.cert });
    expect(link.health().state).toBe('up');
    const store = new RedisSessionStore({ link, logger: silentLogger, keys: new RedisKeys(`tls${randomBytes(3).toString('hex')}:`) });
    await store.create(rec('7', { orderRef: 'ORD-TLS-1' }));
    expect((await store.get('7'))?.orderRef).toBe('ORD-TLS-1');
    expect((await store.list({ orderRef: 'ORD-TLS-1' })).map((r) => r.id)).toEqual(['7']);
  });

  it('a password in the URL is used as well (rediss://:password@host:port)', async () => {
    const link = await open({ url: redis.url.replace('rediss://', `rediss://:${password}@`), tlsCa: ca.cert });
    expect(link.health().state).toBe('up');
    expect(await link.client.ping()).toBe('PONG');
  });

  it('a wrong password leaves the link down with the server refusing AUTH', async () => {
    const link = await open({ password: 'not-the-password', tlsCa: ca.cert });
    const h = link.health();
    expect(h.state).toBe('down');
    expect(h.reason ?? '').toMatch(/WRONGPASS|invalid password|NOAUTH/i);
  });

  it('without the private CA the server certificate is not trusted and nothing is sent', async () => {
    const link = await open({ password });
    const h = link.health();
    expect(h.state).toBe('down');
    expect(h.reason ?? '').toMatch(/certificate/i);
  });

  it('a plain redis:// client cannot talk to the TLS-only port', async () => {
    const link = await open({ url: redis.url.replace('rediss://', 'redis://'), password });
    expect(link.health().state).toBe('down');
  });
});

describe('the gateway on rediss://', () => {
  it('REDIS_URL=rediss://, REDIS_PASSWORD_FILE and REDIS_TLS_CA_FILE carry the session store', async () => {
    const pwFile = join(ca.dir, 'redis-password');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    const { gw } = await startTestGateway({ REDIS_URL: redis.url, REDIS_PASSWORD_FILE: pwFile, REDIS_TLS_CA_FILE: ca.certFile, INSTANCE_ID: 'gw-tls' });
    try {
      expect(gw.backend.kind).toBe('redis');
      expect(gw.backend.redis()?.state).toBe('up');
      const id = `s${randomBytes(4).toString('hex')}`;
      await gw.store.create(rec(id, { orderRef: `ORD-${id}`, startedAt: new Date().toISOString() }));
      // Read back through a second, independent TLS link: the record is in the TLS server.
      const other = await open({ password, tlsCa: ca.cert });
      const seen = new RedisSessionStore({ link: other, logger: silentLogger, keys: new RedisKeys() });
      expect((await seen.get(id))?.orderRef).toBe(`ORD-${id}`);
    } finally {
      await gw.close();
    }
  });

  it('production refuses a plain redis:// URL (the store traffic must be encrypted)', async () => {
    const production = { TONEGATE_MODE: 'production' } as Partial<Config>; // the mode setting belongs to the config schema
    await expect(startTestGateway({ REDIS_URL: `redis://127.0.0.1:${redis.port}` }, { config: production })).rejects.toThrow(/REDIS_URL: production needs rediss:\/\//);
  });

  it('an unreadable REDIS_TLS_CA_FILE stops the start naming the variable', async () => {
    await expect(startTestGateway({ REDIS_URL: redis.url, REDIS_PASSWORD: password, REDIS_TLS_CA_FILE: join(ca.dir, 'missing.pem') })).rejects.toThrow(/REDIS_TLS_CA_FILE/);
  });
});
