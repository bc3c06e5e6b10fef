/**
 * SRTP/SRTCP replay protection and SRTP index estimation.
 *
 * RFC 3711 §3.3.2: a receiver keeps a sliding window of the packet indices it has authenticated;
 * an index more than the window size behind the highest is "too old", one inside the window that
 * was seen before is a replay. Both are dropped before any other processing. The window is 64
 * packets (the RFC's minimum, SRTP-WINDOW-SIZE). Only authenticated packets move the window.
 *
 * RFC 3711 §3.3.1 and Appendix A: the 48-bit SRTP index i = 2^16 * ROC + SEQ is estimated from
 * the highest sequence number seen (s_l) and the rollover counter (ROC); ROC/s_l are updated only
 * after the packet is authenticated.
 */

export const REPLAY_WINDOW = 64;

/** Indices fit in a double exactly (48 bits for SRTP, 31 for SRTCP). */
export class ReplayWindow {
  /** Highest index accepted; -1 before the first packet. */
  private highest = -1;
  /** slots[i % 64] holds the last index accepted in that slot (-1: none). */
  private readonly slots = new Float64Array(REPLAY_WINDOW).fill(-1);

  /** 'ok', or why the index must be dropped (RFC 3711 §3.3.2). */
  check(index: number): 'ok' | 'replayed' | 'too-old' {
    if (index > this.highest) return 'ok';
    if (this.highest - index >= REPLAY_WINDOW) return 'too-old';
    return this.slots[index % REPLAY_WINDOW] === index ? 'replayed' : 'ok';
  }

  /** Record an authenticated index. */
  accept(index: number): void {
    this.slots[index % REPLAY_WINDOW] = index;
    if (index > this.highest) this.highest = index;
  }
}

/** RFC 3711 §3.3.1 / Appendix A: receiver-side ROC and highest SEQ for one SSRC. */
export class RolloverTracker {
  private roc = 0;
  private sl = -1;

  /** The estimated ROC (v) for a received SEQ; may be -1 (a packet from before the first one's cycle). */
  estimate(seq: number): number {
    const sl = this.sl;
    if (sl < 0) return this.roc; // first packet: s_l is initialised from it (RFC 3711 §3.3.1)
    if (sl < 32768) return seq - sl > 32768 ? this.roc - 1 : this.roc;
    return sl - 32768 > seq ? this.roc + 1 : this.roc;
  }

  /** After authentication: move s_l / ROC on (Appendix A). */
  update(seq: number, v: number): void {
    if (this.sl < 0) {
      this.sl = seq;
      this.roc = v;
    } else if (v === this.roc + 1) {
      this.roc = v;
      this.sl = seq;
    } else if (v === this.roc && seq > this.sl) {
      this.sl = seq;
    }
  }

  get rolloverCounter(): number {
    return this.roc;
  }
}
