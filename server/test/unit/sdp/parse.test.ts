import { describe, expect, it } from 'vitest';
import { parseSdp, isSdpError, type ParsedSdp } from '../../../src/sdp/index.js';
import { BARESIP, CHROMIUM, PHONE_WITH_VIDEO, SIPP_UAC, SIPP_UAC_PCAP, sdp, simple } from './fixtures.js';

function ok(text: string): ParsedSdp {
  const r = parseSdp(text);
  if (isSdpError(r)) throw new Error(`unexpected error: ${r.error}`);
  return r;
}

describe('parseSdp on real-world offers', () => {
  it.each([
    ['SIPp uac', SIPP_UAC, { address: '192.0.2.20', port: 6000, rtcpPort: 6001, pts: [0], te: null, ptime: null, direction: 'sendrecv' }],
    ['SIPp uac_pcap', SIPP_UAC_PCAP, { address: '192.0.2.20', port: 6000, rtcpPort: 6001, pts: [8, 101], te: { pt: 101, events: '0-11,16' }, ptime: null, direction: 'sendrecv' }],
    ['baresip', BARESIP, { address: '192.0.2.10', port: 10238, rtcpPort: 10239, pts: [0, 8, 101], te: { pt: 101, events: '0-15' }, ptime: 20, direction: 'sendrecv' }],
    ['Chromium', CHROMIUM, { address: '0.0.0.0', port: 9, rtcpPort: 9, pts: [111, 63, 9, 0, 8, 13, 110, 126], te: { pt: 126, events: '0-15' }, ptime: null, direction: 'sendrecv' }],
    ['desk phone with video', PHONE_WITH_VIDEO, { address: '198.51.100.7', port: 40000, rtcpPort: 40001, pts: [18, 8, 0, 96], te: { pt: 96, events: '0-15' }, ptime: 30, direction: 'sendrecv' }],
  ])('%s: address, ports, payload types in order, telephone-event, ptime, direction', (_name, text, want) => {
    const p = ok(text);
    expect({ address: p.address, port: p.port, rtcpPort: p.rtcpPort, pts: p.codecs.map((c) => c.pt), te: p.telephoneEvent, ptime: p.ptime, direction: p.direction })
      .toEqual(want);
    expect(p.rejected).toBe(false);
  });

  it('SIPp uac: o= and the PCMU codec from a=rtpmap', () => {
    const p = ok(SIPP_UAC);
    expect(p.origin).toEqual({ username: 'user1', sessionId: '53655765', version: 2353687637, address: '192.0.2.20' });
    expect(p.codecs).toEqual([{ pt: 0, name: 'PCMU', rate: 8000, channels: 1 }]);
    expect(p.hasOtherMedia).toBe(false);
  });

  it('Chromium: ICE offer with c=0.0.0.0 is not RFC 2543 hold; only telephone-event/8000 counts; Opus is stereo', () => {
    const p = ok(CHROMIUM);
    expect(p.ice).toBe(true);
    expect(p.nullAddress).toBe(false);
    expect(p.hold).toBe(false);
    expect(p.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(p.origin.sessionId).toBe('4611731400430051336'); // beyond 2^53: kept as a string
    expect(p.codecs[0]).toEqual({ pt: 111, name: 'opus', rate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' });
  });

  it('desk phone: audio is m-line 0 of 2, video reported as other media; session-level a=sendrecv applies', () => {
    const p = ok(PHONE_WITH_VIDEO);
    expect(p.audioIndex).toBe(0);
    expect(p.hasOtherMedia).toBe(true);
    expect(p.mlines).toEqual([
      { type: 'audio', port: 40000, protocol: 'RTP/AVP', formats: '18 8 0 96' },
      { type: 'video', port: 40002, protocol: 'RTP/AVP', formats: '97' },
    ]);
    expect(p.codecs[0]).toMatchObject({ pt: 18, name: 'G729', fmtp: 'annexb=no' });
  });
});

describe('parseSdp details', () => {
  it('static payload types without a=rtpmap come from RFC 3551 table 4', () => {
    const p = ok(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 49217 RTP/AVP 0 12 8 18'));
    expect(p.codecs.map((c) => `${c.pt} ${c.name}/${c.rate}`)).toEqual(['0 PCMU/8000', '12 QCELP/8000', '8 PCMA/8000', '18 G729/8000']);
  });

  it('a dynamic payload type without a=rtpmap has an empty name', () => {
    const p = ok(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 99 0'));
    expect(p.codecs[0]).toEqual({ pt: 99, name: '', rate: 0, channels: 1 });
  });

  it('media-level c= wins over session-level c= (RFC 4566 §5.7)', () => {
    const p = ok(simple({ extra: ['c=IN IP4 203.0.113.9'] }));
    expect(p.address).toBe('203.0.113.9');
  });

  it('media-level direction wins over session-level direction', () => {
    const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'a=inactive', 'm=audio 4000 RTP/AVP 0', 'a=recvonly');
    expect(ok(text).direction).toBe('recvonly');
  });

  it('session-level direction applies when the m-line has none', () => {
    const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'a=sendonly', 'm=audio 4000 RTP/AVP 0');
    expect(ok(text)).toMatchObject({ direction: 'sendonly', hold: true });
  });

  it.each([
    ['sendonly', { direction: 'sendonly', hold: true, nullAddress: false }],
    ['inactive', { direction: 'inactive', hold: true, nullAddress: false }],
    ['recvonly', { direction: 'recvonly', hold: false, nullAddress: false }],
    ['sendrecv', { direction: 'sendrecv', hold: false, nullAddress: false }],
  ])('a=%s is reported with its hold meaning', (direction, want) => {
    expect(ok(simple({ direction }))).toMatchObject(want);
  });

  it('c=0.0.0.0 without ICE is RFC 2543 hold (RFC 3264 §8.4)', () => {
    expect(ok(simple({ address: '0.0.0.0' }))).toMatchObject({ nullAddress: true, hold: true, direction: 'sendrecv' });
  });

  it('IPv6 connection address', () => {
    expect(ok(simple({ address: '2001:db8::5' }))).toMatchObject({ address: '2001:db8::5', ipVersion: 6 });
  });

  it('telephone-event without fmtp means events 0-15 (RFC 4733 §7.1.1)', () => {
    const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0 100', 'a=rtpmap:100 telephone-event/8000');
    expect(ok(text).telephoneEvent).toEqual({ pt: 100, events: '0-15' });
  });

  it('a=rtcp gives the RTCP port (RFC 3605)', () => {
    expect(ok(simple({ extra: ['a=rtcp:7011'] })).rtcpPort).toBe(7011);
  });

  it('port 0 is a rejected stream and needs no c=', () => {
    const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 't=0 0', 'm=audio 0 RTP/AVP 0');
    expect(ok(text)).toMatchObject({ rejected: true, port: 0 });
  });

  it('LF-only line endings and trailing blanks are tolerated', () => {
    expect(ok(SIPP_UAC.replace(/\r\n/g, ' \n') + '\n\n').port).toBe(6000);
  });

  it('the first audio m-line is used; a second one is "other media"', () => {
    const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0',
      'm=video 5000 RTP/AVP 31', 'm=audio 4000 RTP/AVP 8', 'm=audio 4002 RTP/AVP 0');
    expect(ok(text)).toMatchObject({ audioIndex: 1, port: 4000, hasOtherMedia: true });
  });
});

describe('parseSdp errors', () => {
  const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 't=0 0'];
  it.each([
    ['empty body', '', 400, /first line must be "v=0"/],
    ['not SDP', 'hello world\r\n', 400, /first line must be "v=0"/],
    ['a line without type=', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 'garbage', 'm=audio 4000 RTP/AVP 0'), 400, /line 3/],
    ['no o=', sdp('v=0', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0'), 400, /missing o=/],
    ['bad o=', sdp('v=0', 'o=- x 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0'), 400, /bad origin/],
    ['no audio m-line', sdp(...head, 'c=IN IP4 192.0.2.5', 'm=video 5000 RTP/AVP 31'), 488, /no audio m-line/],
    ['no m-line at all', sdp(...head, 'c=IN IP4 192.0.2.5'), 488, /no audio m-line/],
    ['missing c=', sdp(...head, 'm=audio 4000 RTP/AVP 0'), 400, /missing c=/],
    ['c= with a bad IPv4 address', sdp(...head, 'c=IN IP4 999.1.2.3', 'm=audio 4000 RTP/AVP 0'), 400, /bad connection address.*999\.1\.2\.3/],
    ['c= with an FQDN', sdp(...head, 'c=IN IP4 media.example.com', 'm=audio 4000 RTP/AVP 0'), 400, /not an IP address/],
    ['c= IP4 with an IPv6 address', sdp(...head, 'c=IN IP4 2001:db8::1', 'm=audio 4000 RTP/AVP 0'), 400, /is not IP4/],
    ['c= multicast with TTL', sdp(...head, 'c=IN IP4 224.2.1.1/127', 'm=audio 4000 RTP/AVP 0'), 400, /bad connection address/],
    ['c= garbage', sdp(...head, 'c=garbage', 'm=audio 4000 RTP/AVP 0'), 400, /bad connection line/],
    ['m= with a non-numeric port', sdp(...head, 'c=IN IP4 192.0.2.5', 'm=audio abc RTP/AVP 0'), 400, /bad media line/],
    ['m= without formats', sdp(...head, 'c=IN IP4 192.0.2.5', 'm=audio 4000 RTP/AVP'), 400, /bad media line/],
    ['m= port out of range', sdp(...head, 'c=IN IP4 192.0.2.5', 'm=audio 70000 RTP/AVP 0'), 400, /out of range/],
    ['payload type above 127', sdp(...head, 'c=IN IP4 192.0.2.5', 'm=audio 4000 RTP/AVP 0 200'), 400, /payload types 0-127/],
    ['audio port count', sdp(...head, 'c=IN IP4 192.0.2.5', 'm=audio 4000/2 RTP/AVP 0'), 488, /port count/],
  ])('%s is refused with %i', (_name, text, status, message) => {
    const r = parseSdp(text);
    expect(isSdpError(r)).toBe(true);
    if (!isSdpError(r)) return;
    expect(r.status).toBe(status);
    expect(r.error).toMatch(message);
  });
});
