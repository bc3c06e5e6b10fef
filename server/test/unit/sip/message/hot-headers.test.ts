import fc from 'fast-check';
import { parse as pegParse } from 'sip.js/lib/grammar/pegjs/dist/grammar.js';
import { describe, expect, it } from 'vitest';
import { HOT_RULES, readHot, type HotRule } from '../../../../src/sip/message/hot-headers.js';
import { canon, corpus } from './grammar-corpus.js';

/**
 * The hand-written reader (hot-headers.ts) must return exactly what sip.js's grammar returns, or
 * nothing (and then the grammar decides): same objects, same parameter order, same quirks. The
 * reference is sip.js's generated parser as published.
 */
function grammar(value: string, rule: string): string {
  const options: { startRule: string; data?: unknown } = { startRule: rule };
  try {
    pegParse(value, options);
  } catch {
    return 'FAILED';
  }
  if (options.data === -1) return 'FAILED';
  if (rule !== 'Request_Response') return canon(options.data);
  // sip.js's parser reads only these from the start line (the rest of the grammar's data is scratch).
  const d = options.data as Record<string, unknown>;
  return canon(d.status_code ? { status_code: d.status_code, reason_phrase: d.reason_phrase } : { method: d.method, uri: d.uri });
}

function fast(value: string, rule: string): string | undefined {
  if (!HOT_RULES.has(rule)) return undefined;
  const r = readHot(value, rule as HotRule);
  if (r === undefined) return undefined;
  if (rule !== 'Request_Response') return canon(r);
  const d = r as Record<string, unknown>;
  return canon(d.status_code ? { status_code: d.status_code, reason_phrase: d.reason_phrase } : { method: d.method, uri: d.uri });
}

describe('hot-header reader against sip.js grammar', () => {
  it('answers exactly like the grammar on every value of the corpus it reads', () => {
    const items = corpus();
    expect(items.length).toBeGreaterThan(350);
    let read = 0;
    for (const [value, rule] of items) {
      const mine = fast(value, rule);
      if (mine === undefined) continue;
      read++;
      expect(mine, `${rule}: ${value}`).toBe(grammar(value, rule));
    }
    // Most of the corpus is ordinary: the reader must actually take it (else there is no fast path).
    expect(read).toBeGreaterThan(items.length / 2);
  });

  it('reads the fields of a bench call itself (the fast path is taken)', () => {
    const hot: [string, HotRule][] = [
      ['INVITE sip:b00001@127.0.0.1:5060 SIP/2.0', 'Request_Response'],
      ['SIP/2.0 200 OK', 'Request_Response'],
      ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0;rport', 'Via'],
      ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0;rport=5061;received=127.0.0.1', 'Via'],
      ['<sip:bench@127.0.0.1>;tag=4242SIPpTag001', 'From'],
      ['"tonegate" <sip:support@127.0.0.1:5060>;tag=gwb1', 'From'],
      ['<sip:b00001@127.0.0.1>', 'To'],
      ['1-4242@127.0.0.1', 'Call_ID'],
      ['1 INVITE', 'CSeq'],
      ['<sip:bench@127.0.0.1:5061;transport=UDP>', 'Contact'],
      ['70', 'Max_Forwards'],
      ['application/sdp', 'Content_Type'],
      ['130', 'Content_Length'],
    ];
    for (const [value, rule] of hot) {
      expect(fast(value, rule), `${rule}: ${value}`).toBeDefined();
      expect(fast(value, rule)).toBe(grammar(value, rule));
    }
  });

  it('declines what the grammar refuses, so the grammar names the error', () => {
    for (const [value, rule] of [
      ['<sip:a@b;transport=udpx>', 'To'],
      ['2 INVITEX', 'CSeq'],
      ['SIP/2.0/UDPX 1.2.3.4;branch=z9', 'Via'],
      ['a@b@c', 'Call_ID'],
      ['applications/sdp', 'Content_Type'],
      ['SIP/2.0 200', 'Request_Response'],
    ] as [string, HotRule][]) {
      expect(grammar(value, rule), value).toBe('FAILED');
      expect(readHot(value, rule), value).toBeUndefined();
    }
  });

  it('agrees with the grammar on 20,000 random mutations', () => {
    const items = corpus().filter(([, rule]) => HOT_RULES.has(rule));
    const alphabet = fc.constantFrom(...'<>;:=@,"\\ \t.%?/*!-_0123456789aAzZsSiIpP[]\r\n'.split(''));
    fc.assert(
      fc.property(fc.nat(items.length - 1), fc.nat(200), fc.array(alphabet, { maxLength: 3 }), fc.nat(3), (k, pos, ins, del) => {
        const [input, rule] = items[k]!;
        const p = Math.min(pos, input.length);
        const m = input.slice(0, p) + ins.join('') + input.slice(p + del);
        const mine = fast(m, rule);
        if (mine !== undefined) expect(mine, `${rule}: ${JSON.stringify(m)}`).toBe(grammar(m, rule));
      }),
      { numRuns: 20_000, seed: 4475 },
    );
  });
});
