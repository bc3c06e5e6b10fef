import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import {
  listsTimer, negotiateAsUac, SessionTimer, sessionExpiresValue, uasAnswerHeaders,
  type Refresher, type SessionTimerSettings, type TimerRequest, type UasDecision,
} from '../../sip/dialog/session-timer.js';
import type { Leg } from '../media-anchor.js';

/** How a leg's session timer was agreed: who refreshes, from whose side (we are UAS on A, UAC on B). */
interface Agreed {
  seconds: number;
  refresher: Refresher;
  /** Our role in the leg's dialog: UAS on the caller's leg, UAC on the agent's. */
  we: Refresher;
  uacSupportsTimer: boolean;
  /** The peer listed UPDATE in Allow (RFC 3311): refreshes go as UPDATE, else as re-INVITE. */
  peerAllowsUpdate: boolean;
}

export interface SessionTimersHost {
  clock: Clock;
  log: Logger;
  /**
   * Sends our refresh on `leg` (RFC 4028 10: UPDATE without a body when the peer allows it, else a
   * re-INVITE with the session unchanged) and reports whether it got a 2xx.
   */
  sendRefresh(leg: Leg, method: 'UPDATE' | 'INVITE', headers: [string, string][], done: (ok: boolean, why: string) => void): void;
  /** The session expired on a leg: the call ends with BYE on both legs (RFC 4028 10). */
  expire(reason: string): void;
}

const allowsUpdate = (m: TimerRequest): boolean => (m.getHeader('allow') ?? '').split(',').some((x) => x.trim().toUpperCase() === 'UPDATE');

/**
 * RFC 4028 on both legs of a bridged call: the caller's leg as negotiated by our answer (9), the
 * agent's as its 2xx said (7.2). A refresh on either leg restarts that leg's timer; a re-INVITE
 * relayed from one leg to the other refreshes both. A leg that times out ends the call.
 */
export class CallSessionTimers {
  private readonly agreed: Partial<Record<Leg, Agreed>> = {};
  private readonly timers: Partial<Record<Leg, SessionTimer>> = {};

  constructor(
    private readonly host: SessionTimersHost,
    readonly settings: SessionTimerSettings,
  ) {}

  /** The caller's leg, from our decision on its INVITE (RFC 4028 9). */
  agreeA(d: UasDecision, invite: TimerRequest): void {
    if (d.kind !== 'timer') return;
    this.agreed.A = { seconds: d.seconds, refresher: d.refresher, we: 'uas', uacSupportsTimer: d.uacSupportsTimer, peerAllowsUpdate: allowsUpdate(invite) };
  }

  /** The agent's leg, from its 2xx to our INVITE (RFC 4028 7.2). */
  agreeB(res: TimerRequest): void {
    const n = negotiateAsUac(res);
    if (!n) return;
    this.agreed.B = { ...n, we: 'uac', uacSupportsTimer: true, peerAllowsUpdate: allowsUpdate(res) };
  }

  /** Headers of a 2xx we send on `leg` to an INVITE or UPDATE that refreshes it (RFC 4028 9). */
  answerHeaders(leg: Leg): [string, string][] {
    const a = this.agreed[leg];
    if (!a) return [];
    // On the agent's leg we are the UAC: the agent's refresh keeps the refresher agreed (9).
    return a.we === 'uas' ? uasAnswerHeaders(a) : [['Session-Expires', sessionExpiresValue(a)], ['Require', 'timer']];
  }

  /** Headers of a refresh we send on `leg` (RFC 4028 7.4: the interval and refresher as agreed). */
  private refreshHeaders(leg: Leg): [string, string][] {
    const a = this.agreed[leg]!;
    // Our refresher role in our request: uac when we are the UAC of this request (always: we send it).
    return [['Supported', 'timer'], ['Session-Expires', sessionExpiresValue({ seconds: a.seconds, refresher: 'uac' })], ['Min-SE', String(this.settings.minSeS)]];
  }

  /** The call is confirmed: the timers of the legs that agreed one start. */
  start(): void {
    for (const leg of ['A', 'B'] as const) {
      const a = this.agreed[leg];
      if (!a || this.timers[leg]) continue;
      const weRefresh = a.refresher === a.we;
      this.host.log.info({ leg, seconds: a.seconds, refresher: a.refresher, weRefresh }, 'session timer running (RFC 4028)');
      this.timers[leg] = new SessionTimer(this.host.clock, a.seconds, weRefresh, {
        refresh: () => this.refresh(leg),
        expire: (why) => this.host.expire(`session expired on the ${leg === 'A' ? 'caller' : 'agent'} leg: ${why}`),
      });
    }
  }

  private refresh(leg: Leg): void {
    const a = this.agreed[leg]!;
    const method = a.peerAllowsUpdate ? 'UPDATE' : 'INVITE';
    this.host.sendRefresh(leg, method, this.refreshHeaders(leg), (ok, why) => {
      const t = this.timers[leg];
      if (!t) return;
      if (ok) {
        // After our refresh we are the refresher of the new interval (RFC 4028 7.4: we asked for uac).
        a.refresher = a.we;
        t.refreshed({ seconds: a.seconds, weRefresh: true });
      } else t.failed(`session refresh (${method}) failed: ${why} (RFC 4028 10)`);
    });
  }

  /**
   * A 2xx went out on `leg` to the peer's re-INVITE or UPDATE, or came back for one we relayed to
   * it: the leg's session is refreshed (RFC 4028 10). A peer refresh keeps the agreed refresher.
   */
  refreshed(leg: Leg, req?: TimerRequest): void {
    const a = this.agreed[leg];
    if (req && a && !listsTimer(req.getHeader('supported') ?? req.getHeader('k'), req.getHeader('require'))) {
      // RFC 4028 9: a refresh from a UAC without timer support makes us (the UAS) the refresher.
      a.refresher = a.we === 'uas' ? 'uas' : a.refresher;
    }
    this.timers[leg]?.refreshed(a && { seconds: a.seconds, weRefresh: a.refresher === a.we });
  }

  has(leg: Leg): boolean {
    return this.agreed[leg] !== undefined;
  }

  stop(): void {
    for (const t of Object.values(this.timers)) t.stop();
  }
}
