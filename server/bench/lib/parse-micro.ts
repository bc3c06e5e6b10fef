/**
 * `npm run bench:sip -- --parse-only`: the cost of the SIP message edge alone (`parseSip`: framing,
 * header grammar, the edge's own checks), in CPU time per message, on the messages one bench call
 * brings to the gateway: the caller's INVITE (with SDP), ACK and BYE, and the agent's 200 with SDP
 * and 200 to the BYE (shaped like the gateway's own requests echoed back). CPU time
 * (process.cpuUsage), not wall time, so other work on a shared machine moves it less than the
 * call-rate steps.
 */
import { parseSip } from '../../src/sip/message/index.js';

const SDP = ['v=0', 'o=sipp 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 6000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', ''].join('\r\n');

function message(lines: string[], body = ''): Buffer {
  return Buffer.from([...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
}

/** The five messages the gateway receives per bench call (e2e/sipp/bench-caller.xml, bench-agent.xml). */
export function benchCallMessages(n: number): Buffer[] {
  const callId = `${n}-4242@127.0.0.1`;
  const from = `<sip:bench@127.0.0.1>;tag=4242SIPpTag00${n}`;
  const to = '<sip:b00001@127.0.0.1>';
  const caller = (method: string, cseq: number, branch: string, extra: string[] = [], body = ''): Buffer =>
    message([`${method} sip:b00001@127.0.0.1:5060 SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:5061;branch=${branch};rport`,
      `From: ${from}`, method === 'INVITE' ? `To: ${to}` : `To: ${to};tag=gw${n}`, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`,
      ...extra, 'Max-Forwards: 70'], body);
  const agent = (cseq: string, extra: string[] = [], body = ''): Buffer =>
    message(['SIP/2.0 200 OK', `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK${n}x7f3a;rport=5060`,
      `From: "tonegate" <sip:support@127.0.0.1:5060>;tag=gwb${n}`, `To: <sip:b00001@127.0.0.1:5072>;tag=4242SIPpTag01${n}`,
      `Call-ID: gw-${n}-c0ffee`, `CSeq: ${cseq}`, ...extra], body);
  return [
    caller('INVITE', 1, `z9hG4bK-4242-${n}-0`, [`Contact: <sip:bench@127.0.0.1:5061;transport=UDP>`, 'Content-Type: application/sdp'], SDP),
    agent('1 INVITE', ['Contact: <sip:agent@127.0.0.1:5072;transport=UDP>', 'Content-Type: application/sdp'], SDP),
    caller('ACK', 1, `z9hG4bK-4242-ack-${n}`),
    caller('BYE', 2, `z9hG4bK-4242-${n}-5`),
    agent('2 BYE'),
  ];
}

export interface ParseMicroResult {
  messages: number;
  cpuMs: number;
  usPerMessage: number;
  usPerCall: number;
}

/** Parses the bench call's messages for about `durationMs` of CPU and reports CPU per message and per call. */
export function parseMicro(durationMs: number): ParseMicroResult {
  const calls = Array.from({ length: 64 }, (_, i) => benchCallMessages(i + 1));
  for (const set of calls) for (const m of set) if (parseSip(m).kind !== (m.subarray(0, 3).toString() === 'SIP' ? 'response' : 'request')) throw new Error(`bench message not parsed: ${m.toString()}`);
  const run = (rounds: number): number => {
    let n = 0;
    for (let r = 0; r < rounds; r++) for (const set of calls) for (const m of set) n += parseSip(m).kind.length;
    return n;
  };
  run(20); // warm-up: JIT
  let rounds = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < durationMs * 1000) {
    run(5);
    rounds += 5;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  }
  const messages = rounds * calls.length * 5;
  return { messages, cpuMs: used / 1000, usPerMessage: used / messages, usPerCall: (used / messages) * 5 };
}
