/**
 * Pure SDP edits for the WebRTC leg (line based, RFC 4566 grammar; JSEP RFC 8829 SDP).
 *
 * - restrictAudioCodecs(): before werift sees a remote description, keep only PCMU/8000 and
 *   telephone-event/8000 (RFC 4733 §7.1.1) in the audio m-section, PCMU first. werift matches
 *   codecs by MIME type only (not clock rate), so a browser's telephone-event/48000 would
 *   otherwise be negotiated too, and its RtpSender sends with the *first* negotiated codec.
 * - filterCandidates(): keep only UDP host candidates on the configured media address (RFC 8839
 *   §5.1 candidate grammar). werift gathers one host candidate per interface address even when
 *   every socket is bound to one address; the others are unreachable and would only slow ICE.
 * - isWebRtcSdp(): a DTLS-SRTP peer (RFC 5764 §8 `UDP/TLS/RTP/SAVPF`, RFC 8122 fingerprint).
 */

export interface SdpEditError {
  error: string;
}

export function isSdpEditError(r: { sdp: string } | SdpEditError): r is SdpEditError {
  return 'error' in r;
}

/** RFC 8829 §5.1.2: the transport profile of a WebRTC media section. */
const WEBRTC_MEDIA = /^m=\S+ \d+(?:\/\d+)? UDP\/TLS\/RTP\/SAVPF /im;
/** RFC 8122 §5: `a=fingerprint:<hash-func> <fingerprint>`; RFC 5763 §5 requires it for DTLS-SRTP. */
const FINGERPRINT = /^a=fingerprint:\S+ [0-9A-F:]+\s*$/im;

/** Whether an SDP body comes from a WebRTC (DTLS-SRTP) peer rather than a plain RTP/AVP one. */
export function isWebRtcSdp(sdp: string): boolean {
  return WEBRTC_MEDIA.test(sdp) || FINGERPRINT.test(sdp);
}

interface Section {
  lines: string[];
}

function split(sdp: string): { session: string[]; media: Section[] } {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const session: string[] = [];
  const media: Section[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) media.push({ lines: [line] });
    else if (media.length > 0) media[media.length - 1]!.lines.push(line);
    else session.push(line);
  }
  return { session, media };
}

function join(session: string[], media: Section[]): string {
  return [...session, ...media.flatMap((m) => m.lines)].join('\r\n') + '\r\n';
}

const MLINE = /^m=(\S+) (\d+)((?:\/\d+)?) (\S+)((?: \S+)*)$/;
const RTPMAP = /^a=rtpmap:(\d+) ([^/\s]+)\/(\d+)(?:\/\d+)?\s*$/;
/** Attributes that name one payload type (RFC 4566 §6 rtpmap/fmtp, RFC 4585 §4.2 rtcp-fb). */
const PT_ATTRIBUTE = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ \t]/;

/**
 * Keep PCMU/8000 (static PT 0 without rtpmap counts, RFC 3551 §6) and the first
 * telephone-event/8000 in the audio m-section; drop every other format and its attributes.
 * Errors: no audio section, a second active media section (video, data: this leg is audio
 * only), or no PCMU to keep.
 */
export function restrictAudioCodecs(sdp: string): { sdp: string } | SdpEditError {
  const { session, media } = split(sdp);
  const audio = media.filter((m) => m.lines[0]!.startsWith('m=audio '));
  if (audio.length === 0) return { error: 'no audio m-section' };
  const active = media.filter((m) => MLINE.exec(m.lines[0]!)?.[2] !== '0');
  if (active.length > 1) return { error: `${active.length} active m-sections: this leg carries one audio stream only` };
  const section = active[0] ?? audio[0]!;
  if (!section.lines[0]!.startsWith('m=audio ')) return { error: 'the active m-section is not audio' };
  const m = MLINE.exec(section.lines[0]!);
  if (!m) return { error: `bad m-line: ${section.lines[0]}` };
  const formats = m[5]!.trim().split(/\s+/).filter(Boolean).map(Number);
  const maps = new Map<number, { name: string; rate: number }>();
  for (const line of section.lines) {
    const r = RTPMAP.exec(line);
    if (r) maps.set(Number(r[1]), { name: r[2]!.toLowerCase(), rate: Number(r[3]) });
  }
  const isPcmu = (pt: number): boolean => {
    const map = maps.get(pt);
    return map ? map.name === 'pcmu' && map.rate === 8000 : pt === 0;
  };
  const pcmu = formats.find(isPcmu);
  if (pcmu === undefined) return { error: 'no PCMU/8000 in the audio m-section' };
  const te = formats.find((pt) => maps.get(pt)?.name === 'telephone-event' && maps.get(pt)?.rate === 8000);
  const keep = te === undefined ? [pcmu] : [pcmu, te];
  const lines = [`m=audio ${m[2]}${m[3]} ${m[4]} ${keep.join(' ')}`];
  for (const line of section.lines.slice(1)) {
    const a = PT_ATTRIBUTE.exec(line);
    if (a && !keep.includes(Number(a[1]))) continue;
    lines.push(line);
  }
  section.lines = lines;
  return { sdp: join(session, media) };
}

/**
 * RFC 8839 §5.1: `a=candidate:<foundation> <component-id> <transport> <priority>
 * <connection-address> <port> typ <cand-type> ...`. Keeps UDP host candidates whose address is
 * `address`; reports how many are left (0 means nobody can reach this leg).
 */
export function filterCandidates(sdp: string, address: string): { sdp: string; kept: number } {
  const { session, media } = split(sdp);
  let kept = 0;
  for (const section of media) {
    section.lines = section.lines.filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const f = line.slice('a=candidate:'.length).split(/\s+/);
      const ok = f.length >= 8 && f[2]!.toLowerCase() === 'udp' && f[4] === address && f[6] === 'typ' && f[7] === 'host';
      if (ok) kept++;
      return ok;
    });
  }
  return { sdp: join(session, media), kept };
}
