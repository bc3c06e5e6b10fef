import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer, sdpOffer } from '../../devtools/sipp/blocks.js';
import { SCENARIOS } from '../../devtools/sipp/run.js';

const write = (name: string, xml: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'agent-refer-')), name);
  writeFileSync(file, xml);
  return file;
};

/**
 * e2e/sipp/register.xml with the Contact's transport given by the variable `contact_transport`
 * (`udp` or `tcp`): an agent that registers over UDP but takes its calls over TCP on its Contact
 * (RFC 3261 10.3: the Contact, not the REGISTER's source, is where calls go).
 */
export function registerScenario(): string {
  const xml = readFileSync(join(SCENARIOS, 'register.xml'), 'utf8')
    .replace('variables="contact_port,expires"', 'variables="contact_port,expires,contact_transport"')
    .replaceAll(';transport=[transport]>', ';transport=[$contact_transport]>');
  return write('register.xml', xml);
}

/**
 * A plain SIP agent (SIPp as a UAS, `-s <agent id>`) that answers the customer's call, then sends
 * the payment REFER inline (docs/architecture.md, "Handoff headers": X-Pay-* on the REFER to
 * sip:pay@<gateway>: a UAS SIPp has no [remote_ip]), expects 202, answers the NOTIFYs (RFC 3515 2.4.4): 100 Trying, then the final
 * one, which for a desk phone on UDP/TCP ends the subscription with a provisional sipfrag naming the
 * outcome (calls/payment/endings.ts) and must say `Payment paid`. Then it hangs up after `byeAfterMs`.
 */
export function agentReferScenario(opts: { gateway: string; headers: Record<string, string>; byeAfterMs: number }): string {
  const hdrs = Object.entries(opts.headers).map(([k, v]) => `      ${k}: ${v}`).join('\n');
  const ok = (): string => answer(200, 'OK');
  const inDialog = (method: string, cseq: number, extra: string): string => `  <send retrans="500">
    <![CDATA[
      ${method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: [$local];tag=[pid]SIPpTag01[call_number]
      To: [$remote]
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      [routes]
      Max-Forwards: 70
${extra}      Content-Length: 0

    ]]>
  </send>`;
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent sends the payment REFER">
  <recv request="INVITE" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote" />
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="local" />
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

${sdpOffer({ origin: 'agent' })}

    ]]>
  </send>
  <recv request="ACK" />
  <pause milliseconds="1000" />
${inDialog('REFER', 1, `      Refer-To: <sip:pay@${opts.gateway}>\n      Referred-By: <sip:[service]@[local_ip]>\n${hdrs}\n`)}
  <recv response="202" />
  <recv request="NOTIFY" timeout="10000">
    <action><ereg regexp="^SIP/2.0 100 Trying" search_in="body" check_it="true" assign_to="trying" /></action>
  </recv>
${ok()}
  <recv request="NOTIFY" timeout="90000">
    <action>
      <ereg regexp="^SIP/2.0 100 Payment paid" search_in="body" check_it="true" assign_to="paid" />
      <ereg regexp="terminated" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ended" />
    </action>
  </recv>
${ok()}
  <nop><action><log message="NOTIFY [$trying] / [$paid] ([$ended])" /></action></nop>
  <pause milliseconds="${opts.byeAfterMs}" />
${inDialog('BYE', 2, '')}
  <recv response="200" />
</scenario>
`;
  return write('agent-refer.xml', xml);
}
