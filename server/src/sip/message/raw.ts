/**
 * Minimal reader of a SIP message's framing: start line, header fields and where the body starts.
 *
 * It checks no grammar (that is reader.ts's job, with sip.js's grammar). It exists because the
 * message reader (reader.ts, which does what sip.js's parser does)
 *  - keeps only the last of repeated single-value header fields (so it cannot see mcl01/multi01),
 *  - gives no message at all for one it refuses (only which field), and a stateless 400 needs the
 *    request's Via, From, To, Call-ID and CSeq (RFC 3261 8.2.6.2, 16.3, 21.4.1),
 *  - works on strings, while Content-Length counts bytes (RFC 3261 20.14, 18.3),
 *  - cannot rewrite the top Via in place (RFC 3261 18.2.1 `received`, RFC 3581 `rport`).
 */

/** Compact header names (RFC 3261 7.3.3 and the IANA SIP header registry). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition',
  e: 'content-encoding', f: 'from', i: 'call-id', j: 'reject-contact', k: 'supported',
  l: 'content-length', m: 'contact', n: 'identity-info', o: 'event', r: 'refer-to',
  s: 'subject', t: 'to', u: 'allow-events', v: 'via', x: 'session-expires', y: 'identity',
};

/** Display names for the header fields we report on. */
const DISPLAY: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID', cseq: 'CSeq', via: 'Via', from: 'From', to: 'To',
  'max-forwards': 'Max-Forwards', 'content-length': 'Content-Length', 'content-type': 'Content-Type',
  expires: 'Expires', contact: 'Contact', 'record-route': 'Record-Route', 'refer-to': 'Refer-To',
  'www-authenticate': 'WWW-Authenticate', 'proxy-authenticate': 'Proxy-Authenticate',
};

/** Lower-case long name of a header field name as written (compact forms expanded). */
export function canonicalName(written: string): string {
  const lower = written.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

export function displayName(name: string): string {
  return DISPLAY[name] ?? name;
}

/** token (RFC 3261 25.1). */
export const TOKEN = "[A-Za-z0-9\\-.!%*_+`'~]+";
const TOKEN_RE = new RegExp(`^${TOKEN}$`);
const HEADER_NAME_RE = new RegExp(`^(${TOKEN})[ \\t]*:`);
const VERSION_RE = /^SIP\/[0-9]+\.[0-9]+$/i;

export type StartLine =
  | { kind: 'request'; method: string; uri: string; version: string }
  | { kind: 'response'; version: string }
  | { kind: 'unknown' };

export interface RawHeader {
  /** Lower-case long name: compact forms expanded (RFC 3261 7.3.3). */
  name: string;
  /** The value with folding replaced by SP and trimmed (RFC 3261 7.3.1). */
  value: string;
  /** Offsets in RawMessage.text: start of the name, end of the last continuation line (CRLF excluded). */
  start: number;
  end: number;
  /** Offset in RawMessage.text just after the colon. */
  valueStart: number;
}

export interface RawMessage {
  /** Bytes skipped before the start line (CRLFs, RFC 3261 7.5). */
  skip: number;
  /** Header section from the start line up to, not including, the CRLFCRLF; decoded. */
  text: string;
  startLine: string;
  start: StartLine;
  headers: RawHeader[];
  /** A line that is neither a header field nor a continuation, or a bare CR / LF (RFC 3261 7.3.1). */
  malformed: boolean;
  /** Byte offset of the body in the buffer; undefined when the empty line is missing (RFC 3261 7). */
  bodyOffset: number | undefined;
}

function classify(line: string): StartLine {
  if (/^SIP\//i.test(line)) return { kind: 'response', version: line.split(/[ \t]/, 1)[0] ?? '' };
  const tokens = line.split(/[ \t]+/).filter((t) => t !== '');
  const version = tokens[tokens.length - 1] ?? '';
  const method = tokens[0] ?? '';
  // RFC 3261 7.1: Method SP Request-URI SP SIP-Version. More tokens (lwsruri) or extra spaces
  // (lwsstart) still read as a request, so that the answer can be a 400 rather than silence.
  if (tokens.length >= 3 && VERSION_RE.test(version) && TOKEN_RE.test(method)) {
    return { kind: 'request', method, uri: tokens[1] ?? '', version };
  }
  return { kind: 'unknown' };
}

/**
 * Reads one message. `encoding` is 'utf8' for parsing (header values are UTF-8 text, RFC 3261 25.1)
 * or 'latin1' when byte offsets are needed (one char per byte). Returns undefined for an empty or
 * CRLF-only datagram (a keep-alive, RFC 5626 3.5.1).
 */
export function readRaw(data: Buffer, encoding: 'utf8' | 'latin1' = 'utf8'): RawMessage | undefined {
  let skip = 0;
  while (skip + 1 < data.length && data[skip] === 0x0d && data[skip + 1] === 0x0a) skip += 2;
  if (skip >= data.length) return undefined;
  const end = data.indexOf('\r\n\r\n', skip, 'latin1');
  const headerEnd = end === -1 ? data.length : end;
  const text = data.toString(encoding, skip, headerEnd);
  const lines = text.split('\r\n');
  const startLine = lines[0] ?? '';
  const headers: RawHeader[] = [];
  let malformed = /[\r\n]/.test(startLine);
  // Group physical lines into header fields: a line starting with SP/HT continues the previous
  // one (folding, RFC 3261 7.3.1), wherever it falls, even before the colon as sip.js allows.
  const fields: { start: number; end: number }[] = [];
  let pos = startLine.length + 2;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/[\r\n]/.test(line)) malformed = true;
    const last = fields[fields.length - 1];
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last) last.end = pos + line.length;
      else malformed = true;
    } else {
      fields.push({ start: pos, end: pos + line.length });
    }
    pos += line.length + 2;
  }
  for (const f of fields) {
    const unfolded = text.slice(f.start, f.end).replace(/\r\n[ \t]+/g, ' ');
    const m = HEADER_NAME_RE.exec(unfolded);
    if (!m || m[1] === undefined) {
      malformed = true;
      continue;
    }
    headers.push({
      name: canonicalName(m[1]),
      value: trimWsp(unfolded.slice(m[0].length)),
      start: f.start,
      end: f.end,
      // The first colon of the field is its HCOLON: a token and white space hold none.
      valueStart: text.indexOf(':', f.start) + 1,
    });
  }
  return {
    skip,
    text,
    startLine,
    start: classify(startLine),
    headers,
    malformed,
    bodyOffset: end === -1 ? undefined : end + 4,
  };
}

/**
 * Trims SP and HT only, so a stray CR or LF stays visible and the value reads as broken. A loop,
 * not /[ \t]+$/: that pattern is quadratic on a long run of spaces inside a value (a cheap DoS).
 */
function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return s.slice(a, b);
}

export function headersNamed(raw: RawMessage, name: string): RawHeader[] {
  return raw.headers.filter((h) => h.name === name);
}

export function firstValue(raw: RawMessage, name: string): string | undefined {
  return raw.headers.find((h) => h.name === name)?.value;
}

/**
 * Splits a header value at `sep` where it is not inside a quoted-string (with quoted-pair) or an
 * angle-bracketed URI (RFC 3261 7.3.1: commas inside those do not separate values).
 */
export function splitTopLevel(value: string, sep = ','): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === sep && !angle) {
      out.push(value.slice(from, i));
      from = i + 1;
    }
  }
  out.push(value.slice(from));
  return out;
}

/** All values of a list header field, across repeated fields, trimmed, empty ones removed. */
export function listValues(raw: RawMessage, name: string): string[] {
  return headersNamed(raw, name)
    .flatMap((h) => splitTopLevel(h.value))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
