/**
 * Realistic SDP bodies, CRLF as on the wire.
 * - SIPp 3.6.1 built-in scenarios (`sipp -sd uac`, `sipp -sd uac_pcap`) with [local_ip]=192.0.2.20 and
 *   [media_port]=6000 substituted: exactly what SIPp sends.
 * - baresip 1.0 style (PCMU, PCMA, telephone-event, ptime; it advertises 192.0.2.x addresses).
 * - Chromium style WebRTC offer (input shape only: Opus first, ICE, DTLS, rtcp-mux).
 */
export const sdp = (...lines: string[]): string => lines.join('\r\n') + '\r\n';

export const SIPP_UAC = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 192.0.2.20',
  's=-',
  'c=IN IP4 192.0.2.20',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);

export const SIPP_UAC_PCAP = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 192.0.2.20',
  's=-',
  'c=IN IP4 192.0.2.20',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-11,16',
);

export const BARESIP = sdp(
  'v=0',
  'o=- 1985315262 2219934519 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 10238 RTP/AVP 0 8 101',
  'b=AS:64',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:1470542553 cname:d3c1b1a0-5e6f-4b2c-8a9d-0e1f2a3b4c5d',
  'a=rtcp-rsize',
  'a=ptime:20',
);

export const CHROMIUM = sdp(
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS ',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Hr3b',
  'a=ice-pwd:8mA0mZf6EHsF4Qx3f8nJKm2Q',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:- 5f2c1b52-6a4e-4b0f-9d0c-0d3f3f3c9a11',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3735928559 cname:k3Vd9qXgq1pD2+3n',
);

/** A desk phone style offer: G.729 first, session-level direction, video after audio. */
export const PHONE_WITH_VIDEO = sdp(
  'v=0',
  'o=phone 1000 1000 IN IP4 198.51.100.7',
  's=call',
  'c=IN IP4 198.51.100.7',
  't=0 0',
  'a=sendrecv',
  'm=audio 40000 RTP/AVP 18 8 0 96',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:96 telephone-event/8000',
  'a=ptime:30',
  'm=video 40002 RTP/AVP 97',
  'a=rtpmap:97 H264/90000',
);

/** Builds a plain offer/answer from a few knobs. */
export function simple(opts: {
  address?: string; port?: number; pts?: string; direction?: string; extra?: string[]; version?: number; o?: string;
} = {}): string {
  const address = opts.address ?? '192.0.2.30';
  const ip = address.includes(':') ? 'IP6' : 'IP4';
  return sdp(
    'v=0',
    opts.o ?? `o=peer 777 ${opts.version ?? 1} IN ${ip} ${address}`,
    's=-',
    `c=IN ${ip} ${address}`,
    't=0 0',
    `m=audio ${opts.port ?? 5004} RTP/AVP ${opts.pts ?? '0 8 101'}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    ...(opts.direction ? [`a=${opts.direction}`] : []),
    ...(opts.extra ?? []),
  );
}
