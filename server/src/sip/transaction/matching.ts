/**
 * Transaction matching keys: RFC 3261 17.1.3 (responses to client transactions), 17.2.3 (requests
 * to server transactions, including the RFC 2543 fallback) and 9.2 (CANCEL to its INVITE).
 *
 * The top Via is read from the raw header text: sip.js 0.21 folds a comma-separated Via header
 * ("Via: a;branch=x, b") into one object mixing the host of one value with the port of the other.
 */
import type { IncomingMessage, IncomingRequestMessage } from './types.js';

/** RFC 3261 8.1.1.7: branches of RFC 3261 elements start with this. */
export const MAGIC_COOKIE = 'z9hG4bK';

export interface TopVia {
  /** e.g. `UDP`, `TCP`, `WS` (upper-cased). */
  readonly transport: string;
  /** host[:port], lower-cased, whitespace removed (18.2.2 / 17.2.3 compare it). */
  readonly sentBy: string;
  readonly branch: string | undefined;
  /** The whole first Via value, lower-cased without whitespace: the RFC 2543 "top Via" comparison. */
  readonly normalised: string;
}

/** The first value of the first Via header, honouring quoted strings and IPv6 brackets. */
function firstValue(header: string): string {
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '"' && header[i - 1] !== '\\') quoted = !quoted;
    else if (c === ',' && !quoted) return header.slice(0, i);
  }
  return header;
}

const VIA_RE = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([^\s/]+)\s+([^;]+?)\s*(;.*)?$/is;

export function parseTopVia(msg: IncomingMessage): TopVia | undefined {
  const header = msg.getHeader('via');
  if (header === undefined) return undefined;
  const value = firstValue(header);
  const m = VIA_RE.exec(value);
  if (!m) return undefined;
  let branch: string | undefined;
  for (const param of (m[3] ?? '').split(';')) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'branch') branch = param.slice(eq + 1).trim();
  }
  return {
    transport: m[1].toUpperCase(),
    sentBy: m[2].replace(/\s+/g, '').toLowerCase(),
    branch: branch || undefined,
    normalised: value.replace(/\s+/g, '').toLowerCase(),
  };
}

export function hasMagicCookie(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/** 17.2.3: ACK matches the INVITE's transaction; every other method (CANCEL included) its own. */
const txnMethod = (method: string): string => (method === 'ACK' ? 'INVITE' : method);

/** 17.2.3, RFC 3261 branch: branch + sent-by + method. Undefined when the branch lacks the cookie. */
export function serverKey(method: string, via: TopVia): string | undefined {
  return hasMagicCookie(via.branch) ? `${via.branch}|${via.sentBy}|${txnMethod(method)}` : undefined;
}

/**
 * 17.2.3, RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number, top Via and method.
 * The To tag is compared apart (an ACK's To tag is the one of the response, not of the INVITE).
 * `asMethod` lets 9.2 look up the INVITE a CANCEL targets.
 */
export function legacyKey(msg: IncomingRequestMessage, via: TopVia, asMethod?: string): string {
  const method = asMethod ?? txnMethod(msg.method);
  return ['2543', method, String(msg.ruri ?? ''), msg.fromTag ?? '', msg.callId, msg.cseq, via.normalised].join('|');
}

/** 17.1.3: a response matches the client transaction by top Via branch and CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method.toUpperCase()}`;
}

/** The To tag of a serialised response (needed to match RFC 2543 ACKs, 17.2.3). */
export function toTagOf(serialised: string): string | undefined {
  const end = serialised.search(/\r?\n\r?\n/);
  const head = end < 0 ? serialised : serialised.slice(0, end);
  const line = /^(?:to|t)[ \t]*:(.*(?:\r?\n[ \t]+.*)*)/im.exec(head);
  if (!line) return undefined;
  const value = line[1];
  const afterAddr = value.includes('>') ? value.slice(value.lastIndexOf('>')) : value;
  return /;\s*tag\s*=\s*([^;\s,>]+)/i.exec(afterAddr)?.[1];
}
