/**
 * Load admission (docs/operations.md, "Overload"): whether a new call or payment may start, as a pure
 * function of the measures and the limits. Under overload the gateway refuses new work with
 * `503 Service Unavailable` and `Retry-After` (RFC 3261 21.5.4, 20.33) rather than letting the calls
 * it already admitted fail; RFC 7339 (SIP overload control) is the model: refuse at the entry, as
 * early and as cheaply as possible, and tell the sender when to come back.
 *
 * What each kind of request adds, and so which limits it is held to:
 *
 * | request          | held calls | captures | RTP port pairs | media busy | loop lag |
 * | ---------------- | ---------- | -------- | -------------- | ---------- | -------- |
 * | bridged INVITE   | +1         |          | 2 (A and B)    | yes        | yes      |
 * | payment INVITE   | +1         | +1       | 1              | yes        | yes      |
 * | payment REFER    |            | +1       | 0 (the call's) | yes        | yes      |
 *
 * Limits are "at most": a request is refused when what it adds would pass one.
 */

export type LoadRequestKind = 'bridged' | 'payment-invite' | 'payment-refer';

export type LoadReason = 'calls' | 'captures' | 'rtp-ports' | 'media-busy' | 'loop-lag';

export const LOAD_REASONS: readonly LoadReason[] = ['calls', 'captures', 'rtp-ports', 'media-busy', 'loop-lag'];

/** What the gateway measures now (calls/load/monitor.ts). */
export interface LoadMeasures {
  /** Calls held: bridged calls and transfer-mode payment calls. */
  readonly calls: number;
  /** Payment captures running (transfer and inline). */
  readonly captures: number;
  /** RTP/RTCP port pairs still free in the range. */
  readonly freePortPairs: number;
  /** Share (0-1) of wall time the busiest media worker spent working (the lower of the last two samples). */
  readonly mediaBusy: number;
  /** Main event-loop lag, p99 of a sample, in ms (the lower of the last two samples). */
  readonly loopLagMs: number;
}

/** The configured limits (config/schema.ts `limits.*`); `undefined` counts are not limited. */
export interface LoadLimits {
  readonly maxCalls?: number | undefined;
  readonly maxCaptures?: number | undefined;
  /** Port pairs kept free for calls already admitted (refused before exhaustion). */
  readonly rtpReservePairs: number;
  /** Media worker busy share (0-1) at which new work is refused. */
  readonly mediaBusy: number;
  /** Event-loop lag (ms) at which new work is refused. */
  readonly loopLagMs: number;
  /** Seconds put in Retry-After. */
  readonly retryAfterS: number;
}

export interface LoadRefusal {
  readonly status: 503;
  readonly reason: LoadReason;
  readonly retryAfterS: number;
  /** For the SIP Warning (RFC 3261 20.43) and the logs. */
  readonly text: string;
}

/** RTP port pairs each kind of request allocates. */
export const PORT_PAIRS: Record<LoadRequestKind, number> = { bridged: 2, 'payment-invite': 1, 'payment-refer': 0 };

/** The first limit the request would pass, or undefined when it may start. */
export function loadRefusal(kind: LoadRequestKind, m: LoadMeasures, l: LoadLimits): LoadRefusal | undefined {
  const refuse = (reason: LoadReason, text: string): LoadRefusal => ({ status: 503, reason, retryAfterS: l.retryAfterS, text: `overload: ${text}; retry later` });
  const addsCall = kind !== 'payment-refer';
  const addsCapture = kind !== 'bridged';
  if (addsCall && l.maxCalls !== undefined && m.calls + 1 > l.maxCalls) return refuse('calls', `${m.calls} of ${l.maxCalls} calls held (MAX_CALLS)`);
  if (addsCapture && l.maxCaptures !== undefined && m.captures + 1 > l.maxCaptures) {
    return refuse('captures', `${m.captures} of ${l.maxCaptures} payment captures running (MAX_CAPTURES)`);
  }
  const pairs = PORT_PAIRS[kind];
  if (pairs > 0 && m.freePortPairs - pairs < l.rtpReservePairs) {
    return refuse('rtp-ports', `${m.freePortPairs} RTP port pairs free, ${l.rtpReservePairs} kept in reserve (ADMIT_RTP_RESERVE)`);
  }
  if (m.mediaBusy >= l.mediaBusy) return refuse('media-busy', `media workers ${pct(m.mediaBusy)} busy, limit ${pct(l.mediaBusy)} (ADMIT_MEDIA_BUSY)`);
  if (m.loopLagMs >= l.loopLagMs) return refuse('loop-lag', `event loop lag ${Math.round(m.loopLagMs)} ms, limit ${l.loopLagMs} ms (ADMIT_LOOP_LAG_MS)`);
  return undefined;
}

/** The limits reached now, for /healthz (`degraded` with these reasons): a limit is reached when one more bridged call or capture would pass it. */
export function limitsReached(m: LoadMeasures, l: LoadLimits): LoadRefusal[] {
  const out: LoadRefusal[] = [];
  for (const kind of ['bridged', 'payment-refer'] as const) {
    let r = loadRefusal(kind, m, l);
    // Every reason, not only the first: drop each found limit and look again.
    const seen = new Set(out.map((x) => x.reason));
    let lim: LoadLimits = l;
    while (r) {
      if (!seen.has(r.reason)) out.push(r);
      seen.add(r.reason);
      lim = without(lim, r.reason);
      r = loadRefusal(kind, m, lim);
    }
  }
  return out;
}

function without(l: LoadLimits, reason: LoadReason): LoadLimits {
  switch (reason) {
    case 'calls':
      return { ...l, maxCalls: undefined };
    case 'captures':
      return { ...l, maxCaptures: undefined };
    case 'rtp-ports':
      return { ...l, rtpReservePairs: -Infinity };
    case 'media-busy':
      return { ...l, mediaBusy: Infinity };
    case 'loop-lag':
      return { ...l, loopLagMs: Infinity };
  }
}

function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}
