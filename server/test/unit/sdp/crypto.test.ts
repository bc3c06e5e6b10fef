import { describe, expect, it } from 'vitest';
import {
  SdpSession, answerOffer, formatCryptoAttribute, isSdpError, negotiateSrtp, srtpPolicyFor, parseCryptoAttribute, parseSdp, rewriteAnswer, rewriteOffer,
  type Anchor, type ParsedSdp, type RewrittenAnswer, type RewrittenOffer, type SdesKey, type SdpError, type SrtpPolicy,
} from '../../../src/sdp/index.js';
import { sdp } from './fixtures.js';

const GW = '10.0.0.1';
const anchor = (port: number): Anchor => ({ address: GW, port, session: new SdpSession({ address: GW, sessionId: '900', version: 1 }) });
function value<T extends object>(r: T | SdpError): T {
  if (isSdpError(r)) throw new Error(`unexpected error: ${r.error}`);
  return r;
}
const parsed = (text: string): ParsedSdp => value(parseSdp(text));

const KEY128 = Buffer.alloc(30, 7).toString('base64');
const KEY256 = Buffer.alloc(46, 9).toString('base64');
/** An offer as baresip with `menc srtp` sends it (RTP/SAVP, a=crypto lines). */
const savp = (...crypto: string[]): string => sdp(
  'v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0',
  'm=audio 4000 RTP/SAVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15',
  ...crypto.map((c) => `a=crypto:${c}`), 'a=sendrecv',
);
const avp = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000');

describe('a=crypto parsing (RFC 4568 9.1)', () => {
  it('reads tag, suite, key||salt and a 2^n lifetime', () => {
    const k = parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}|2^31`) as SdesKey;
    expect(k).toMatchObject({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', lifetime: 2 ** 31 });
    expect(k.keySalt.equals(Buffer.alloc(30, 7))).toBe(true);
  });

  it('reads the 256-bit suite with its 46-octet key||salt', () => {
    expect(parseCryptoAttribute(`3 AES_256_CM_HMAC_SHA1_80 inline:${KEY256}`)).toMatchObject({ tag: 3, suite: 'AES_256_CM_HMAC_SHA1_80', lifetime: null });
  });

  it('round-trips through formatCryptoAttribute', () => {
    const k = parseCryptoAttribute(`5 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`) as SdesKey;
    expect(formatCryptoAttribute(k)).toBe(`5 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`);
  });

  it.each([
    ['an unsupported suite', `1 AES_CM_128_HMAC_SHA1_32 inline:${KEY128}`, /AES_CM_128_HMAC_SHA1_32 not supported/],
    ['a key of the wrong length', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY256}`, /needs a 30-octet key\|\|salt, got 46/],
    ['an MKI', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}|2^20|1:4`, /MKI is not supported/],
    ['several master keys', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}|2^20|1:4;inline:${KEY128}|2^20|2:4`, /several master keys/],
    ['a short lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}|2^10`, /shorter than 2\^20 packets/],
    ['a lifetime over 2^48', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}|2^50`, /exceeds the SRTP maximum/],
    ['unencrypted SRTP', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128} UNENCRYPTED_SRTP`, /UNENCRYPTED_SRTP is refused/],
    ['a key derivation rate', `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128} KDR=24`, /KDR=24 is not supported/],
    ['a non-inline key method', '1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key', /key method must be inline/],
    ['non-base64 key', '1 AES_CM_128_HMAC_SHA1_80 inline:!!!!', /not base64/],
    ['a bad tag', `x AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`, /bad tag/],
  ])('refuses %s with a reason', (_name, line, why) => {
    expect(parseCryptoAttribute(line)).toMatch(why);
  });

  it('accepts KDR=0 and a WSH hint', () => {
    expect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128} KDR=0 WSH=128`)).toMatchObject({ tag: 1 });
  });
});

describe('negotiateSrtp: the SRTP decision for an offer', () => {
  const c128 = `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`;
  it.each<[string, string, SrtpPolicy, string]>([
    ['plain offer, off', avp, 'off', 'plain'],
    ['plain offer, offer', avp, 'offer', 'plain'],
    ['plain offer, required', avp, 'required', 'refuse'],
    ['SAVP offer, off', savp(c128), 'off', 'refuse'],
    ['SAVP offer, offer', savp(c128), 'offer', 'srtp'],
    ['SAVP offer, required', savp(c128), 'required', 'srtp'],
    ['SAVP without a=crypto, required', savp(), 'required', 'refuse'],
  ])('%s -> %s', (_name, offer, policy, action) => {
    expect(negotiateSrtp(parsed(offer), policy).action).toBe(action);
  });

  it('a plain offer under required is a 488 saying SRTP is required', () => {
    expect(negotiateSrtp(parsed(avp), 'required')).toMatchObject({ action: 'refuse', error: { status: 488, error: expect.stringMatching(/requires SRTP/) } });
  });

  it('RTP/SAVP under off is a 488 naming the transport', () => {
    expect(negotiateSrtp(parsed(savp(c128)), 'off')).toMatchObject({ error: { status: 488, error: expect.stringMatching(/unsupported transport RTP\/SAVP/) } });
  });

  it('picks the first acceptable line in the offerer order, skipping unsupported ones', () => {
    const d = negotiateSrtp(parsed(savp(`1 AES_CM_128_HMAC_SHA1_32 inline:${KEY128}`, `2 AES_256_CM_HMAC_SHA1_80 inline:${KEY256}`, c128)), 'offer');
    expect(d).toMatchObject({ action: 'srtp', remote: { tag: 2, suite: 'AES_256_CM_HMAC_SHA1_80' } });
  });

  it('no acceptable line: 488 listing why each was refused', () => {
    const d = negotiateSrtp(parsed(savp(`1 AES_CM_128_HMAC_SHA1_32 inline:${KEY128}`, `2 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}|2^20|1:4`)), 'offer');
    expect(d).toMatchObject({ action: 'refuse', error: { status: 488 } });
    expect(d.action === 'refuse' && d.error.error).toMatch(/tag 1: .*not supported.*; tag 2: MKI/);
  });
});

describe('answers and offers with SDES', () => {
  it('answerOffer answers RTP/SAVP with the chosen tag and suite and a fresh key of our own', () => {
    const r = value<RewrittenAnswer>(answerOffer(savp(`4 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20000), { srtp: 'required' }));
    const out = parsed(r.sdp);
    expect(out.protocol).toBe('RTP/SAVP');
    expect(out.crypto).toHaveLength(1);
    const ours = parseCryptoAttribute(out.crypto[0]!) as SdesKey;
    expect(ours).toMatchObject({ tag: 4, suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(ours.keySalt.equals(Buffer.alloc(30, 7))).toBe(false);
    expect(r.srtp?.remote.keySalt.equals(Buffer.alloc(30, 7))).toBe(true);
    expect(r.srtp?.local.keySalt.equals(ours.keySalt)).toBe(true);
  });

  it('two answers never reuse a key', () => {
    const a = value<RewrittenAnswer>(answerOffer(savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20000), { srtp: 'offer' }));
    const b = value<RewrittenAnswer>(answerOffer(savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20000), { srtp: 'offer' }));
    expect(a.srtp!.local.keySalt.equals(b.srtp!.local.keySalt)).toBe(false);
  });

  it('answerOffer of a plain offer under offer stays plain RTP/AVP with no a=crypto', () => {
    const r = value<RewrittenAnswer>(answerOffer(avp, anchor(20000), { srtp: 'offer' }));
    expect(parsed(r.sdp)).toMatchObject({ protocol: 'RTP/AVP', crypto: [] });
    expect(r.srtp).toBeNull();
  });

  it('answerOffer with the default policy (off) refuses RTP/SAVP with 488 as before', () => {
    expect(answerOffer(savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20000))).toMatchObject({ status: 488 });
  });

  it('through the B2BUA: an SRTP caller gets SAVP offered to the agent under offer, and each leg has its own keys', () => {
    const offer = value<RewrittenOffer>(rewriteOffer(savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20002), { srtp: 'offer' }));
    const toAgent = parsed(offer.sdp);
    expect(toAgent.protocol).toBe('RTP/SAVP');
    const offeredKey = parseCryptoAttribute(toAgent.crypto[0]!) as SdesKey;
    const agentKey = Buffer.alloc(30, 3).toString('base64');
    const agentAnswer = sdp('v=0', 'o=- 2 2 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 5000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${agentKey}`);
    const ans = value<RewrittenAnswer>(rewriteAnswer(agentAnswer, savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20000), { pendingSrtp: offer.srtp }));
    expect(ans.peerSrtp?.local.keySalt.equals(offeredKey.keySalt)).toBe(true);
    expect(ans.peerSrtp?.remote.keySalt.toString('base64')).toBe(agentKey);
    const toCaller = parsed(ans.sdp);
    expect(toCaller.protocol).toBe('RTP/SAVP');
    expect((parseCryptoAttribute(toCaller.crypto[0]!) as SdesKey).keySalt.equals(offer.srtp.offerer!.local.keySalt)).toBe(true);
  });

  it('a plain caller under offer: the agent gets a plain offer', () => {
    const offer = value<RewrittenOffer>(rewriteOffer(avp, anchor(20002), { srtp: 'offer' }));
    expect(parsed(offer.sdp)).toMatchObject({ protocol: 'RTP/AVP', crypto: [] });
  });

  it('our SAVP offer answered with plain RTP is a 488', () => {
    const offer = value<RewrittenOffer>(rewriteOffer(savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20002), { srtp: 'required' }));
    const plainAnswer = sdp('v=0', 'o=- 2 2 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 5000 RTP/AVP 0');
    expect(rewriteAnswer(plainAnswer, savp(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY128}`), anchor(20000), { pendingSrtp: offer.srtp }))
      .toMatchObject({ status: 488, error: expect.stringMatching(/RTP\/AVP to our RTP\/SAVP offer/) });
  });
});

describe('srtpPolicyFor: the SRTP setting per leg', () => {
  it.each<[SrtpPolicy | undefined, boolean, string, SrtpPolicy]>([
    ['offer', true, '192.0.2.5', 'offer'],
    ['off', true, '192.0.2.5', 'off'],
    ['required', false, '127.0.0.1', 'required'],
    [undefined, false, '192.0.2.5', 'off'],
    [undefined, true, '192.0.2.5', 'required'],
    [undefined, true, '2001:db8::5', 'required'],
    [undefined, true, '127.0.0.1', 'offer'],
    [undefined, true, '::1', 'offer'],
  ])('setting %s, production %s, peer %s -> %s', (setting, production, peer, want) => {
    expect(srtpPolicyFor(setting, production, peer)).toBe(want);
  });
});
