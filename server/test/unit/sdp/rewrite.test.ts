import { describe, expect, it } from 'vitest';
import {
  SdpSession, answerOffer, isSdpError, parseSdp, rewriteAnswer, rewriteOffer,
  type Anchor, type ParsedSdp, type RewrittenAnswer, type RewrittenOffer, type SdpError,
} from '../../../src/sdp/index.js';
import { BARESIP, CHROMIUM, PHONE_WITH_VIDEO, SIPP_UAC, SIPP_UAC_PCAP, sdp, simple } from './fixtures.js';

const GW = '10.0.0.1';
const anchor = (port: number, session = new SdpSession({ address: GW, sessionId: '900', version: 1 })): Anchor => ({ address: GW, port, session });

function value<T extends object>(r: T | SdpError): T {
  if (isSdpError(r)) throw new Error(`unexpected error: ${r.error}`);
  return r;
}
const parsed = (text: string): ParsedSdp => value(parseSdp(text));
const mLines = (text: string): string[] => text.split('\r\n').filter((l) => l.startsWith('m='));

describe('rewriteOffer: the gateway offer to the other leg', () => {
  it.each([
    ['SIPp uac (PCMU only: telephone-event 101 added)', SIPP_UAC, 'm=audio 20002 RTP/AVP 0 101', { pt: 101, events: '0-15' }, true],
    ['SIPp uac_pcap (its telephone-event kept)', SIPP_UAC_PCAP, 'm=audio 20002 RTP/AVP 8 101', { pt: 101, events: '0-11,16' }, false],
    ['baresip', BARESIP, 'm=audio 20002 RTP/AVP 0 8 101', { pt: 101, events: '0-15' }, false],
    ['Chromium (plain RTP leg: G.711 and telephone-event/8000 only)', CHROMIUM, 'm=audio 20002 RTP/AVP 0 8 126', { pt: 126, events: '0-15' }, false],
    ['desk phone (G729 dropped, video not offered)', PHONE_WITH_VIDEO, 'm=audio 20002 RTP/AVP 8 0 96', { pt: 96, events: '0-15' }, false],
  ])('%s', (_name, offer, mline, te, added) => {
    const r = value<RewrittenOffer>(rewriteOffer(offer, anchor(20002)));
    expect(mLines(r.sdp)).toEqual([mline]);
    expect(r.telephoneEvent).toEqual(te);
    expect(r.telephoneEventAdded).toBe(added);
    const out = parsed(r.sdp);
    expect(out).toMatchObject({ address: GW, port: 20002, protocol: 'RTP/AVP', direction: 'sendrecv', ice: false });
    expect(out.origin).toMatchObject({ username: 'tonegate', sessionId: '900', address: GW });
    expect(r.sdp).not.toMatch(/ice-|fingerprint|rtcp-mux|opus|G729|ssrc/);
  });

  it('the whole SDP for a SIPp uac offer', () => {
    const r = value<RewrittenOffer>(rewriteOffer(SIPP_UAC, anchor(20002)));
    expect(r.sdp).toBe([
      'v=0', 'o=tonegate 900 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0',
      'm=audio 20002 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15',
      'a=sendrecv', '',
    ].join('\r\n'));
    expect(r.remote).toEqual({ address: '192.0.2.20', port: 6000, rtcpPort: 6001 });
  });

  it('keeps a=ptime from the offer, or the one in options', () => {
    expect(value<RewrittenOffer>(rewriteOffer(BARESIP, anchor(20002))).sdp).toContain('a=ptime:20\r\n');
    expect(value<RewrittenOffer>(rewriteOffer(BARESIP, anchor(20002), { ptime: 30 })).sdp).toContain('a=ptime:30\r\n');
  });

  it('the added telephone-event avoids a payload type already in use', () => {
    const offer = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 101', 'a=rtpmap:101 PCMU/8000');
    const r = value<RewrittenOffer>(rewriteOffer(offer, anchor(20002)));
    expect(r.telephoneEvent.pt).toBe(96);
    expect(mLines(r.sdp)).toEqual(['m=audio 20002 RTP/AVP 101 96']);
  });

  it('IPv6 anchor', () => {
    const r = value<RewrittenOffer>(rewriteOffer(simple({ address: '2001:db8::7' }), { address: '2001:db8::1', port: 20002, session: new SdpSession({ address: '2001:db8::1' }) }));
    expect(parsed(r.sdp)).toMatchObject({ address: '2001:db8::1', ipVersion: 6 });
    expect(r.remote?.address).toBe('2001:db8::7');
  });

  it('the WebRTC offer has no usable media address (ICE 0.0.0.0): remote is null', () => {
    expect(value<RewrittenOffer>(rewriteOffer(CHROMIUM, anchor(20002))).remote).toBeNull();
  });

  it.each([
    ['no common codec', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 18'), 488],
    ['audio disabled', simple({ port: 0 }), 488],
    ['malformed', 'v=0\r\nnonsense\r\n', 400],
  ])('%s is an error (%i)', (_name, offer, status) => {
    expect(rewriteOffer(offer, anchor(20002))).toMatchObject({ status });
  });
});

describe('hold and resume across the two legs', () => {
  function exchange(offerFromA: string, bAnswerDirection: string | undefined, legs: { a: Anchor; b: Anchor }) {
    const o = value<RewrittenOffer>(rewriteOffer(offerFromA, legs.b));
    const answerFromB = simple({ address: '192.0.2.99', port: 7000, pts: '0 101', ...(bAnswerDirection ? { direction: bAnswerDirection } : {}) });
    const a = value<RewrittenAnswer>(rewriteAnswer(answerFromB, offerFromA, legs.a));
    return { toB: parsed(o.sdp), offer: o, toA: parsed(a.sdp), answer: a };
  }

  it.each([
    ['a=sendonly', simple({ direction: 'sendonly' }), 'sendonly', 'recvonly', 'recvonly'],
    ['a=inactive', simple({ direction: 'inactive' }), 'inactive', 'inactive', 'inactive'],
    ['c=0.0.0.0 (RFC 2543)', simple({ address: '0.0.0.0' }), 'sendonly', 'recvonly', 'recvonly'],
    ['a=recvonly', simple({ direction: 'recvonly' }), 'recvonly', 'sendonly', 'sendonly'],
  ])('hold by %s: offered to B as %s, B answers %s, A gets %s', (_n, offerFromA, toB, bAnswers, toA) => {
    const r = exchange(offerFromA, bAnswers, { a: anchor(20000), b: anchor(20002) });
    expect(r.toB).toMatchObject({ direction: toB, address: GW, nullAddress: false });
    expect(r.toA).toMatchObject({ direction: toA, address: GW, port: 20000 });
  });

  it('RFC 2543 hold gives no remote to send to', () => {
    expect(value<RewrittenOffer>(rewriteOffer(simple({ address: '0.0.0.0' }), anchor(20002))).remote).toBeNull();
  });

  it('call, hold, resume: each leg keeps its o= and bumps the version only on change', () => {
    const legs = { a: anchor(20000, new SdpSession({ address: GW, sessionId: '1', version: 10 })), b: anchor(20002, new SdpSession({ address: GW, sessionId: '2', version: 20 })) };
    const steps = [
      exchange(simple({ version: 1 }), undefined, legs),
      exchange(simple({ version: 2, direction: 'sendonly' }), 'recvonly', legs),
      exchange(simple({ version: 2, direction: 'sendonly' }), 'recvonly', legs), // re-INVITE without change
      exchange(simple({ version: 3 }), undefined, legs),
    ];
    expect(steps.map((s) => [s.toB.origin.version, s.toB.direction])).toEqual([[20, 'sendrecv'], [21, 'sendonly'], [21, 'sendonly'], [22, 'sendrecv']]);
    expect(steps.map((s) => [s.toA.origin.version, s.toA.direction])).toEqual([[10, 'sendrecv'], [11, 'recvonly'], [11, 'recvonly'], [12, 'sendrecv']]);
  });
});

describe('rewriteAnswer: the gateway answer to the offerer (RFC 3264 §6)', () => {
  const offerAVA = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0',
    'm=video 5000 RTP/AVP 31', 'm=audio 4000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'm=application 6000 udp wb');

  it('same m-line count and order as the offer, non-audio streams rejected with port 0', () => {
    const r = value<RewrittenAnswer>(rewriteAnswer(simple({ pts: '8 101' }), offerAVA, anchor(20000)));
    expect(mLines(r.sdp)).toEqual(['m=video 0 RTP/AVP 31', 'm=audio 20000 RTP/AVP 8 101', 'm=application 0 udp wb']);
    expect(r.codec).toEqual({ pt: 8, name: 'PCMA', rate: 8000, channels: 1 });
    expect(r.remote).toEqual({ address: '192.0.2.30', port: 5004, rtcpPort: 5005 });
  });

  it('answers with the one codec the other leg chose (no transcoding), in the offerer payload type', () => {
    const offer = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0 8 98', 'a=rtpmap:98 telephone-event/8000');
    const answer = simple({ pts: '8 101' });
    const r = value<RewrittenAnswer>(rewriteAnswer(answer, offer, anchor(20000)));
    expect(mLines(r.sdp)).toEqual(['m=audio 20000 RTP/AVP 8 98']);
    expect(r.telephoneEvent).toEqual({ pt: 98, events: '0-15' });
    expect(r.peerTelephoneEvent).toEqual({ pt: 101, events: '0-15' });
  });

  it("keeps the offerer's telephone-event even if the other leg has none (the gateway needs the offerer's DTMF)", () => {
    const r = value<RewrittenAnswer>(rewriteAnswer(SIPP_UAC, BARESIP, anchor(20000)));
    expect(mLines(r.sdp)).toEqual(['m=audio 20000 RTP/AVP 0 101']);
    expect(r.peerTelephoneEvent).toBeNull();
  });

  it('no telephone-event towards an offerer that offered none', () => {
    const r = value<RewrittenAnswer>(rewriteAnswer(BARESIP, SIPP_UAC, anchor(20000)));
    expect(mLines(r.sdp)).toEqual(['m=audio 20000 RTP/AVP 0']);
    expect(r.telephoneEvent).toBeNull();
  });

  it.each([
    ['the answer rejects audio', simple({ port: 0 }), SIPP_UAC, /rejected the audio/],
    ['the answer picks a codec the offerer never offered', simple({ pts: '8' }), SIPP_UAC, /no codec that the offerer offered/],
    ['the offer is WebRTC (another issue)', SIPP_UAC, CHROMIUM, /UDP\/TLS\/RTP\/SAVPF/],
  ])('488 when %s', (_n, answer, offer, message) => {
    expect(rewriteAnswer(answer, offer, anchor(20000))).toMatchObject({ status: 488, error: expect.stringMatching(message) });
  });
});

describe('answerOffer: the gateway terminating media itself', () => {
  it.each([
    ['baresip', BARESIP, 'm=audio 20000 RTP/AVP 0 101', 'sendrecv', 20],
    ['SIPp uac_pcap', SIPP_UAC_PCAP, 'm=audio 20000 RTP/AVP 8 101', 'sendrecv', null],
    ['held desk phone', PHONE_WITH_VIDEO.replace('a=sendrecv', 'a=sendonly'), 'm=audio 20000 RTP/AVP 8 96', 'recvonly', 30],
  ])('%s', (_n, offer, mline, direction, ptime) => {
    const r = value<RewrittenAnswer>(answerOffer(offer, anchor(20000)));
    expect(mLines(r.sdp)[parsed(offer).audioIndex]).toBe(mline);
    expect(mLines(r.sdp)).toHaveLength(parsed(offer).mlines.length);
    expect({ direction: r.direction, ptime: r.ptime }).toEqual({ direction, ptime });
  });

  it('488 for no common codec', () => {
    expect(answerOffer(simple({ pts: '18' }), anchor(20000))).toMatchObject({ status: 488 });
  });
});
