import fc from 'fast-check';
import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { readMessage } from '../../../../src/sip/message/reader.js';
import { canon } from './grammar-corpus.js';
import { REALISTIC, tortureFiles } from './messages.js';

/**
 * reader.ts must build the same message as sip.js's own `Core.Parser.parseMessage` (which it
 * replaces on the edge), and refuse the same messages: same class, fields, stored and parsed header
 * values, body. Only the way a refusal is reported differs (a result instead of a log line).
 */
const factory = new Core.LoggerFactory();
factory.builtinEnabled = false;
const logger = factory.getLogger('test');

function view(m: Core.IncomingRequestMessage | Core.IncomingResponseMessage): string {
  const common = {
    headers: m.headers, via: m.via, viaBranch: m.viaBranch, from: m.from, fromTag: m.fromTag, to: m.to, toTag: m.toTag,
    callId: m.callId, cseq: m.cseq, method: m.method, referTo: m.referTo, body: m.body, data: m.data,
  };
  return m instanceof Core.IncomingRequestMessage
    ? canon({ kind: 'request', ruri: m.ruri, ...common })
    : canon({ kind: 'response', statusCode: m.statusCode, reasonPhrase: m.reasonPhrase, ...common });
}

function sipjs(text: string): string {
  try {
    const m = Core.Parser.parseMessage(text, logger);
    return m ? view(m) : 'REFUSED';
  } catch {
    return 'REFUSED'; // sip.js throws on a response whose CSeq it cannot parse
  }
}

function ours(text: string): string {
  const r = readMessage(text);
  return r.ok ? view(r.msg) : 'REFUSED';
}

const messages = [...tortureFiles().map((f) => f.data.toString('latin1')), ...Object.values(REALISTIC).map((b) => b.toString('latin1'))]
  // sip.js's parser takes the text from the start line (leading CRLFs are skipped by the edge).
  .map((t) => t.replace(/^(\r\n)+/, ''));

describe('reader.ts against sip.js Core.Parser.parseMessage', () => {
  it('builds the same message, or refuses it, for the RFC 4475 set and the realistic messages', () => {
    let accepted = 0;
    for (const text of messages) {
      const mine = ours(text);
      expect(mine, text.slice(0, 200)).toBe(sipjs(text));
      if (mine !== 'REFUSED') accepted++;
    }
    expect(accepted).toBeGreaterThan(30);
  });

  it('agrees on 3,000 random mutations of those messages', () => {
    const alphabet = fc.constantFrom(...'<>;:=@," \t\r\n.%?/*-0123456789aZ'.split(''));
    fc.assert(
      fc.property(fc.nat(messages.length - 1), fc.nat(600), fc.array(alphabet, { maxLength: 3 }), fc.nat(3), (k, pos, ins, del) => {
        const text = messages[k]!;
        const p = Math.min(pos, text.length);
        const m = text.slice(0, p) + ins.join('') + text.slice(p + del);
        expect(ours(m)).toBe(sipjs(m));
      }),
      { numRuns: 3_000, seed: 3261 },
    );
  });

  it('names the refused header field and where the grammar stopped, from its own result', () => {
    const text = 'INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@b;tag=1\r\nTo: <sip:b@c>\r\n' +
      'Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
    const r = readMessage(text);
    expect(r.ok).toBe(false);
    if (r.ok || r.where !== 'header') throw new Error(`expected a header failure, got ${JSON.stringify(r)}`);
    expect(r.header).toBe('From');
    expect(r.error.rule).toBe('From');
    expect(r.error.column).toBe('<sip:a@b;tag=1'.length + 1); // at the end of the value: no ">"
    expect(r.error.found).toBeNull();
    expect(r.error.expected).toContain('">"');
  });

  it('reports a refused start line as such', () => {
    const r = readMessage('INVITE sip:a@b SIP/2.0 x\r\nCall-ID: x\r\n\r\n');
    expect(r.ok).toBe(false);
    if (r.ok || r.where !== 'start-line') throw new Error(`expected a start-line failure, got ${JSON.stringify(r)}`);
    expect(r.error.rule).toBe('Request_Response');
    expect(r.error.column).toBeGreaterThan(20);
  });
});
