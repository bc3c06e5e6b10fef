import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FramingError, StreamFramer, isOnlyLineEnds, parseContentLength, type FrameItem } from '../../../../src/sip/transport/framer.js';

const LIMITS = { maxMessageBytes: 64 * 1024, maxHeaderBytes: 16 * 1024 };

/** A SIP message with a correct byte-based Content-Length. */
function sipMessage(body = '', extraHeaders: string[] = [], startLine = 'MESSAGE sip:bob@example.com SIP/2.0'): string {
  const headers = [
    startLine,
    'Via: SIP/2.0/TCP client.example.com;branch=z9hG4bK776asdhds',
    'Call-ID: a84b4c76e66710@pc33.example.com',
    'CSeq: 1 MESSAGE',
    ...extraHeaders,
    `Content-Length: ${Buffer.byteLength(body, 'utf8')}`,
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

function messages(items: FrameItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'message' ? [i.data.toString('utf8')] : []));
}

function pushAll(framer: StreamFramer, chunks: Buffer[]): { items: FrameItem[]; error?: FramingError } {
  const items: FrameItem[] = [];
  for (const c of chunks) {
    const r = framer.push(c);
    items.push(...r.items);
    if (r.error) return { items, error: r.error };
  }
  return { items };
}

describe('StreamFramer (RFC 3261 18.3 stream framing)', () => {
  it('frames one message with a body', () => {
    const m = sipMessage('hello');
    const r = new StreamFramer(LIMITS).push(Buffer.from(m));
    expect(r.error).toBeUndefined();
    expect(messages(r.items)).toEqual([m]);
  });

  it('frames a message without a body and a message whose body holds a blank line', () => {
    const a = sipMessage('');
    const b = sipMessage('v=0\r\n\r\n\r\nstill body');
    const r = new StreamFramer(LIMITS).push(Buffer.from(a + b));
    expect(messages(r.items)).toEqual([a, b]);
  });

  it('yields the same messages whatever byte position the stream is split at', () => {
    const a = sipMessage('first body ✓');
    const b = sipMessage('');
    const c = sipMessage('कार्ड ₹1499.00 — é');
    const all = Buffer.from(a + '\r\n\r\n' + b + c);
    for (let i = 0; i <= all.length; i++) {
      const f = new StreamFramer(LIMITS);
      const r = pushAll(f, [all.subarray(0, i), all.subarray(i)]);
      expect(r.error).toBeUndefined();
      expect(messages(r.items)).toEqual([a, b, c]);
      expect(r.items.filter((x) => x.kind === 'ping')).toHaveLength(1);
      expect(f.partial).toBe(false);
      expect(f.buffered).toBe(0);
    }
  });

  it('frames a stream that arrives one byte at a time', () => {
    const a = sipMessage('ünïcödé body');
    const b = sipMessage('x'.repeat(3000));
    const all = Buffer.from(a + b);
    const f = new StreamFramer(LIMITS);
    const r = pushAll(f, [...all].map((byte) => Buffer.from([byte])));
    expect(messages(r.items)).toEqual([a, b]);
  });

  it('frames many messages merged in one segment', () => {
    const msgs = Array.from({ length: 200 }, (_, i) => sipMessage(`body number ${i} ${'é'.repeat(i % 7)}`));
    const r = new StreamFramer(LIMITS).push(Buffer.from(msgs.join('')));
    expect(messages(r.items)).toEqual(msgs);
  });

  it('counts Content-Length in bytes, not characters, for multi-byte UTF-8 bodies', () => {
    const body = 'नमस्ते ₹1499 😀';
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length);
    const a = sipMessage(body);
    const b = sipMessage('next');
    const r = new StreamFramer(LIMITS).push(Buffer.from(a + b));
    expect(messages(r.items)).toEqual([a, b]);
    const first = r.items[0];
    expect(first?.kind === 'message' && first.data.length).toBe(Buffer.byteLength(a));
  });

  it('keeps a body that is not valid UTF-8 byte for byte', () => {
    const head = Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\n');
    const body = Buffer.from([0xff, 0x00, 0xc3, 0x28]);
    const r = new StreamFramer(LIMITS).push(Buffer.concat([head, body, head, body]));
    expect(r.items).toHaveLength(2);
    for (const item of r.items) expect(item.kind === 'message' && item.data).toEqual(Buffer.concat([head, body]));
  });

  it('accepts the compact form, any case and whitespace around the colon', () => {
    for (const h of ['l: 3', 'L:3', 'content-length   :   3  ', 'CONTENT-LENGTH:\t3']) {
      const m = `OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n${h}\r\n\r\nabc`;
      expect(messages(new StreamFramer(LIMITS).push(Buffer.from(m + m)).items)).toEqual([m, m]);
    }
  });

  it('does not take a header whose name merely ends in "l" or starts with "Content-Length" for it', () => {
    const m = 'OPTIONS sip:a@b SIP/2.0\r\nX-Total: 99\r\nContent-Length-Extra: 99\r\nContent-Length: 2\r\n\r\nok';
    expect(messages(new StreamFramer(LIMITS).push(Buffer.from(m)).items)).toEqual([m]);
  });

  it('treats a missing Content-Length as an empty body (RFC 3261 18.3 makes it mandatory; the message layer may answer 400)', () => {
    const a = 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n';
    const b = sipMessage('z');
    expect(messages(new StreamFramer(LIMITS).push(Buffer.from(a + b)).items)).toEqual([a, b]);
  });

  it('accepts repeated Content-Length headers that agree', () => {
    const m = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 2\r\n\r\nok';
    expect(messages(new StreamFramer(LIMITS).push(Buffer.from(m)).items)).toEqual([m]);
  });

  it('reads a Content-Length folded onto a continuation line', () => {
    const m = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n   2\r\n\r\nok';
    expect(messages(new StreamFramer(LIMITS).push(Buffer.from(m)).items)).toEqual([m]);
  });
});

describe('StreamFramer keep-alives (RFC 5626 3.5.1, RFC 3261 7.5)', () => {
  it('reports a CRLF CRLF ping outside a message', () => {
    const r = new StreamFramer(LIMITS).push(Buffer.from('\r\n\r\n'));
    expect(r.items).toEqual([{ kind: 'ping' }]);
  });

  it('reports a ping split over four segments', () => {
    const f = new StreamFramer(LIMITS);
    const r = pushAll(f, ['\r', '\n', '\r', '\n'].map((s) => Buffer.from(s)));
    expect(r.items).toEqual([{ kind: 'ping' }]);
    expect(f.partial).toBe(false);
  });

  it('reports two pings for two double CRLFs and one for three CRLFs', () => {
    expect(new StreamFramer(LIMITS).push(Buffer.from('\r\n\r\n\r\n\r\n')).items).toEqual([{ kind: 'ping' }, { kind: 'ping' }]);
    const m = sipMessage('');
    const r = new StreamFramer(LIMITS).push(Buffer.from('\r\n\r\n\r\n' + m));
    expect(r.items.map((i) => i.kind)).toEqual(['ping', 'message']);
  });

  it('skips a stray CRLF (and a bare LF) before a message without answering it', () => {
    const m = sipMessage('b');
    const r = new StreamFramer(LIMITS).push(Buffer.from('\r\n' + m + '\n' + m));
    expect(r.items.map((i) => i.kind)).toEqual(['message', 'message']);
    expect(messages(r.items)).toEqual([m, m]);
  });

  it('does not count a pending single CRLF as a partial message', () => {
    const f = new StreamFramer(LIMITS);
    expect(f.push(Buffer.from('\r\n')).items).toEqual([]);
    expect(f.partial).toBe(false);
    f.push(Buffer.from('INVITE'));
    expect(f.partial).toBe(true);
  });

  it('answers pings between messages in order', () => {
    const a = sipMessage('1');
    const b = sipMessage('2');
    const r = new StreamFramer(LIMITS).push(Buffer.from(a + '\r\n\r\n' + b + '\r\n\r\n'));
    expect(r.items.map((i) => i.kind)).toEqual(['message', 'ping', 'message', 'ping']);
  });
});

describe('StreamFramer limits (a stream cannot be resynchronised)', () => {
  const small = { maxMessageBytes: 2048, maxHeaderBytes: 512 };

  it('fails a header section that never ends once it passes MAX_HEADER_BYTES, buffering no more', () => {
    const f = new StreamFramer(small);
    const r = f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nX-Junk: ' + 'a'.repeat(10_000)));
    expect(r.error?.code).toBe('HEADER_TOO_LARGE');
    expect(f.buffered).toBe(0);
  });

  it('fails a header section trickled byte by byte at exactly the limit', () => {
    const f = new StreamFramer(small);
    let error: FramingError | undefined;
    let fed = 0;
    while (!error && fed < 10_000) {
      error = f.push(Buffer.from(fed === 0 ? 'I' : 'a')).error;
      fed++;
      expect(f.buffered).toBeLessThanOrEqual(small.maxHeaderBytes);
    }
    expect(error?.code).toBe('HEADER_TOO_LARGE');
    expect(fed).toBe(small.maxHeaderBytes);
  });

  it('fails a complete header section larger than MAX_HEADER_BYTES', () => {
    const m = sipMessage('', ['X-Long: ' + 'b'.repeat(600)]);
    expect(new StreamFramer(small).push(Buffer.from(m)).error?.code).toBe('HEADER_TOO_LARGE');
  });

  it('accepts a header section of exactly MAX_HEADER_BYTES', () => {
    const base = sipMessage('', ['X-Pad: ']);
    const m = sipMessage('', ['X-Pad: ' + 'p'.repeat(small.maxHeaderBytes - Buffer.byteLength(base))]);
    expect(Buffer.byteLength(m)).toBe(small.maxHeaderBytes);
    expect(messages(new StreamFramer(small).push(Buffer.from(m)).items)).toEqual([m]);
  });

  it('fails a Content-Length that would exceed MAX_MESSAGE_BYTES before any body arrives', () => {
    const f = new StreamFramer(small);
    const r = f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n'));
    expect(r.error?.code).toBe('MESSAGE_TOO_LARGE');
    expect(new StreamFramer(small).push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nl: 99999999999999999999999\r\n\r\n')).error?.code).toBe(
      'MESSAGE_TOO_LARGE',
    );
  });

  it('accepts a message of exactly MAX_MESSAGE_BYTES', () => {
    const head = sipMessage('');
    // 'Content-Length: 0' grows by three digits for a four-digit length.
    const body = 'y'.repeat(small.maxMessageBytes - Buffer.byteLength(head) - 3);
    const m = sipMessage(body);
    expect(Buffer.byteLength(m)).toBe(small.maxMessageBytes);
    expect(messages(new StreamFramer(small).push(Buffer.from(m + m)).items)).toEqual([m, m]);
    const over = sipMessage(body + 'y');
    expect(new StreamFramer(small).push(Buffer.from(over)).error?.code).toBe('MESSAGE_TOO_LARGE');
  });

  it.each(['abc', '-1', '1.5', '', '12 34', '0x10', '+5', '5;x'])('fails a non-numeric Content-Length %j', (v) => {
    const r = new StreamFramer(LIMITS).push(Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\nContent-Length: ${v}\r\n\r\n`));
    expect(r.error?.code).toBe('BAD_CONTENT_LENGTH');
    expect(r.error).toBeInstanceOf(FramingError);
  });

  it('fails Content-Length headers that disagree', () => {
    const r = new StreamFramer(LIMITS).push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 3\r\n\r\nabc'));
    expect(r.error?.code).toBe('BAD_CONTENT_LENGTH');
  });

  it('delivers the messages before the bad one, then stays failed', () => {
    const good = sipMessage('ok');
    const f = new StreamFramer(LIMITS);
    const r = f.push(Buffer.from(good + 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: nope\r\n\r\n' + good));
    expect(messages(r.items)).toEqual([good]);
    expect(r.error?.code).toBe('BAD_CONTENT_LENGTH');
    const again = f.push(Buffer.from(good));
    expect(again.items).toEqual([]);
    expect(again.error?.code).toBe('BAD_CONTENT_LENGTH');
  });

  it('takes in a segment far larger than the limit when it holds only whole messages', () => {
    const m = sipMessage('z'.repeat(1200));
    const f = new StreamFramer(small);
    const r = f.push(Buffer.from(m.repeat(20)));
    expect(r.error).toBeUndefined();
    expect(messages(r.items)).toEqual(Array(20).fill(m));
    expect(f.buffered).toBe(0);
  });

  it('reports a partial message while header or body bytes are buffered', () => {
    const m = Buffer.from(sipMessage('0123456789'));
    const f = new StreamFramer(LIMITS);
    expect(f.partial).toBe(false);
    f.push(m.subarray(0, 10));
    expect(f.partial).toBe(true);
    f.push(m.subarray(10, m.length - 3));
    expect(f.partial).toBe(true);
    f.push(m.subarray(m.length - 3));
    expect(f.partial).toBe(false);
  });
});

describe('parseContentLength and isOnlyLineEnds', () => {
  it('returns 0 when there is no Content-Length and ignores the start line', () => {
    expect(parseContentLength(Buffer.from('l: 5 SIP/2.0\r\nTo: x'))).toBe(0);
  });

  it('parses leading zeros', () => {
    expect(parseContentLength(Buffer.from('X sip:a SIP/2.0\r\nContent-Length: 007'))).toBe(7);
  });

  it('tells keep-alive bytes from content', () => {
    expect(isOnlyLineEnds(Buffer.from('\r\n\r\n'))).toBe(true);
    expect(isOnlyLineEnds(Buffer.alloc(0))).toBe(true);
    expect(isOnlyLineEnds(Buffer.from('\r\nx'))).toBe(false);
  });
});

describe('StreamFramer properties', () => {
  const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
  const headerValue = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ').trim() || 'v');
  const body = fc.oneof(fc.string({ maxLength: 300, unit: 'binary' }), fc.string({ maxLength: 100 }), fc.constant(''));
  const message = fc
    .record({
      method: token,
      headers: fc.array(fc.tuple(token, headerValue), { maxLength: 8 }),
      body,
      compact: fc.boolean(),
    })
    .filter(({ headers }) => headers.every(([n]) => !/^(content-length|l)$/i.test(n)))
    .map(({ method, headers, body, compact }) => {
      const lines = [`${method.toUpperCase()} sip:x@example.com SIP/2.0`, ...headers.map(([n, v]) => `${n}: ${v}`)];
      lines.push(`${compact ? 'l' : 'Content-Length'}: ${Buffer.byteLength(body, 'utf8')}`);
      return `${lines.join('\r\n')}\r\n\r\n${body}`;
    });
  const unit = fc.record({ crlfs: fc.integer({ min: 0, max: 5 }), message });

  it('any segmentation of a concatenation of messages (with keep-alives between) yields exactly those messages', () => {
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (units, cutSeeds) => {
        const stream = Buffer.concat(units.map((u) => Buffer.from('\r\n'.repeat(u.crlfs) + u.message, 'utf8')));
        const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const c of [...cuts, stream.length]) {
          chunks.push(stream.subarray(prev, c));
          prev = c;
        }
        const f = new StreamFramer(LIMITS);
        const r = pushAll(f, chunks);
        expect(r.error).toBeUndefined();
        expect(messages(r.items)).toEqual(units.map((u) => u.message));
        const pings = r.items.filter((i) => i.kind === 'ping').length;
        expect(pings).toBe(units.reduce((n, u) => n + Math.floor(u.crlfs / 2), 0));
        expect(f.partial).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
