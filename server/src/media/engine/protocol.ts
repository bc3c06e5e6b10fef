/**
 * What the main thread (plane.ts) and a media worker (worker/media-worker.ts) say to each other
 * over the numbered channel (worker/channel.ts): request methods as [params, result], and
 * notifications. Plain data only (structured clone); Int16Array prompt audio is copied.
 */
import type { MaskKind } from '../mask/mask-signal.js';
import type { BridgeMode, LegRole, MuteMatrix } from '../mixer/matrix.js';
import type { PromptResult } from '../prompts/player.js';
import type { DigitTransport } from './digits.js';

export type { BridgeMode, LegRole, MuteMatrix, MaskKind, PromptResult, DigitTransport };

export interface RemoteAddress {
  address: string;
  port: number;
  /** RTCP port when the SDP said (RFC 3605 a=rtcp); default port + 1. */
  rtcpPort?: number;
}

/**
 * SDES-keyed SRTP on a leg (RFC 3711, RFC 4568): our master key || salt protects what we send,
 * the peer's unprotects what we receive. Absent or null: plain RTP.
 */
export interface LegSrtp {
  suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_256_CM_HMAC_SHA1_80';
  local: Uint8Array;
  remote: Uint8Array;
  /** The peer key's lifetime in packets (RFC 4568 §6.1), null: the SRTP maximum. */
  remoteLifetime?: number | null;
}

export interface LegConfig {
  /** The peer's signalled media address; null: not known yet (nothing is sent or accepted). */
  remote: RemoteAddress | null;
  codec: 'pcmu' | 'pcma';
  payloadType: number;
  /** Negotiated telephone-event payload type (RFC 4733), or null. */
  telephoneEventPt: number | null;
  ptime: 10 | 20 | 30;
  srtp?: LegSrtp | null;
}

export interface BridgeOptions {
  /** What replaces DTMF in customer audio towards agents. Default 'silence'. */
  mask?: MaskKind;
  /** Agents hear the soft capture tone in capture mode. Default false (silence). */
  captureTone?: boolean;
  /** Mean RTCP report interval, ms. Default 5000. */
  rtcpIntervalMs?: number;
}

export type WirePromptItem = { id: string } | { pcm: Int16Array } | { silenceMs: number };

export interface LocalPorts {
  address: string;
  rtpPort: number;
  rtcpPort: number;
}

export interface LegStats {
  id: string;
  role: LegRole;
  local: LocalPorts;
  remote: RemoteAddress | null;
  latched: { address: string; port: number } | null;
  codec: string | null;
  rx: {
    packets: number;
    bytes: number;
    wrongSource: number;
    malformed: number;
    wrongPayloadType: number;
    oversized: number;
    unconfigured: number;
    telephoneEvents: number;
  };
  tx: { packets: number; octets: number; sendErrors: number };
  playout: {
    late: number;
    duplicates: number;
    reanchors: number;
    ssrcChanges: number;
    stalls: number;
    skippedMs: number;
    lostMs: number;
    bufferedMs: number;
    lost: number;
  };
  dtmf: { inband: number; rfc4733: number; duplicates: number; maskedMs: number; unsafeSamples: number };
  rtcp: { packetsIn: number; malformed: number; wrongSource: number; senderReportsIn: number; receiverReportsIn: number; reportsOut: number; jitterMs: number };
  /** SRTP counters (RFC 3711 §3.3: drops by cause), null on a plain RTP leg. */
  srtp: { suite: string; protectedRtp: number; unprotectedRtp: number; protectedRtcp: number; unprotectedRtcp: number; authFailed: number; replayed: number; malformed: number } | null;
}

export interface BridgeStats {
  id: string;
  mode: BridgeMode;
  slot: number;
  legs: LegStats[];
}

export interface WorkerStats {
  bridges: number;
  legs: number;
  ticks: number;
  late: number;
  missed: number;
  skipped: number;
  maxLatenessMs: number;
  maxBusyMs: number;
  /** Share of wall time spent in ticks since start. */
  utilisation: number;
  /** Event-loop utilisation of the worker (ticks + socket callbacks) since the last peak reset. */
  loopUtilisation: number;
  /** Event-loop active time of the worker since it started, ms (performance.eventLoopUtilization().active): load admission takes its rate of change as the worker's busy share. */
  activeMs: number;
  prompts: number;
  /** RTP since the worker started, closed bridges included (metrics: packets by direction, packets lost). */
  rtp?: RtpTotals;
  /** The worker thread's own memory (its isolate and its ArrayBuffer allocator), from the worker. */
  memory?: WorkerMemory;
}

/**
 * A worker thread's memory, bytes: process.memoryUsage() read inside the worker (heap, `external`
 * and `arrayBuffers` are the worker's isolate's; the process's RSS is shared by every thread and
 * left out) and v8.getHeapStatistics().malloced_memory (V8's own malloc use).
 */
export interface WorkerMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  malloced: number;
}

export interface RtpTotals {
  packetsIn: number;
  packetsOut: number;
  /** RFC 3550 A.3 cumulative loss of the receive side. */
  lost: number;
  /** RTP dropped because it came from a source other than the signalled or latched one (leg.ts). */
  wrongSource: number;
}

export type MediaMethods = {
  createBridge: [{ id: string; opts: BridgeOptions }, { slot: number }];
  closeBridge: [{ id: string; reason: string }, void];
  addLeg: [{ bridgeId: string; legId: string; role: LegRole; rtpPort: number }, LocalPorts];
  configureLeg: [{ bridgeId: string; legId: string; cfg: LegConfig }, void];
  setMode: [{ bridgeId: string; mode: BridgeMode }, void];
  setMatrix: [{ bridgeId: string; matrix: MuteMatrix }, void];
  play: [{ bridgeId: string; legId: string; playId: number; items: WirePromptItem[]; bargeIn: boolean }, void];
  stopPrompts: [{ bridgeId: string; legId: string }, void];
  bridgeStats: [{ bridgeId: string }, BridgeStats];
  /** `resetPeaks`: the max figures restart after this answer (peak per scrape). */
  stats: [{ resetPeaks?: boolean }, WorkerStats];
  /** Test hook: the worker exits with `code`. */
  crash: [{ code: number }, never];
};

export interface DigitEvent {
  legId: string;
  /** The role of the leg that keyed it (calls/ subscribes by role: the customer's keys only). */
  role: LegRole;
  digit: string;
  /** `info`: signalled on the call's SIP dialog (RFC 6086 INFO) and handed to the bridge by calls/. */
  transport: DigitTransport | 'info';
  /**
   * The worker cut the prompt playing to this leg for it (barge-in, decided in the worker only);
   * absent when nothing allowing barge-in was playing, and for `info` digits.
   */
  barged?: true;
  /** Wall-clock ms (Date.now) when the worker reported the digit. */
  at: number;
  /**
   * `info` digits: the signalled duration. RFC 4733 digits are reported on their event's first
   * packet, before the duration is known; it follows in `digitEnded`.
   */
  durationMs?: number;
}

/** An RFC 4733 event reported as a `digit` has ended (RFC 4733 §2.5.1.4): its duration. */
export interface DigitEndedEvent {
  legId: string;
  role: LegRole;
  digit: string;
  transport: 'rfc4733';
  durationMs: number;
}

export type MediaNotifications = {
  digit: DigitEvent & { bridgeId: string };
  digitEnded: DigitEndedEvent & { bridgeId: string };
  latched: { bridgeId: string; legId: string; address: string; port: number };
  promptEnded: { bridgeId: string; playId: number; result: PromptResult };
  bridgeClosed: { bridgeId: string; reason: string };
  log: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown> };
};

export type Notify = <K extends keyof MediaNotifications & string>(event: K, data: MediaNotifications[K]) => void;

/** Error codes the worker answers with (ChannelError.remoteCode on the main thread). */
export type MediaErrorCode = 'NO_SUCH_BRIDGE' | 'NO_SUCH_LEG' | 'DUPLICATE' | 'BAD_CONFIG' | 'PROMPT_NOT_FOUND' | 'EADDRINUSE' | 'CLOSED';

export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}
