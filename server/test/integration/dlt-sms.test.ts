import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../devtools/until.js';
import type { SessionEvent } from '../../src/capture/events.js';
import type { DemoSms } from '../../src/demo/index.js';
import type { Gateway } from '../../src/gateway.js';
import type { SessionRecord } from '../../src/store/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { GatewayChild } from '../support/gateway-process.js';
import { sendOtpMessage, withOtpFromMessage } from '../support/otp-inject.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * SMS under DLT from the configuration file (docs/operations.md, "SMS under DLT"): a gateway
 * started with TONEGATE_CONFIG whose `sms:` section sets its own PE ID, header and OTP template,
 * and two routes: the first to a port where nothing listens, the second to the embedded demo
 * provider's SMS API. A real SIPp customer keys the card in transfer mode; the OTP is random (no
 * DEMO_OTP): the test reads it from `GET /demo/sms` and hands it to SIPp, which keys it. The SMS at
 * the sink must carry exactly the configured sender, PE ID, template ID and rendered text; the OTP
 * appears nowhere in the gateway's logs or events. A file with a broken template is refused at
 * start (the real process) and by `npm run config:check`, naming the key.
 */
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tg-dlt-'));
const PAN = '4111111111111111';
const PE_ID = '1201162233445566778';
const HEADER = 'SHOPIN';
const TEMPLATE_ID = '1207169988776655443';
const TEXT = '{#var#} is the code to pay {#var#} {#var#} at {#var#} for order {#var#}. Never share it. - ShopIn';
const HI_TEMPLATE_ID = '1207169988776655444';
const HI_TEXT = '{#var#} आपका कोड है, ऑर्डर {#var#} के {#var#} {#var#} के भुगतान के लिए। किसी को न बताएं। - ShopIn';

const configFile = (demoPort: number, downPort: number, text = TEXT, vars = '[otp, currency, amount, merchantId, orderRef]') => `
sms:
  peId: '${PE_ID}'
  header: ${HEADER}
  routes:
    - { name: first-down, url: 'http://127.0.0.1:${downPort}', kind: tonegate-json, timeoutMs: 2000 }
    - { name: demo-sink, url: 'http://127.0.0.1:${demoPort}', kind: tonegate-json, timeoutMs: 5000 }
  templates:
    otp:
      en: { templateId: '${TEMPLATE_ID}', text: '${text}', vars: ${vars} }
`;
const HI_LINE = `      hi: { templateId: '${HI_TEMPLATE_ID}', text: '${HI_TEXT}', vars: [otp, orderRef, currency, amount] }\n`;

let gw: Gateway;
let logs: LogSink;
let target: string;
let downPort: number;
const events: SessionEvent[] = [];

beforeAll(async () => {
  const demoPort = await freePort();
  downPort = await freePort(); // free: nothing listens there, the first route is down (connection refused)
  const file = join(dir, 'tonegate.yaml');
  writeFileSync(file, configFile(demoPort, downPort) + HI_LINE);
  ({ gw, logs, target } = await startTestGateway({ TONEGATE_CONFIG: file }, { config: { DEMO_PG_PORT: demoPort } }));
  await gw.bus.subscribe((e) => void events.push(e));
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

async function sms(): Promise<DemoSms[]> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/demo/sms`);
  return ((await res.json()) as { messages: DemoSms[] }).messages;
}

interface Paid { otp: string; sms: DemoSms; orderRef: string; headers: Record<string, string> }

/** One transfer-mode payment whose OTP the test reads from the SMS sink (`otpPattern`) and hands to SIPp. */
async function payReadingOtp(over: Record<string, string>, otpPattern: RegExp): Promise<Paid> {
  const headers = payHeaders(over);
  const orderRef = headers['X-Pay-Order-Ref']!;
  const callId = `dlt-${orderRef}@127.0.0.1`;
  const localPort = await freePort();
  const card: PayStep[] = [{ pauseMs: 1500 }, { keys: `${PAN}#` }, { keys: '1230' }, { keys: '123' }];
  const scenario = withOtpFromMessage(payScenario({ headers, steps: card, byeTimeoutMs: 90_000 }), 6);
  const call = runSipp({ scenario, target, localPort, mediaPort: await freeMediaPort(), timeoutS: 150, extra: ['-cid_str', callId] }).done;
  let ended: string | undefined;
  void call.then((r) => (ended = `SIPp ended early (${r.code}): ${r.errors}`));
  const otpSms = await until('the OTP SMS', async () => {
    if (ended) throw new Error(ended);
    return (await sms()).find((m) => m.text.includes(orderRef));
  });
  const otp = otpPattern.exec(otpSms.text)?.[1];
  expect(otp, otpSms.text).toBeDefined();
  await new Promise((r) => setTimeout(r, 2000)); // SIPp finishes keying the CVV and waits for the MESSAGE
  await sendOtpMessage(localPort, callId, otp!);
  const r = await call;
  expect(r.code, r.errors).toBe(0);
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  const { sessions } = (await res.json()) as { sessions: SessionRecord[] };
  expect(sessions).toHaveLength(1);
  expect(sessions[0]).toMatchObject({ outcome: 'paid', card: { brand: 'visa', last4: '1111' } });
  return { otp: otp!, sms: otpSms, orderRef, headers };
}

describe('DLT SMS configured in the file, over SIPp', () => {
  let en: Paid;
  let hi: Paid;
  beforeAll(async () => {
    [en, hi] = await Promise.all([
      payReadingOtp({ 'X-Pay-Merchant-Id': 'M-SHOP-7' }, /^(\d{6}) is the code/),
      payReadingOtp({ 'X-Pay-Language': 'hi' }, /^(\d{6}) आपका कोड है/),
    ]);
  }, 180_000);

  it('the OTP SMS carries the configured header, PE ID, template ID and rendered text (second route: the first is down) and the payment is paid', () => {
    expect(en.sms).toEqual({
      to: en.headers['X-Pay-Customer-Mobile'],
      senderId: HEADER,
      peId: PE_ID,
      templateId: TEMPLATE_ID,
      text: `${en.otp} is the code to pay INR ${en.headers['X-Pay-Amount']} at M-SHOP-7 for order ${en.orderRef}. Never share it. - ShopIn`,
      sentAt: expect.any(String) as unknown as string,
    });
  });

  it('a Hindi call gets the Hindi template (UCS-2), same registration', () => {
    expect(hi.sms).toEqual({
      to: hi.headers['X-Pay-Customer-Mobile'],
      senderId: HEADER,
      peId: PE_ID,
      templateId: HI_TEMPLATE_ID,
      text: `${hi.otp} आपका कोड है, ऑर्डर ${hi.orderRef} के INR 1499.00 के भुगतान के लिए। किसी को न बताएं। - ShopIn`,
      sentAt: expect.any(String) as unknown as string,
    });
  });

  it('routes are tried in order, the outcome of each logged: the first refused the connection, the second took it', () => {
    const routeLines = logs.lines.map((l) => JSON.parse(l) as { msg: string; route?: string; code?: string; templateId?: string }).filter((l) => l.msg === 'sms route failed' || l.msg === 'sms accepted');
    for (const templateId of [TEMPLATE_ID, HI_TEMPLATE_ID]) {
      expect(routeLines.filter((l) => l.templateId === templateId).map((l) => [l.msg, l.route, l.code])).toEqual([
        ['sms route failed', 'first-down', 'unreachable'],
        ['sms accepted', 'demo-sink', undefined],
      ]);
    }
  });

  it('the OTP is in the SMS body at the sink only: never in the gateway\'s logs or events', () => {
    const everything = `${logs.lines.join('\n')}\n${JSON.stringify(events)}`;
    for (const p of [en, hi]) {
      // As a run of digits of its own: a random 6-digit OTP may well sit inside a 13-digit timestamp.
      expect(everything).not.toMatch(new RegExp(`(?<!\\d)${p.otp}(?!\\d)`));
      expect(everything).not.toContain(p.sms.text);
    }
    expect(everything).not.toContain(PAN);
  });

  it('a rendered message that does not match its registered template is never sent: logged by template id, counted in /metrics', async () => {
    const before = (await sms()).length;
    const otpTemplate = gw.payments.otpTemplate;
    expect(otpTemplate.template).toMatchObject({ templateId: TEMPLATE_ID, peId: PE_ID, senderId: HEADER });
    // A line break inside a variable: the operators' template match (one line per {#var#}) would scrub it.
    const vars = ['975310', 'INR', '10.00', 'M-SHOP-7', 'ORD-SECRET\nX'];
    await expect(gw.payments.sms.send({ to: '+919800000001', template: otpTemplate.template, vars })).rejects.toMatchObject({ code: 'dlt-invalid', problem: 'template-mismatch' });
    expect((await sms()).length).toBe(before);
    const refused = logs.lines.filter((l) => l.includes('sms refused: does not fit its DLT template'));
    expect(refused).toHaveLength(1);
    expect(JSON.parse(refused[0]!)).toMatchObject({ templateId: TEMPLATE_ID, problem: 'template-mismatch' });
    expect(logs.lines.join('\n')).not.toMatch(/(?<!\d)975310(?!\d)/);
    expect(logs.lines.join('\n')).not.toContain('ORD-SECRET');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^tonegate_sms_refused_total\{reason="template-mismatch"\} 1$/m);
  });

  it('the SMS route breakers are on /metrics by route', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(text).toMatch(/tonegate_provider_breaker_state\{provider="sms:first-down"\} \d/);
    expect(text).toMatch(/tonegate_provider_breaker_state\{provider="sms:demo-sink"\} 0/);
  });
});

describe('a broken template is refused at start, naming the key', () => {
  // 3 placeholders, 2 vars; and a Hindi template longer than sms.maxParts allows.
  const broken = join(dir, 'broken.yaml');
  beforeAll(() => {
    writeFileSync(broken, `${configFile(9, 9, '{#var#} is your OTP for {#var#} {#var#}', '[otp, orderRef]')}      hi: { templateId: '${TEMPLATE_ID}', text: '{#var#} ${'क'.repeat(200)}', vars: [otp] }\n`);
  });
  const expected = [
    'sms.templates.otp.en.vars: 2 vars for 3 {#var#} placeholders in the text',
    'sms.templates.otp.hi.text: renders up to 209 UCS-2 characters (70 in one part, 67 per part beyond): 4 parts, more than sms.maxParts (3)',
  ];

  it('npm run config:check -- FILE exits 1 with one line per problem', () => {
    const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/config-check.ts', broken], { cwd: REPO, env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual(expected);
  });

  it('the gateway process exits non-zero with the same lines and never runs', async () => {
    const { code, lines } = await GatewayChild.runUntilExit({ TONEGATE_CONFIG: broken, SIP_PORT: String(await freePort()), HTTP_PORT: String(await freePort()), DEMO_PG_PORT: String(await freePort()) });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const all = lines.join('\n');
    for (const l of expected) expect(all).toContain(l);
    expect(all).not.toMatch(/tonegate is running/);
  }, 40_000);
});
