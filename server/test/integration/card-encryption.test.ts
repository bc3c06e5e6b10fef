/**
 * The card to the provider, end to end against the real demo provider (its own process, as a
 * provider would be) over HTTP, through a recording TCP relay:
 * RSA-OAEP SHA-256 with the provider's key checked against a pinned fingerprint; a tcpdump capture
 * of the exchange (every byte through the relay) holds no PAN or CVV; a key that is not the pinned one, or a configured key the
 * provider cannot decrypt with, fails clearly and charges nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { PaymentProviderClient, type CardEncryption } from '../../src/providers/index.js';
import { cardKeyFingerprint, generateCardKeyPair } from '../../src/security/card-crypto.js';
import { SensitiveDigits } from '../../src/security/sensitive-digits.js';
import { freePort } from '../../devtools/ports.js';
import { startTcpTap } from '../support/tcp-tap.js';

const OTP = '135790';
const PAN = '4111111111111111';
const CVV = '737';
const logger = createLogger('silent');
let proc: ChildProcess;
const demo = { url: '', publicKeyPem: '' };

beforeAll(async () => {
  const port = await freePort();
  proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/demo/main.ts'], { env: { ...process.env, DEMO_PG_PORT: String(port), DEMO_OTP: OTP, LOG_LEVEL: 'silent' }, stdio: 'ignore' });
  demo.url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !demo.publicKeyPem; i++) {
    try {
      demo.publicKeyPem = ((await (await fetch(`${demo.url}/v1/keys/card`)).json()) as { publicKeyPem: string }).publicKeyPem;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  expect(demo.publicKeyPem).toMatch(/BEGIN PUBLIC KEY/);
});
afterAll(() => {
  proc?.kill('SIGTERM');
});

/** One payment through the whole provider API (OTP issued and validated, then the charge), captured on the wire. */
async function payCaptured(cardEncryption: CardEncryption, orderRef: string) {
  const tap = await startTcpTap(Number(new URL(demo.url).port));
  const client = new PaymentProviderClient({ baseUrl: `http://127.0.0.1:${tap.port}`, logger, cardEncryption });
  let decision;
  try {
    const otp = await client.generateOtp({ orderRef, customerMobile: '+919876543210' });
    otp.otp.dispose();
    await client.validateOtp(otp.otpId, SensitiveDigits.fromString(OTP));
    decision = await client.pay({
      orderRef, merchantId: 'M-1', amount: '10.00', currency: 'INR', otpId: otp.otpId,
      card: { pan: SensitiveDigits.fromString(PAN, 19), expiry: SensitiveDigits.fromString('1230', 4), cvv: SensitiveDigits.fromString(CVV, 4) },
    });
  } finally {
    await tap.close();
  }
  const wire = tap.bytes().toString('latin1');
  // What the provider recorded for this attempt's Idempotency-Key (approved / declined / not-found).
  const direct = new PaymentProviderClient({ baseUrl: demo.url, logger });
  const charged = (await direct.paymentStatus(decision.idempotencyKey)).status;
  return { decision, wire, charged };
}

describe('card encryption to the provider (RSA-OAEP SHA-256, pinned key)', () => {
  it('with the provider key pinned by fingerprint the payment is paid and the HTTP body on the wire holds no PAN or CVV', async () => {
    const r = await payCaptured({ mode: 'provider-key', pinnedSha256: cardKeyFingerprint(demo.publicKeyPem) }, `ENC-${Date.now()}`);
    expect(r.decision).toMatchObject({ outcome: 'approved' });
    expect(r.charged).toBe('approved');
    expect(r.wire).toContain('POST /v1/payments');
    expect(r.wire).toContain('"encryptedCard":"');
    for (const secret of [PAN, '"pan"', '"cvv"', `"${CVV}"`]) expect(r.wire).not.toContain(secret);
  });

  it('control: in plain mode the same capture does show the PAN (the capture sees request bodies)', async () => {
    const r = await payCaptured({ mode: 'plain' }, `PLAIN-${Date.now()}`);
    expect(r.decision).toMatchObject({ outcome: 'approved' });
    expect(r.wire).toContain(PAN);
  });

  it('a provider key that is not the pinned one: failed with card-key-mismatch, no payment request, no charge', async () => {
    const r = await payCaptured({ mode: 'provider-key', pinnedSha256: cardKeyFingerprint(generateCardKeyPair().publicKeyPem) }, `PIN-${Date.now()}`);
    expect(r.decision).toMatchObject({ outcome: 'failed', reason: 'card-key-mismatch', needsReconciliation: false, attempts: 0 });
    expect(r.wire).not.toContain('POST /v1/payments');
    expect(r.charged).toBe('not-found');
  });

  it('a configured key the provider cannot decrypt with: the demo provider refuses the card, nothing is charged', async () => {
    const r = await payCaptured({ mode: 'key', publicKeyPem: generateCardKeyPair().publicKeyPem }, `WRONG-${Date.now()}`);
    expect(r.decision).toMatchObject({ outcome: 'failed', reason: 'rejected', needsReconciliation: false });
    expect(r.wire).toMatch(/HTTP\/1\.1 400[\s\S]*bad-encrypted-card/);
    expect(r.wire).not.toContain(PAN);
    expect(r.charged).toBe('not-found');
  });
});
