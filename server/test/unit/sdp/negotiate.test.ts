import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  effectiveDirection, intersectDirections, isSdpError, negotiate, parseSdp, reverseDirection,
  type Direction, type ParsedSdp,
} from '../../../src/sdp/index.js';
import { BARESIP, CHROMIUM, PHONE_WITH_VIDEO, SIPP_UAC, SIPP_UAC_PCAP, sdp, simple } from './fixtures.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The SDP body of an RFC 4475 message (after the blank line), as sent. */
function rfc4475Body(name: string): string {
  const raw = readFileSync(resolve(REPO_ROOT, 'server/test/fixtures/rfc4475', `${name}.dat`), 'latin1');
  return raw.slice(raw.indexOf('\r\n\r\n') + 4);
}

describe('negotiate: the first supported codec in the offerer order', () => {
  it.each([
    ['SIPp uac', SIPP_UAC, { codec: 'PCMU', pt: 0, te: null, ptime: 20 }],
    ['SIPp uac_pcap', SIPP_UAC_PCAP, { codec: 'PCMA', pt: 8, te: 101, ptime: 20 }],
    ['baresip', BARESIP, { codec: 'PCMU', pt: 0, te: 101, ptime: 20 }],
    ['Chromium (Opus and G722 skipped)', CHROMIUM, { codec: 'PCMU', pt: 0, te: 126, ptime: 20 }],
    ['desk phone (G729 skipped, PCMA before PCMU)', PHONE_WITH_VIDEO, { codec: 'PCMA', pt: 8, te: 96, ptime: 30 }],
    ['PCMA offered first', simple({ pts: '8 0 101' }), { codec: 'PCMA', pt: 8, te: 101, ptime: 20 }],
  ])('%s', (_name, offer, want) => {
    const n = negotiate(offer);
    if (isSdpError(n)) throw new Error(n.error);
    expect({ codec: n.codec.name, pt: n.codec.pt, te: n.telephoneEvent?.pt ?? null, ptime: n.ptime }).toEqual(want);
    expect(n.answerDirection).toBe('sendrecv');
  });

  it('a codec mapped to a dynamic payload type matches by name and rate, case-insensitively', () => {
    const offer = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 98', 'a=rtpmap:98 pcmu/8000');
    const n = negotiate(offer);
    expect(isSdpError(n) ? n.error : n.codec).toEqual({ pt: 98, name: 'pcmu', rate: 8000, channels: 1 });
  });

  it('a narrower supported list is honoured', () => {
    const n = negotiate(BARESIP, [{ name: 'PCMA', rate: 8000 }]);
    expect(isSdpError(n) ? n.error : n.codec.name).toBe('PCMA');
  });

  it('an offer with no common codec is 488 Not Acceptable Here (RFC 3261 §21.4.26)', () => {
    const offer = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0',
      'm=audio 4000 RTP/AVP 18 9 96', 'a=rtpmap:96 opus/48000/2');
    const n = negotiate(offer);
    expect(n).toEqual({ status: 488, error: 'no common codec: offered [18 G729/8000, 9 G722/8000, 96 opus/48000], supported [PCMU/8000, PCMA/8000]' });
  });

  it('telephone-event alone is no codec: 488', () => {
    expect(negotiate(simple({ pts: '101' }))).toMatchObject({ status: 488 });
  });

  it('a disabled audio stream (port 0) is 488', () => {
    expect(negotiate(simple({ port: 0 }))).toMatchObject({ status: 488, error: expect.stringMatching(/port 0/) });
  });

  it('an unparsable body is 400', () => {
    expect(negotiate('not sdp')).toMatchObject({ status: 400 });
  });

  it('RFC 4475 sdp01 offers PCMU (static PT 0), so negotiate accepts it: its 406 comes from "Accept: text/nobodyKnowsThis", not from the SDP', () => {
    const body = rfc4475Body('sdp01');
    const n = negotiate(body);
    expect(isSdpError(n) ? n.error : n.codec).toEqual({ pt: 0, name: 'PCMU', rate: 8000, channels: 1 });
    const p = parseSdp(body) as ParsedSdp;
    expect(p.mlines.map((m) => m.type)).toEqual(['audio', 'video']); // video gets port 0 in our answer
  });

  it('RFC 4475 sdp01 with its PCMU removed (only 12 QCELP) is refused with 488', () => {
    const body = rfc4475Body('sdp01').replace('RTP/AVP 0 12', 'RTP/AVP 12');
    expect(negotiate(body)).toMatchObject({ status: 488, error: expect.stringMatching(/12 QCELP\/8000/) });
  });
});

describe('direction arithmetic (RFC 3264 §6.1, §8.4)', () => {
  it.each<[Direction, Direction]>([
    ['sendrecv', 'sendrecv'], ['sendonly', 'recvonly'], ['recvonly', 'sendonly'], ['inactive', 'inactive'],
  ])('an offer %s is answered %s', (offered, answered) => {
    expect(reverseDirection(offered)).toBe(answered);
    const n = negotiate(simple({ direction: offered }));
    expect(isSdpError(n) ? n.error : n.answerDirection).toBe(answered);
  });

  it.each<[Direction, Direction, Direction]>([
    ['sendrecv', 'sendonly', 'sendonly'], ['sendonly', 'recvonly', 'inactive'], ['recvonly', 'sendrecv', 'recvonly'], ['inactive', 'sendrecv', 'inactive'],
  ])('%s within %s is %s', (a, b, want) => {
    expect(intersectDirections(a, b)).toBe(want);
  });

  it.each<[string, Direction]>([['sendrecv', 'sendonly'], ['recvonly', 'inactive'], ['sendonly', 'sendonly'], ['inactive', 'inactive']])(
    'c=0.0.0.0 with a=%s means %s (no receiving)', (declared, want) => {
      const p = parseSdp(simple({ address: '0.0.0.0', direction: declared })) as ParsedSdp;
      expect(effectiveDirection(p)).toBe(want);
    });

  it('an RFC 2543 hold offer (c=0.0.0.0) is answered recvonly', () => {
    const n = negotiate(simple({ address: '0.0.0.0' }));
    expect(isSdpError(n) ? n.error : n.answerDirection).toBe('recvonly');
  });
});
