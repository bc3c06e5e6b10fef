/**
 * MediaAnchor with SDES (RFC 4568) through the B2BUA: what each peer is offered/answered and which
 * keys each bridge leg gets. The bridge is a recording stand-in (unit test of this module only).
 */
import { describe, expect, it } from 'vitest';
import { MediaAnchor } from '../../../src/calls/media-anchor.js';
import { SafeEmitter } from '../../../src/lib/emitter.js';
import type { Bridge, LegConfig } from '../../../src/media/plane.js';
import { createLogger } from '../../../src/observability/logger.js';
import { isSdpError, parseCryptoAttribute, parseSdp, type SdesKey, type SrtpPolicy } from '../../../src/sdp/index.js';

const CALLER_KEY = Buffer.alloc(30, 1);
const AGENT_KEY = Buffer.alloc(30, 2);
const sdp = (...l: string[]): string => l.join('\r\n') + '\r\n';
const offerFrom = (protocol: string, key?: Buffer) => sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0',
  `m=audio 4000 ${protocol} 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ...(key ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key.toString('base64')}`] : []));
const answerFrom = (protocol: string, key?: Buffer) => sdp('v=0', 'o=- 2 2 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0',
  `m=audio 5000 ${protocol} 0`, ...(key ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key.toString('base64')}`] : []));

async function anchor(policy: SrtpPolicy) {
  const configured: { leg: string; cfg: LegConfig }[] = [];
  let port = 20000;
  const bridge = {
    id: 'b1', worker: 0, events: new SafeEmitter(),
    addRtpLeg: async () => ({ address: '10.0.0.1', rtpPort: (port += 2), rtcpPort: port + 1 }),
    configureLeg: async (leg: string, cfg: LegConfig) => void configured.push({ leg, cfg }),
    close: async () => {},
  } as unknown as Bridge; // only what MediaAnchor uses
  const a = await MediaAnchor.create({ id: 'c1', createBridge: async () => bridge, logger: createLogger('silent'), onMediaFailure: () => {}, mediaAddress: '10.0.0.1', srtpPolicy: () => policy });
  return { a, configured };
}
const keyIn = (text: string): SdesKey => {
  const p = parseSdp(text);
  if (isSdpError(p)) throw new Error(p.error);
  return parseCryptoAttribute(p.crypto[0]!) as SdesKey;
};

describe('MediaAnchor with SRTP (SDES) through the B2BUA', () => {
  it('offer policy: an SRTP caller gets SAVP to the agent; each bridge leg gets its own keys', async () => {
    const { a, configured } = await anchor('offer');
    const toAgent = a.offer('A', offerFrom('RTP/SAVP', CALLER_KEY));
    if (typeof toAgent !== 'string') throw new Error(toAgent.error);
    expect(toAgent).toMatch(/m=audio \d+ RTP\/SAVP /);
    const offered = keyIn(toAgent);
    const toCaller = a.answer('B', answerFrom('RTP/SAVP', AGENT_KEY));
    if (typeof toCaller !== 'string') throw new Error(toCaller.error);
    const answered = keyIn(toCaller);
    const customer = configured.find((c) => c.leg === 'customer')!.cfg.srtp!;
    const agent = configured.find((c) => c.leg === 'agent')!.cfg.srtp!;
    expect(Buffer.from(customer.remote).equals(CALLER_KEY)).toBe(true);
    expect(Buffer.from(customer.local).equals(answered.keySalt)).toBe(true);
    expect(Buffer.from(agent.remote).equals(AGENT_KEY)).toBe(true);
    expect(Buffer.from(agent.local).equals(offered.keySalt)).toBe(true);
    expect(offered.keySalt.equals(answered.keySalt)).toBe(false);
  });

  it('off policy: an RTP/SAVP caller is refused with 488 before any offer reaches an agent', async () => {
    const { a, configured } = await anchor('off');
    expect(a.offer('A', offerFrom('RTP/SAVP', CALLER_KEY))).toMatchObject({ status: 488 });
    expect(configured).toHaveLength(0);
  });

  it('required policy: a plain caller is refused with 488', async () => {
    const { a } = await anchor('required');
    expect(a.offer('A', offerFrom('RTP/AVP'))).toMatchObject({ status: 488, error: expect.stringMatching(/requires SRTP/) });
  });

  it('required policy: an agent answering our SAVP offer with plain RTP fails the call with 488', async () => {
    const { a, configured } = await anchor('required');
    expect(typeof a.offer('A', offerFrom('RTP/SAVP', CALLER_KEY))).toBe('string');
    expect(a.answer('B', answerFrom('RTP/AVP'))).toMatchObject({ status: 488 });
    expect(configured).toHaveLength(0);
  });

  it('offer policy: a plain caller stays plain on both legs', async () => {
    const { a, configured } = await anchor('offer');
    const toAgent = a.offer('A', offerFrom('RTP/AVP'));
    expect(toAgent).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(a.answer('B', answerFrom('RTP/AVP'))).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(configured.map((c) => c.cfg.srtp ?? null)).toEqual([null, null]);
  });
});
