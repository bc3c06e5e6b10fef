import type { Clock, TimerHandle } from '../../lib/clock.js';

/**
 * RFC 4028 session timers: the Session-Expires / Min-SE headers, the negotiation on each side of a
 * dialog, and the per-dialog timer. Protocol only; calls/b2bua/session-timers.ts applies it to calls.
 *
 * - The UAS (RFC 4028 9) refuses a Session-Expires below its Min-SE with 422 carrying Min-SE (8.1),
 *   else answers with the interval and the refresher (the request's choice, else `uac` when the UAC
 *   supports timer) and `Require: timer` when the UAC supports it.
 * - The UAC (RFC 4028 7.2) takes interval and refresher from the 2xx; no Session-Expires in the 2xx:
 *   no session timer for that dialog.
 * - The refresher sends a refresh (re-INVITE or UPDATE) at half the interval (10); the other side,
 *   when no refresh came, sends BYE at interval - min(32 s, interval / 3) (10).
 */
export interface SessionTimerSettings {
  /** The interval the gateway asks for (SESSION_EXPIRES_S), seconds. */
  expiresS: number;
  /** The smallest interval the gateway accepts (MIN_SE_S), seconds; RFC 4028 4: at least 90. */
  minSeS: number;
}

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  seconds: number;
  refresher?: Refresher;
}

/** `Session-Expires: 1800;refresher=uac` (or the compact form `x`); undefined when absent or malformed. */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/.exec(value);
  if (!m) return undefined;
  const seconds = Number(m[1]);
  const r = /;\s*refresher\s*=\s*(uac|uas)\s*(?:;|$)/i.exec(m[2] ?? '');
  return r ? { seconds, refresher: r[1]!.toLowerCase() as Refresher } : { seconds };
}

/** `Min-SE: 90`; undefined when absent or malformed. */
export function parseMinSe(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^\s*(\d{1,10})\s*(?:;.*)?$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** The option tag `timer` in Supported (or its compact form `k`) or Require. */
export function listsTimer(...values: (string | undefined)[]): boolean {
  return values.some((v) => v !== undefined && v.split(',').some((t) => t.trim().toLowerCase() === 'timer'));
}

export const sessionExpiresValue = (s: SessionExpires): string => `${s.seconds}${s.refresher ? `;refresher=${s.refresher}` : ''}`;

/** What a request looks like for the negotiation. */
export interface TimerRequest {
  getHeader(name: string): string | undefined;
}

export type UasDecision =
  | { kind: 'none' }
  /** 422 Session Interval Too Small with `Min-SE` (RFC 4028 8.1). */
  | { kind: 'too-small'; minSe: number }
  | { kind: 'timer'; seconds: number; refresher: Refresher; uacSupportsTimer: boolean };

/**
 * RFC 4028 8.1 / 9, the gateway as UAS: a request with Session-Expires below our Min-SE is refused
 * (422); a UAC that supports timer, or sends Session-Expires, gets a session timer with the smaller
 * of its interval and ours (never below its Min-SE or ours) and the refresher it asked for, else
 * `uac`. A UAC that neither supports timer nor asks for one gets none (9: inserting one is a MAY;
 * the media timeout still ends a silent call).
 */
export function negotiateAsUas(req: TimerRequest, s: SessionTimerSettings): UasDecision {
  const se = parseSessionExpires(req.getHeader('session-expires') ?? req.getHeader('x'));
  const uacSupportsTimer = listsTimer(req.getHeader('supported') ?? req.getHeader('k'), req.getHeader('require'));
  if (se && se.seconds < s.minSeS) return { kind: 'too-small', minSe: s.minSeS };
  if (!se && !uacSupportsTimer) return { kind: 'none' };
  const theirMin = parseMinSe(req.getHeader('min-se')) ?? 0;
  const seconds = Math.max(Math.min(se?.seconds ?? s.expiresS, s.expiresS), theirMin, s.minSeS);
  // 9: a UAC that does not support timer cannot refresh: the UAS must.
  const refresher: Refresher = !uacSupportsTimer ? 'uas' : (se?.refresher ?? 'uac');
  return { kind: 'timer', seconds, refresher, uacSupportsTimer };
}

/** RFC 4028 7.1: what the gateway puts in its own INVITE: it supports timer and asks the far end to refresh. */
export function uacOfferHeaders(s: SessionTimerSettings): [string, string][] {
  return [['Supported', 'timer'], ['Session-Expires', sessionExpiresValue({ seconds: s.expiresS, refresher: 'uas' })], ['Min-SE', String(s.minSeS)]];
}

/** RFC 4028 7.2, the gateway as UAC: the 2xx's Session-Expires, or none. */
export function negotiateAsUac(res: TimerRequest): { seconds: number; refresher: Refresher } | undefined {
  const se = parseSessionExpires(res.getHeader('session-expires') ?? res.getHeader('x'));
  return se && { seconds: se.seconds, refresher: se.refresher ?? 'uac' };
}

/** The headers of a 2xx that confirms a session timer (RFC 4028 9): Session-Expires, and Require: timer when the UAC supports it. */
export function uasAnswerHeaders(d: { seconds: number; refresher: Refresher; uacSupportsTimer: boolean }): [string, string][] {
  return [['Session-Expires', sessionExpiresValue(d)], ...(d.uacSupportsTimer ? ([['Require', 'timer']] as [string, string][]) : [])];
}

/** RFC 4028 10: when the side that does not refresh gives up: interval - min(32 s, interval / 3). */
export const expiryMs = (seconds: number): number => (seconds - Math.min(32, seconds / 3)) * 1000;
/** RFC 4028 10: the refresher refreshes at half the interval. */
export const refreshMs = (seconds: number): number => (seconds / 2) * 1000;

/**
 * One dialog's session timer. `weRefresh`: at half the interval `refresh()` is called (its result
 * is reported with refreshed() or failed()); otherwise `expire()` is called when no refresh came
 * in time. Every refresh (ours or the peer's, RFC 4028 10: any 2xx to a re-INVITE or UPDATE)
 * restarts it through refreshed().
 */
export class SessionTimer {
  private handle: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    public seconds: number,
    public weRefresh: boolean,
    private readonly on: { refresh(): void; expire(why: string): void },
  ) {
    this.arm();
  }

  private arm(): void {
    this.handle?.cancel();
    if (this.stopped) return;
    this.handle = this.weRefresh
      ? this.clock.setTimeout(() => !this.stopped && this.on.refresh(), refreshMs(this.seconds))
      : this.clock.setTimeout(() => !this.stopped && this.on.expire(`no session refresh within ${this.seconds} s (RFC 4028 10)`), expiryMs(this.seconds));
  }

  /** A refresh succeeded: possibly with a new interval / refresher (RFC 4028 9, 7.2). */
  refreshed(next?: { seconds: number; weRefresh: boolean }): void {
    if (next) {
      this.seconds = next.seconds;
      this.weRefresh = next.weRefresh;
    }
    this.arm();
  }

  /** Our refresh failed (timeout, 408, 481): RFC 4028 10 and RFC 3261 12.2.1.2: the session ends. */
  failed(why: string): void {
    if (this.stopped) return;
    this.stop();
    this.on.expire(why);
  }

  stop(): void {
    this.stopped = true;
    this.handle?.cancel();
  }
}
