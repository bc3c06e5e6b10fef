import { hasControl } from './transaction.js';

/**
 * User-to-User header (RFC 7433 §4.1):
 *
 * ```
 * UUI        = "User-to-User" HCOLON uui-value *(COMMA uui-value)
 * uui-value  = uui-data *(SEMI uui-param)
 * uui-param  = pkg-param / cont-param / enc-param / generic-param
 * enc-param  = "encoding" EQUAL ("hex" / token)      ; "hex" is the one registered encoding (§7.2)
 * pkg-param  = "purpose" EQUAL pkg-param-value        ; the UUI package (§4.2)
 * ```
 *
 * Our package: the data is hex (`encoding=hex`, or no encoding parameter, which this profile reads
 * as hex too) of UTF-8 `key=value&key=value` with application/x-www-form-urlencoded escaping. PBXs
 * that interwork with ISDN may prefix a protocol discriminator octet (Q.931 §4.5.30; e.g. `04` for
 * IA5 characters): the profile names it and it is stripped.
 */
export interface UuiOptions {
  /** Accept only values whose `purpose` parameter equals this (when set). */
  readonly purpose?: string;
  /** Hex of a leading protocol-discriminator octet to strip (e.g. `04`), when the PBX adds one. */
  readonly discriminator?: string;
  /** Most decoded octets. */
  readonly maxOctets: number;
}

export type UuiResult = { ok: true; values: ReadonlyMap<string, string> } | { ok: false; reason: string };

const MAX_KEYS = 32;

/** Splits on `sep` outside double quotes. */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' && s[i - 1] !== '\\') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Reads our key=value package out of a User-to-User header value. */
export function parseUui(header: string, o: UuiOptions): UuiResult {
  const candidates = splitOutsideQuotes(header, ',').map((v) => v.trim()).filter(Boolean);
  for (const candidate of candidates) {
    const [rawData = '', ...rawParams] = splitOutsideQuotes(candidate, ';').map((p) => p.trim());
    const params = new Map<string, string>();
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      params.set((eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '' : p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
    if (o.purpose !== undefined && params.get('purpose') !== o.purpose) continue;
    const encoding = params.get('encoding')?.toLowerCase();
    if (encoding !== undefined && encoding !== 'hex') return { ok: false, reason: `encoding ${encoding.slice(0, 16)} is not supported (hex only)` };
    return decodePackage(rawData.replace(/^"(.*)"$/, '$1'), o);
  }
  return { ok: false, reason: o.purpose !== undefined ? `no value with purpose=${o.purpose}` : 'empty' };
}

function decodePackage(hex: string, o: UuiOptions): UuiResult {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return { ok: false, reason: 'data is not hex' };
  let bytes = Buffer.from(hex, 'hex');
  if (o.discriminator !== undefined) {
    if (bytes[0] !== parseInt(o.discriminator, 16)) return { ok: false, reason: `protocol discriminator ${o.discriminator} missing` };
    bytes = bytes.subarray(1);
  }
  if (bytes.length > o.maxOctets) return { ok: false, reason: `longer than ${o.maxOctets} octets` };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (hasControl(text)) return { ok: false, reason: 'data holds control characters or invalid UTF-8' };
  const values = new Map<string, string>();
  let pairs: [string, string][];
  try {
    pairs = text.split('&').filter(Boolean).map((pair) => {
      const eq = pair.indexOf('=');
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
      return [dec(eq < 0 ? pair : pair.slice(0, eq)), dec(eq < 0 ? '' : pair.slice(eq + 1))];
    });
  } catch {
    return { ok: false, reason: 'data is not valid %-encoding' };
  }
  if (pairs.length > MAX_KEYS) return { ok: false, reason: `more than ${MAX_KEYS} keys` };
  for (const [k, v] of pairs) {
    if (values.has(k)) return { ok: false, reason: `key ${k.slice(0, 32)} given twice` };
    values.set(k, v);
  }
  return { ok: true, values };
}

/** Builds a User-to-User header value (tests, the documentation's example, call-centre tools). */
export function encodeUui(values: Readonly<Record<string, string>>, purpose?: string): string {
  const text = Object.entries(values)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${Buffer.from(text, 'utf8').toString('hex')};encoding=hex${purpose ? `;purpose=${purpose}` : ''}`;
}
