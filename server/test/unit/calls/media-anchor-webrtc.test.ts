import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MediaAnchor } from '../../../src/calls/media-anchor.js';
import { SafeEmitter } from '../../../src/lib/emitter.js';
import type { Bridge } from '../../../src/media/plane.js';
import { createLogger } from '../../../src/observability/logger.js';

// A browser agent's answer the WebRTC stack cannot use: the caller's 488 Warning says what failed
// in our words; the stack's own message goes to the log only (README, "Offers the gateway cannot answer").
const sdp = (...l: string[]): string => l.join('\r\n') + '\r\n';
const callerOffer = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000');

describe('MediaAnchor: an unusable WebRTC answer from the agent', () => {
  it('is a 488 whose text names no library internals; the detail is logged', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } });
    let port = 20000;
    const bridge = {
      id: 'b1', worker: 0, events: new SafeEmitter(),
      addRtpLeg: async () => ({ address: '127.0.0.1', rtpPort: (port += 2), rtcpPort: port + 1 }),
      configureLeg: async () => undefined,
      close: async () => {},
    } as unknown as Bridge; // only what MediaAnchor uses
    const a = await MediaAnchor.create({ id: 'c1', createBridge: async () => bridge, logger: createLogger('warn', sink), onMediaFailure: () => {}, mediaAddress: '127.0.0.1', srtpPolicy: () => 'off' });
    try {
      const offer = await a.initialOffer(callerOffer, true);
      if (typeof offer !== 'string') throw new Error(offer.error);
      expect(offer).toMatch(/UDP\/TLS\/RTP\/SAVPF/); // a browser offer went to the agent
      const res = await a.initialAnswer(sdp('v=0', 'o=- 2 2 IN IP4 192.0.2.9', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 0'));
      expect(res).toEqual({ error: "the agent's browser (WebRTC) answer could not be used", status: 488 });
      expect(lines.join('')).toMatch(/the agent's WebRTC answer could not be used/);
    } finally {
      await a.close();
    }
  });
});
