import { describe, expect, it } from 'vitest';
import { checkCallerOffer, offerWarning } from '../../../src/calls/offer-check.js';
import { BARESIP, SIPP_UAC, sdp, simple } from '../sdp/fixtures.js';
import { CHROMIUM_OFFER } from '../webrtc/chromium-sdp.js';

/** baresip 1.0 with `mediaenc=srtp-mand` (SDES, RFC 4568), as it sent it to the gateway. */
const BARESIP_SDES = sdp(
  'v=0', 'o=- 1570157550 1309449120 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=tool:baresip 1.0.0',
  'm=audio 53558 RTP/SAVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15', 'a=sendrecv', 'a=label:1', 'a=rtcp-rsize', 'a=ssrc:469687844 cname:sip:customer@127.0.0.1',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:0H8EYpRYoGrJ7qOFA5zCfU5GUjKFQzggpn9ogxxq',
);

/** baresip 1.0 with `mediaenc=dtls_srtp`: DTLS-SRTP, WebRTC's profile, but no ICE and no mid. */
const BARESIP_DTLS = sdp(
  'v=0', 'o=- 4062794264 613709852 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=tool:baresip 1.0.0',
  'a=setup:actpass',
  'a=fingerprint:SHA-256 4D:F8:77:CB:D5:0A:2A:F3:AB:E6:02:2C:95:00:FD:15:76:97:C9:3D:30:00:DE:22:77:44:72:8D:8B:87:25:D6',
  'm=audio 47112 UDP/TLS/RTP/SAVPF 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15', 'a=sendrecv', 'a=ptime:20',
);

describe('checkCallerOffer: an INVITE offer is judged before any agent rings', () => {
  it.each([
    ['SIPp, RTP/AVP PCMU', SIPP_UAC],
    ['baresip, RTP/AVP PCMU PCMA telephone-event', BARESIP],
  ])('a plain offer is taken on the plain leg: %s', (_n, body) => {
    expect(checkCallerOffer(body, { webrtc: true })).toEqual({ ok: true, kind: 'plain' });
    expect(checkCallerOffer(body, { webrtc: false })).toEqual({ ok: true, kind: 'plain' });
  });

  it('a browser offer (DTLS-SRTP with ICE) goes to the WebRTC leg where the entry has one, else 488', () => {
    expect(checkCallerOffer(CHROMIUM_OFFER, { webrtc: true })).toEqual({ ok: true, kind: 'webrtc' });
    expect(checkCallerOffer(CHROMIUM_OFFER, { webrtc: false })).toMatchObject({ ok: false, status: 488, code: 302 });
  });

  it('RTP/SAVP (SDES) while SRTP is off: 488, warn-code 302, naming the transport and what to offer', () => {
    const v = checkCallerOffer(BARESIP_SDES, { webrtc: true });
    expect(v).toMatchObject({ ok: false, status: 488, code: 302 });
    expect(offerWarning(v as { code: number; text: string })).toBe(
      'Warning: 302 tonegate "unsupported transport RTP/SAVP: SRTP is off on this gateway (plain RTP/AVP only)"',
    );
  });

  it('RTP/SAVP with an SDES key is taken where the SRTP policy offers or requires it', () => {
    expect(checkCallerOffer(BARESIP_SDES, { webrtc: true, srtpPolicy: () => 'offer' })).toEqual({ ok: true, kind: 'plain' });
    expect(checkCallerOffer(BARESIP_SDES, { webrtc: false, srtpPolicy: () => 'required' })).toEqual({ ok: true, kind: 'plain' });
  });

  it('DTLS-SRTP from a SIP phone (no ICE) is a clean 488 with a Warning, never the WebRTC path', () => {
    const v = checkCallerOffer(BARESIP_DTLS, { webrtc: true });
    expect(v).toMatchObject({ ok: false, status: 488, code: 302 });
    expect(offerWarning(v as { code: number; text: string })).toMatch(/^Warning: 302 tonegate "DTLS-SRTP without ICE is not supported.*offer RTP\/AVP"$/);
  });

  it.each([
    ['no common codec (G.722 only)', simple({ pts: '9' }), 488, 305, /no common codec/],
    ['the audio stream disabled (port 0)', simple({ port: 0 }), 488, 304, /port 0/],
    ['a body that is not SDP', 'hello\r\n', 400, 399, /v=0/],
    ['video only', sdp('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=video 5000 RTP/AVP 96'), 488, 399, /no audio/],
  ] as const)('%s: %i with warn-code %i', (_n, body, status, code, text) => {
    const v = checkCallerOffer(body, { webrtc: true });
    expect(v).toMatchObject({ ok: false, status, code });
    expect(v.ok === false && v.text).toMatch(text);
  });

  it('the Warning text is a valid quoted-string (quotes and backslashes escaped, no line breaks)', () => {
    expect(offerWarning({ code: 399, text: 'a "b"\\c\r\nd' })).toBe('Warning: 399 tonegate "a \\"b\\"\\\\c  d"');
  });
});
