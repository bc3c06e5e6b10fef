/**
 * WebRtcLeg lifecycle and plain-side rules against a werift peer standing in for the browser
 * (real ICE, DTLS-SRTP and UDP on 127.0.0.1; Chromium itself is in webrtc-chromium.test.ts).
 */
import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';
import { WebRtcLeg, type WebRtcLegOptions } from '../../src/webrtc/index.js';
import { CHROMIUM_ANSWER } from '../unit/webrtc/chromium-sdp.js';
import { HOST, RtpPeer, sleep, waitFor } from '../unit/media/helpers/rtp-peer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function newLeg(opts: Partial<WebRtcLegOptions> = {}): Promise<{ leg: WebRtcLeg; events: string[] }> {
  const leg = await WebRtcLeg.create({ mediaAddress: HOST, ...opts });
  cleanups.push(() => leg.close());
  const events: string[] = [];
  leg.events.on('connected', () => events.push('connected'));
  leg.events.on('failed', (r) => events.push(`failed:${r}`));
  leg.events.on('closed', (r) => events.push(`closed:${r}`));
  return { leg, events };
}

/** A werift peer that offers like a browser: Opus first, PCMU, telephone-event at 48 and 8 kHz. */
function browserLike(): RTCPeerConnection {
  const pc = new RTCPeerConnection({
    iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: HOST }, iceAdditionalHostAddresses: [HOST],
    codecs: {
      audio: [
        new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 }),
        new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
        new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 48000, channels: 1, payloadType: 110 }),
        new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 126 }),
      ],
    },
  });
  cleanups.push(() => pc.close());
  return pc;
}

async function complete(pc: RTCPeerConnection): Promise<string> {
  while (pc.iceGatheringState !== 'complete') await sleep(10);
  return pc.localDescription!.sdp;
}

describe('WebRtcLeg with a werift peer', () => {
  it('answers a browser-like offer with PCMU + telephone-event/8000 only, connects, and relays PCMU both ways', async () => {
    const { leg, events } = await newLeg({ id: 'relay' });
    const plain = await RtpPeer.open();
    cleanups.push(() => plain.close());
    leg.setPlainTarget(plain.remote);
    plain.target = leg.plainLocal.port;
    const peer = browserLike();
    const t = peer.addTransceiver('audio', { direction: 'sendrecv' });
    const heard: RtpPacket[] = [];
    peer.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((p) => void heard.push(p)));
    await peer.setLocalDescription(await peer.createOffer());
    const answer = await leg.answer(await complete(peer));
    expect(answer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 126\r$/m);
    expect(answer.match(/^a=candidate:.*$/gm)).toHaveLength(1);
    expect(answer).toMatch(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/m);
    expect(answer).toMatch(/^a=sendrecv\r$/m);
    expect(answer).toMatch(/^a=fingerprint:sha-256 /m);
    await peer.setRemoteDescription({ type: 'answer', sdp: answer });
    await waitFor(() => events.includes('connected'), 15_000, 'connected');
    expect(leg.negotiated).toEqual({ pcmu: 0, telephoneEvent: 126 });

    // peer -> plain: PCMU arrives as PT 0 with its payload intact
    const tone = Buffer.alloc(160, 0x2a);
    for (let i = 0; i < 20; i++) await t.sender.sendRtp(plain.packet(0, tone));
    await waitFor(() => plain.received.length >= 20, 5000, 'packets on the plain side');
    expect(plain.received.every((r) => r.pt === 0 && r.payload.equals(tone))).toBe(true);

    // plain -> peer: PCMU goes through, restamped onto a continuous stream
    for (let i = 0; i < 10; i++) plain.sendAudio(new Int16Array(160).fill(1000), 'pcmu');
    await waitFor(() => heard.length >= 10, 5000, 'packets at the peer');
    const seqs = heard.map((p) => p.header.sequenceNumber);
    expect(seqs.slice(1).every((s, i) => ((s - seqs[i]!) & 0xffff) === 1)).toBe(true);
    expect(heard.every((p) => p.header.payloadType === 0 && p.payload.length === 160)).toBe(true);

    // RTCP and telephone-event from the plane are dropped and counted; so is anything from elsewhere
    plain.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]));
    plain.send(plain.packet(101, Buffer.from([1, 0x80, 0, 160])));
    plain.send(plain.packet(8, Buffer.alloc(160)));
    plain.send(Buffer.from([0x40, 0, 0, 0]));
    const other = await RtpPeer.open();
    cleanups.push(() => other.close());
    other.send(other.packet(0, Buffer.alloc(160)), leg.plainLocal.port);
    await waitFor(() => leg.stats().toBrowser.foreignSource === 1, 3000, 'the foreign packet');
    await waitFor(() => leg.stats().toBrowser.malformed === 1, 3000, 'the malformed packet');
    expect(leg.stats().toBrowser).toMatchObject({ audio: 10, rtcp: 1, telephoneEvents: 1, otherPayloadType: 1, malformed: 1, foreignSource: 1, notConnected: 0 });
    expect(leg.stats().fromBrowser).toMatchObject({ audio: 20, noTarget: 0, otherPayloadType: 0 });
  });

  it('offers PCMU + telephone-event/8000 on the plain PT and connects to a werift answerer', async () => {
    const { leg, events } = await newLeg({ plainPayloadTypes: { pcmu: 0, telephoneEvent: 96 } });
    const offer = await leg.createOffer();
    expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 96\r$/m);
    expect(offer).toMatch(/^a=rtpmap:96 telephone-event\/8000\r$/m);
    expect(offer).not.toMatch(/opus|rtx/i);
    expect(offer.match(/^a=candidate:.*$/gm)).toHaveLength(1);
    expect(leg.state).toBe('offered');
    const peer = browserLike();
    await peer.setRemoteDescription({ type: 'offer', sdp: offer });
    peer.getTransceivers()[0]!.setDirection('sendrecv');
    await peer.setLocalDescription(await peer.createAnswer());
    await leg.setAnswer(await complete(peer));
    await waitFor(() => events.includes('connected'), 15_000, 'connected');
    expect(leg.negotiated).toEqual({ pcmu: 0, telephoneEvent: 96 });
  });

  it('fails when ICE/DTLS do not connect within connectTimeoutMs, then closes', async () => {
    const { leg, events } = await newLeg({ connectTimeoutMs: 300 });
    await leg.createOffer();
    await leg.setAnswer(CHROMIUM_ANSWER); // a browser that is not there any more
    expect(leg.state).toBe('connecting');
    await waitFor(() => events.some((e) => e.startsWith('closed')), 10_000, 'closed');
    expect(events).toEqual(['failed:ICE/DTLS not connected within 300 ms', 'closed:ICE/DTLS not connected within 300 ms']);
    expect(leg.state).toBe('closed');
  });

  it('rejects an offer without PCMU (BAD_SDP) and closes the leg', async () => {
    const { leg, events } = await newLeg();
    const opusOnly = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n';
    await expect(leg.answer(opusOnly)).rejects.toMatchObject({ code: 'BAD_SDP' });
    expect(leg.state).toBe('closed');
    await waitFor(() => events.length > 0, 3000, 'closed');
    expect(events).toEqual(['closed:webrtc: unacceptable offer: no PCMU/8000 in the audio m-section']);
    await expect(leg.createOffer()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses calls in the wrong state without harming the leg; close() is idempotent and frees the socket', async () => {
    const { leg, events } = await newLeg();
    await expect(leg.setAnswer(CHROMIUM_ANSWER)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(leg.state).toBe('new');
    await leg.createOffer();
    await expect(leg.answer(CHROMIUM_ANSWER)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(leg.createOffer()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const port = leg.plainLocal.port;
    await Promise.all([leg.close('bye'), leg.close('again')]);
    await leg.close();
    expect(events).toEqual(['closed:bye']);
    // the plain port is free again: binding it succeeds
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, HOST, () => resolve());
    });
    s.close();
  });
});
