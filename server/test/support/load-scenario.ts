import { readFileSync, writeFileSync } from 'node:fs';
import { payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';

/**
 * A payment call that is either admitted and paid (the `steps`, then the gateway's BYE) or refused
 * for load: `503` with Retry-After (checked) and a Warning, both written to SIPp's log
 * (`-trace_logs -log_file <f>`) as `BUSY retry-after=<n> warning=<text>`, then the 503 is ACKed
 * (RFC 3261 17.1.1.3: same branch, so the top Via). An admitted call logs `ADMITTED`.
 */
export function payOrBusyScenario(opts: { headers: Record<string, string>; steps: PayStep[] }): string {
  const file = payScenario(opts);
  let xml = readFileSync(file, 'utf8');
  const ok = '  <recv response="200" rrs="true" />';
  if (!xml.includes(ok)) throw new Error('payScenario changed: no 200 receive');
  xml = xml.replace(
    ok,
    `  <recv response="503" optional="true" next="busy">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="Retry-After:" check_it="true" assign_to="after" />
      <ereg regexp=".*" search_in="hdr" header="Warning:" check_it="true" assign_to="warning" />
      <log message="BUSY retry-after=[$after] warning=[$warning]" />
    </action>
  </recv>
  <recv response="200" rrs="true">
    <action><log message="ADMITTED" /></action>
  </recv>`,
  );
  xml = xml.replace(
    '</scenario>',
    `  <nop next="end" />
  <label id="busy" />
  <send>
    <![CDATA[
      ACK sip:pay@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <label id="end" />
</scenario>`,
  );
  writeFileSync(file, xml);
  return file;
}
