import { loadConfig } from '../../../src/config/load.js';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookBackoff, webhookBody, webhookSecret } from '../../../src/outcomes/index.js';
import type { SessionRecord } from '../../../src/store/index.js';

describe('webhook signature', () => {
  const body = '{"type":"session.outcome","outcome":"paid"}';
  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed sha256=', () => {
    const want = createHmac('sha256', 'k'.repeat(16)).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook('k'.repeat(16), 1700000000, body)).toBe(`sha256=${want}`);
  });
  it('verifies the right signature and refuses a changed body, another secret, or an old timestamp', () => {
    const sig = signWebhook('secret-0123456789', 1700000000, body);
    const h = { timestamp: '1700000000', signature: sig };
    expect(verifyWebhook('secret-0123456789', h, body, 1700000010)).toBe(true);
    expect(verifyWebhook('secret-0123456789', h, body.replace('paid', 'failed'), 1700000010)).toBe(false);
    expect(verifyWebhook('another-secret-xyz', h, body, 1700000010)).toBe(false);
    expect(verifyWebhook('secret-0123456789', h, body, 1700000000 + 301)).toBe(false);
    expect(verifyWebhook('secret-0123456789', { timestamp: undefined, signature: sig }, body, 1700000000)).toBe(false);
  });
});

describe('webhook backoff', () => {
  const r = { baseMs: 1000, maxMs: 8000, maxAttempts: 10 };
  it('doubles per failed attempt up to the cap, half of it jittered', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => webhookBackoff(r, n, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect([1, 2, 3, 4].map((n) => webhookBackoff(r, n, () => 0))).toEqual([500, 1000, 2000, 4000]);
  });
});

describe('webhook body', () => {
  const record: SessionRecord = {
    id: 's1', state: 'done', field: null, outcome: 'paid', orderRef: 'ORD-1', amount: '1499.00', currency: 'INR', merchantId: 'M-1', agentId: null,
    dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' }, startedAt: '2026-01-01T00:00:00.000Z', endedAt: null, instanceId: 'gw-1',
  };
  it('carries the masked outcome (brand and last 4 only) under the idempotency key <session>:<outcome>', () => {
    const b = webhookBody({ type: 'session.ended', agentId: null, sessionId: 's1', seq: 9, at: '2026-01-01T00:01:00.000Z', outcome: 'paid', reason: 'approved', paymentId: 'pay_1' }, record);
    expect(b).toEqual({
      type: 'session.outcome', idempotencyKey: 's1:paid', sessionId: 's1', outcome: 'paid', reason: 'approved', orderRef: 'ORD-1', merchantId: 'M-1',
      amount: '1499.00', currency: 'INR', card: { brand: 'visa', last4: '1111' }, paymentId: 'pay_1', needsReconciliation: false, reconciled: false,
      startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z',
    });
    expect(JSON.stringify(b)).not.toContain('411111');
  });
  it('marks an outcome settled by reconciliation', () => {
    const b = webhookBody({ type: 'session.reconciled', agentId: null, sessionId: 's1', seq: 12, at: '2026-01-01T00:09:00.000Z', outcome: 'paid', previousOutcome: 'failed', providerStatus: 'approved', reason: 'approved', paymentId: 'pay_1' }, { ...record, endedAt: '2026-01-01T00:01:00.000Z' });
    expect(b).toMatchObject({ idempotencyKey: 's1:paid', reconciled: true, needsReconciliation: false, endedAt: '2026-01-01T00:01:00.000Z' });
  });
});

describe('webhook secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-whsec-'));
  const env = (over: Record<string, string>) => loadConfig({ WEBHOOK_URL: 'https://m.example/hook', AUDIT_LOG: join(dir, 'audit.jsonl'), ...over });
  it('comes from WEBHOOK_SECRET, or WEBHOOK_SECRET_FILE trimmed', () => {
    expect(webhookSecret(env({ WEBHOOK_SECRET: 'a'.repeat(16) }))).toBe('a'.repeat(16));
    writeFileSync(join(dir, 's'), `${'b'.repeat(20)}\n`);
    expect(webhookSecret(env({ WEBHOOK_SECRET_FILE: join(dir, 's') }))).toBe('b'.repeat(20));
  });
  it('refuses a missing secret, an unreadable file or a short secret, naming the variable', () => {
    expect(() => webhookSecret(env({}))).toThrow(/WEBHOOK_SECRET: required/);
    expect(() => env({ WEBHOOK_SECRET_FILE: join(dir, 'nope') })).toThrow(/WEBHOOK_SECRET_FILE/);
    writeFileSync(join(dir, 'short'), 'short');
    expect(() => env({ WEBHOOK_SECRET_FILE: join(dir, 'short') })).toThrow(/WEBHOOK_SECRET/);
  });
});
