/**
 * The main thread's handle on a bridge that lives in a media worker (the `Bridge` of plane.ts).
 * Every method is one numbered request on the worker's channel; digits, latching and prompt
 * ends come back as notifications. Prompt plays resolve on the worker's `promptEnded`
 * notification (a prompt may outlast any request timeout), or with 'stopped' when the bridge
 * closes or its worker dies.
 */
import { SafeEmitter } from '../../lib/emitter.js';
import type { PortAllocator } from '../port-allocator.js';
import {
  MediaError,
  type BridgeMode,
  type BridgeStats,
  type DigitEndedEvent,
  type DigitEvent,
  type LegConfig,
  type LegRole,
  type LocalPorts,
  type MediaErrorCode,
  type MediaMethods,
  type MediaNotifications,
  type MuteMatrix,
  type PromptResult,
  type WirePromptItem,
} from '../engine/protocol.js';
import { ChannelError, type Channel } from './channel.js';

export type BridgeEvents = {
  digit: (d: DigitEvent) => void;
  /** An RFC 4733 event reported as a digit ended (its duration, for logs). */
  digitEnded: (d: DigitEndedEvent) => void;
  closed: (reason: string) => void;
  latched: (legId: string, from: { address: string; port: number }) => void;
};

/**
 * Ports tried when the one allocated is bound by another process (EADDRINUSE): the allocator hands
 * out consecutive pairs, so this many escapes a block of up to 31 pairs another program holds in
 * the range. Each try is one round trip to the worker.
 */
const BIND_ATTEMPTS = 32;

/** ChannelError from the worker -> MediaError with the worker's code; other errors unchanged. */
export function mediaError(err: unknown): unknown {
  if (err instanceof ChannelError && err.code === 'REMOTE' && err.remoteCode) return new MediaError(err.remoteCode as MediaErrorCode, err.message);
  return err;
}

export class RemoteBridge {
  readonly events: SafeEmitter<BridgeEvents>;
  private readonly ports = new Set<number>();
  /** Each leg's role, as added (signalled digits carry it like the worker's). */
  private readonly roles = new Map<string, LegRole>();
  private readonly plays = new Map<number, (r: PromptResult) => void>();
  private closing: Promise<void> | undefined;
  private ended = false;

  constructor(
    readonly id: string,
    readonly worker: number,
    private readonly channel: Channel<MediaMethods, MediaNotifications>,
    private readonly allocator: PortAllocator,
    private readonly nextPlayId: () => number,
    private readonly onGone: (b: RemoteBridge) => void,
    onListenerError: (err: unknown, event: string) => void,
  ) {
    this.events = new SafeEmitter<BridgeEvents>(onListenerError);
  }

  get closed(): boolean {
    return this.ended || this.closing !== undefined;
  }

  /** Bind an RTP/RTCP port pair for a new leg (ports from the plane's allocator, RFC 3550 §11). */
  async addRtpLeg(legId: string, role: LegRole): Promise<LocalPorts> {
    let lastError: unknown;
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      this.assertOpen();
      const port = this.allocator.allocate(); // PortExhaustedError propagates
      try {
        const local = await this.channel.request('addLeg', { bridgeId: this.id, legId, role, rtpPort: port });
        if (this.closed) this.allocator.release(port);
        else {
          this.ports.add(port);
          this.roles.set(legId, role);
        }
        return local;
      } catch (err) {
        this.allocator.release(port);
        lastError = mediaError(err);
        if (!(lastError instanceof MediaError && lastError.code === 'EADDRINUSE')) throw lastError;
      }
    }
    throw lastError;
  }

  configureLeg(legId: string, cfg: LegConfig): Promise<void> {
    return this.call('configureLeg', { bridgeId: this.id, legId, cfg });
  }

  setMode(mode: BridgeMode): Promise<void> {
    return this.call('setMode', { bridgeId: this.id, mode });
  }

  setMatrix(matrix: MuteMatrix): Promise<void> {
    return this.call('setMatrix', { bridgeId: this.id, matrix });
  }

  play(listenerLegId: string, items: WirePromptItem[], opts: { bargeIn: boolean }): Promise<PromptResult> {
    if (this.closed) return Promise.reject(new MediaError('CLOSED', `bridge ${this.id} closed`));
    const playId = this.nextPlayId();
    return new Promise<PromptResult>((resolve, reject) => {
      this.plays.set(playId, resolve);
      this.channel.request('play', { bridgeId: this.id, legId: listenerLegId, playId, items, bargeIn: opts.bargeIn }).catch((err: unknown) => {
        if (this.plays.delete(playId)) reject(mediaError(err));
      });
    });
  }

  /**
   * A digit the leg's peer signalled on the call's dialog (SIP INFO, RFC 6086), not in its media:
   * emitted as a `digit` like the worker's, so a listener has one source of digits per bridge.
   * The worker never saw it, so it barged in on nothing. Unknown legs and a closed bridge: ignored.
   */
  signalledDigit(legId: string, digit: string, durationMs: number | undefined): void {
    const role = this.roles.get(legId);
    if (!role || this.closed) return;
    this.events.emit('digit', { legId, role, digit, transport: 'info', at: Date.now(), ...(durationMs !== undefined ? { durationMs } : {}) });
  }

  stopPrompts(listenerLegId: string): Promise<void> {
    return this.call('stopPrompts', { bridgeId: this.id, legId: listenerLegId });
  }

  stats(): Promise<BridgeStats> {
    return this.call('bridgeStats', { bridgeId: this.id });
  }

  /** Idempotent: closes the worker side, frees the ports, ends pending prompts, emits `closed`. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.ended) await this.channel.request('closeBridge', { id: this.id, reason: 'closed' }).catch(() => {});
      this.end('closed');
    })();
    return this.closing;
  }

  /** From the plane: a notification for this bridge. */
  onNotification<K extends keyof MediaNotifications>(event: K, data: MediaNotifications[K]): void {
    if (event === 'digit') {
      const { bridgeId: _b, ...d } = data as MediaNotifications['digit'];
      this.events.emit('digit', d);
    } else if (event === 'digitEnded') {
      const { bridgeId: _b, ...d } = data as MediaNotifications['digitEnded'];
      this.events.emit('digitEnded', d);
    } else if (event === 'latched') {
      const d = data as MediaNotifications['latched'];
      this.events.emit('latched', d.legId, { address: d.address, port: d.port });
    } else if (event === 'promptEnded') {
      const d = data as MediaNotifications['promptEnded'];
      const resolve = this.plays.get(d.playId);
      this.plays.delete(d.playId);
      resolve?.(d.result);
    } else if (event === 'bridgeClosed') {
      this.end((data as MediaNotifications['bridgeClosed']).reason);
    }
  }

  /** The bridge is gone (closed, failed, or its worker died). Emits `closed` once. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const p of this.ports) this.allocator.release(p);
    this.ports.clear();
    const plays = [...this.plays.values()];
    this.plays.clear();
    for (const resolve of plays) resolve('stopped');
    this.onGone(this);
    this.events.emit('closed', reason);
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('CLOSED', `bridge ${this.id} closed`);
  }

  private async call<K extends keyof MediaMethods & string>(method: K, params: MediaMethods[K][0]): Promise<MediaMethods[K][1]> {
    this.assertOpen();
    try {
      return await this.channel.request(method, params);
    } catch (err) {
      throw mediaError(err);
    }
  }
}
