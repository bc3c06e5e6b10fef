/**
 * Parser for the Digest `Authorization` / `Proxy-Authorization` header value.
 *
 * Grammar (RFC 3261 25.1 and 22.4, RFC 7235 2.1, RFC 7616 3.4):
 *   credentials      = "Digest" LWS digest-response *(COMMA dig-resp)
 *   auth-param       = token EQUAL ( token / quoted-string )
 *   quoted-string    = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
 *   quoted-pair      = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 *
 * Parsing happens at the edge (docs/architecture.md practice 2): the result is either a complete, bounded
 * credentials object or an error string, never a partial value.
 */

/** Bounds for untrusted input. */
export const DigestLimits = {
  /** Longest Authorization header value accepted (characters). */
  MAX_HEADER_CHARS: 4096,
  /** Longest single parameter value (characters, after unquoting). */
  MAX_VALUE_CHARS: 1024,
  /** Most auth-params accepted in one header value. */
  MAX_PARAMS: 32,
} as const;

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  /** digest-uri (RFC 3261 25.1 `Request-URI`), kept as sent. */
  readonly uri: string;
  /** request-digest: hex as sent. */
  readonly response: string;
  /** As sent (`MD5`, `SHA-256`, ...); absent means MD5 (RFC 2617 3.2.1). */
  readonly algorithm?: string;
  readonly qop?: string;
  /** nonce-count, 8 hex digits (RFC 2617 3.2.2). */
  readonly nc?: string;
  readonly cnonce?: string;
  readonly opaque?: string;
}

export interface ParseError {
  readonly error: string;
}

export interface AuthParams {
  /** Scheme as sent (case preserved). */
  readonly scheme: string;
  /** Parameter names lower-cased (RFC 7235 2.1: case-insensitive); values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;
const OPTIONAL = ['algorithm', 'qop', 'nc', 'cnonce', 'opaque'] as const;

/** RFC 3261 25.1 `token` characters. */
function isTokenChar(c: string): boolean {
  return /^[A-Za-z0-9\-.!%*_+`'~]$/.test(c);
}

/** LWS; a folded line (CRLF followed by WSP) has usually been unfolded already, but is tolerated. */
function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s[i])) i++;
  return i;
}

function readToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s[i]!)) i++;
  return i;
}

/**
 * Reads a quoted-string starting at the opening quote. Returns the unescaped value and the index
 * just past the closing quote (RFC 3261 25.1 quoted-pair; control characters other than HTAB are
 * refused).
 */
export function readQuotedString(s: string, start: number): { value: string; end: number } | ParseError {
  let out = '';
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined || n === '\r' || n === '\n') return { error: 'bad escape in quoted string' };
      out += n;
      i++;
      continue;
    }
    const code = c.charCodeAt(0);
    if ((code < 0x20 && c !== '\t') || code === 0x7f) return { error: 'control character in quoted string' };
    out += c;
  }
  return { error: 'unterminated quoted string' };
}

/**
 * Splits `scheme auth-param *(, auth-param)` into a scheme and a parameter map (RFC 7235 2.1).
 * Used for Authorization and, by tests and clients, for WWW-Authenticate challenges. Empty list
 * elements (`a=1,,b=2`) are tolerated as RFC 7230 7 asks; duplicate names are refused.
 */
export function parseAuthParams(headerValue: string): AuthParams | ParseError {
  const s = headerValue;
  if (s.length > DigestLimits.MAX_HEADER_CHARS) return { error: 'header too long' };
  let i = skipWs(s, 0);
  const schemeEnd = readToken(s, i);
  const scheme = s.slice(i, schemeEnd);
  if (!scheme) return { error: 'missing scheme' };
  i = skipWs(s, schemeEnd);
  if (i < s.length && i === schemeEnd) return { error: 'malformed scheme' };
  const params = new Map<string, string>();
  for (;;) {
    while (i < s.length && (s[i] === ',' || isWs(s[i]))) i++;
    if (i >= s.length) break;
    const nameEnd = readToken(s, i);
    const name = s.slice(i, nameEnd).toLowerCase();
    if (!name) return { error: 'malformed parameter' };
    i = skipWs(s, nameEnd);
    if (s[i] !== '=') return { error: `malformed parameter: ${name}` };
    i = skipWs(s, i + 1);
    let value: string;
    if (s[i] === '"') {
      const q = readQuotedString(s, i);
      if ('error' in q) return q;
      value = q.value;
      i = q.end;
    } else {
      const end = readToken(s, i);
      value = s.slice(i, end);
      if (!value) return { error: `malformed value: ${name}` };
      i = end;
    }
    if (value.length > DigestLimits.MAX_VALUE_CHARS) return { error: `parameter too long: ${name}` };
    if (params.has(name)) return { error: `duplicate parameter: ${name}` };
    if (params.size >= DigestLimits.MAX_PARAMS) return { error: 'too many parameters' };
    params.set(name, value);
    i = skipWs(s, i);
    if (i >= s.length) break;
    if (s[i] !== ',') return { error: 'malformed parameter list' };
  }
  return { scheme, params };
}

/**
 * Parses a Digest `Authorization` header value (RFC 3261 22.4, RFC 2617 3.2.2, RFC 7616 3.4).
 * Parameters may come in any order; token or quoted-string values are both accepted for every
 * parameter (RFC 7616 3.4 says senders quote some and not others; receivers see both in the wild).
 * Unknown parameters are ignored. Any scheme other than Digest gives `unsupported scheme`
 * (RFC 4475 3.3.7 regaut01).
 */
export function parseAuthorization(headerValue: string): DigestCredentials | ParseError {
  // The scheme decides the syntax of the rest (other schemes may use token68, RFC 7235 2.1).
  const start = skipWs(headerValue, 0);
  const scheme = headerValue.slice(start, readToken(headerValue, start));
  if (scheme && scheme.toLowerCase() !== 'digest') return { error: 'unsupported scheme' };
  const parsed = parseAuthParams(headerValue);
  if ('error' in parsed) return parsed;
  const p = parsed.params;
  if (p.size === 0) return { error: 'missing parameters' };
  for (const name of REQUIRED) {
    if (!p.has(name)) return { error: `missing parameter: ${name}` };
  }
  // request-digest = LDQUOT 32LHEX RDQUOT (RFC 3261 25.1); 64 hex for SHA-256 (RFC 7616 3.4.1).
  const response = p.get('response')!;
  if (!/^[0-9a-fA-F]{1,128}$/.test(response)) return { error: 'malformed response' };
  // nc-value = 8LHEX (RFC 2617 3.2.2).
  const nc = p.get('nc');
  if (nc !== undefined && !/^[0-9a-fA-F]{8}$/.test(nc)) return { error: 'malformed nc' };
  const creds: { -readonly [K in keyof DigestCredentials]: DigestCredentials[K] } = {
    username: p.get('username')!,
    realm: p.get('realm')!,
    nonce: p.get('nonce')!,
    uri: p.get('uri')!,
    response,
  };
  for (const name of OPTIONAL) {
    const v = p.get(name);
    if (v !== undefined) creds[name] = v;
  }
  return creds;
}
