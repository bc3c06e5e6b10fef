/**
 * SIPp scenarios of the load harness (bench:load, bench:soak), written into the run directory.
 *
 * payment: a transfer-mode payment call. INVITE sip:pay@gateway with the X-Pay-* headers of the
 *   generic profile (order reference LOAD-<run>-<call number>, unique per call), PCMU +
 *   telephone-event offer; response time 1 = INVITE sent -> 200 received (-trace_rtt); ACK; then
 *   the whole call's audio starts in the background (play_pcap_audio for RFC 4733, rtp_stream for
 *   in-band) and SIPp logs `PLAY <call number> <seconds> <microseconds>` (gettimeofday) so the
 *   harness knows when each key left; then it waits for the gateway's BYE (the payment's end)
 *   and answers it. A call that never gets its BYE fails on the timeout.
 * accept: INVITE, 200, ACK, hold `holdMs`, BYE: the customer hangs up during the greeting. For the
 *   new-calls-per-second target, where only the answer matters.
 * Responses are matched to their transaction (start_txn/response_txn): a retransmitted 200 for the
 *   INVITE is then not taken for the answer to the BYE (see bench:sip's notes).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, customerInvite, customerRequest } from './blocks.js';

export type DtmfTransport = 'rfc4733' | 'inband';

const invite = (headers: Record<string, string>): string => `${customerInvite({ user: 'pay', headers, txn: true })}\n`;

/** The X-Pay-* headers of a load call; `[$run]` is set with `-set run <id>`. */
export function loadHeaders(): Record<string, string> {
  return {
    'X-Pay-Amount': '1499.00',
    'X-Pay-Currency': 'INR',
    'X-Pay-Merchant-Id': 'M-LOAD-01',
    'X-Pay-Order-Ref': 'LOAD-[$run]-[call_number]',
    'X-Pay-Customer-Mobile': '+919800000001',
  };
}

/** Writes the payment scenario for one DTMF transport; returns its path. */
export function writePaymentScenario(dir: string, transport: DtmfTransport, mediaFile: string, byeTimeoutMs: number): string {
  const play = transport === 'rfc4733' ? `<exec play_pcap_audio="${mediaFile}" />` : `<exec rtp_stream="${mediaFile},1,0" />`;
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="load payment ${transport}">
  <Global variables="run" />
${invite(loadHeaders())}  <nop>
    <action>
      <gettimeofday assign_to="s,us" />
      ${play}
      <log message="PLAY [call_number] [$s] [$us]" />
    </action>
  </nop>
  <recv request="BYE" timeout="${byeTimeoutMs}" />
${answer(200, 'OK')}
  <ResponseTimeRepartition value="5, 10, 20, 50, 100, 200, 500, 1000" />
</scenario>
`;
  const file = join(dir, `payment-${transport}.xml`);
  writeFileSync(file, xml);
  return file;
}

/** Writes the accept scenario (answer, hold, customer BYE); returns its path. */
export function writeAcceptScenario(dir: string, holdMs: number): string {
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="load accept">
  <Global variables="run" />
${invite(loadHeaders())}  <pause milliseconds="${holdMs}" />
${customerRequest({ method: 'BYE', user: 'pay', cseq: 2, attrs: ' retrans="500" start_txn="bye"' })}
  <recv response="200" response_txn="bye" />
  <ResponseTimeRepartition value="5, 10, 20, 50, 100, 200, 500, 1000" />
</scenario>
`;
  const file = join(dir, 'accept.xml');
  writeFileSync(file, xml);
  return file;
}
