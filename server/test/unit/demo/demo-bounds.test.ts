import express from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { OtpStore } from '../../../src/demo/otp.js';
import { SmsSink } from '../../../src/demo/sms.js';

// The demo provider runs for days under `npm start` and for half an hour under bench:soak: what it
// keeps per OTP and per SMS must not grow with every payment it ever saw.
describe('demo provider memory bounds', () => {
  it('forgets an OTP one lifetime after it expired, and only then', () => {
    let now = 1_000_000;
    const store = new OtpStore({ ttlMs: 300_000, maxAttempts: 3, now: () => now });
    const first = store.issue('ORD-1');
    now += 300_000 + 120_000; // expired, but not yet a lifetime ago
    store.issue('ORD-2');
    expect(store.size).toBe(2);
    expect(store.validate(first.otpId, '000000')?.status).toBe('expired');
    now += 300_000; // now a lifetime past its expiry
    store.issue('ORD-3');
    expect(store.size).toBe(2);
    expect(store.validate(first.otpId, '000000')).toBeUndefined();
  });

  it('keeps the newest messages only', async () => {
    const sink = new SmsSink({ down: false, now: () => 0, keep: 3 });
    const app = express();
    app.use(express.json());
    app.use(sink.router());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (let i = 1; i <= 5; i++) {
        const res = await fetch(`${url}/v1/sms`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ to: '+919800000001', senderId: 'TNGATE', peId: '1201160000000000000', templateId: '1107161234567890123', text: `message ${i}` }),
        });
        expect(res.status).toBe(202);
      }
      const { messages } = (await (await fetch(`${url}/demo/sms`)).json()) as { messages: { text: string }[] };
      expect(messages.map((m) => m.text)).toEqual(['message 3', 'message 4', 'message 5']);
    } finally {
      server.close();
    }
  });
});
