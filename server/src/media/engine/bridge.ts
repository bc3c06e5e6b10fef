/**
 * A call's bridge inside a media worker: its legs, the mute matrix, and the 20 ms frame.
 *
 * tick(): every leg reads its 20 ms from its playout buffer (customer legs through the DTMF
 * guard, so their `source` is masked and 40 ms behind), then every leg gets its own mix: the
 * sources its matrix row allows + its prompt player + the capture tone, soft-limited, encoded
 * in its codec and sent. Prompt players advance every tick whether audible or not.
 */
import { FRAME } from '../clock/frame.js';
import { presetMatrix, validateMatrix, type BridgeMode, type MuteMatrix } from '../mixer/matrix.js';
import { MixBus } from '../mixer/mix.js';
import type { PromptLibrary } from '../prompts/library.js';
import type { PlayItem } from '../prompts/player.js';
import { Leg, type LegHooks } from './leg.js';
import { MediaError, type BridgeOptions, type BridgeStats, type LegConfig, type LegRole, type LocalPorts, type Notify, type WirePromptItem } from './protocol.js';
import type { UdpFactory } from './udp.js';

export interface BridgeDeps {
  address: string;
  udp: UdpFactory;
  library: PromptLibrary;
  notify: Notify;
  now(): number;
}

export class Bridge {
  /** Phase slot in the worker's tick cycle, and the last cycle this bridge ticked in. */
  slot = 0;
  lastCycle = -1;
  frames = 0;
  private readonly legs = new Map<string, Leg>();
  private list: Leg[] = [];
  private mode: BridgeMode = 'normal';
  private matrix: MuteMatrix | null = null;
  private readonly bus = new MixBus();
  private readonly promptBuf = new Int16Array(FRAME);
  private readonly toneBuf = new Int16Array(FRAME);
  private readonly out = new Int16Array(FRAME);
  private readonly hooks: LegHooks;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly opts: BridgeOptions,
    private readonly deps: BridgeDeps,
  ) {
    this.hooks = {
      now: deps.now,
      digit: (leg, digit, transport) => {
        const barged = leg.player.bargeIn();
        deps.notify('digit', { bridgeId: id, legId: leg.id, role: leg.role, digit, transport, at: Date.now(), ...(barged ? { barged: true as const } : {}) });
      },
      digitEnded: (leg, digit, durationMs) => deps.notify('digitEnded', { bridgeId: id, legId: leg.id, role: leg.role, digit, transport: 'rfc4733', durationMs }),
      latched: (leg, address, port) => deps.notify('latched', { bridgeId: id, legId: leg.id, address, port }),
      // Once per leg (leg.ts): the packets are dropped and counted (RtpTotals.wrongSource).
      unexpectedSource: (leg, from, expected, latched) => deps.notify('log', {
        level: 'warn',
        msg: latched
          ? 'media: RTP from another source than the latched one dropped (symmetric RTP latching)'
          : 'media: RTP from another address than the SDP names dropped: one-way audio (symmetric RTP latching)',
        data: { bridge: id, leg: leg.id, from: `${from.address}:${from.port}`, expected: 'port' in expected ? `${expected.address}:${expected.port}` : expected.address },
      }),
      promptEnded: (playId, result) => deps.notify('promptEnded', { bridgeId: id, playId, result }),
    };
  }

  get legCount(): number {
    return this.list.length;
  }

  /** The leg whose packet arrivals the tick phase should follow: the first customer leg with traffic. */
  get phaseLeg(): Leg | undefined {
    return this.list.find((l) => l.role === 'customer' && l.playout.arrivalCount >= 8) ?? this.list.find((l) => l.playout.arrivalCount >= 8);
  }

  async addLeg(legId: string, role: LegRole, rtpPort: number): Promise<LocalPorts> {
    this.assertOpen();
    if (this.legs.has(legId)) throw new MediaError('DUPLICATE', `bridge ${this.id}: leg ${legId} exists`);
    if (role !== 'customer' && role !== 'agent') throw new MediaError('BAD_CONFIG', `leg role ${String(role)}`);
    const local = { address: this.deps.address, rtpPort, rtcpPort: rtpPort + 1 };
    const leg = new Leg(legId, role, local, this.opts.mask ?? 'silence', this.opts.rtcpIntervalMs ?? 5000, this.hooks);
    this.legs.set(legId, leg); // reserve the id while binding
    try {
      leg.ports = await this.deps.udp(this.deps.address, rtpPort, {
        rtp: leg.onRtp,
        rtcp: leg.onRtcp,
        error: (err) => this.deps.notify('log', { level: 'debug', msg: 'media: socket error', data: { bridge: this.id, leg: legId, err: err.message } }),
      });
    } catch (err) {
      this.legs.delete(legId);
      const code = (err as NodeJS.ErrnoException).code;
      throw code === 'EADDRINUSE' ? new MediaError('EADDRINUSE', `port ${rtpPort} or ${rtpPort + 1} in use`) : err;
    }
    if (this.closed) {
      await leg.close();
      throw new MediaError('CLOSED', `bridge ${this.id} closed`);
    }
    this.list = [...this.legs.values()];
    this.resolve();
    return local;
  }

  configureLeg(legId: string, cfg: LegConfig): void {
    this.leg(legId).configure(cfg);
  }

  setMode(mode: BridgeMode): void {
    if (mode !== 'normal' && mode !== 'capture') throw new MediaError('BAD_CONFIG', `mode ${String(mode)}`);
    this.mode = mode;
    this.matrix = null;
    this.resolve();
  }

  /** A custom matrix; legs it does not name hear nothing but their prompts. */
  setMatrix(m: MuteMatrix): void {
    try {
      validateMatrix(m, new Set(this.legs.keys()));
    } catch (err) {
      throw new MediaError('BAD_CONFIG', (err as Error).message);
    }
    this.matrix = structuredClone(m);
    this.resolve();
  }

  play(legId: string, playId: number, items: WirePromptItem[], bargeIn: boolean): void {
    const leg = this.leg(legId);
    const resolved: PlayItem[] = items.map((it) => {
      if ('id' in it) {
        try {
          return { pcm: this.deps.library.get(it.id) };
        } catch (err) {
          throw new MediaError('PROMPT_NOT_FOUND', (err as Error).message);
        }
      }
      if ('pcm' in it) {
        if (!(it.pcm instanceof Int16Array)) throw new MediaError('BAD_CONFIG', 'prompt pcm must be an Int16Array');
        return { pcm: it.pcm };
      }
      if (!(it.silenceMs >= 0)) throw new MediaError('BAD_CONFIG', `silenceMs ${it.silenceMs}`);
      return { silence: Math.round(it.silenceMs * 8) };
    });
    leg.player.enqueue(playId, resolved, bargeIn);
  }

  stopPrompts(legId: string): void {
    this.leg(legId).player.stop();
  }

  /** One 20 ms frame. */
  tick(now: number): void {
    const legs = this.list;
    for (let i = 0; i < legs.length; i++) legs[i]!.produce(now);
    const bus = this.bus;
    const wall = Date.now();
    for (let i = 0; i < legs.length; i++) {
      const leg = legs[i]!;
      const row = leg.row;
      bus.clear();
      for (let s = 0; s < row.sources.length; s++) bus.add(row.sources[s]!.source);
      if (leg.player.render(this.promptBuf) && row.prompt) bus.add(this.promptBuf);
      if (row.captureTone) {
        leg.captureTone.render(this.toneBuf);
        bus.add(this.toneBuf);
      }
      bus.render(this.out);
      leg.transmit(this.out, wall);
      leg.pollRtcp(now);
    }
    this.frames++;
  }

  /**
   * A frame the worker had to skip (thread blocked > 80 ms): its audio is consumed unheard and
   * every sent stream's timestamp moves on, so the call stays in step with the wall clock.
   */
  skip(now: number): void {
    for (const leg of this.list) {
      leg.produce(now);
      leg.player.render(this.promptBuf);
      leg.sender.skip();
    }
    this.frames++;
  }

  stats(): BridgeStats {
    return { id: this.id, mode: this.mode, slot: this.slot, legs: this.list.map((l) => l.stats()) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const legs = [...this.legs.values()];
    this.list = [];
    await Promise.all(legs.map((l) => l.close()));
  }

  private leg(legId: string): Leg {
    this.assertOpen();
    const leg = this.legs.get(legId);
    if (!leg || !this.list.includes(leg)) throw new MediaError('NO_SUCH_LEG', `bridge ${this.id} has no leg ${legId}`);
    return leg;
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('CLOSED', `bridge ${this.id} closed`);
  }

  /** Turn the preset or custom matrix into each leg's row of Leg references. */
  private resolve(): void {
    const legs = this.list.map((l) => ({ id: l.id, role: l.role }));
    const m = this.matrix ?? presetMatrix(this.mode, legs, this.opts.captureTone ?? false);
    for (const leg of this.list) {
      const row = m[leg.id];
      leg.row = row
        ? { sources: row.legs.flatMap((id) => this.legs.get(id) ?? []), prompt: row.prompt, captureTone: row.captureTone }
        : { sources: [], prompt: true, captureTone: false };
    }
  }
}
