import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, udpFree } from '../../devtools/ports.js';
import { loadConfig } from '../../src/config/load.js';
import { startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogSink } from '../support/gateway.js';

/**
 * The composition root's close cascade (server/src/wiring/owned.ts): a start that fails half-way
 * closes every part it built, so the ports it bound are free again and a second start on the same
 * ports works. The failure is real: the HTTP port, bound last, is held by another server.
 */
function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const holders: Server[] = [];
afterAll(async () => {
  await Promise.all(holders.map((h) => new Promise((r) => h.close(r))));
});

describe('a gateway whose start fails half-way', () => {
  it('closes every part it built (SIP, media, metrics listener), and the same ports start a gateway afterwards', async () => {
    const [httpPort, sipPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(httpPort, '127.0.0.1', () => r()));
    holders.push(holder);
    const rtpMin = 36000 + 2 * Math.floor(Math.random() * 1000);
    const config = {
      ...loadConfig({ LOG_LEVEL: 'debug', RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 99), AUDIT_LOG: join(mkdtempSync(join(tmpdir(), 'tg-audit-')), 'audit.jsonl') }),
      HTTP_PORT: httpPort, SIP_PORT: sipPort, METRICS_HOST: '127.0.0.1', METRICS_PORT: metricsPort, DEMO_PG_PORT: 0, MEDIA_WORKERS: 1,
    };
    const logs = new LogSink();
    await expect(startGateway(config, createLogger('debug', logs))).rejects.toThrow(/EADDRINUSE/);
    // Everything bound before the HTTP listener was closed again, and closing failed nowhere.
    expect(await udpFree(sipPort)).toBe(true);
    expect(await tcpFree(sipPort)).toBe(true);
    expect(await tcpFree(metricsPort)).toBe(true);
    expect(logs.messages()).not.toContain('a part failed to close; closing the others');

    // The same ports, the HTTP one freed: the gateway starts, serves, and closes.
    await new Promise((r) => holder.close(r));
    holders.pop();
    const again = new LogSink();
    const gw = await startGateway(config, createLogger('debug', again));
    try {
      expect(gw.sipPort).toBe(sipPort);
      const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
    } finally {
      await gw.close();
    }
    expect(await udpFree(sipPort)).toBe(true);
    expect(await tcpFree(httpPort)).toBe(true);
    expect(await tcpFree(metricsPort)).toBe(true);
    expect(again.messages()).not.toContain('a part failed to close; closing the others');
  });
});
