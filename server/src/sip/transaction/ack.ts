/**
 * RFC 3261 17.1.1.3: the ACK for a non-2xx final response to an INVITE is built by the client
 * transaction itself, from the INVITE it sent: the same Request-URI, Call-ID, From, CSeq number
 * (method ACK), the INVITE's top Via only (same branch) and its Route header fields, and the To of
 * the response (which carries the peer's tag). No body.
 */
import type { IncomingResponseMessage } from './types.js';

const CRLF = '\r\n';

/** The header section of a serialised request: its request line and [name, value] pairs (unfolded). */
function head(request: string): { line: string; fields: [string, string][] } {
  const end = request.indexOf(CRLF + CRLF);
  const lines = (end >= 0 ? request.slice(0, end) : request).split(CRLF);
  const fields: [string, string][] = [];
  for (const l of lines.slice(1)) {
    if (/^[ \t]/.test(l) && fields.length > 0) {
      fields[fields.length - 1]![1] += ' ' + l.trim(); // RFC 3261 7.3.1 folding
      continue;
    }
    const colon = l.indexOf(':');
    if (colon > 0) fields.push([l.slice(0, colon).trim(), l.slice(colon + 1).trim()]);
  }
  return { line: lines[0] ?? '', fields };
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id' };
const canonical = (name: string): string => COMPACT[name.toLowerCase()] ?? name.toLowerCase();

/** The ACK for `response` (a non-2xx final) to the INVITE `invite` as it was sent. */
export function ackForNon2xx(invite: string, response: IncomingResponseMessage): string {
  const { line, fields } = head(invite);
  const m = /^INVITE\s+(\S+)\s+SIP\/2\.0$/i.exec(line);
  if (!m) throw new TypeError('ackForNon2xx: not an INVITE');
  const first = (name: string): string | undefined => fields.find(([n]) => canonical(n) === name)?.[1];
  const via = first('via');
  const from = first('from');
  const callId = first('call-id');
  const cseq = /^(\d+)\s+INVITE$/i.exec(first('cseq') ?? '')?.[1];
  if (!via || !from || !callId || !cseq) throw new TypeError('ackForNon2xx: the INVITE lacks Via, From, Call-ID or CSeq');
  // Only the top Via (RFC 3261 17.1.1.3); one Via header line may hold several values.
  const topVia = via.split(/,(?=\s*SIP\s*\/)/i)[0]!.trim();
  const to = response.getHeader('to') ?? first('to') ?? '';
  const out = [`ACK ${m[1]} SIP/2.0`, `Via: ${topVia}`, 'Max-Forwards: 70'];
  for (const [n, v] of fields) if (canonical(n) === 'route') out.push(`Route: ${v}`);
  out.push(`From: ${from}`, `To: ${to}`, `Call-ID: ${callId}`, `CSeq: ${cseq} ACK`, 'Content-Length: 0');
  return out.join(CRLF) + CRLF + CRLF;
}
