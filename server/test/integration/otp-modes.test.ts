import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../devtools/until.js';
import { DEMO_RECEIPT_TEMPLATE } from '../../src/calls/payment/setup.js';
import type { SessionEvent } from '../../src/capture/events.js';
import type { DemoSms } from '../../src/demo/index.js';
import { DEMO_BANK_SMS } from '../../src/demo/issuer.js';
import type { Gateway } from '../../src/gateway.js';
import type { SessionRecord } from '../../src/store/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { sendOtpMessage, withOtpFromMessage } from '../support/otp-inject.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * OTP modes against real SIPp calls and the embedded demo provider over HTTP: in `issuer` mode the
 * payment starts authentication, the demo bank texts a random OTP into the SMS sink, the test
 * reads it from `GET /demo/sms` (no DEMO_OTP) and the SIPp customer keys it; merchant `M-NO-OTP`
 * is set to `none` and pays without any OTP step. Receipts are on: the paid customer gets one.
 */
let gw: Gateway;
let logs: LogSink;
let target: string;
const events: SessionEvent[] = [];
const PAN = '4111111111111111';

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ OTP_MODE: 'issuer', OTP_MODE_MERCHANTS: 'M-NO-OTP:none', RECEIPT_SMS: 'on' }));
  await gw.bus.subscribe((e) => void events.push(e));
});
afterAll(async () => {
  await gw?.close();
});

const card: PayStep[] = [{ pauseMs: 1500 }, { keys: `${PAN}#` }, { keys: '1230' }, { keys: '123' }];

async function sms(): Promise<DemoSms[]> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/demo/sms`);
  return ((await res.json()) as { messages: DemoSms[] }).messages;
}

async function session(orderRef: string): Promise<SessionRecord[]> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  return ((await res.json()) as { sessions: SessionRecord[] }).sessions;
}

const receiptText = (orderRef: string, paymentId: string) =>
  `Payment of INR 1499.00 received for order ${orderRef}, card ending ${PAN.slice(-4)}. Ref ${paymentId}. - Tonegate`;

describe('OTP modes over SIPp', () => {
  it('issuer mode: the bank texts the OTP itself, the customer keys what the SMS sink shows, the payment is approved and a receipt follows', async () => {
    const headers = payHeaders();
    const orderRef = headers['X-Pay-Order-Ref']!;
    const callId = `otp-issuer-${Date.now()}@127.0.0.1`;
    const localPort = await freePort();
    const scenario = withOtpFromMessage(payScenario({ headers, steps: card, byeTimeoutMs: 90_000 }), 6);
    const call = runSipp({ scenario, target, localPort, mediaPort: await freeMediaPort(), timeoutS: 150, extra: ['-cid_str', callId] }).done;

    let ended: string | undefined;
    void call.then((r) => (ended = `SIPp ended early (${r.code}): ${`${r.errors}${r.stderr}`.split('\n').filter((l) => !/pcap|npkts|max pkt|base port/.test(l)).join('\n')}`));
    const bankSms = await until('the bank OTP SMS', async () => {
      if (ended) throw new Error(ended);
      return (await sms()).find((m) => m.text.includes(`order ${orderRef}.`));
    });
    expect(bankSms).toMatchObject({ to: '+919800000001', ...DEMO_BANK_SMS });
    const otp = /^(\d{6}) is the OTP for your card payment of INR 1499\.00 to M-DEMO-01/.exec(bankSms.text)?.[1];
    expect(otp, bankSms.text).toBeDefined();
    await new Promise((r) => setTimeout(r, 2000)); // SIPp finishes keying the CVV and waits for the MESSAGE
    await sendOtpMessage(localPort, callId, otp!);

    const r = await call;
    expect(r.code, `${r.errors}${r.stderr}`).toBe(0);
    const [s] = await session(orderRef);
    expect(s).toMatchObject({ outcome: 'paid', dtmfTransport: 'info', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    const charges = gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef);
    expect(charges).toMatchObject([{ status: 'approved', confirmed: true, paymentId: s!.paymentId, idempotencyKey: s!.idempotencyKey }]);
    const mine = events.filter((e) => e.sessionId === s!.id);
    expect(mine.filter((e) => e.type === 'otp.sent')).toMatchObject([{ route: 'issuer', resend: 0, mobile: '+91•••••0001' }]);
    expect(mine.find((e) => e.type === 'field.started' && e.field === 'otp')).toMatchObject({ length: { min: 6, max: 6 } });

    // The SMS of this order: the bank's OTP (never one from the gateway), then the receipt.
    const receipt = await until('the receipt SMS', async () => (await sms()).find((m) => m.text.startsWith('Payment of') && m.text.includes(orderRef)));
    const mineSms = (await sms()).filter((m) => m.text.includes(orderRef));
    expect(mineSms.map((m) => m.senderId)).toEqual([DEMO_BANK_SMS.senderId, DEMO_RECEIPT_TEMPLATE.template.senderId]);
    expect(receipt).toMatchObject({ to: '+919800000001', peId: DEMO_RECEIPT_TEMPLATE.template.peId, templateId: DEMO_RECEIPT_TEMPLATE.template.templateId });
    expect(receipt.text).toBe(receiptText(orderRef, s!.paymentId!));
    expect(receipt.text).not.toContain('411111'); // no more of the card than its last 4
    // The OTP never reaches the gateway's logs.
    const otpToken = new RegExp(`(?<![0-9])${otp}(?![0-9])`);
    expect(logs.lines.filter((l) => otpToken.test(l))).toEqual([]);
  }, 160_000);

  it('mode none (merchant M-NO-OTP): the payment follows the CVV with no OTP prompt and no OTP SMS', async () => {
    const headers = payHeaders({ 'X-Pay-Merchant-Id': 'M-NO-OTP' });
    const orderRef = headers['X-Pay-Order-Ref']!;
    const r = await runSipp({ scenario: payScenario({ headers, steps: card, byeTimeoutMs: 90_000 }), target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 150 }).done;
    expect(r.code, `${r.errors}${r.stderr}`).toBe(0);
    const [s] = await session(orderRef);
    expect(s).toMatchObject({ outcome: 'paid', card: { last4: '1111' } });
    const mine = events.filter((e) => e.sessionId === s!.id);
    expect(mine.some((e) => e.type === 'otp.sent' || (e.type === 'field.started' && e.field === 'otp'))).toBe(false);
    expect(mine.flatMap((e) => (e.type === 'prompt.playing' ? e.prompts : []))).not.toContain('enter.otp');
    expect(gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef)).toMatchObject([{ status: 'approved', confirmed: true }]);
    await until('the receipt SMS', async () => (await sms()).find((m) => m.text.includes(orderRef)));
    expect((await sms()).filter((m) => m.text.includes(orderRef)).map((m) => m.text)).toEqual([receiptText(orderRef, s!.paymentId!)]);
  }, 160_000);
});
