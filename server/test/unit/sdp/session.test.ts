import { describe, expect, it } from 'vitest';
import { SdpSession, parseSdp, type Codec, type ParsedSdp } from '../../../src/sdp/index.js';

const PCMU: Codec = { pt: 0, name: 'PCMU', rate: 8000, channels: 1 };
const audio = (port = 20000, direction: 'sendrecv' | 'sendonly' = 'sendrecv') => ({ port, codecs: [PCMU], ptime: null, direction });
const originOf = (text: string) => (parseSdp(text) as ParsedSdp).origin;

describe('SdpSession (RFC 3264 §8, RFC 4566 §5.2)', () => {
  it('keeps the version when the content is unchanged', () => {
    const s = new SdpSession({ address: '10.0.0.1', sessionId: '42', version: 7 });
    const first = s.render(audio(), '10.0.0.1');
    const again = s.render(audio(), '10.0.0.1');
    expect(again).toBe(first);
    expect(originOf(again)).toEqual({ username: 'tonegate', sessionId: '42', version: 7, address: '10.0.0.1' });
  });

  it('bumps the version by exactly one when the content changes, o= otherwise identical', () => {
    const s = new SdpSession({ address: '10.0.0.1', sessionId: '42', version: 7 });
    const v1 = s.render(audio(), '10.0.0.1');
    const v2 = s.render(audio(20000, 'sendonly'), '10.0.0.1');
    const v3 = s.render(audio(20000, 'sendonly'), '10.0.0.1');
    const v4 = s.render(audio(), '10.0.0.1');
    expect([v1, v2, v3, v4].map((t) => originOf(t).version)).toEqual([7, 8, 8, 9]);
    const oLine = (t: string) => t.split('\r\n')[1]!.replace(/ \d+ IN/, ' N IN');
    expect(new Set([v1, v2, v3, v4].map(oLine)).size).toBe(1);
    expect(s.version).toBe(9);
  });

  it('a random numeric session id and version by default', () => {
    const a = new SdpSession({ address: '10.0.0.1' });
    const b = new SdpSession({ address: '10.0.0.1' });
    expect(a.sessionId).toMatch(/^\d+$/);
    expect(a.sessionId).not.toBe(b.sessionId);
    expect(a.version).toBeGreaterThan(0);
  });

  it('an answer mirrors the offer layout; a later offer keeps those m-lines with port 0 (RFC 3264 §8.2)', () => {
    const s = new SdpSession({ address: '10.0.0.1' });
    const layout = {
      mlines: [
        { type: 'video', port: 5000, protocol: 'RTP/AVP', formats: '31' },
        { type: 'audio', port: 6000, protocol: 'RTP/AVP', formats: '0' },
        { type: 'application', port: 7000, protocol: 'udp', formats: 'wb' },
      ],
      audioIndex: 1,
    };
    const answer = s.render(audio(), '10.0.0.1', layout);
    const mLines = (t: string) => t.split('\r\n').filter((l) => l.startsWith('m='));
    expect(mLines(answer)).toEqual(['m=video 0 RTP/AVP 31', 'm=audio 20000 RTP/AVP 0', 'm=application 0 udp wb']);
    const reoffer = s.render(audio(20000, 'sendonly'), '10.0.0.1');
    expect(mLines(reoffer)).toEqual(['m=video 0 RTP/AVP 31', 'm=audio 20000 RTP/AVP 0', 'm=application 0 udp wb']);
    expect(s.mlines).toHaveLength(3);
  });

  it('IPv6: o= and c= say IP6', () => {
    const s = new SdpSession({ address: '2001:db8::1' });
    const text = s.render(audio(), '2001:db8::1');
    expect(text).toContain(' IN IP6 2001:db8::1\r\n');
    expect(text).toContain('c=IN IP6 2001:db8::1\r\n');
  });

  it('refuses a non-IP address or a non-numeric session id', () => {
    expect(() => new SdpSession({ address: 'gw.example.com' })).toThrow(TypeError);
    expect(() => new SdpSession({ address: '10.0.0.1', sessionId: 'abc' })).toThrow(TypeError);
  });
});
