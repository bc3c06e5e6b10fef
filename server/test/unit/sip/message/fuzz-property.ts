/**
 * The mutation property behind fuzz.test.ts, runnable in a worker thread: mutated SIP messages
 * (torture set + realistic SIPp-like messages) go through addReceived + parseSip; nothing throws,
 * and every stateless reject is a response sip.js's parser reads, with the request's Call-ID.
 * Uses node:assert, not vitest's expect, because it runs outside the vitest runtime.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Core } from 'sip.js';
import { addReceived, parseSip, parseText, sipJsParse, type ParseResult } from '../../../../src/sip/message/index.js';
import { REALISTIC, tortureFiles } from './messages.js';

const torture = tortureFiles().map((f) => f.data);
const TORTURE = torture.length;
const seeds: Buffer[] = [...torture, ...Object.values(REALISTIC)];

/** The test's own reading of the first Call-ID (independent of the code under test). */
function callIdOf(data: Buffer): string | undefined {
  const text = data.toString('utf8').replace(/^(\r\n)+/, '');
  const end = text.indexOf('\r\n\r\n');
  const lines = (end < 0 ? text : text.slice(0, end)).replace(/\r\n[ \t]+/g, ' ').split('\r\n').slice(1);
  for (const line of lines) {
    const m = /^(?:call-id|i)[ \t]*:(.*)$/i.exec(line);
    if (m) return (m[1] ?? '').trim();
  }
  return undefined;
}

const SPECIAL = ['\r\n', '\r\n ', '\r\n\r\n', ',', ';', '<', '>', '"', ':', '\\', '\0', '\r', '\n', ' ', 'SIP/2.0', ';rport', '%', '\u00e9'];

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'dupLine' | 'deleteLine'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'run'; at: number; byte: number; len: number }
  | { kind: 'special' | 'addLine'; at: number; token: string };

const at = fc.nat();
/** Whole header lines inserted at a line boundary, to reach the checks behind the grammar. */
const LINES = [
  'Require: 100rel', 'Require: ', 'Proxy-Require: x', 'Content-Type: text/plain', 'c: application/sdp',
  'Content-Encoding: gzip', 'Accept: text/html', 'Max-Forwards: 0', 'Max-Forwards: 256', 'Expires: 4294967296',
  'CSeq: 1 INVITE', 'l: 0', 'Content-Length: 99999999999', 'v: SIP/2.0/UDP [2001:db8::1]:5060;rport;branch=z9hG4bKx',
  'To: <tel:+919876543210>', 'From: <urn:service:sos>;tag=1', 'm: <mailto:a@b>', 'Call-ID: a@b', 'i: ', 'X-Pay-Amount: 1.00',
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, byte: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('dupLine' as const, 'deleteLine' as const), at }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('run' as const), at, byte: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('special' as const), at, token: fc.constantFrom(...SPECIAL) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('addLine' as const), at, token: fc.constantFrom(...LINES) }) },
);

function lineSpans(b: Buffer): [number, number][] {
  const spans: [number, number][] = [];
  let s = 0;
  for (;;) {
    const e = b.indexOf('\r\n', s, 'latin1');
    if (e < 0) break;
    spans.push([s, e + 2]);
    s = e + 2;
  }
  return spans;
}

function apply(b: Buffer, m: Mutation): Buffer {
  const pos = b.length === 0 ? 0 : m.at % (b.length + 1);
  switch (m.kind) {
    case 'flip': {
      const c = Buffer.from(b);
      if (c.length > 0) c[pos % c.length] = m.byte;
      return c;
    }
    case 'truncate':
      return b.subarray(0, pos);
    case 'insert':
      return Buffer.concat([b.subarray(0, pos), Buffer.from(m.bytes), b.subarray(pos)]);
    case 'run':
      return Buffer.concat([b.subarray(0, pos), Buffer.alloc(m.len, m.byte), b.subarray(pos)]);
    case 'special':
      return Buffer.concat([b.subarray(0, pos), Buffer.from(m.token, 'utf8'), b.subarray(pos)]);
    case 'dupLine':
    case 'deleteLine':
    case 'addLine': {
      const spans = lineSpans(b);
      const span = spans[m.at % Math.max(1, spans.length)];
      if (!span) return b;
      if (m.kind === 'addLine') {
        return Buffer.concat([b.subarray(0, span[1]), Buffer.from(`${m.token}\r\n`, 'latin1'), b.subarray(span[1])]);
      }
      const line = b.subarray(span[0], span[1]);
      const rest = [b.subarray(0, span[0]), b.subarray(span[1])];
      return m.kind === 'dupLine' ? Buffer.concat([rest[0] ?? b, line, line, rest[1] ?? b]) : Buffer.concat(rest);
    }
  }
}

const stats = { rejects: 0, plainSipJs: 0, withSchemeRepair: 0 };
/** Identical reject texts (the same seed with the same fault) are verified once: parsing is pure. */
const verified = new Map<string, { status: number | undefined; callId: string | undefined }>();

/**
 * A reject must parse with sip.js's parser. When a From/To copied verbatim (RFC 3261 8.2.6.2)
 * holds a non-sip URI (tel:, http:), plain sip.js cannot read it (its grammar gap, see sipjs.ts);
 * then it must parse after the edge's unknown-scheme repair, and nothing else.
 */
function checkReject(input: Buffer, r: ParseResult): void {
  if (r.kind !== 'reject') return;
  stats.rejects++;
  let seen = verified.get(r.response);
  if (!seen) {
    let resp = sipJsParse(r.response);
    if (resp) stats.plainSipJs++;
    else {
      resp = parseText(r.response);
      if (resp) stats.withSchemeRepair++;
    }
    if (!(resp instanceof Core.IncomingResponseMessage)) {
      throw new Error(`reject response not parseable by sip.js:\n${r.response}\n--- from input:\n${input.toString('latin1')}`);
    }
    seen = { status: resp.statusCode, callId: resp.callId };
    verified.set(r.response, seen);
  }
  assert.equal(seen.status, r.status);
  assert.equal(seen.callId, callIdOf(input), `Call-ID of the reject for:\n${input.toString('latin1')}`);
}

/** Packet sources: unlike the seeds' sent-by (received added), equal to one (unchanged), IPv6. */
const REMOTES = [
  { address: '203.0.113.9', port: 40000 },
  { address: '192.0.2.1', port: 5060 },
  { address: '::ffff:192.0.2.15', port: 5060 },
  { address: '2001:db8::7', port: 5070 },
];

/** Rebuilds one generated input (for reproducing a reported counterexample). */
export function mutate(seedIndex: number, muts: Mutation[]): Buffer {
  return muts.reduce((b, m) => apply(b, m), seeds[seedIndex] ?? Buffer.alloc(0));
}

export interface FuzzReport {
  count: number;
  ms: number;
  outcomes: Record<string, number>;
  rejects: typeof stats;
  /** fast-check's report (seed, path, counterexample, error) when the property failed. */
  failure: string | undefined;
}

export function runFuzz(runs: number, seed: number): FuzzReport {
  let count = 0;
  const outcomes: Record<string, number> = {};
  const started = performance.now();
  const details = fc.check(
    fc.property(
      // Half the runs start from the five realistic messages, so that the checks behind the grammar
      // (Require, body type, Accept, CSeq, ranges) see mostly-valid input too.
      fc.oneof(fc.nat({ max: TORTURE - 1 }), fc.integer({ min: TORTURE, max: seeds.length - 1 })),
      fc.array(mutation, { minLength: 1, maxLength: 3, size: 'xsmall' }),
      fc.nat({ max: REMOTES.length - 1 }),
      (i, muts, k) => {
        count++;
        const mutated = muts.reduce((b, m) => apply(b, m), seeds[i] ?? Buffer.alloc(0));
        // The transport's path: stamp received/rport into the raw bytes, then parse.
        const input = addReceived(mutated, REMOTES[k] ?? { address: '203.0.113.9', port: 1 });
        const r = parseSip(input);
        outcomes[r.kind] = (outcomes[r.kind] ?? 0) + 1;
        checkReject(input, r);
      },
    ),
    { numRuns: runs, seed },
  );
  return {
    count,
    ms: Math.round(performance.now() - started),
    outcomes,
    rejects: { ...stats },
    failure: details.failed ? `${fc.defaultReportMessage(details)}\n${String(details.errorInstance)}` : undefined,
  };
}
