/**
 * Reads a SIP message (header section, CRLFCRLF, body) into sip.js's message classes
 * (`Core.IncomingRequestMessage` / `Core.IncomingResponseMessage`), which the rest of the stack and
 * sip.js's response builder use. It does what sip.js's `Core.Parser.parseMessage` does, step for
 * step (sip.js core/messages/parser.js: the same header fields parsed, the same fields filled in,
 * the same folding and body rules), with two differences:
 *  - each header value goes through grammar.ts (the hand-written reader for the hot fields, sip.js's
 *    generated grammar for the rest) instead of sip.js's `Grammar.parse`;
 *  - a failure is returned as data (which header field, the parser's column and expectations)
 *    instead of being written to a logger and returning nothing.
 * server/test/unit/sip/message/reader.test.ts proves the messages equal sip.js's own parse.
 */
import { Core, type NameAddrHeader, type URI } from 'sip.js';
import { grammarParse, type GrammarError } from './grammar.js';

export type SipJsMessage = Core.IncomingRequestMessage | Core.IncomingResponseMessage;

export type ReadFailure =
  | { ok: false; where: 'start-line'; error: GrammarError }
  /** `header` as written in the message (sip.js's log named it the same way). */
  | { ok: false; where: 'header'; header: string; error: GrammarError }
  | { ok: false; where: 'message' };

export type ReadOutcome = { ok: true; msg: SipJsMessage } | ReadFailure;

type Msg = SipJsMessage;
type Entry = { parsed?: unknown; raw: string };

/** End of the header field starting at `start` (continuation lines included), -2 at the empty line, -1 if unterminated. */
function headerEnd(data: string, start: number): number {
  if (data.startsWith('\r\n', start)) return -2;
  for (let from = start; ; ) {
    const partialEnd = data.indexOf('\r\n', from);
    if (partialEnd === -1) return -1;
    // RFC 3261 7.3.1: a line starting with white space continues the field.
    if (!data.startsWith('\r\n', partialEnd + 2) && /^\s/.test(data.charAt(partialEnd + 2))) from = partialEnd + 2;
    else return partialEnd;
  }
}

/** sip.js's `message.parseHeader(name)` on the first stored value: parse, keep, or drop it on failure. */
function parseStored(msg: Msg, key: string, rule: string): { ok: true; data: unknown } | { ok: false; error: GrammarError } {
  const list = msg.headers[key] as Entry[];
  const entry = list[0]!;
  const r = grammarParse(entry.raw, rule);
  if (!r.ok) {
    list.splice(0, 1);
    return r;
  }
  entry.parsed = r.data;
  return r;
}

/** Contact and Record-Route: one stored value per list element, each with its parsed header. */
function parseList(msg: Msg, name: string, key: string, rule: string, value: string): GrammarError | undefined {
  const r = grammarParse(value, rule);
  if (!r.ok) return r.error;
  if (!Array.isArray(r.data)) return { rule, column: 0, expected: [], found: null };
  for (const h of r.data as { position: number; offset: number; parsed: NameAddrHeader }[]) {
    msg.addHeader(name, value.substring(h.position, h.offset));
    const list = msg.headers[key] as Entry[];
    list[list.length - 1]!.parsed = h.parsed;
  }
  return undefined;
}

function setAndParse(msg: Msg, name: string, key: string, rule: string, value: string): { ok: true; data: unknown } | { ok: false; error: GrammarError } {
  msg.setHeader(name, value);
  return parseStored(msg, key, rule);
}

/** One header field line (sip.js parser.js `parseHeader`): undefined when accepted. */
function parseHeader(msg: Msg, data: string, start: number, end: number): GrammarError | undefined {
  const colon = data.indexOf(':', start);
  const name = data.substring(start, colon).trim();
  const value = data.substring(colon + 1, end).trim();
  let r: { ok: true; data: unknown } | { ok: false; error: GrammarError };
  switch (name.toLowerCase()) {
    case 'via':
    case 'v':
      msg.addHeader('via', value);
      if (msg.getHeaders('via').length !== 1) return undefined;
      r = parseStored(msg, 'Via', 'Via');
      if (r.ok) {
        msg.via = r.data as Msg['via'];
        msg.viaBranch = (r.data as { branch: string }).branch;
      }
      break;
    case 'from':
    case 'f':
      r = setAndParse(msg, 'from', 'From', 'From', value);
      if (r.ok) {
        msg.from = r.data as NameAddrHeader;
        msg.fromTag = msg.from.getParam('tag') as string;
      }
      break;
    case 'to':
    case 't':
      r = setAndParse(msg, 'to', 'To', 'To', value);
      if (r.ok) {
        msg.to = r.data as NameAddrHeader;
        msg.toTag = msg.to.getParam('tag') as string;
      }
      break;
    case 'record-route':
      return parseList(msg, 'record-route', 'Record-Route', 'Record_Route', value);
    case 'call-id':
    case 'i':
      r = setAndParse(msg, 'call-id', 'Call-ID', 'Call_ID', value);
      if (r.ok) msg.callId = value;
      break;
    case 'contact':
    case 'm':
      return parseList(msg, 'contact', 'Contact', 'Contact', value);
    case 'content-length':
    case 'l':
      r = setAndParse(msg, 'content-length', 'Content-Length', 'Content_Length', value);
      break;
    case 'content-type':
    case 'c':
      r = setAndParse(msg, 'content-type', 'Content-Type', 'Content_Type', value);
      break;
    case 'cseq':
      r = setAndParse(msg, 'cseq', 'CSeq', 'CSeq', value);
      if (r.ok) {
        const cseq = r.data as { value: number; method: string };
        msg.cseq = cseq.value;
        if (msg instanceof Core.IncomingResponseMessage) msg.method = cseq.method;
      }
      break;
    case 'max-forwards':
      r = setAndParse(msg, 'max-forwards', 'Max-Forwards', 'Max_Forwards', value);
      break;
    case 'www-authenticate':
      r = setAndParse(msg, 'www-authenticate', 'WWW-Authenticate', 'WWW_Authenticate', value);
      break;
    case 'proxy-authenticate':
      r = setAndParse(msg, 'proxy-authenticate', 'Proxy-Authenticate', 'Proxy_Authenticate', value);
      break;
    case 'refer-to':
    case 'r':
      r = setAndParse(msg, 'refer-to', 'Refer-To', 'Refer_To', value);
      if (r.ok) msg.referTo = r.data as string;
      break;
    default:
      // Not parsed, as in sip.js: stored under its lower-case name.
      msg.addHeader(name.toLowerCase(), value);
      return undefined;
  }
  return r.ok ? undefined : r.error;
}

/** Reads a whole message (`data`: header section, CRLFCRLF, body) into sip.js's message classes. */
export function readMessage(data: string): ReadOutcome {
  let end = data.indexOf('\r\n');
  if (end === -1) return { ok: false, where: 'message' };
  const first = grammarParse(data.substring(0, end), 'Request_Response');
  if (!first.ok) return { ok: false, where: 'start-line', error: first.error };
  const line = first.data as { status_code?: number; reason_phrase?: string; method?: string; uri?: URI };
  let msg: Msg;
  // sip.js tells a response by a non-zero status code (a `000` status line reads as a request).
  if (!line.status_code) {
    const req = new Core.IncomingRequestMessage();
    req.method = line.method as string;
    req.ruri = line.uri;
    msg = req;
  } else {
    const resp = new Core.IncomingResponseMessage();
    resp.statusCode = line.status_code;
    resp.reasonPhrase = line.reason_phrase;
    msg = resp;
  }
  msg.data = data;
  let start = end + 2;
  let bodyStart: number;
  for (;;) {
    end = headerEnd(data, start);
    if (end === -2) {
      bodyStart = start + 2;
      break;
    }
    if (end === -1) return { ok: false, where: 'message' };
    const error = parseHeader(msg, data, start, end);
    if (error) return { ok: false, where: 'header', header: data.substring(start, data.indexOf(':', start)).trim(), error };
    start = end + 2;
  }
  // RFC 3261 18.3: bytes beyond Content-Length are discarded.
  msg.body = msg.hasHeader('content-length') ? data.substr(bodyStart, Number(msg.getHeader('content-length'))) : data.substring(bodyStart);
  return { ok: true, msg };
}
