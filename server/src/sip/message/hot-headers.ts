/**
 * Hand-written reader for the header fields every SIP message carries: the start line, Via, From,
 * To, Contact, Call-ID, CSeq, Content-Length, Content-Type and Max-Forwards (RFC 3261 7.1, 7.2,
 * 20, 25.1). It exists for speed: sip.js's generated grammar as published costs about 200 us of
 * CPU per field (it decodes its whole bytecode table on every call); this reader about 0.4 us
 * (server/bench/RESULTS.md, bench:sip notes).
 *
 * It is a fast path, never the judge. For each of those grammar rules it returns exactly what
 * sip.js's grammar returns for the same input (the same objects: sip.js's URI and NameAddrHeader,
 * the same parameter order and values, including the grammar's quirks), or `undefined` when the
 * input is outside the plain shapes it knows, and then sip.js's grammar reads it (grammar.ts), so
 * whatever this reader declines is accepted, rejected and reported exactly as before. It declines
 * rather than guesses: folded lines, %-escapes, IPv6, quoted-pairs, URI headers, `maddr`/`ttl`/
 * `method` parameters, a `q` parameter, white space around `=`, several values in one Via line.
 * server/test/unit/sip/message/hot-headers.test.ts proves the "exactly what sip.js returns" part on
 * the RFC 4475 corpus and on random mutations.
 */
import { NameAddrHeader, URI } from 'sip.js';

export type HotRule =
  | 'Request_Response' | 'Via' | 'From' | 'To' | 'Contact' | 'Call_ID' | 'CSeq' | 'Content_Length' | 'Content_Type' | 'Max_Forwards';

export const HOT_RULES: ReadonlySet<string> = new Set<HotRule>([
  'Request_Response', 'Via', 'From', 'To', 'Contact', 'Call_ID', 'CSeq', 'Content_Length', 'Content_Type', 'Max_Forwards',
]);

/** What sip.js's parser reads from the start line (sip.js core/messages/parser.js). */
export type StartLineData =
  | { method: string; uri: URI; status_code?: undefined; reason_phrase?: undefined }
  | { status_code: number; reason_phrase: string; method?: undefined; uri?: undefined };

/** One Contact value as sip.js's Contact rule reports it: where it is in the field, and the parsed header. */
export interface ContactEntry {
  position: number;
  offset: number;
  parsed: NameAddrHeader;
}

type Params = Record<string, string | number | undefined>;

function table(chars: string, ranges: [number, number][] = []): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  for (const [a, b] of [[48, 57], [65, 90], [97, 122], ...ranges] as [number, number][]) for (let c = a; c <= b; c++) t[c] = 1;
  return t;
}
// RFC 3261 25.1 character sets (the grammar's): token, user (no escapes), password, uri param, host run.
const TOKEN = table("-.!%*_+`'~");
const USER = table("-_.!~*'()&=+$,;?/");
const PASSWORD = table("-_.!~*'()&=+$,%");
const PARAMCHAR = table("-_.!~*'()[]/:&+$");
const HOSTCHAR = table('_.-');
const DIGITS_TABLE = (() => {
  const t = new Uint8Array(128);
  for (let d = 48; d <= 57; d++) t[d] = 1;
  return t;
})();

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const HOSTNAME = /^(?:[A-Za-z0-9_-]+\.)*[A-Za-z][A-Za-z0-9-]*$/;
const WORD_CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;
const DIGITS = /^\d+$/;
const CONTENT_TYPE = /^(?:application|text|audio|video|image|message|multipart)\/[A-Za-z0-9\-.!%*_+`'~]+(?:;[A-Za-z0-9\-.!%*_+`'~]+=[A-Za-z0-9\-.!%*_+`'~]+)*$/i;
const VERSION = /^SIP\/\d+\.\d+$/i;
const STATUS_LINE = /^SIP\/\d+\.\d+ (\d{3}) ((?:[A-Za-z0-9;/?:@&=+$,\-_.!~*'() \t\u0080-\uFFFF]|%[0-9A-Fa-f]{2})*)$/i;
const QUOTED_TEXT = /^[\t\x20\x21\x23-\x5B\x5D-\x7E\u0080-\uFFFF]*$/;
/** The grammar's Method rule tries these literals first: `INVITEX` matches INVITE and then fails. */
const METHOD_LITERALS = ['INVITE', 'ACK', 'OPTIONS', 'BYE', 'CANCEL', 'REGISTER', 'SUBSCRIBE', 'PUBLISH', 'NOTIFY', 'REFER'];

/** Thrown inside the reader for "not a shape I know": the caller hands the input to the grammar. */
const DECLINE = Symbol('decline');

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  run(set: Uint8Array): string {
    const from = this.i;
    const s = this.s;
    let i = from;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c >= 128 || set[c] !== 1) break;
      i++;
    }
    this.i = i;
    return s.slice(from, i);
  }
  at(ch: string): boolean {
    return this.s[this.i] === ch;
  }
  spaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }
  end(): boolean {
    return this.i >= this.s.length;
  }
}

const decline = (): never => {
  throw DECLINE;
};

function methodOk(m: string): boolean {
  for (const lit of METHOD_LITERALS) if (m.startsWith(lit)) return m.length === lit.length;
  return true;
}

/** host (RFC 3261 25.1) as the grammar reads it: hostname, else IPv4address; IPv6 is declined. */
function host(c: Cursor): { host: string; type: 'domain' | 'IPv4' } {
  const h = c.run(HOSTCHAR);
  if (HOSTNAME.test(h)) return { host: h, type: 'domain' };
  if (IPV4.test(h)) return { host: h, type: 'IPv4' };
  return decline();
}

/** `":" port` after a host: 1-5 digits (the grammar takes at most five). */
function port(c: Cursor): number | undefined {
  if (!c.at(':')) return undefined;
  c.i++;
  const d = c.run(DIGITS_TABLE);
  if (d.length === 0 || d.length > 5) decline();
  return parseInt(d, 10);
}

/** A token value that must end at one of `stops` (or the end): anything else is declined. */
function tokenUntil(c: Cursor, stops: string): string {
  const v = c.run(TOKEN);
  if (v === '' || (!c.end() && !stops.includes(c.s[c.i]!))) decline();
  return v;
}

/** `transport=` and `user=` values: the grammar tries udp/tcp/sctp/tls (phone/ip) first. */
function literalFirst(v: string, literals: string[]): string {
  const lower = v.toLowerCase();
  for (const lit of literals) if (lower.startsWith(lit) && lower.length > lit.length) decline();
  return lower;
}

/** SIP-URI / SIPS-URI (RFC 3261 19.1.1, 25.1): `withParams` false is the grammar's SIP_URI_noparams. */
function sipUri(c: Cursor, withParams: boolean): URI {
  const s = c.s;
  const scheme = /^sips:/i.test(s.slice(c.i, c.i + 5)) ? s.slice(c.i, c.i + 4) : /^sip:/i.test(s.slice(c.i, c.i + 4)) ? s.slice(c.i, c.i + 3) : decline();
  c.i += scheme.length + 1;
  let user: string | undefined;
  const start = c.i;
  const u = c.run(USER);
  if (c.at('@')) {
    if (u === '') decline();
    user = u;
    c.i++;
  } else {
    if (c.at('%')) decline();
    if (c.at(':')) {
      c.i++;
      c.run(PASSWORD);
      if (c.at('@')) decline(); // user:password@ (the grammar folds the password into the user)
    }
    c.i = start;
  }
  const h = host(c);
  const p = port(c);
  let params: Params | undefined;
  if (withParams) {
    while (c.at(';')) {
      c.i++;
      const name = c.run(PARAMCHAR);
      if (name === '') decline();
      const lower = name.toLowerCase();
      let value: string | undefined;
      if (c.at('=')) {
        c.i++;
        if (lower === 'transport' || lower === 'user' || lower === 'lr') {
          value = tokenUntil(c, ';?> ');
        } else {
          value = c.run(PARAMCHAR);
          if (value === '') decline();
        }
      }
      if (lower === 'method' || lower === 'maddr' || lower === 'ttl' || (lower.startsWith('lr') && lower !== 'lr')) decline();
      params ??= {};
      if (lower === 'transport' && value !== undefined) params.transport = literalFirst(value, ['udp', 'tcp', 'sctp', 'tls']);
      else if (lower === 'user' && value !== undefined) params.user = literalFirst(value, ['phone', 'ip']);
      else if (lower === 'lr') params.lr = undefined;
      else params[lower] = value;
    }
    if (c.at('?')) decline(); // URI headers
  }
  // sip.js's URI declares `user: string`; the grammar passes undefined for a URI without userinfo.
  return new URI(scheme, user as string, h.host, p, params as Record<string, string> | undefined);
}

/** name-addr / addr-spec (RFC 3261 20.10, 25.1) as the grammar reads them: addr-spec first. */
function nameAddr(c: Cursor): { uri: URI; displayName: string | undefined } {
  const s = c.s;
  if (/^sips?:/i.test(s.slice(c.i, c.i + 5))) return { uri: sipUri(c, false), displayName: undefined };
  let displayName: string | undefined;
  if (c.at('"')) {
    const close = s.indexOf('"', c.i + 1);
    if (close < 0) decline();
    displayName = s.slice(c.i + 1, close);
    if (!QUOTED_TEXT.test(displayName)) decline();
    c.i = close + 1;
    c.spaces();
  } else if (!c.at('<')) {
    const from = c.i;
    let last = c.i;
    for (;;) {
      if (c.run(TOKEN) === '') decline();
      last = c.i;
      c.spaces();
      if (c.end() || c.at('<')) break;
    }
    displayName = s.slice(from, last);
  }
  if (!c.at('<')) decline();
  c.i++;
  const uri = sipUri(c, true);
  if (!c.at('>')) decline();
  c.i++;
  c.spaces(); // RAQUOT = ">" SWS
  return { uri, displayName };
}

/** `*( SEMI param )` after a name-addr: From/To (tag apart) or Contact (expires as a number). */
function headerParams(c: Cursor, kind: 'from' | 'contact'): { params: Params | undefined; tag: string | undefined } {
  let params: Params | undefined;
  let tag: string | undefined;
  for (;;) {
    const back = c.i;
    c.spaces();
    if (!c.at(';')) {
      c.i = back;
      return { params, tag };
    }
    c.i++;
    c.spaces();
    const name = c.run(TOKEN);
    if (name === '') decline();
    const lower = name.toLowerCase();
    const value = c.at('=') ? (c.i++, tokenUntil(c, '; \t,')) : undefined;
    if (kind === 'from' && lower === 'tag' && value !== undefined) {
      tag = value;
      continue;
    }
    if (kind === 'contact' && lower === 'q') decline();
    params ??= {};
    if (kind === 'contact' && lower === 'expires' && value !== undefined && /^\d/.test(value)) {
      if (!DIGITS.test(value)) decline();
      params.expires = parseInt(value, 10);
    } else params[lower] = value;
  }
}

function fromTo(value: string): NameAddrHeader {
  const c = new Cursor(value);
  const { uri, displayName } = nameAddr(c);
  const { params, tag } = headerParams(c, 'from');
  if (!c.end()) decline();
  const header = new NameAddrHeader(uri, displayName as string, params as Record<string, string> | undefined ?? {});
  if (tag) header.setParam('tag', tag);
  return header;
}

function contact(value: string): ContactEntry[] {
  const c = new Cursor(value);
  const out: ContactEntry[] = [];
  for (;;) {
    const offset = c.i;
    const { uri, displayName } = nameAddr(c);
    const { params } = headerParams(c, 'contact');
    out.push({ position: c.i, offset, parsed: new NameAddrHeader(uri, displayName as string, params as Record<string, string> | undefined ?? {}) });
    const back = c.i;
    c.spaces();
    if (c.end()) return c.i === back ? out : decline(); // trailing white space belongs to no rule
    if (!c.at(',')) decline();
    c.i++;
    c.spaces();
  }
}

/** Via (RFC 3261 20.42): one via-parm per field line; several in one line are declined. */
function via(value: string): Record<string, unknown> {
  if (value.includes(',')) decline();
  const c = new Cursor(value);
  const data: Record<string, unknown> = {};
  const protocol = c.run(TOKEN);
  if (protocol.toUpperCase() !== 'SIP' || !c.at('/')) decline();
  data.protocol = protocol;
  c.i++;
  if (c.run(TOKEN) === '' || !c.at('/')) decline();
  c.i++;
  const transport = c.run(TOKEN);
  if (transport === '') decline();
  literalFirst(transport, ['udp', 'tcp', 'tls', 'sctp']);
  data.transport = transport;
  if (!c.at(' ') && !c.at('\t')) decline();
  c.spaces();
  const h = host(c);
  data.host_type = h.type;
  data.host = h.host;
  const p = port(c);
  if (p !== undefined) data.port = p;
  while (c.at(';')) {
    c.i++;
    const name = c.run(TOKEN);
    const lower = name.toLowerCase();
    if (name === '' || lower === 'ttl' || lower === 'maddr') decline();
    if (!c.at('=')) {
      if (!c.end() && !c.at(';')) decline();
      ((data.params ??= {}) as Params)[lower] = undefined;
      continue;
    }
    c.i++;
    if (lower === 'rport') {
      data.rport = c.run(DIGITS_TABLE);
      if (!c.end() && !c.at(';')) decline();
    } else if (lower === 'received') {
      const v = c.run(HOSTCHAR);
      if (!IPV4.test(v) || (!c.end() && !c.at(';'))) decline();
      data.host_type = 'IPv4'; // the grammar's IPv4address rule sets it again here
      data.received = v;
    } else if (lower === 'branch') data.branch = tokenUntil(c, ';');
    else ((data.params ??= {}) as Params)[lower] = tokenUntil(c, ';');
  }
  if (!c.end()) decline();
  return data;
}

function startLine(line: string): StartLineData {
  if (/^SIP\//i.test(line)) {
    const m = STATUS_LINE.exec(line) ?? decline();
    return { status_code: parseInt(m[1]!, 10), reason_phrase: m[2]! };
  }
  const c = new Cursor(line);
  const method = c.run(TOKEN);
  if (method === '' || !methodOk(method) || !c.at(' ')) decline();
  c.i++;
  const uri = sipUri(c, true);
  if (!c.at(' ') || !VERSION.test(line.slice(c.i + 1))) decline();
  return { method, uri };
}

function cseq(value: string): { value: number; method: string } {
  const m = /^(\d+)[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value) ?? decline();
  if (!methodOk(m[2]!)) decline();
  return { value: parseInt(m[1]!, 10), method: m[2]! };
}

function read(value: string, rule: HotRule): unknown {
  switch (rule) {
    case 'Request_Response':
      return startLine(value);
    case 'Via':
      return via(value);
    case 'From':
    case 'To':
      return fromTo(value);
    case 'Contact':
      return contact(value);
    case 'Call_ID':
      return WORD_CALL_ID.test(value) ? value : decline();
    case 'CSeq':
      return cseq(value);
    case 'Content_Length':
    case 'Max_Forwards':
      return DIGITS.test(value) ? parseInt(value, 10) : decline();
    case 'Content_Type':
      return CONTENT_TYPE.test(value) ? value : decline();
  }
}

/**
 * What sip.js's grammar returns for `value` under `rule`, or undefined when this reader does not
 * know the shape (then ask the grammar). Never throws.
 */
export function readHot(value: string, rule: HotRule): unknown {
  if (value.includes('\r') || value.includes('\n')) return undefined; // folded: LWS with CRLF
  try {
    return read(value, rule);
  } catch {
    // DECLINE, or a URI the sip.js classes refuse: either way the grammar decides.
    return undefined;
  }
}
