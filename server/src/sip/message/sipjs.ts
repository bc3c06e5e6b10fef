/**
 * The message reader (reader.ts: sip.js's message classes, our header reading) behind one function,
 * plus the one repair we make: URIs of schemes sip.js's grammar does not know, inside name-addr
 * header fields.
 *
 * Why the repair: RFC 3261 allows any absoluteURI in From, To, Contact, Record-Route and Refer-To
 * (20.10, 20.20, 20.39, 25.1 `addr-spec = SIP-URI / SIPS-URI / absoluteURI`), and RFC 4475 3.3.4
 * (unksm2: `To: isbn:...`, `From: <http://...>`, `Contact: <name:...>`) says such a message must
 * be processed normally. sip.js's grammar only knows sip/sips there, so it refuses the whole
 * message. Carriers also send `tel:` URIs in From/To (RFC 3966), which hit the same gap.
 *
 * How: when the reader refuses a message, its result names the header field it rejected. If that
 * is a name-addr field whose only problem is a syntactically valid absoluteURI with a non-sip
 * scheme, we replace each such URI in a copy of the header section by a unique placeholder
 * `sip:uriN@unknown-scheme.invalid` (.invalid can never resolve, RFC 2606) and parse the copy,
 * repeating for the next rejected field (unksm2 takes three rounds: To, From, Contact). Then, in
 * the parsed message, every raw header value gets its original URI back, so anything copied into a
 * response (RFC 3261 8.2.6.2) is byte-for-byte what the peer sent; only the *parsed* URI objects
 * (msg.from.uri, msg.to.uri, parsed Contact) carry the placeholder host, and the caller is told
 * which fields those are (a dialog must take its remote URI from the raw value, RFC 3261 12.1).
 * Anything else the grammar rejects stays an error: we never repair real syntax errors.
 */
import { NameAddrHeader } from 'sip.js';
import { describeGrammarError, grammarParse, type GrammarError } from './grammar.js';
import { canonicalName, displayName, readRaw, splitTopLevel, type RawHeader, type RawMessage } from './raw.js';
import { readMessage, type SipJsMessage } from './reader.js';

export type { SipJsMessage };

/** Host of the placeholder URIs that stand in for unknown-scheme URIs in parsed header objects. */
export const UNKNOWN_SCHEME_HOST = 'unknown-scheme.invalid';
const PLACEHOLDER_RE = /sip:uri([0-9]+)@unknown-scheme\.invalid/g;

/** A whole message (header section, CRLFCRLF, body) as sip.js's message classes; undefined when refused. */
export function sipJsParse(text: string): SipJsMessage | undefined {
  const r = readMessage(text);
  return r.ok ? r.msg : undefined;
}

/** Grammar rule sip.js applies to each header field it parses (sip.js core/messages/parser.js). */
const RULES: Readonly<Record<string, string>> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call_ID', contact: 'Contact',
  'content-length': 'Content_Length', 'content-type': 'Content_Type', cseq: 'CSeq',
  'max-forwards': 'Max_Forwards', 'www-authenticate': 'WWW_Authenticate',
  'proxy-authenticate': 'Proxy_Authenticate', 'refer-to': 'Refer_To', 'record-route': 'Record_Route',
};
const NAME_ADDR = new Set(['from', 'to', 'contact', 'record-route', 'refer-to']);

/**
 * sip.js's grammar costs 130-280 us per call whatever the input (its generated parser decodes its
 * whole bytecode table on every call) for the values the hot-header reader declines, so answers
 * for short values are remembered: retransmissions and in-dialog requests repeat the same
 * From/To/Call-ID, and the results are pure.
 */
const grammarCache = new Map<string, NameAddrHeader | boolean>();
const CACHE_ENTRIES = 4096;
const CACHEABLE_LENGTH = 512;

function cachedParse(value: string, rule: string): NameAddrHeader | boolean {
  const key = `${rule}\u0000${value}`;
  let result = grammarCache.get(key);
  if (result === undefined) {
    const parsed = grammarParse(value, rule);
    result = !parsed.ok ? false : parsed.data instanceof NameAddrHeader ? parsed.data : true;
    if (value.length <= CACHEABLE_LENGTH) {
      if (grammarCache.size >= CACHE_ENTRIES) grammarCache.clear();
      grammarCache.set(key, result);
    }
  }
  return result;
}

export function grammarOk(value: string, rule: string): boolean {
  return cachedParse(value, rule) !== false;
}

/** For a From/To value: undefined when sip.js's grammar rejects it, else whether it has a tag. */
export function nameAddrTagged(value: string, rule: 'From' | 'To'): boolean | undefined {
  const parsed = cachedParse(value, rule);
  return parsed === false ? undefined : parsed instanceof NameAddrHeader && parsed.hasParam('tag');
}

// absoluteURI (RFC 3261 25.1, RFC 2396): scheme ":" 1*uric. Inside <> every uric is allowed;
// a bare addr-spec cannot hold ";", "," or "?" (RFC 3261 20.10).
const SCHEME = '([A-Za-z][A-Za-z0-9+\\-.]*)';
const BRACKETED_ABS = new RegExp(`^${SCHEME}:(?:[A-Za-z0-9\\-_.!~*'();/?:@&=+$,]|%[0-9A-Fa-f]{2})+$`);
const BARE_ABS = new RegExp(`^(\\s*)${SCHEME}:(?:[A-Za-z0-9\\-_.!~*'()/:@&=+$]|%[0-9A-Fa-f]{2})+(?=\\s*(;|$))`);
const isSipScheme = (s: string): boolean => /^sips?$/i.test(s);

/** Replaces unknown-scheme URIs in one name-addr header value; `subs` collects the originals. */
function substitute(value: string, subs: string[]): string {
  const placeholder = (uri: string): string => {
    subs.push(uri);
    return `sip:uri${subs.length - 1}@${UNKNOWN_SCHEME_HOST}`;
  };
  return splitTopLevel(value)
    .map((element) => {
      const lt = topLevelIndex(element, '<');
      if (lt >= 0) {
        const gt = element.indexOf('>', lt);
        if (gt < 0) return element;
        const uri = element.slice(lt + 1, gt);
        const m = BRACKETED_ABS.exec(uri);
        if (!m || isSipScheme(m[1] ?? '')) return element;
        return element.slice(0, lt + 1) + placeholder(uri) + element.slice(gt);
      }
      const m = BARE_ABS.exec(element);
      if (!m || isSipScheme(m[2] ?? '')) return element;
      const lead = m[1] ?? '';
      return lead + placeholder(m[0].slice(lead.length)) + element.slice(m[0].length);
    })
    .join(',');
}

/** Index of `ch` outside any quoted-string, or -1. */
function topLevelIndex(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ch) return i;
  }
  return -1;
}

/**
 * A name-addr header value with its unknown-scheme URIs replaced by placeholders, when that makes
 * it acceptable to sip.js's grammar; undefined otherwise. Exported for the response builder.
 */
export function neutraliseValue(name: string, value: string, subs: string[] = []): string | undefined {
  const rule = RULES[name];
  if (!rule || !NAME_ADDR.has(name)) return undefined;
  const before = subs.length;
  const out = substitute(value, subs);
  if (subs.length === before) return undefined;
  return grammarOk(out, rule) ? out : undefined;
}

export type SipJsOutcome =
  | { ok: true; msg: SipJsMessage; neutralised: string[] }
  /** `failed` names the field (display form), `Request-Line`/`Status-Line`, or `message`; `detail` says where and what the parser expected. */
  | { ok: false; failed: string; detail?: string; error?: GrammarError };

/**
 * Parses the header section (the body is attached by the caller, on bytes). On failure, names the
 * field the reader rejected (from its result), or repairs unknown-scheme URIs as described above,
 * one rejected header field per round, and parses again.
 */
export function parseHeaderSection(raw: RawMessage): SipJsOutcome {
  const subs: string[] = [];
  const edits = new Map<RawHeader, string>();
  // RFC 3261 10.2.2, 20.10: `Contact: *` (STAR) in a REGISTER removes every binding. sip.js's Contact
  // grammar has no STAR and would reject the whole message, so the field is kept from it (an
  // empty edit) and added back, as received, to the parsed message.
  const stars = raw.start.kind === 'request' && raw.start.method === 'REGISTER' ? raw.headers.filter((h) => h.name === 'contact' && h.value === '*') : [];
  for (const h of stars) edits.set(h, '');
  for (let round = 0; round <= raw.headers.length; round++) {
    const read = readMessage(rebuild(raw, edits));
    if (read.ok) {
      const msg = read.msg;
      if (edits.size > 0) restore(msg, subs);
      for (const h of stars) msg.addHeader('contact', h.value);
      const repaired = [...edits.keys()].filter((h) => !stars.includes(h));
      return { ok: true, msg, neutralised: [...new Set(repaired.map((h) => displayName(h.name)))] };
    }
    if (read.where === 'message') return { ok: false, failed: 'message' };
    if (read.where === 'start-line') {
      const failed = raw.start.kind === 'request' ? 'Request-Line' : 'Status-Line';
      return { ok: false, failed, detail: `${failed}: ${describeGrammarError(read.error)}`, error: read.error };
    }
    const name = canonicalName(read.header);
    const rule = RULES[name];
    const culprit = raw.headers.find((h) => h.name === name && !edits.has(h) && rule && !grammarOk(h.value, rule));
    const repaired = culprit && neutraliseValue(name, culprit.value, subs);
    if (!culprit || repaired === undefined) {
      return { ok: false, failed: displayName(name), detail: `${displayName(name)}: ${describeGrammarError(read.error)}`, error: read.error };
    }
    edits.set(culprit, `${name}: ${repaired}`);
  }
  return { ok: false, failed: 'message' };
}

function rebuild(raw: RawMessage, edits: Map<RawHeader, string>): string {
  if (edits.size === 0) return `${raw.text}\r\n\r\n`;
  let text = '';
  let at = 0;
  for (const h of raw.headers) {
    const line = edits.get(h);
    if (line === undefined) continue;
    // An empty edit removes the field with the CRLF before it (a header field never starts the text).
    text += line === '' ? raw.text.slice(at, h.start - 2) : raw.text.slice(at, h.start) + line;
    at = h.end;
  }
  return `${text}${raw.text.slice(at)}\r\n\r\n`;
}

/** Gives every raw header value its original URI back (see the comment at the top). */
function restore(msg: SipJsMessage, subs: string[]): void {
  for (const entries of Object.values(msg.headers)) {
    for (const entry of entries) {
      entry.raw = entry.raw.replace(PLACEHOLDER_RE, (p, i: string) => subs[Number(i)] ?? p);
    }
  }
}

/**
 * sip.js's parser with the unknown-scheme repair above, on a whole serialised message. This is how
 * the edge reads what peers send, so it is also how tests read what the edge sends: a reply that
 * copies `From: <tel:+91...>` verbatim (RFC 3261 8.2.6.2) is valid SIP that plain sip.js rejects.
 */
export function parseText(text: string): SipJsMessage | undefined {
  const raw = readRaw(Buffer.from(text, 'utf8'));
  if (!raw) return undefined;
  const parsed = parseHeaderSection(raw);
  return parsed.ok ? parsed.msg : undefined;
}
