/**
 * The SIP message edge (design.md practice 2): every inbound datagram / frame goes through
 * `parseSip` before any state exists. Bad requests get a stateless response (RFC 3261 8.2, 8.2.7,
 * 16.3, 21.4.1), everything that cannot be answered is dropped: bad responses (RFC 3261 8.1.3.3,
 * 18.3), any ACK (never answered, RFC 3261 17.2.1 and 8.2), garbage.
 *
 * Order, following RFC 3261 8.2: start line and version (505) -> framing and single-value fields
 * (400) -> header grammar (400, naming the field; reader.ts) -> Request-URI scheme (416) -> CSeq (400) -> Require (420) ->
 * body type (415) -> Accept (406). Max-Forwards 0 (RFC 4475 3.3.11, zeromf) is the TU's decision
 * (483 only where it would forward), so it is exposed, not checked.
 */
import { Core } from 'sip.js';
import { TransportLimits } from '../constants.js';
import { frameBody, requestProblem, structuralProblem } from './checks.js';
import { firstValue, listValues, readRaw, type RawMessage } from './raw.js';
import { statelessReply } from './response.js';
import { parseHeaderSection } from './sipjs.js';
import type { ViaInfo } from './via.js';

export type ParseResult =
  | {
      kind: 'request';
      msg: Core.IncomingRequestMessage;
      /** The body bytes, Content-Length long (msg.body holds them decoded as UTF-8). */
      body: Buffer;
      /** The Request-URI as received (msg.ruri is undefined for tel: URIs). */
      requestUri: string;
      /** Max-Forwards, or undefined when absent (RFC 2543 clients, inv2543): the TU decides. */
      maxForwards: number | undefined;
      /** Header fields whose parsed URI is a placeholder for an unknown scheme (see sipjs.ts). */
      neutralised: string[];
    }
  | { kind: 'response'; msg: Core.IncomingResponseMessage; body: Buffer; neutralised: string[] }
  /** `detail`: for a header field the grammar refused, where and what it expected (for logs). */
  | { kind: 'reject'; status: number; reason: string; response: string; topVia: ViaInfo; detail?: string }
  | { kind: 'drop'; reason: string; detail?: string };

export interface ParseOptions {
  /** Body types accepted per method (8.2.3); methods not listed are not checked here. */
  acceptedContentTypes?: Readonly<Record<string, readonly string[]>>;
  /** Option tags we support in Require (8.2.2.3). Default: none. */
  supportedOptionTags?: readonly string[];
}

export const DEFAULT_ACCEPTED_CONTENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  INVITE: ['application/sdp'],
  ACK: ['application/sdp'],
  UPDATE: ['application/sdp'],
  PRACK: ['application/sdp'],
};

const drop = (reason: string, detail?: string): ParseResult => (detail ? { kind: 'drop', reason, detail } : { kind: 'drop', reason });

/** Parses one SIP message (one datagram, one WS frame, or one Content-Length-framed TCP message). */
export function parseSip(data: Buffer, opts: ParseOptions = {}): ParseResult {
  const raw = readRaw(data);
  if (!raw) return drop('empty message (keep-alive)');
  // The same cap the TCP framer applies (constants.ts), for UDP and WS too. sip.js's grammar is
  // slow on huge fields (~0.5 s for 60 KB of Via parameters), so such messages are not parsed, and
  // not answered (a 513, RFC 3261 21.5.9, would need those very fields): dropped.
  if (raw.text.length > TransportLimits.MAX_HEADER_BYTES) return drop('header section too large');
  if (raw.start.kind === 'request') return parseRequest(raw, data, raw.start, opts);
  if (raw.start.kind === 'response') return parseResponse(raw, data);
  return drop('not a SIP start line');
}

function parseResponse(raw: RawMessage, data: Buffer): ParseResult {
  // RFC 3261 7.1: the version is case-insensitive; we speak 2.0 only.
  if (raw.start.kind !== 'response' || raw.start.version.toUpperCase() !== 'SIP/2.0') {
    return drop('response: unsupported SIP version');
  }
  if (raw.bodyOffset === undefined) return drop('response: no empty line after the header fields');
  if (raw.malformed) return drop('response: malformed header field line');
  const problem = structuralProblem(raw);
  if (problem) return drop(`response: ${problem}`);
  // RFC 3261 18.3: a response shorter than its Content-Length MUST be discarded.
  const framed = frameBody(raw, data);
  if ('error' in framed) return drop(`response: ${framed.error}`);
  const parsed = parseHeaderSection(raw);
  if (!parsed.ok) return drop(`response: malformed ${parsed.failed}`, parsed.detail);
  const msg = parsed.msg;
  if (!(msg instanceof Core.IncomingResponseMessage)) return drop('response: not a response');
  // RFC 3261 7.2 / 21: a 3-digit code 100..699 (bigcode, and 0xx / 7xx+).
  const code = msg.statusCode ?? 0;
  if (!(code >= 100 && code <= 699)) return drop('response: status code out of range');
  // RFC 3261 8.1.3.3: a UAC discards a response with more than one Via value (bcast). tonegate is a
  // B2BUA, never a proxy, so every response it receives is for a request it sent itself.
  if (listValues(raw, 'via').length > 1) return drop('response: more than one Via');
  attachBody(msg, raw, framed.body);
  return { kind: 'response', msg, body: framed.body, neutralised: parsed.neutralised };
}

type RequestLine = { kind: 'request'; method: string; uri: string; version: string };

function parseRequest(raw: RawMessage, data: Buffer, start: RequestLine, opts: ParseOptions): ParseResult {
  const { method, uri } = start;
  const reject = (status: number, reason: string, headers: string[] = [], msg?: Core.IncomingRequestMessage, detail?: string): ParseResult => {
    // RFC 3261 17.2.1 / 8.2: an ACK is never answered; a bad one is dropped.
    if (method === 'ACK') return drop(`ACK: ${reason}`, detail);
    // RFC 3261 21.4.1: the 400 Reason-Phrase names the problem; other codes pass the usual phrase.
    const reply = statelessReply(raw, status, reason, headers, msg);
    if (!reply) return drop(`${reason} (no Via/CSeq/Call-ID to answer with)`, detail);
    return { kind: 'reject', status, reason, response: reply.response, topVia: reply.topVia, ...(detail ? { detail } : {}) };
  };
  // RFC 3261 7.1 / 21.5.6: another SIP version is answered 505 (badvers).
  if (start.version.toUpperCase() !== 'SIP/2.0') return reject(505, 'Version Not Supported');
  if (raw.bodyOffset === undefined) return reject(400, 'Missing empty line after the header fields');
  if (raw.malformed) return reject(400, 'Malformed header field line');
  const problem = structuralProblem(raw);
  if (problem) return reject(400, problem);
  const framed = frameBody(raw, data);
  if ('error' in framed) return reject(400, framed.error);
  const parsed = parseHeaderSection(raw);
  if (!parsed.ok) return reject(400, `Malformed ${parsed.failed}`, malformedHint(raw, parsed.failed), undefined, parsed.detail);
  const msg = parsed.msg;
  if (!(msg instanceof Core.IncomingRequestMessage)) return drop('request: not a request');
  const issue = requestProblem(raw, msg, method, uri, framed.body, {
    accepted: { ...DEFAULT_ACCEPTED_CONTENT_TYPES, ...opts.acceptedContentTypes },
    supported: opts.supportedOptionTags ?? [],
  });
  if (issue) return reject(issue.status, issue.reason, issue.headers, msg);
  attachBody(msg, raw, framed.body);
  const mf = firstValue(raw, 'max-forwards');
  return {
    kind: 'request',
    msg,
    body: framed.body,
    requestUri: uri,
    maxForwards: mf === undefined ? undefined : Number(mf),
    neutralised: parsed.neutralised,
  };
}

/** The reader saw only the header section; the body is cut on bytes here (RFC 3261 18.3, 20.14). */
function attachBody(msg: Core.IncomingRequestMessage | Core.IncomingResponseMessage, raw: RawMessage, body: Buffer): void {
  msg.body = body.toString('utf8');
  msg.data = `${raw.text}\r\n\r\n${msg.body}`;
}

/**
 * A Warning (RFC 3261 20.43) for a known way a stock phone gets a header field wrong. RFC 3261 20:
 * a URI holding a comma, question mark or semicolon must be enclosed in angle brackets; a phone
 * that sends `Refer-To: sip:pay@gw?X-Pay-Amount=...` bare (baresip 1.0's transfer does) is refused
 * as before, and told how to write it.
 */
function malformedHint(raw: RawMessage, failed: string): string[] {
  if (failed !== 'Refer-To') return [];
  const v = firstValue(raw, 'refer-to');
  if (v === undefined || v.includes('<') || !v.includes('?')) return [];
  return ['Warning: 399 tonegate "Refer-To: a URI with headers must be enclosed in <> (RFC 3261 20), e.g. Refer-To: <sip:pay@host?X-Pay-Amount=...>"'];
}
