/**
 * Contact header parsing for REGISTER (RFC 3261 20.10, 25.1, 10.3 step 6).
 *
 *   Contact        = ("Contact" / "m") HCOLON ( STAR / (contact-param *(COMMA contact-param)))
 *   contact-param  = (name-addr / addr-spec) *(SEMI contact-params)
 *   name-addr      = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name   = *(token LWS) / quoted-string
 *   contact-params = c-p-q / c-p-expires / contact-extension     (generic-param)
 *   generic-param  = token [ EQUAL gen-value ];  gen-value = token / host / quoted-string
 *
 * The URI is kept verbatim, including URI parameters and escaped headers such as
 * `?Route=%3Csip:sip.example.com%3E`: a registrar stores them, it does not apply them
 * (RFC 4475 3.3.12-3.3.14 cparam01, cparam02, regescrt).
 */

export const ContactLimits = {
  /** Most contacts accepted in one REGISTER. */
  MAX_CONTACTS: 10,
  /** Longest total of Contact header values (characters). */
  MAX_HEADER_CHARS: 8192,
  /** Longest single URI (characters). */
  MAX_URI_CHARS: 1024,
  /** Most header parameters on one contact. */
  MAX_PARAMS: 16,
} as const;

/** RFC 3261 20.10: a malformed `expires` parameter SHOULD be treated as 3600. */
export const MALFORMED_EXPIRES = 3600;
/** delta-seconds is at most 2**32-1 (RFC 3261 20.19, 20.23). */
const MAX_DELTA_SECONDS = 4_294_967_295;

export interface ParsedContact {
  /** The addr-spec, verbatim (URI params and escaped headers untouched). */
  readonly uri: string;
  /** Unquoted, unescaped display name, when one was sent. */
  readonly displayName?: string;
  /**
   * Header (contact) parameters: names lower-cased (RFC 3261 7.3.1), values verbatim as sent,
   * quoted strings keep their quotes; a flag parameter has the value ''.
   */
  readonly params: Readonly<Record<string, string>>;
  /** `expires` contact parameter in seconds (RFC 3261 10.2.1.1), when present. */
  readonly expires?: number;
  /** `q` contact parameter, 0..1 (RFC 3261 20.10). */
  readonly q?: number;
  /** `+sip.instance` value without its quotes, e.g. `<urn:uuid:...>` (RFC 5626 4.1, RFC 5627). */
  readonly instance?: string;
}

export interface ContactParseError {
  readonly error: string;
}

const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
/** gen-value as token or host (IPv6 references bring `[`, `]` and `:`). */
const GEN_VALUE_RE = /^[A-Za-z0-9\-.!%*_+`'~:[\]]+$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const QVALUE_RE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/** Index past the quoted-string starting at `start` (a `"`), or -1 when it is unterminated. */
function skipQuoted(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i + 1;
  }
  return -1;
}

/**
 * Splits on `sep` outside quoted strings and angle brackets (RFC 3261 7.3.1: commas inside
 * quotes or a `<...>` URI do not separate header values).
 */
function splitTopLevel(s: string, sep: string): string[] | ContactParseError {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) return { error: 'unterminated quoted string' };
      i = end - 1;
    } else if (c === '<') {
      if (depth > 0) return { error: 'nested angle brackets' };
      depth = 1;
    } else if (c === '>') {
      if (depth === 0) return { error: 'unbalanced angle brackets' };
      depth = 0;
    } else if (c === sep && depth === 0) {
      parts.push(s.slice(from, i));
      from = i + 1;
    }
  }
  if (depth !== 0) return { error: 'unbalanced angle brackets' };
  parts.push(s.slice(from));
  return parts;
}

/** First `ch` outside quoted strings, or -1. */
function indexOfTopLevel(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (s[i] === ch) return i;
  }
  return -1;
}

function unquote(q: string): string {
  return q.slice(1, -1).replace(/\\(.)/g, '$1');
}

function checkUri(uri: string): ContactParseError | undefined {
  if (uri.length > ContactLimits.MAX_URI_CHARS) return { error: 'URI too long' };
  if (!SCHEME_RE.test(uri)) return { error: 'malformed URI' };
  if (/[\s<>"]/.test(uri)) return { error: 'malformed URI' };
  return undefined;
}

function parseParams(text: string): { params: Record<string, string> } | ContactParseError {
  const params = new Map<string, string>();
  const rest = text.trim();
  if (rest === '') return { params: {} };
  if (rest[0] !== ';') return { error: 'unexpected text after URI' };
  const parts = splitTopLevel(rest.slice(1), ';');
  if ('error' in parts) return parts;
  if (parts.length > ContactLimits.MAX_PARAMS) return { error: 'too many parameters' };
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (!TOKEN_RE.test(name)) return { error: 'malformed parameter' };
    if (eq >= 0) {
      const quoted = value.startsWith('"') && skipQuoted(value, 0) === value.length;
      if (!quoted && !GEN_VALUE_RE.test(value)) return { error: `malformed parameter: ${name}` };
    }
    if (params.has(name)) return { error: `duplicate parameter: ${name}` };
    params.set(name, value);
  }
  // fromEntries defines own properties, so a parameter named __proto__ stays plain data.
  return { params: Object.fromEntries(params) };
}

/** One contact-param (name-addr or addr-spec, then header params). */
function parseOne(raw: string): ParsedContact | ContactParseError {
  const s = raw.trim();
  if (s === '') return { error: 'empty contact' };
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  const lt = indexOfTopLevel(s, '<');
  if (lt >= 0) {
    // name-addr
    const dn = s.slice(0, lt).trim();
    if (dn.startsWith('"')) {
      if (skipQuoted(dn, 0) !== dn.length) return { error: 'malformed display name' };
      displayName = unquote(dn);
    } else if (dn !== '') {
      if (!dn.split(/\s+/).every((w) => TOKEN_RE.test(w))) return { error: 'malformed display name' };
      displayName = dn;
    }
    const gt = s.indexOf('>', lt);
    uri = s.slice(lt + 1, gt);
    rest = s.slice(gt + 1);
  } else {
    // addr-spec: RFC 3261 20 — a URI holding `,`, `;` or `?` must be in name-addr form, so the
    // first `;` starts the header parameters (cparam01), and a `?` is refused (RFC 4475 regbadct).
    const semi = s.indexOf(';');
    uri = (semi < 0 ? s : s.slice(0, semi)).trim();
    rest = semi < 0 ? '' : s.slice(semi);
    if (uri.includes('?')) return { error: 'URI with headers must be enclosed in <>' };
  }
  const bad = checkUri(uri);
  if (bad) return bad;
  const parsed = parseParams(rest);
  if ('error' in parsed) return parsed;
  const params = parsed.params;

  const contact: { -readonly [K in keyof ParsedContact]: ParsedContact[K] } = { uri, params };
  if (displayName !== undefined) contact.displayName = displayName;
  const expires = params['expires'];
  if (expires !== undefined) {
    contact.expires = /^\d+$/.test(expires) ? Math.min(Number(expires), MAX_DELTA_SECONDS) : MALFORMED_EXPIRES;
  }
  const q = params['q'];
  if (q !== undefined) {
    if (!QVALUE_RE.test(q)) return { error: 'malformed q' };
    contact.q = Number(q);
  }
  const instance = params['+sip.instance'];
  if (instance !== undefined) contact.instance = instance.startsWith('"') ? unquote(instance) : instance;
  return contact;
}

/**
 * Parses the values of every Contact (or compact `m`) header of a REGISTER, in order.
 * Returns `'*'` for a lone STAR (RFC 3261 10.2.2), `[]` for no header values (a query,
 * RFC 3261 10.2.3), or an error to answer 400 with. A STAR among other contacts is an error
 * (10.3 step 6).
 */
export function parseContacts(headerValues: readonly string[]): ParsedContact[] | '*' | ContactParseError {
  const total = headerValues.reduce((n, v) => n + v.length, 0);
  if (total > ContactLimits.MAX_HEADER_CHARS) return { error: 'Contact too long' };
  const elements: string[] = [];
  for (const value of headerValues) {
    const parts = splitTopLevel(value, ',');
    if ('error' in parts) return parts;
    elements.push(...parts);
  }
  const trimmed = elements.map((e) => e.trim());
  if (trimmed.includes('*')) return trimmed.length === 1 ? '*' : { error: '* with other contacts' };
  if (trimmed.length > ContactLimits.MAX_CONTACTS) return { error: 'too many contacts' };
  const out: ParsedContact[] = [];
  for (const e of trimmed) {
    const c = parseOne(e);
    if ('error' in c) return c;
    out.push(c);
  }
  return out;
}
