import { describe, expect, it } from 'vitest';
import { filterCandidates, isSdpEditError, isWebRtcSdp, restrictAudioCodecs } from '../../../src/webrtc/sdp-filter.js';
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from './chromium-sdp.js';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';
const lines = (sdp: string): string[] => sdp.split('\r\n').filter(Boolean);

const PLAIN_OFFER = crlf([
  'v=0', 'o=- 1 1 IN IP4 10.0.0.5', 's=-', 'c=IN IP4 10.0.0.5', 't=0 0',
  'm=audio 4000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv',
]);

function restricted(sdp: string): string {
  const r = restrictAudioCodecs(sdp);
  if (isSdpEditError(r)) throw new Error(r.error);
  return r.sdp;
}

describe('restrictAudioCodecs', () => {
  it("keeps only PCMU and telephone-event/8000 of Chromium's offer, PCMU first, and drops the others' attributes", () => {
    const out = lines(restricted(CHROMIUM_OFFER));
    expect(out).toContain('m=audio 51050 UDP/TLS/RTP/SAVPF 0 126');
    expect(out.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):/.test(l))).toEqual(['a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000']);
    expect(out.join('\n')).not.toMatch(/opus|red\/|G722|PCMA|CN\/|telephone-event\/48000/);
  });

  it('leaves every other line (ICE, DTLS fingerprint, extmap, ssrc) in place and in order', () => {
    const before = lines(CHROMIUM_OFFER).filter((l) => !/^a=(rtpmap|fmtp|rtcp-fb):/.test(l) && !l.startsWith('m='));
    const after = lines(restricted(CHROMIUM_OFFER)).filter((l) => !/^a=(rtpmap|fmtp|rtcp-fb):/.test(l) && !l.startsWith('m='));
    expect(after).toEqual(before);
  });

  it("is a no-op on Chromium's answer to our PCMU + telephone-event offer", () => {
    expect(restricted(CHROMIUM_ANSWER)).toBe(CHROMIUM_ANSWER);
  });

  it('puts PCMU first even when the offerer prefers telephone-event (werift sends with the first codec)', () => {
    const sdp = crlf(['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 101 0', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:0 PCMU/8000']);
    expect(lines(restricted(sdp))).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 0 101');
  });

  it('accepts static PT 0 without an rtpmap (RFC 3551 §6) and a PCMU on a dynamic PT, case-insensitively', () => {
    expect(lines(restricted(PLAIN_OFFER))).toContain('m=audio 4000 RTP/AVP 0 101');
    const dyn = crlf(['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 opus/48000/2', 'a=rtpmap:97 pcmu/8000']);
    expect(lines(restricted(dyn))).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 97');
  });

  it('refuses an offer without PCMU, without audio, or with a second active stream (video)', () => {
    const opusOnly = crlf(['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2']);
    expect(restrictAudioCodecs(opusOnly)).toEqual({ error: 'no PCMU/8000 in the audio m-section' });
    const videoOnly = crlf(['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000']);
    expect(restrictAudioCodecs(videoOnly)).toEqual({ error: 'no audio m-section' });
    const both = CHROMIUM_OFFER + crlf(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000']);
    expect(isSdpEditError(restrictAudioCodecs(both))).toBe(true);
    const rejectedVideo = CHROMIUM_OFFER + crlf(['m=video 0 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000']);
    expect(lines(restricted(rejectedVideo))).toContain('m=video 0 UDP/TLS/RTP/SAVPF 96');
  });
});

describe('filterCandidates', () => {
  it("keeps only UDP host candidates on the media address (Chromium's loopback one of its eight)", () => {
    const { sdp, kept } = filterCandidates(CHROMIUM_OFFER, '127.0.0.1');
    expect(kept).toBe(1);
    expect(lines(sdp).filter((l) => l.startsWith('a=candidate:'))).toEqual([
      'a=candidate:78906533 1 udp 2122194687 127.0.0.1 51050 typ host generation 0 network-id 3 network-cost 50',
    ]);
    expect(lines(sdp).length).toBe(lines(CHROMIUM_OFFER).length - 7);
  });

  it("drops werift's candidate for another interface and keeps non-candidate lines", () => {
    const werift = crlf([
      'v=0', 'o=- 1 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 0 101', 'c=IN IP4 0.0.0.0',
      'a=candidate:626da4e5 1 udp 2116026367 127.0.0.1 58601 typ host generation 0 ufrag 760d',
      'a=candidate:32b1715d 1 udp 2116026367 192.0.2.2 47681 typ host generation 0 ufrag 760d',
      'a=candidate:abc 1 udp 1686052607 203.0.113.9 47681 typ srflx raddr 127.0.0.1 rport 58601',
      'a=end-of-candidates', 'a=ice-ufrag:760d',
    ]);
    const { sdp, kept } = filterCandidates(werift, '127.0.0.1');
    expect(kept).toBe(1);
    expect(sdp).not.toMatch(/192\.0\.2\.2|203\.0\.113\.9/);
    expect(sdp).toMatch(/a=end-of-candidates\r\na=ice-ufrag:760d\r\n$/);
    expect(filterCandidates(werift, '198.51.100.1').kept).toBe(0);
  });
});

describe('isWebRtcSdp', () => {
  it('tells a browser (DTLS-SRTP) SDP from a plain RTP/AVP one', () => {
    expect(isWebRtcSdp(CHROMIUM_OFFER)).toBe(true);
    expect(isWebRtcSdp(CHROMIUM_ANSWER)).toBe(true);
    expect(isWebRtcSdp(PLAIN_OFFER)).toBe(false);
  });

  it('counts a fingerprint alone (e.g. RTP/SAVPF with DTLS) or a lower-case profile as WebRTC', () => {
    expect(isWebRtcSdp(PLAIN_OFFER.replace('RTP/AVP', 'RTP/SAVPF') + 'a=fingerprint:sha-256 AB:CD:EF\r\n')).toBe(true);
    expect(isWebRtcSdp(PLAIN_OFFER.replace('RTP/AVP', 'udp/tls/rtp/savpf'))).toBe(true);
    expect(isWebRtcSdp(PLAIN_OFFER.replace('RTP/AVP', 'RTP/SAVP'))).toBe(false);
  });
});
