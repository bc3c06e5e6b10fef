/**
 * Parse an SDP body (RFC 4566) down to what the B2BUA needs: its first audio stream.
 *
 * sdp-transform does the attribute grammar but silently drops lines it cannot match (a bad c= or m=
 * just vanishes), so the structural lines (v=, o=, c=, m=) are checked here first: parse at the edge,
 * and a body we cannot read is a 400, never a half-understood session.
 */
import { isIP } from 'node:net';
import { parse as transformParse, type MediaDescription } from 'sdp-transform';
import {
  DEFAULT_TELEPHONE_EVENTS, STATIC_PAYLOAD_TYPES,
  type Codec, type Direction, type MLine, type ParsedSdp, type SdpError, type TelephoneEvent,
} from './types.js';

const LINE = /^([a-z])=(.*)$/;
/** RFC 4566 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
const ORIGIN = /^(\S+) (\d+) (\d+) IN (IP4|IP6) (\S+)$/;
/** RFC 4566 §5.7: c=<nettype> <addrtype> <connection-address> */
const CONNECTION = /^IN (IP4|IP6) (\S+)$/;
/** RFC 4566 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
const MEDIA = /^([a-z][a-z0-9-]*) (\d+)(\/\d+)? (\S+)((?: \S+)+)$/i;

interface Connection { address: string; ipVersion: 4 | 6 }

const fail = (error: string, status: 400 | 488 = 400): SdpError => ({ error, status });

function checkConnection(value: string, where: string): Connection | SdpError {
  const m = CONNECTION.exec(value);
  if (!m) return fail(`bad connection line at ${where}: "c=${value}" (RFC 4566 §5.7: c=IN IP4|IP6 <address>)`);
  const [, addrType, address] = m as unknown as [string, string, string];
  const family = isIP(address);
  if (family === 0) return fail(`bad connection address at ${where}: "${address}" is not an IP address (FQDN and multicast TTL not supported)`);
  if ((addrType === 'IP4') !== (family === 4)) return fail(`bad connection address at ${where}: "${address}" is not ${addrType}`);
  return { address, ipVersion: family === 4 ? 4 : 6 };
}

function codecOf(pt: number, media: MediaDescription): Codec {
  const fmtp = media.fmtp.find((f) => f.payload === pt)?.config;
  const map = media.rtp.find((r) => r.payload === pt);
  const base = map
    ? { name: map.codec, rate: map.rate ?? 0, channels: map.encoding ?? 1 }
    : { name: STATIC_PAYLOAD_TYPES[pt]?.name ?? '', rate: STATIC_PAYLOAD_TYPES[pt]?.rate ?? 0, channels: STATIC_PAYLOAD_TYPES[pt]?.channels ?? 1 };
  return fmtp === undefined ? { pt, ...base } : { pt, ...base, fmtp };
}

/** RFC 4733 §7.1.1: only the 8000 Hz clock matches our G.711 streams; /48000 (WebRTC Opus) is ignored. */
function telephoneEventOf(codecs: Codec[]): TelephoneEvent | null {
  const te = codecs.find((c) => c.name.toLowerCase() === 'telephone-event' && c.rate === 8000);
  return te ? { pt: te.pt, events: te.fmtp?.trim() || DEFAULT_TELEPHONE_EVENTS } : null;
}

function ptimeOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

export function parseSdp(text: string): ParsedSdp | SdpError {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l !== '');
  if (lines[0] !== 'v=0') return fail('malformed SDP: the first line must be "v=0" (RFC 4566 §5.1)');
  let origin: ParsedSdp['origin'] | null = null;
  let sessionConn: Connection | null = null;
  const mlines: MLine[] = [];
  const mediaConn: (Connection | null)[] = [];
  /** a=crypto values per m-line (RFC 4568 §9.1: media level only). */
  const crypto: string[][] = [];
  let ice = false;
  for (const [i, line] of lines.entries()) {
    const m = LINE.exec(line);
    if (!m) return fail(`malformed SDP: line ${i + 1} is not "<type>=<value>" (RFC 4566 §5)`);
    const [, type, value] = m as unknown as [string, string, string];
    const where = mlines.length === 0 ? 'session level' : `m-line ${mlines.length}`;
    if (type === 'o') {
      const o = ORIGIN.exec(value);
      if (!o) return fail(`malformed SDP: bad origin "o=${value}" (RFC 4566 §5.2)`);
      origin = { username: o[1] as string, sessionId: o[2] as string, version: Number(o[3]), address: o[5] as string };
    } else if (type === 'c') {
      const c = checkConnection(value, where);
      if ('error' in c) return c;
      if (mlines.length === 0) sessionConn = c;
      else mediaConn[mlines.length - 1] = c;
    } else if (type === 'm') {
      const mm = MEDIA.exec(value);
      if (!mm) return fail(`malformed SDP: bad media line "m=${value}" (RFC 4566 §5.14)`);
      mlines.push({ type: (mm[1] as string).toLowerCase(), port: Number(mm[2]), protocol: mm[4] as string, formats: (mm[5] as string).trim() });
      mediaConn.push(null);
      crypto.push([]);
      if (mm[3] !== undefined && mm[1]?.toLowerCase() === 'audio') return fail(`unsupported: audio port count "${mm[2]}${mm[3]}" (RFC 4566 §5.14)`, 488);
      if (Number(mm[2]) > 65535) return fail(`malformed SDP: port ${mm[2]} out of range`);
    } else if (type === 'a' && value.startsWith('ice-ufrag:')) {
      ice = true;
    } else if (type === 'a' && value.startsWith('crypto:') && mlines.length > 0) {
      crypto[mlines.length - 1]!.push(value.slice('crypto:'.length));
    }
  }
  if (!origin) return fail('malformed SDP: missing o= line (RFC 4566 §5.2)');
  const audioIndex = mlines.findIndex((m) => m.type === 'audio');
  if (audioIndex < 0) return fail('no audio m-line: nothing we can accept (RFC 3264 §6)', 488);
  const audio = mlines[audioIndex] as MLine;

  const conn = mediaConn[audioIndex] ?? sessionConn;
  if (!conn && audio.port !== 0) return fail('missing c=: no connection address at session level or in the audio m-line (RFC 4566 §5.7)');

  const pts = audio.formats.split(' ').map(Number);
  if (/RTP/.test(audio.protocol) && pts.some((pt) => !Number.isInteger(pt) || pt < 0 || pt > 127)) {
    return fail(`malformed SDP: audio formats "${audio.formats}" are not RTP payload types 0-127 (RFC 4566 §5.14)`);
  }

  const session = transformParse(lines.join('\r\n') + '\r\n');
  const media = session.media[audioIndex];
  if (!media) return fail('malformed SDP: audio m-line unreadable');
  const codecs = pts.map((pt) => codecOf(pt, media));
  const sessionAttrs = session as { ptime?: unknown };
  const direction: Direction = media.direction ?? session.direction ?? 'sendrecv';
  const address = conn?.address ?? '0.0.0.0';
  // RFC 3264 §8.4: c=0.0.0.0 is RFC 2543 hold. ICE SDP uses 0.0.0.0 as "no address yet" (RFC 8839 §5.1).
  const nullAddress = !ice && address === '0.0.0.0';
  return {
    origin,
    address,
    ipVersion: conn?.ipVersion ?? 4,
    port: audio.port,
    rtcpPort: media.rtcp?.port ?? audio.port + 1,
    protocol: audio.protocol,
    crypto: crypto[audioIndex] ?? [],
    rejected: audio.port === 0,
    codecs,
    telephoneEvent: telephoneEventOf(codecs),
    ptime: ptimeOf(media.ptime ?? sessionAttrs.ptime),
    direction,
    nullAddress,
    hold: nullAddress || direction === 'sendonly' || direction === 'inactive',
    ice,
    audioIndex,
    mlines,
    hasOtherMedia: mlines.length > 1,
  };
}
