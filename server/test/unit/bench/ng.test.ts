import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BencodeError,
  NgClient,
  NgError,
  NgTimeoutError,
  bdecode,
  bencode,
  dig,
  formatNgMessage,
  parseNgMessage,
  type BDict,
} from '../../../bench/lib/ng.js';

describe('bencode (BEP 3)', () => {
  it('encodes integers, strings, lists and dictionaries with sorted keys', () => {
    expect(bencode(42).toString()).toBe('i42e');
    expect(bencode(-7).toString()).toBe('i-7e');
    expect(bencode(0).toString()).toBe('i0e');
    expect(bencode('spam').toString()).toBe('4:spam');
    expect(bencode('').toString()).toBe('0:');
    expect(bencode(['a', 1, []]).toString()).toBe('l1:ai1elee');
    expect(bencode({ zeta: 1, alpha: 'x', command: 'ping' }).toString()).toBe('d5:alpha1:x7:command4:ping4:zetai1ee');
  });

  it('counts string lengths in bytes, not characters', () => {
    expect(bencode('é').toString('latin1')).toBe('2:\xc3\xa9');
    expect(bencode(Buffer.from([0, 1, 2])).equals(Buffer.from('3:\x00\x01\x02', 'latin1'))).toBe(true);
  });

  it('rejects non-integers', () => {
    expect(() => bencode(1.5)).toThrow(BencodeError);
    expect(() => bencode(Number.MAX_SAFE_INTEGER + 1)).toThrow(BencodeError);
  });

  it('round-trips an ng offer', () => {
    const offer: BDict = {
      command: 'offer',
      'call-id': 'c1',
      'from-tag': 'a',
      sdp: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n',
      flags: ['trust-address'],
      replace: ['origin', 'session-connection'],
      nested: { n: 3, l: [1, 'two'] },
    };
    expect(bdecode(bencode(offer))).toEqual(offer);
  });

  it('decodes what rtpengine sends', () => {
    const d = bdecode(Buffer.from('d6:result4:pong6:totalsd3:RTPd7:packetsi40eeee'));
    expect(d).toEqual({ result: 'pong', totals: { RTP: { packets: 40 } } });
    expect(dig(d, 'totals', 'RTP', 'packets')).toBe(40);
    expect(dig(d, 'totals', 'RTCP', 'packets')).toBeUndefined();
  });

  it.each([
    ['', 'unexpected end'],
    ['i12', 'unterminated integer'],
    ['i-0e', 'bad integer'],
    ['i03e', 'bad integer'],
    ['ie', 'bad integer'],
    ['5:abc', 'runs past the end'],
    ['01:a', 'bad string length'],
    ['l1:a', 'unterminated list'],
    ['d1:a', 'unexpected end'],
    ['di1ei2ee', 'not a string'],
    ['x', 'unexpected byte'],
    ['i1ei2e', 'trailing bytes'],
  ])('rejects %j (%s)', (input, msg) => {
    expect(() => bdecode(Buffer.from(input))).toThrow(msg);
  });

  it('keeps a "__proto__" key as plain data', () => {
    const d = bdecode(Buffer.from('d9:__proto__d1:xi1eee')) as BDict;
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses absurd nesting', () => {
    expect(() => bdecode(Buffer.from('l'.repeat(100) + 'e'.repeat(100)))).toThrow('nested too deep');
  });
});

describe('ng messages', () => {
  it('are "<cookie> <bencoded dict>"', () => {
    const m = formatNgMessage('abc_1', { command: 'ping' });
    expect(m.toString()).toBe('abc_1 d7:command4:pinge');
    expect(parseNgMessage(m)).toEqual({ cookie: 'abc_1', dict: { command: 'ping' } });
  });

  it('without a cookie or with a non-dictionary body are rejected', () => {
    expect(() => parseNgMessage(Buffer.from('d7:command4:pinge'))).toThrow('cookie');
    expect(() => parseNgMessage(Buffer.from('c1 li1ee'))).toThrow('not a dictionary');
  });
});

/** A fake rtpengine: answers through `reply(dict)`; undefined means stay silent. */
async function fakeServer(reply: (d: BDict, n: number) => BDict | undefined): Promise<{ sock: Socket; port: number; seen: string[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const seen: string[] = [];
  sock.on('message', (msg, rinfo) => {
    const { cookie, dict } = parseNgMessage(msg);
    seen.push(cookie);
    const r = reply(dict, seen.length);
    if (r) sock.send(formatNgMessage(cookie, r), rinfo.port, rinfo.address);
  });
  return { sock, port: sock.address().port, seen };
}

describe('NgClient', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('ping resolves on pong; replies are matched by cookie', async () => {
    const srv = await fakeServer((d): BDict => (d.command === 'ping' ? { result: 'pong' } : { result: 'ok', echo: d['call-id'] ?? '' }));
    const ng = await NgClient.connect({ host: '127.0.0.1', port: srv.port });
    cleanup.push(() => ng.close(), () => srv.sock.close());
    await ng.ping();
    const [a, b] = await Promise.all([ng.query({ 'call-id': 'one' }), ng.query({ 'call-id': 'two' })]);
    expect(a.echo).toBe('one');
    expect(b.echo).toBe('two');
    expect(new Set(srv.seen).size).toBe(3);
  });

  it('result "error" becomes an NgError carrying error-reason', async () => {
    const srv = await fakeServer(() => ({ result: 'error', 'error-reason': 'Unknown call-id' }));
    const ng = await NgClient.connect({ host: '127.0.0.1', port: srv.port });
    cleanup.push(() => ng.close(), () => srv.sock.close());
    const err = await ng.delete({ 'call-id': 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgError);
    expect((err as NgError).reason).toBe('Unknown call-id');
    expect((err as Error).message).toBe('rtpengine delete: error: Unknown call-id');
  });

  it('retransmits with the same cookie, then times out with a clear error', async () => {
    const srv = await fakeServer(() => undefined);
    const ng = await NgClient.connect({ host: '127.0.0.1', port: srv.port, timeoutMs: 50, attempts: 3 });
    cleanup.push(() => ng.close(), () => srv.sock.close());
    const err = await ng.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgTimeoutError);
    expect((err as Error).message).toContain(`rtpengine ping: no reply from 127.0.0.1:${srv.port} in 3 x 50 ms`);
    expect(srv.seen).toHaveLength(3);
    expect(new Set(srv.seen).size).toBe(1);
  });

  it('a reply to a retransmission still resolves the request', async () => {
    const srv = await fakeServer((_d, n) => (n >= 2 ? { result: 'pong' } : undefined));
    const ng = await NgClient.connect({ host: '127.0.0.1', port: srv.port, timeoutMs: 50, attempts: 3 });
    cleanup.push(() => ng.close(), () => srv.sock.close());
    await ng.ping();
    expect(srv.seen).toHaveLength(2);
  });

  it('ping that is not answered with pong is an error', async () => {
    const srv = await fakeServer(() => ({ result: 'ok' }));
    const ng = await NgClient.connect({ host: '127.0.0.1', port: srv.port });
    cleanup.push(() => ng.close(), () => srv.sock.close());
    await expect(ng.ping()).rejects.toThrow('expected result "pong"');
  });

  it('close rejects what is still pending', async () => {
    const srv = await fakeServer(() => undefined);
    const ng = await NgClient.connect({ host: '127.0.0.1', port: srv.port, timeoutMs: 5000 });
    cleanup.push(() => srv.sock.close());
    const p = ng.query({ 'call-id': 'x' });
    ng.close();
    await expect(p).rejects.toThrow('closed before rtpengine answered query');
    await expect(ng.ping()).rejects.toThrow('closed');
  });
});
