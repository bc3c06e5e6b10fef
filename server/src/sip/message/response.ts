/**
 * Building responses: for a parsed request (the TU's responses) and statelessly from the minimal
 * reader (the edge's rejects). RFC 3261 8.2.6 (UAS responses), 8.2.7 (stateless UAS), 21 (codes).
 *
 * sip.js's `Core.constructOutgoingResponse` is not used: it writes CSeq from the Request-Line method
 * (wrong for mismatch01/02, whose 400 must copy CSeq as received, 8.2.6.2), generates random rather
 * than stateless To tags (8.2.7), and does not copy Timestamp into a 100 (8.2.6.1).
 */
import { createHash } from 'node:crypto';
import type { Core } from 'sip.js';
import { firstValue, listValues, TOKEN, type RawMessage } from './raw.js';
import { grammarOk, nameAddrTagged, neutraliseValue } from './sipjs.js';
import { parseVia, type ViaInfo } from './via.js';

/** Reason phrases for the codes tonegate sends (RFC 3261 21, RFC 3265, RFC 3515, RFC 4028). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required',
  422: 'Session Interval Too Small', 423: 'Interval Too Brief', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

const CLASS_PHRASES = ['', 'Provisional', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure'];

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? CLASS_PHRASES[Math.floor(status / 100)] ?? 'Unknown';
}

export interface ResponseOptions {
  reason?: string;
  /** To tag for a request without one; default: a stateless tag derived from the request (8.2.7). */
  toTag?: string;
  /** Extra header fields, each one complete line without CRLF, e.g. `Allow: INVITE, ACK`. */
  headers?: string[];
  body?: { contentType: string; content: string };
}

interface ResponseParts {
  status: number;
  reason: string;
  vias: string[];
  from: string | undefined;
  to: string | undefined;
  callId: string | undefined;
  cseq: string | undefined;
  headers: string[];
  body: { contentType: string; content: string } | undefined;
}

const TOKEN_RE = new RegExp(`^${TOKEN}$`);
const hasLineBreak = (s: string): boolean => /[\r\n]/.test(s);
const unfold = (s: string): string => s.replace(/\r\n[ \t]+/g, ' ').trim();

function serialise(p: ResponseParts): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  const reason = p.reason.replace(/[\x00-\x1f\x7f]/g, ' ');
  const lines = [`SIP/2.0 ${p.status} ${reason}`];
  // Via first: RFC 3261 7.3.1 recommends header fields needed for routing near the top.
  for (const v of p.vias) lines.push(`Via: ${v}`);
  if (p.from !== undefined) lines.push(`From: ${p.from}`);
  if (p.to !== undefined) lines.push(`To: ${p.to}`);
  if (p.callId !== undefined) lines.push(`Call-ID: ${p.callId}`);
  if (p.cseq !== undefined) lines.push(`CSeq: ${p.cseq}`);
  lines.push(...p.headers);
  const content = p.body?.content ?? '';
  if (p.body) lines.push(`Content-Type: ${p.body.contentType}`);
  // Content-Length counts bytes of the body (RFC 3261 20.14), not UTF-16 code units.
  lines.push(`Content-Length: ${Buffer.byteLength(content, 'utf8')}`);
  return `${lines.join('\r\n')}\r\n\r\n${content}`;
}

/**
 * A To tag that is the same every time the same request is answered statelessly (RFC 3261 8.2.7),
 * with the 32 bits of randomness 19.3 asks for coming from the request's own identifiers.
 */
export function statelessTag(callId: string, fromTag: string, branch: string, cseq: string): string {
  return createHash('sha256').update(`${callId}\n${fromTag}\n${branch}\n${cseq}`).digest('hex').slice(0, 16);
}

/** RFC 3261 8.2.6: a response to a parsed request, serialised. Throws on a programming error. */
export function buildResponse(req: Core.IncomingRequestMessage, status: number, opts: ResponseOptions = {}): string {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`bad status ${status}`);
  const headers = [...(opts.headers ?? [])];
  for (const h of [...headers, opts.reason ?? '', opts.body?.contentType ?? '']) {
    if (hasLineBreak(h)) throw new TypeError('header or reason contains CR/LF');
  }
  if (opts.toTag !== undefined && !TOKEN_RE.test(opts.toTag)) throw new TypeError('toTag is not a token');
  const field = (name: string): string | undefined => {
    const v = req.getHeader(name);
    return v === undefined ? undefined : unfold(v);
  };
  const cseq = field('cseq');
  const callId = field('call-id');
  const vias = req.getHeaders('via').map(unfold);
  let to = field('to');
  // 8.2.6.2: copy To; add a tag when the request's To has none, except on a 100 (Trying).
  if (to !== undefined && status > 100 && !req.to?.hasParam('tag')) {
    to += `;tag=${opts.toTag ?? statelessTag(callId ?? '', req.fromTag ?? '', topBranch(vias[0]), cseq ?? '')}`;
  }
  // 12.1.1: a response that can establish a dialog (101-299) copies every Record-Route of the
  // request, in order, so the proxies that asked stay on the dialog's route (e.g. Kamailio).
  if (status > 100 && status < 300) {
    const rr = req.getHeaders('record-route').map(unfold);
    if (rr.length) headers.unshift(...rr.map((v) => `Record-Route: ${v}`));
  }
  // 8.2.6.1: a 100 (Trying) copies the request's Timestamp.
  const timestamp = field('timestamp');
  if (status === 100 && timestamp !== undefined) headers.unshift(`Timestamp: ${timestamp}`);
  return serialise({
    status,
    reason: opts.reason ?? reasonPhrase(status),
    vias,
    from: field('from'),
    to,
    callId,
    cseq,
    headers,
    body: opts.body,
  });
}

function topBranch(firstVia: string | undefined): string {
  return /;[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)/i.exec(firstVia ?? '')?.[1] ?? '';
}

const PARAM_RE = new RegExp(`^${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|\\[[0-9A-Fa-f:.]+\\]|"(?:[^"\\\\]|\\\\.)*"))?$`);
const LOOSE_VIA = new RegExp(`^SIP[ \\t]*/[ \\t]*(${TOKEN})[ \\t]*/[ \\t]*(${TOKEN})[ \\t]+(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9\\-.]+)(?:[ \\t]*:[ \\t]*([0-9]{1,5}))?(.*)$`, 'i');

/**
 * A top Via that our reply can carry. Verbatim when well-formed. Otherwise (badinv01:
 * `SIP/2.0/UDP 192.0.2.15;;,;,,`) sent-protocol and sent-by with the well-formed parameters only:
 * the client matches the reply on sent-by and branch (17.1.3, or 2543 rules without a branch),
 * and a verbatim broken Via would make the reply unparseable for it. Undefined if nothing is usable.
 */
function replyTopVia(value: string, trusted: boolean): { text: string; info: ViaInfo } | undefined {
  const info = parseVia(value, !trusted);
  if (info) return { text: value, info };
  const m = LOOSE_VIA.exec(value);
  if (!m) return undefined;
  const params = (m[5] ?? '').split(';').map((p) => p.trim()).filter((p) => PARAM_RE.test(p));
  const text = `SIP/${m[1]}/${m[2]} ${m[3]}${m[4] === undefined ? '' : `:${m[4]}`}${params.map((p) => `;${p}`).join('')}`;
  const fixed = parseVia(text);
  return fixed ? { text, info: fixed } : undefined;
}

const TAG_RE = new RegExp(`;[ \\t]*tag[ \\t]*=[ \\t]*(${TOKEN})`, 'gi');

/** From/To for a stateless reply: verbatim when parseable, else a stand-in keeping the tag. */
function replyNameAddr(name: 'from' | 'to', value: string | undefined): { text: string; tagged: boolean } | undefined {
  if (value === undefined) return undefined;
  if (!hasLineBreak(value)) {
    const rule = name === 'from' ? 'From' : 'To';
    let tagged = nameAddrTagged(value, rule);
    if (tagged === undefined) {
      const neutralised = neutraliseValue(name, value);
      tagged = neutralised === undefined ? undefined : nameAddrTagged(neutralised, rule);
    }
    if (tagged !== undefined) return { text: value, tagged };
  }
  // The field is broken (quotbal). Copying it would make our reply unparseable; the client does
  // not use From/To to match a non-2xx final response (17.1.3) and no dialog follows one (12.1).
  const tag = [...value.matchAll(TAG_RE)].pop()?.[1];
  const standIn = '<sip:unreadable@unreadable.invalid>';
  return tag === undefined ? { text: standIn, tagged: false } : { text: `${standIn};tag=${tag}`, tagged: true };
}

/**
 * A stateless response built from the minimal reader (RFC 3261 8.2.6.2, 8.2.7, 16.3 and 21.4.1 for
 * a 400): all Via values in order, From, To (with a stateless tag), Call-ID and CSeq as received.
 * `parsed` is the request when sip.js read it (its fields are then known to be well-formed).
 * Undefined when no usable top Via or CSeq can be read, or the Call-ID is present but unreadable:
 * without them the client cannot match the reply (17.1.3), so the request is dropped.
 */
export function statelessReply(
  raw: RawMessage,
  status: number,
  reason: string,
  headers: string[],
  parsed?: Core.IncomingRequestMessage,
): { response: string; topVia: ViaInfo } | undefined {
  const vias = listValues(raw, 'via').filter((v) => !hasLineBreak(v));
  const top = replyTopVia(vias[0] ?? '', parsed !== undefined);
  const cseq = firstValue(raw, 'cseq');
  const callId = firstValue(raw, 'call-id');
  if (!top || cseq === undefined || hasLineBreak(cseq) || !grammarOk(cseq, 'CSeq')) return undefined;
  if (callId !== undefined && (hasLineBreak(callId) || !grammarOk(callId, 'Call_ID'))) return undefined;
  const fromValue = firstValue(raw, 'from');
  const toValue = firstValue(raw, 'to');
  const from = parsed && fromValue !== undefined ? { text: fromValue, tagged: true } : replyNameAddr('from', fromValue);
  const to = parsed && toValue !== undefined ? { text: toValue, tagged: parsed.to.hasParam('tag') } : replyNameAddr('to', toValue);
  let toText = to?.text;
  if (toText !== undefined && !to?.tagged) {
    const fromTag = [...(from?.text ?? '').matchAll(TAG_RE)].pop()?.[1] ?? '';
    toText += `;tag=${statelessTag(callId ?? '', fromTag, top.info.branch ?? '', cseq)}`;
  }
  const response = serialise({
    status,
    reason,
    // The other Via values are copied as received (8.2.6.2), except fragments that are not a Via
    // value at all (badinv01's `;,,` after the top one): nothing could route a response with them.
    vias: [top.text, ...vias.slice(1).filter((v) => LOOSE_VIA.test(v))],
    from: from?.text,
    to: toText,
    callId,
    cseq,
    headers,
    body: undefined,
  });
  return { response, topVia: top.info };
}
