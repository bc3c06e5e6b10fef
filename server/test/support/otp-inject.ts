import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The customer keys an OTP it only learns during the call (the bank texts it): SIPp cannot know
 * it when the scenario is written, so the scenario waits for an in-dialog MESSAGE carrying
 * `X-Otp: <digits>` (sent by the test once it has read the SMS) and keys the digits
 * as SIP INFO (application/dtmf-relay, RFC 6086 legacy DTMF). SIPp matches the MESSAGE to its call
 * by Call-ID, which the test fixes with `-cid_str`.
 *
 * Inserts that block into a payScenario file before its final `<recv request="BYE"`.
 */
export function withOtpFromMessage(file: string, digits: number, user = 'pay'): string {
  const xml = readFileSync(file, 'utf8');
  const at = xml.lastIndexOf('  <recv request="BYE"');
  if (at < 0) throw new Error('otp inject: no final BYE in the scenario');
  const vars = Array.from({ length: digits }, (_, i) => `d${i + 1}`);
  const infos = vars.map(
    (v, i) => `  <send>
    <![CDATA[
      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${user}@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${200 + i} INFO
      [routes]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=[$${v}]
      Duration=160
    ]]>
  </send>
  <recv response="200" />
  <pause milliseconds="250" />`,
  );
  const block = `  <recv request="MESSAGE" timeout="60000">
    <action><ereg regexp="X-Otp: ${'([0-9])'.repeat(digits)}" search_in="msg" check_it="true" assign_to="otpall,${vars.join(',')}" /><log message="MESSAGE [$otpall]" /></action>
  </recv>
${infos.join('\n')}
`;
  writeFileSync(file, `${xml.slice(0, at)}${block}${xml.slice(at)}`);
  return file;
}

/**
 * Sends the MESSAGE with the OTP to SIPp (UDP, same Call-ID). SIPp, as a UAC, would send any answer
 * to the gateway rather than to us, so the scenario does not answer it: the call's success
 * (the digits keyed, the payment made) is the proof it arrived.
 */
export async function sendOtpMessage(sippPort: number, callId: string, otp: string): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const msg = [
    `MESSAGE sip:customer@127.0.0.1:${sippPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-otp-${Date.now()};rport`,
    'From: <sip:bank@127.0.0.1>;tag=otp-test',
    'To: <sip:customer@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    'Max-Forwards: 70',
    `X-Otp: ${otp}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    await new Promise<void>((resolve, reject) => sock.send(msg, sippPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  } finally {
    sock.close();
  }
}
