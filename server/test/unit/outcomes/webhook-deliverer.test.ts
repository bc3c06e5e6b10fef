import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { FileOutbox, WebhookDeliverer, verifyWebhook } from '../../../src/outcomes/index.js';
import { LogSink } from '../../support/gateway.js';

const SECRET = 'unit-secret-0123456789';
const entry = (id: string) => ({ id, body: JSON.stringify({ id }), createdAt: Date.now() });
const until = async (ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function deliverer(fetchFn: typeof fetch, o: { maxAttempts?: number; concurrency?: number } = {}) {
  const outbox = await FileOutbox.open(join(mkdtempSync(join(tmpdir(), 'tg-wd-')), 'o.jsonl'));
  const registry = new Registry();
  const logs = new LogSink();
  const d = new WebhookDeliverer({
    url: 'http://merchant.invalid/hook', secret: SECRET, outbox, instanceId: 'gw-1', timeoutMs: 1000,
    retry: { baseMs: 5, maxMs: 20, maxAttempts: o.maxAttempts ?? 3 }, logger: createLogger('info', logs), registry, fetch: fetchFn,
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
  });
  await d.start();
  return { d, outbox, registry, logs };
}

describe('WebhookDeliverer', () => {
  it('gives an outcome up after the last attempt: settled dead, logged at error, counted', async () => {
    let calls = 0;
    const t = await deliverer(async () => (calls++, new Response('', { status: 500 })));
    await t.d.enqueue(entry('s1:failed'));
    await until(() => t.outbox.size() === 0);
    expect(calls).toBe(3);
    expect(t.logs.lines.filter((l) => l.includes('webhook given up after the last attempt') && l.includes('"level":50'))).toHaveLength(1);
    expect(await t.registry.metrics()).toMatch(/tonegate_webhook_deliveries_total\{result="dead"\} 1\b/);
    expect(await t.d.enqueue(entry('s1:failed'))).toBe(false); // not enqueued again
    await t.d.close();
  });

  it('sends the same signed bytes on every attempt, with the attempt number', async () => {
    const seen: { body: string; attempt: string | null; ok: boolean }[] = [];
    const t = await deliverer(async (_u, init) => {
      const h = new Headers(init!.headers);
      const body = String(init!.body);
      seen.push({ body, attempt: h.get('x-tonegate-attempt'), ok: verifyWebhook(SECRET, { timestamp: h.get('x-tonegate-timestamp') ?? undefined, signature: h.get('x-tonegate-signature') ?? undefined }, body, Math.floor(Date.now() / 1000)) });
      return new Response(null, { status: seen.length < 2 ? 502 : 204 });
    });
    await t.d.enqueue(entry('s2:paid'));
    await until(() => t.outbox.size() === 0);
    expect(seen).toEqual([{ body: '{"id":"s2:paid"}', attempt: '1', ok: true }, { body: '{"id":"s2:paid"}', attempt: '2', ok: true }]);
    await t.d.close();
  });

  it('keeps at most `concurrency` POSTs in flight', async () => {
    let now = 0;
    let max = 0;
    const t = await deliverer(async () => {
      max = Math.max(max, ++now);
      await new Promise((r) => setTimeout(r, 30));
      now--;
      return new Response('', { status: 200 });
    }, { concurrency: 3 });
    for (let i = 0; i < 12; i++) await t.d.enqueue(entry(`s${i}:paid`));
    await until(() => t.outbox.size() === 0);
    expect(max).toBe(3);
    await t.d.close();
  });
});
