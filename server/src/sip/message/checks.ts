/**
 * The checks sip.js's parser does not make (see the RFC 4475 table in
 * server/test/fixtures/rfc4475/README.md). Each returns a problem or undefined.
 */
import type { Core } from 'sip.js';
import { displayName, firstValue, headersNamed, listValues, type RawMessage } from './raw.js';

/**
 * Mandatory in every request and response (RFC 3261 8.1.1, 20 table 2). Max-Forwards is not in
 * this list: RFC 2543 clients omit it and RFC 4475 3.4.1 (inv2543) says to process such requests;
 * `maxForwards` is undefined then and the TU applies its default.
 */
const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'];
/** Header fields whose grammar is not a comma-separated list may appear once (RFC 3261 7.3.1). */
const SINGLE = ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'expires'];

/** A decimal number of any length, as a JS number (Infinity when it cannot matter how large). */
export function decimal(digits: string): number {
  const d = digits.replace(/^0+(?=.)/, '');
  return d.length > 15 ? Infinity : Number(d);
}

const DIGITS = /^[0-9]+$/;

/** Missing or repeated fields and out-of-range numbers (RFC 4475 insuf, multi01, mcl01, scalar02, ncl). */
export function structuralProblem(raw: RawMessage): string | undefined {
  for (const n of MANDATORY) {
    if (!raw.headers.some((h) => h.name === n)) return `Missing ${displayName(n)} header field`;
  }
  for (const n of SINGLE) {
    if (headersNamed(raw, n).length > 1) return `Multiple ${displayName(n)} header fields`;
  }
  // RFC 3261 8.1.1.5: the CSeq number MUST be less than 2**31.
  const cseq = /^([0-9]+)/.exec(firstValue(raw, 'cseq') ?? '');
  if (cseq?.[1] !== undefined && decimal(cseq[1]) >= 2 ** 31) return 'CSeq number out of range';
  // RFC 3261 20.22: Max-Forwards is an integer in the range 0-255.
  const mf = firstValue(raw, 'max-forwards');
  if (mf !== undefined && !DIGITS.test(mf)) return 'Malformed Max-Forwards';
  if (mf !== undefined && decimal(mf) > 255) return 'Max-Forwards out of range';
  // RFC 3261 20.14: Content-Length = 1*DIGIT (ncl: -999).
  const cl = firstValue(raw, 'content-length');
  if (cl !== undefined && !DIGITS.test(cl)) return 'Malformed Content-Length';
  // RFC 3261 20.19: Expires is 0 .. 2**32-1. (RFC 4475 3.1.2.4, scalar02, would also allow treating an
  // overlarge expiry as the default; we answer 400, and leave non-numeric values to the TU.)
  const exp = firstValue(raw, 'expires');
  if (exp !== undefined && DIGITS.test(exp) && decimal(exp) > 2 ** 32 - 1) return 'Expires out of range';
  return undefined;
}

/**
 * The body on bytes (RFC 3261 18.3): Content-Length bytes after the empty line, extra bytes
 * discarded (dblreq); fewer bytes than Content-Length is an error (clerr). Without Content-Length
 * the body is the rest of the datagram (stream transports frame on Content-Length before this).
 */
export function frameBody(raw: RawMessage, data: Buffer): { body: Buffer } | { error: string } {
  const all = data.subarray(raw.bodyOffset ?? data.length);
  const cl = firstValue(raw, 'content-length');
  if (cl === undefined) return { body: all };
  const n = decimal(cl);
  if (n > all.length) return { error: 'Content-Length larger than the body' };
  return { body: all.subarray(0, n) };
}

export interface Problem {
  status: number;
  reason: string;
  headers?: string[];
}

export interface CheckOptions {
  accepted: Readonly<Record<string, readonly string[]>>;
  supported: readonly string[];
}

const mediaType = (v: string): string => (v.split(';')[0] ?? '').trim().toLowerCase();

/** RFC 3261 20.1: does an Accept media-range (with q) admit `type`? */
function admits(range: string, type: string): boolean {
  const q = /;[ \t]*q[ \t]*=[ \t]*([0-9.]+)/i.exec(range)?.[1];
  if (q !== undefined && Number(q) === 0) return false;
  const r = mediaType(range);
  const [major] = type.split('/');
  return r === '*/*' || r === `${major}/*` || r === type;
}

/** Request checks after sip.js parsed the message, in RFC 3261 8.2 order. */
export function requestProblem(
  raw: RawMessage,
  msg: Core.IncomingRequestMessage,
  method: string,
  uri: string,
  body: Buffer,
  opts: CheckOptions,
): Problem | undefined {
  // 8.2.2.1: a Request-URI scheme we do not support (unkscm, novelsc).
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined || !['sip', 'sips', 'tel'].includes(scheme)) {
    return { status: 416, reason: 'Unsupported URI Scheme' };
  }
  // 19.1.1 table 1: a Request-URI must not carry header fields (escruri).
  if (msg.ruri && Object.keys(msg.ruri.headers).length > 0) {
    return { status: 400, reason: 'Request-URI must not contain header fields' };
  }
  // 8.1.1.5: the CSeq method MUST match the request method (mismatch01, mismatch02).
  const cseq: { method?: string } | undefined = msg.parseHeader('cseq');
  if (cseq?.method !== method) return { status: 400, reason: 'CSeq method does not match the Request-Line' };
  // 8.2.2.3: every Require option tag must be supported (bext01); ignored in CANCEL and ACK.
  if (method !== 'ACK' && method !== 'CANCEL') {
    const supported = new Set(opts.supported.map((t) => t.toLowerCase()));
    const unsupported = listValues(raw, 'require').filter((t) => !supported.has(t.toLowerCase()));
    if (unsupported.length > 0) {
      return { status: 420, reason: 'Bad Extension', headers: [`Unsupported: ${unsupported.join(', ')}`] };
    }
  }
  const accepted = (opts.accepted[method] ?? []).map((t) => t.toLowerCase());
  if (body.length > 0) {
    // 7.4.1: Content-Type MUST be present when there is a body.
    const ct = firstValue(raw, 'content-type');
    if (ct === undefined) return { status: 400, reason: 'Missing Content-Type header field' };
    // 8.2.3: a body type (or encoding) we do not understand (invut). Methods not in the map are
    // left to the TU (mpart01: a MESSAGE is answered by the TU, not here).
    if (accepted.length > 0 && !accepted.includes(mediaType(ct))) {
      return { status: 415, reason: 'Unsupported Media Type', headers: [`Accept: ${accepted.join(', ')}`] };
    }
    const encodings = listValues(raw, 'content-encoding').filter((e) => e.toLowerCase() !== 'identity');
    if (encodings.length > 0) {
      return { status: 415, reason: 'Unsupported Media Type', headers: ['Accept-Encoding: identity'] };
    }
  }
  // 20.1 / 21.4.7: an INVITE or UPDATE whose Accept rules out every type we could answer in (sdp01).
  // An Accept with no values is treated as absent (lenient; strictly it means "nothing").
  if ((method === 'INVITE' || method === 'UPDATE') && accepted.length > 0) {
    const ranges = listValues(raw, 'accept');
    if (ranges.length > 0 && !accepted.some((t) => ranges.some((r) => admits(r, t)))) {
      return { status: 406, reason: 'Not Acceptable', headers: [`Warning: 399 tonegate "Accept excludes ${accepted.join(', ')}"`] };
    }
  }
  return undefined;
}
