import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signHandoffV2 } from '../../src/handoff/signature-v2.js';
import type { RawFields } from '../../src/handoff/transaction.js';
import { headerLines, sdpOffer } from '../../devtools/sipp/blocks.js';

/** SIPp scenarios for the trust boundary tests (docs/security.md): refused, flooding and signed INVITEs. */

const OFFER = sdpOffer({ fmtp: false });

function invite(user: string, headers: Record<string, string>): string {
  return `  <send retrans="500">
    <![CDATA[
      INVITE sip:${user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:customer@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
${headerLines(headers)}      Content-Type: application/sdp
      Content-Length: [len]

${OFFER}
    ]]>
  </send>`;
}

const ACK = (user: string) => `  <send>
    <![CDATA[
      ACK sip:${user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${user}@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;

function write(name: string, xml: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'trust-scn-')), name);
  writeFileSync(f, xml);
  return f;
}

/**
 * INVITE sip:<user> expecting exactly `status` (a final non-2xx), then the ACK (RFC 3261 17.1.1.3).
 * SIPp checks the Warning header when `warning` is given. A fixed Call-ID (a signed handoff names
 * it) is SIPp's `-cid_str <id>`: SIPp matches responses to calls by it.
 */
export function refusedScenario(o: { user?: string; headers: Record<string, string>; status: number; warning?: string }): string {
  const user = o.user ?? 'pay';
  const check = o.warning
    ? `\n    <action><ereg regexp="${o.warning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" search_in="hdr" header="Warning:" check_it="true" assign_to="w" /></action>\n  `
    : '';
  return write('refused.xml', `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="refused">
${invite(user, o.headers)}
  <recv response="100" optional="true" />
  <recv response="${o.status}">${check}</recv>
${ACK(user)}
${o.warning ? '  <Reference variables="w" />\n' : ''}</scenario>
`);
}

/**
 * A flood of payment INVITEs that are never acknowledged: each call ends after a 200 (no ACK: the
 * gateway keeps the call until its 2xx timer gives up) or after a 503 (ACKed).
 */
export function unackedFloodScenario(headers: Record<string, string>): string {
  return write('flood.xml', `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="flood">
${invite('pay', headers)}
  <recv response="100" optional="true" />
  <recv response="503" optional="true" next="refused" />
  <recv response="200" next="end" />
  <label id="refused" />
${ACK('pay')}
  <label id="end" />
</scenario>
`);
}

const FIELD_OF: Record<string, keyof RawFields> = {
  'X-Pay-Amount': 'amount', 'X-Pay-Currency': 'currency', 'X-Pay-Merchant-Id': 'merchantId', 'X-Pay-Order-Ref': 'orderRef',
  'X-Pay-Customer-Mobile': 'customerMobile', 'X-Pay-Agent-Id': 'agentId', 'X-Pay-Language': 'language', 'X-Pay-Return-To': 'returnTo', 'X-Pay-Txn-Ref': 'txnRef',
};

/** The headers plus a v2 signature (`X-Pay-Signature`, `X-Pay-Nonce`) over them, the Request-URI and the Call-ID. */
export function signedHeaders(headers: Record<string, string>, o: { key: string; requestUri: string; callId: string; nonce?: string; t?: number }): Record<string, string> {
  const fields: RawFields = {};
  for (const [h, v] of Object.entries(headers)) if (FIELD_OF[h]) fields[FIELD_OF[h]] = v;
  const nonce = o.nonce ?? `n-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const t = o.t ?? Math.floor(Date.now() / 1000);
  return { ...headers, 'X-Pay-Signature': signHandoffV2(fields, o.key, t, { requestUri: o.requestUri, callId: o.callId, nonce }), 'X-Pay-Nonce': nonce };
}
