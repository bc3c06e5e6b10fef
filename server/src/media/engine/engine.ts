/**
 * The media engine of one worker: its bridges and its clock.
 *
 * Clock: one drift-free Ticker (clock/ticker.ts) with a 5 ms period; every 20 ms cycle has
 * four slots, and each bridge runs its 20 ms frame in one of them (phase.ts explains why: the
 * slot is chosen, and re-chosen every second, to follow the customer's packet arrivals, which
 * cuts the playout wait to a few ms). Whatever the slot, a bridge runs exactly one frame per
 * 20 ms cycle: moving it to a later slot of the current cycle waits for the next cycle. When the
 * ticker has to skip overdue slots (thread blocked for > 20 ms), those bridges skip a frame:
 * their RTP timestamps move on and their playout buffers absorb the gap.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { FRAME_MS } from '../clock/frame.js';
import { Ticker } from '../clock/ticker.js';
import type { PromptLibrary } from '../prompts/library.js';
import { Bridge } from './bridge.js';
import { bestSlot, slotCosts } from './phase.js';
import { MediaError, type BridgeOptions, type BridgeStats, type Notify, type RtpTotals, type WorkerStats } from './protocol.js';
import { bindUdpPair, type UdpFactory } from './udp.js';

export const SLOTS = 4;
const REPHASE_EVERY = 50; // frames: once a second (every 200 ms in a bridge's first 2 s)
const PHASE_MARGIN_MS = 1;
const PHASE_HYSTERESIS_MS = 1.5;

export interface EngineOptions {
  address: string;
  library: PromptLibrary;
  notify: Notify;
  udp?: UdpFactory;
  now?: () => number;
  /** Start the clock now (default true); tests drive tickSlot() themselves. */
  autoStart?: boolean;
  /** Called around each slot's work (benchmarks: deliver packets, measure CPU per tick). */
  beforeSlot?: (n: number) => void;
  afterSlot?: (n: number) => void;
}

export class Engine {
  readonly bridges = new Map<string, Bridge>();
  readonly ticker: Ticker;
  private readonly slots: Bridge[][] = Array.from({ length: SLOTS }, () => []);
  private readonly now: () => number;
  private readonly startedAt: number;
  private nextSlot = 0;
  private eluMark: EventLoopUtilization = performance.eventLoopUtilization();
  /** RTP totals of the bridges closed so far. */
  private readonly rtpClosed: RtpTotals = { packetsIn: 0, packetsOut: 0, lost: 0, wrongSource: 0 };

  constructor(private readonly opts: EngineOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.ticker = new Ticker({
      periodMs: FRAME_MS / SLOTS,
      now: this.now,
      onTick: (n) => this.tickSlot(n),
      onSkip: (n) => this.skipSlot(n),
      maxCatchUp: 4 * SLOTS, // up to four whole frames back to back after a stall, then skip
      onError: (err) => opts.notify('log', { level: 'error', msg: 'media: tick failed', data: { err: err instanceof Error ? err.stack ?? err.message : String(err) } }),
    });
    this.startedAt = this.now();
    if (opts.autoStart ?? true) this.ticker.start();
  }

  createBridge(id: string, opts: BridgeOptions): Bridge {
    if (this.bridges.has(id)) throw new MediaError('DUPLICATE', `bridge ${id} exists`);
    const b = new Bridge(id, opts, { address: this.opts.address, udp: this.opts.udp ?? bindUdpPair, library: this.opts.library, notify: this.opts.notify, now: this.now });
    b.slot = this.leastLoadedSlot();
    this.slots[b.slot]!.push(b);
    this.bridges.set(id, b);
    return b;
  }

  bridge(id: string): Bridge {
    const b = this.bridges.get(id);
    if (!b) throw new MediaError('NO_SUCH_BRIDGE', `no bridge ${id}`);
    return b;
  }

  async closeBridge(id: string): Promise<void> {
    const b = this.bridges.get(id);
    if (!b) return;
    this.bridges.delete(id);
    this.detach(b);
    addRtp(this.rtpClosed, b.stats());
    await b.close();
  }

  /** Run slot n % SLOTS of cycle n / SLOTS. */
  tickSlot(n: number): void {
    this.opts.beforeSlot?.(n);
    const cycle = Math.floor(n / SLOTS);
    const list = this.slots[n % SLOTS]!;
    const now = this.now();
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (b.lastCycle >= cycle) continue;
      b.lastCycle = cycle;
      try {
        b.tick(now);
      } catch (err) {
        this.fail(b, err);
        continue;
      }
      if (b.frames % (b.frames < 100 ? 10 : REPHASE_EVERY) === 0) this.rephase(b, cycle);
    }
    this.opts.afterSlot?.(n);
  }

  /** A bridge whose frame threw is closed and reported, so its call is ended, not left mute. */
  private fail(b: Bridge, err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    this.opts.notify('log', { level: 'error', msg: 'media: bridge failed', data: { bridge: b.id, err: err instanceof Error ? err.stack ?? msg : msg } });
    void this.closeBridge(b.id).catch(() => {});
    this.opts.notify('bridgeClosed', { bridgeId: b.id, reason: `media engine error: ${msg}` });
  }

  private skipSlot(n: number): void {
    const cycle = Math.floor(n / SLOTS);
    const now = this.now();
    for (const b of this.slots[n % SLOTS]!) {
      if (b.lastCycle >= cycle) continue;
      b.lastCycle = cycle;
      b.skip(now);
    }
  }

  /** Move a bridge to the slot that comes soonest after its customer's packets arrive. */
  private rephase(b: Bridge, cycle: number): void {
    const leg = b.phaseLeg;
    if (!leg) return;
    const costs = slotCosts(leg.playout.arrivals, leg.playout.arrivalCount, this.ticker.epochMs, FRAME_MS, SLOTS, PHASE_MARGIN_MS);
    const slot = bestSlot(costs, b.slot, PHASE_HYSTERESIS_MS);
    if (slot === b.slot) return;
    // Keep the slots' loads even: a slot may take a bridge while it holds no more than 25 %
    // (and 4 bridges) above the average, so clustered arrival phases cannot overload one slot.
    if (this.slots[slot]!.length + 1 > (this.bridges.size / SLOTS) * 1.25 + 4) return;
    this.detach(b);
    b.slot = slot;
    b.lastCycle = cycle; // a later slot of this cycle must not run a second frame
    this.slots[slot]!.push(b);
  }

  private detach(b: Bridge): void {
    const list = this.slots[b.slot]!;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
  }

  private leastLoadedSlot(): number {
    let best = this.nextSlot;
    for (let s = 0; s < SLOTS; s++) if (this.slots[s]!.length < this.slots[best]!.length) best = s;
    this.nextSlot = (best + 1) % SLOTS;
    return best;
  }

  stats(resetPeaks = false): WorkerStats {
    const t = { ...this.ticker.stats };
    const elu = performance.eventLoopUtilization(this.eluMark).utilization;
    if (resetPeaks) {
      this.ticker.resetPeaks();
      this.eluMark = performance.eventLoopUtilization();
    }
    let legs = 0;
    const rtp = { ...this.rtpClosed };
    for (const b of this.bridges.values()) {
      legs += b.legCount;
      addRtp(rtp, b.stats());
    }
    const elapsed = this.now() - this.startedAt;
    return {
      bridges: this.bridges.size, legs, ticks: t.ticks, late: t.late, missed: t.missed, skipped: t.skipped,
      maxLatenessMs: t.maxLatenessMs, maxBusyMs: t.maxBusyMs, utilisation: elapsed > 0 ? t.busyMs / elapsed : 0, loopUtilisation: elu, activeMs: performance.eventLoopUtilization().active, prompts: this.opts.library.size,
      rtp,
    };
  }

  async close(): Promise<void> {
    this.ticker.stop();
    await Promise.all([...this.bridges.keys()].map((id) => this.closeBridge(id)));
  }
}

function addRtp(into: RtpTotals, b: BridgeStats): void {
  for (const l of b.legs) {
    into.packetsIn += l.rx.packets;
    into.packetsOut += l.tx.packets;
    into.lost += Math.max(0, l.playout.lost);
    into.wrongSource += l.rx.wrongSource;
  }
}
