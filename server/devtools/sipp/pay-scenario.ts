import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer, customerInvite, customerRequest } from './blocks.js';

/** One step of what the SIPp customer does after the call is answered. */
export type PayStep = { keys: string; gapMs?: number } | { pauseMs: number } | { ulaw: string; ms: number } | { info: string };

const PCAP: Record<string, string> = { '*': 'star', '#': 'pound' };
const pcapOf = (k: string): string => `/usr/share/sip-tester/dtmf_2833_${PCAP[k] ?? k}.pcap`;

/**
 * Builds a SIPp scenario for a transfer-mode payment: INVITE sip:<user>@gateway with the given
 * headers and a PCMU + telephone-event offer, ACK, then the steps (RFC 2833 keys from SIPp's own
 * pcaps, 280 ms each; or in-band audio streamed from a raw µ-law file), then wait for the gateway's
 * BYE and answer it. Returns the scenario file path.
 */
export function payScenario(opts: { user?: string; headers: Record<string, string>; steps: PayStep[]; byeTimeoutMs?: number; ackDelayMs?: number }): string {
  const body: string[] = [];
  let cseq = 1;
  for (const s of opts.steps) {
    if ('pauseMs' in s) body.push(`  <pause milliseconds="${s.pauseMs}" />`);
    else if ('info' in s) {
      // RFC 6086 legacy DTMF: one in-dialog INFO (application/dtmf-relay) per key, each answered 200.
      for (const k of s.info) body.push(infoRequest(opts.user ?? 'pay', ++cseq, k), '  <recv response="200" />', '  <pause milliseconds="250" />');
    }
    else if ('ulaw' in s) {
      body.push(`  <nop><action><exec rtp_stream="${s.ulaw},1,0" /></action></nop>`, `  <pause milliseconds="${s.ms}" />`);
    } else {
      for (const k of s.keys) {
        body.push(`  <nop><action><exec play_pcap_audio="${pcapOf(k)}" /></action></nop>`, `  <pause milliseconds="${s.gapMs ?? 450}" />`);
      }
    }
  }
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="pay">
${customerInvite({ user: opts.user ?? 'pay', headers: opts.headers, ...(opts.ackDelayMs ? { ackDelayMs: opts.ackDelayMs } : {}) })}
${body.join('\n')}
  <recv request="BYE" timeout="${opts.byeTimeoutMs ?? 60000}" />
${answer(200, 'OK')}
</scenario>
`;
  const dir = mkdtempSync(join(tmpdir(), 'pay-scn-'));
  const file = join(dir, 'pay.xml');
  writeFileSync(file, xml);
  return file;
}

function infoRequest(user: string, cseq: number, key: string): string {
  return customerRequest({ method: 'INFO', user, cseq, headers: { 'Content-Type': 'application/dtmf-relay' }, body: [`Signal=${key}`, 'Duration=160'] });
}

/**
 * {@link payScenario}, but afterwards the gateway sends the customer back (X-Pay-Return-To): SIPp
 * expects a REFER whose Refer-To is `returnTo`, answers 202, reports the transfer done with a
 * NOTIFY (sipfrag 200), and then expects the gateway's BYE (RFC 3515 2.4.5).
 */
export function payReturnScenario(opts: { headers: Record<string, string>; steps: PayStep[]; returnTo: string }): string {
  const escaped = opts.returnTo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return replaceTail(
    payScenario(opts),
    '  <recv request="BYE"',
    `  <recv request="REFER" timeout="90000">
    <action><ereg regexp="${escaped}" search_in="hdr" header="Refer-To:" check_it="true" assign_to="rt" /></action>
  </recv>
${answer(202, 'Accepted', ['X-Refer-To-Seen: [$rt]'])}
${customerRequest({
    method: 'NOTIFY',
    user: 'pay',
    cseq: 90,
    headers: { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource', 'Content-Type': 'message/sipfrag;version=2.0' },
    body: ['SIP/2.0 200 OK'],
  })}
  <recv response="200" />
  <recv request="BYE" timeout="15000" />
${answer(200, 'OK')}
`,
  );
}

/**
 * A fresh order reference without digits: the tests scan every output for the test card's digits
 * (PAN, CVV 737, ...), so a reference must never contain them by chance.
 */
export function orderRef(): string {
  return `ORD-${Array.from({ length: 10 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join('')}`;
}

/** The X-Pay-* headers of the generic profile (docs/architecture.md, "Handoff headers"). */
export function payHeaders(over: Record<string, string> = {}): Record<string, string> {
  return {
    'X-Pay-Amount': '1499.00',
    'X-Pay-Currency': 'INR',
    'X-Pay-Merchant-Id': 'M-DEMO-01',
    'X-Pay-Order-Ref': orderRef(),
    'X-Pay-Customer-Mobile': '+919800000001',
    'X-Pay-Agent-Id': 'agent-1',
    ...over,
  };
}

/** Replaces everything from `marker` (a line payScenario wrote) to the end of a scenario file. */
function replaceTail(file: string, marker: string, tail: string): string {
  const xml = readFileSync(file, 'utf8');
  const at = xml.indexOf(marker);
  if (at < 0) throw new Error(`pay scenario: "${marker.trim()}" not found`);
  writeFileSync(file, `${xml.slice(0, at)}${tail}</scenario>\n`);
  return file;
}

/**
 * {@link payScenario}, but the customer hangs up: after the steps SIPp sends BYE and expects 200,
 * instead of waiting for the gateway's BYE; then it stays 2 s, so a BYE (or anything else) the
 * gateway sends in the ended dialog fails the call.
 */
export function payHangupScenario(opts: { user?: string; headers: Record<string, string>; steps: PayStep[] }): string {
  const user = opts.user ?? 'pay';
  return replaceTail(
    payScenario(opts),
    '  <recv request="BYE"',
    `${customerRequest({ method: 'BYE', user, cseq: 2 })}
  <recv response="200" />
  <pause milliseconds="2000" />
`,
  );
}

/**
 * An INVITE the gateway must refuse: SIPp expects a final `status` (anything else fails the call),
 * checks that a Warning is present, writes it to SIPp's log (`-trace_logs -log_file <f>`) as
 * `Warning=<value>`, and ACKs the final response (RFC 3261 17.1.1.3: same branch, so the top Via).
 */
export function payRefusedScenario(opts: { user?: string; headers: Record<string, string>; status: number }): string {
  const user = opts.user ?? 'pay';
  return replaceTail(
    payScenario({ ...opts, steps: [] }),
    '  <recv response="200" rrs="true" />',
    `  <recv response="${opts.status}">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Warning:" check_it="true" assign_to="warning" />
      <log message="Warning=[$warning]" />
    </action>
  </recv>
  <send>
    <![CDATA[
      ACK sip:${user}@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
`,
  );
}
