import { describe, expect, it } from 'vitest';
import type { Call } from '../../../../src/calls/b2bua/call.js';
import type { ReferRequest } from '../../../../src/calls/b2bua/types.js';
import { CaptureRegistry } from '../../../../src/calls/payment/capture-registry.js';
import { OUTCOME_SIPFRAG } from '../../../../src/calls/payment/endings.js';
import { fileURLToPath } from 'node:url';
import { PaymentGate } from '../../../../src/calls/payment/gate.js';
import { DEMO_OTP_TEMPLATE } from '../../../../src/calls/payment/setup.js';
import { loadSipProfile, MemoryHandoffCodeStore } from '../../../../src/handoff/index.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { InlinePayments, referToUser } from '../../../../src/calls/payment/refer-entry.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import type { RunDeps } from '../../../../src/calls/payment/run.js';

const DIR = fileURLToPath(new URL('../../../../../sip-profiles', import.meta.url));

describe('referToUser', () => {
  it.each([
    ['<sip:pay@gw?X-Pay-Amount=1.00>', 'pay'],
    ['<sips:pay-abcdefabcdef@10.0.0.1:5060;transport=tcp>', 'pay-abcdefabcdef'],
    ['sip:pay@gw', 'pay'],
    ['<sip:gw>', undefined],
    ['<tel:+911234>', undefined],
  ])('%s -> %s', (referTo, user) => {
    expect(referToUser(referTo)).toBe(user);
  });
});

describe('OUTCOME_SIPFRAG (RFC 3515 2.4.5 final NOTIFY)', () => {
  it('only paid is a 2xx; every outcome has a final status', () => {
    for (const [outcome, frag] of Object.entries(OUTCOME_SIPFRAG)) {
      expect(frag.status >= 200).toBe(true);
      expect(frag.status < 300).toBe(outcome === 'paid');
    }
  });
});

describe('InlinePayments.onRefer refusals (before any I/O; the call goes on)', () => {
  const payments = new InlinePayments(
    { logger: silentLogger } as unknown as RunDeps, // only the logger is reached by these refusals
    // A real gate: these refusals come before it admits anything; it only says which users are payment URIs.
    new PaymentGate(
      { payment: {} as never, otpTemplate: DEMO_OTP_TEMPLATE },
      { configured: loadSipProfile(DIR, 'generic', {}), api: loadSipProfile(DIR, 'api', {}) },
      new MemoryHandoffCodeStore({ clock: new FakeClock() }),
    ),
    new CaptureRegistry(),
  );
  function refer(leg: 'A' | 'B', referTo: string) {
    const got: { status?: number; warning?: string; deferred: boolean } = { deferred: false };
    const r: ReferRequest = {
      leg, referTo, referToHeaders: {}, xHeaders: {},
      notify: () => {},
      reject: (status, warning) => Object.assign(got, { status, warning }),
      defer: () => {
        got.deferred = true;
        return { accept: () => {}, reject: () => {} };
      },
    };
    return { r, got };
  }
  const call = (capture: boolean) => ({ capture: capture ? { onAgentGone: () => {} } : undefined, ended: false, target: { agentId: 'agent-1' }, aReq: { callId: 'c' } }) as unknown as Call;

  it('a REFER on the customer leg is 403: only the agent on the call may start a payment', () => {
    const { r, got } = refer('A', '<sip:pay@gw>');
    payments.onRefer(call(false), r);
    expect(got).toMatchObject({ status: 403, deferred: false });
    expect(got.warning).toMatch(/only the agent/);
  });

  it('a second REFER while a capture runs is 491', () => {
    const { r, got } = refer('B', '<sip:pay@gw>');
    payments.onRefer(call(true), r);
    expect(got).toMatchObject({ status: 491, deferred: false });
  });

  it('a REFER to anything but the payment URI is 403', () => {
    const { r, got } = refer('B', '<sip:agent-2@gw>');
    payments.onRefer(call(false), r);
    expect(got).toMatchObject({ status: 403, deferred: false });
  });
});

describe('InlinePayments.onRefer under load (calls/load/)', () => {
  const refusal = { status: 503 as const, reason: 'captures' as const, retryAfterS: 9, text: 'overload: 2 of 2 payment captures running (MAX_CAPTURES); retry later' };
  function setup(load: { refusal: typeof refusal } | { release: () => void }) {
    const asked: string[] = [];
    const gate = {
      isPayUser: (user: string) => user === 'pay',
      admitLoad: (kind: string) => (asked.push(`load:${kind}`), load),
      admit: () => (asked.push('admit'), Promise.resolve({ ok: false, error: { status: 400, field: 'X-Pay-Amount', reason: 'missing' }, profile: 'generic' })),
    } as unknown as PaymentGate;
    const payments = new InlinePayments({ logger: silentLogger } as unknown as RunDeps, gate, new CaptureRegistry());
    const got: { status?: number; warning?: string; retryAfterS?: number; deferred: boolean; final?: number } = { deferred: false };
    const r: ReferRequest = {
      leg: 'B', referTo: '<sip:pay@gw>', referToHeaders: {}, xHeaders: {},
      notify: () => {},
      reject: (status, warning, retryAfterS) => Object.assign(got, { status, warning, retryAfterS }),
      defer: () => {
        got.deferred = true;
        return { accept: () => {}, reject: (status) => (got.final = status) };
      },
    };
    const call = { capture: undefined, ended: false, target: { agentId: 'agent-1' }, aReq: { callId: 'c' }, bFlow: undefined, aFlow: {} } as unknown as Call;
    return { payments, r, got, asked, call };
  }

  it('a REFER refused for load is 503 with Retry-After and the Warning, before the handoff is read or the call touched', () => {
    const { payments, r, got, asked, call } = setup({ refusal });
    payments.onRefer(call, r);
    expect(got).toEqual({ status: 503, warning: refusal.text, retryAfterS: 9, deferred: false });
    expect(asked).toEqual(['load:refer']);
    expect(call.capture).toBeUndefined();
  });

  it('an admitted REFER releases its load reservation once it is answered (here refused 400)', async () => {
    let released = 0;
    const { payments, r, got, asked, call } = setup({ release: () => void released++ });
    payments.onRefer(call, r);
    expect(got.deferred).toBe(true);
    await new Promise((res) => setTimeout(res, 0));
    expect(asked).toEqual(['load:refer', 'admit']);
    expect(got.final).toBe(400);
    expect(released).toBe(1);
  });
});
