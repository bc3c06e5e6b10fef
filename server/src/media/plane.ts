/**
 * The media plane, main-thread API (the contract calls/ uses). RTP runs in worker threads
 * (design.md practice 7): each worker has its own drift-free clock, sockets and bridges
 * (engine/), and this module talks to them over numbered request/notification channels
 * (worker/channel.ts).
 *
 * - createBridge() places a bridge on the worker with the fewest bridges.
 * - RTP/RTCP port pairs come from one PortAllocator here, so workers never collide; the worker
 *   binds them (a port taken by another process is retried with the next pair).
 * - A worker that dies: every bridge on it emits `closed` with the reason, its ports are freed,
 *   pending prompt plays resolve 'stopped', the plane emits `workerDied`, and a replacement
 *   worker is started (calls/ hangs up those calls; no call is left without media silently).
 * - close() is idempotent; afterwards createBridge rejects.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafeEmitter } from '../lib/emitter.js';
import { MediaError, type BridgeOptions, type MediaMethods, type MediaNotifications, type WorkerStats } from './engine/protocol.js';
import { PortAllocator } from './port-allocator.js';
import { Channel } from './worker/channel.js';
import { RemoteBridge, mediaError } from './worker/remote-bridge.js';

export type { BridgeMode, BridgeOptions, BridgeStats, DigitEndedEvent, DigitEvent, DigitTransport, LegConfig, LegRole, LegSrtp, LegStats, LocalPorts, MaskKind, MuteMatrix, PromptResult, RemoteAddress, WorkerStats } from './engine/protocol.js';
export { MediaError } from './engine/protocol.js';
export type { BridgeEvents } from './worker/remote-bridge.js';

/** What a listener hears from its prompt player: a library prompt, ad-hoc 8 kHz audio, or silence. */
export type PromptItem = { id: string } | { pcm: Int16Array } | { silenceMs: number };

/** A call's bridge; see RemoteBridge for the behaviour of each method. */
export type Bridge = Pick<RemoteBridge, 'id' | 'worker' | 'events' | 'addRtpLeg' | 'configureLeg' | 'setMode' | 'setMatrix' | 'play' | 'stopPrompts' | 'signalledDigit' | 'stats' | 'close'>;

/** pino-compatible subset. */
export interface MediaLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MediaPlaneOptions {
  /** Worker threads; default os.availableParallelism(). */
  workers?: number;
  /** Local media address the RTP sockets bind to (and SDP advertises). */
  address: string;
  portMin: number;
  portMax: number;
  logger: MediaLogger;
  /** Prompt directory (`<dir>/<lang>/<id>.wav`); prompts are played by id `<lang>/<id>`. */
  promptsDir?: string;
  /** Defaults for every bridge (mask kind, capture tone, RTCP interval). */
  bridgeDefaults?: BridgeOptions;
  /** Per-request timeout on the worker channels, ms. Default 10000. */
  requestTimeoutMs?: number;
}

export interface WorkerDied {
  worker: number;
  bridges: string[];
  reason: string;
}

export interface MediaStats {
  workers: (WorkerStats & { worker: number; alive: boolean })[];
  bridges: number;
  ports: { allocated: number; capacity: number };
}

export interface MediaPlane {
  createBridge(id: string, opts?: BridgeOptions): Promise<Bridge>;
  readonly events: SafeEmitter<{ workerDied: (info: WorkerDied) => void }>;
  readonly workers: number;
  /** `resetPeaks`: restart each worker's peak figures (max lateness, max busy) after reading them. */
  stats(opts?: { resetPeaks?: boolean }): Promise<MediaStats>;
  /** RTP port pairs in use and in the range, now (for /healthz pressure; docs/security.md). */
  ports(): { allocated: number; capacity: number };
  close(): Promise<void>;
  /** Test hook: make worker `index` exit (as a crash would). */
  crashWorker(index: number): Promise<void>;
}

const WORKER = new URL(`./worker/media-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
type MediaChannel = Channel<MediaMethods, MediaNotifications>;

interface WorkerSlot {
  index: number;
  channel: MediaChannel;
  bridges: Map<string, RemoteBridge>;
  alive: boolean;
  startedAt: number;
}

class Plane implements MediaPlane {
  readonly events: SafeEmitter<{ workerDied: (info: WorkerDied) => void }>;
  private readonly slots: WorkerSlot[] = [];
  private readonly allocator: PortAllocator;
  private readonly ids = new Set<string>();
  private playId = 1;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly opts: MediaPlaneOptions,
    readonly workers: number,
  ) {
    this.allocator = new PortAllocator(opts.portMin, opts.portMax);
    this.events = new SafeEmitter((err, event) => opts.logger.error({ err, event }, 'media: listener failed'));
    for (let i = 0; i < workers; i++) this.slots.push(this.spawn(i));
  }

  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.channel.request('stats', {})));
  }

  private spawn(index: number): WorkerSlot {
    const channel: MediaChannel = Channel.spawn<MediaMethods, MediaNotifications>(WORKER, {
      timeoutMs: this.opts.requestTimeoutMs ?? 10_000,
      workerData: { address: this.opts.address, promptsDir: this.opts.promptsDir, index },
      onListenerError: (err) => this.opts.logger.error({ err }, 'media: listener failed'),
    });
    const slot: WorkerSlot = { index, channel, bridges: new Map(), alive: true, startedAt: Date.now() };
    channel.events.on('notification', (event, data) => this.route(slot, event as keyof MediaNotifications, data));
    channel.events.on('died', (reason) => this.died(slot, reason));
    return slot;
  }

  private route(slot: WorkerSlot, event: keyof MediaNotifications, data: unknown): void {
    if (event === 'log') {
      const l = data as MediaNotifications['log'];
      this.opts.logger[l.level]({ worker: slot.index, ...l.data }, l.msg);
      return;
    }
    const id = (data as { bridgeId: string }).bridgeId;
    slot.bridges.get(id)?.onNotification(event, data as never);
  }

  private died(slot: WorkerSlot, reason: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    const bridges = [...slot.bridges.values()];
    const why = `media worker ${slot.index} died: ${reason}`;
    this.opts.logger.error({ worker: slot.index, bridges: bridges.length, reason }, 'media: worker died');
    for (const b of bridges) b.end(why);
    this.events.emit('workerDied', { worker: slot.index, bridges: bridges.map((b) => b.id), reason });
    if (this.closing) return;
    // Replace it; a worker that dies within a second of starting waits a second first (no crash loop).
    const delay = Date.now() - slot.startedAt < 1000 ? 1000 : 0;
    const t = setTimeout(() => {
      if (!this.closing) this.slots[slot.index] = this.spawn(slot.index);
    }, delay);
    t.unref();
  }

  async createBridge(id: string, opts: BridgeOptions = {}): Promise<RemoteBridge> {
    if (this.closing) throw new MediaError('CLOSED', 'media plane closed');
    if (this.ids.has(id)) throw new MediaError('DUPLICATE', `bridge ${id} exists`);
    const live = this.slots.filter((s) => s.alive);
    if (live.length === 0) throw new MediaError('CLOSED', 'no media worker is running');
    const slot = live.reduce((a, b) => (b.bridges.size < a.bridges.size ? b : a));
    const bridge = new RemoteBridge(
      id, slot.index, slot.channel, this.allocator, () => this.playId++,
      (b) => {
        slot.bridges.delete(b.id);
        this.ids.delete(b.id);
      },
      (err, event) => this.opts.logger.error({ err, event, bridge: id }, 'media: listener failed'),
    );
    slot.bridges.set(id, bridge);
    this.ids.add(id);
    try {
      await slot.channel.request('createBridge', { id, opts: { ...this.opts.bridgeDefaults, ...opts } });
    } catch (err) {
      slot.bridges.delete(id);
      this.ids.delete(id);
      throw mediaError(err);
    }
    return bridge;
  }

  ports(): { allocated: number; capacity: number } {
    return { allocated: this.allocator.allocated, capacity: this.allocator.capacity };
  }

  async stats(opts: { resetPeaks?: boolean } = {}): Promise<MediaStats> {
    const workers = await Promise.all(
      this.slots.map(async (s) => {
        const base = { worker: s.index, alive: s.alive };
        const st = s.alive ? await s.channel.request('stats', opts).catch(() => undefined) : undefined;
        return { ...base, ...(st ?? { bridges: 0, legs: 0, ticks: 0, late: 0, missed: 0, skipped: 0, maxLatenessMs: 0, maxBusyMs: 0, utilisation: 0, loopUtilisation: 0, activeMs: 0, prompts: 0 }) };
      }),
    );
    return { workers, bridges: this.ids.size, ports: { allocated: this.allocator.allocated, capacity: this.allocator.capacity } };
  }

  async crashWorker(index: number): Promise<void> {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no media worker ${index}`);
    await slot.channel.request('crash', { code: 70 }).catch(() => {});
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const bridges = this.slots.flatMap((s) => [...s.bridges.values()]);
      await Promise.all(bridges.map((b) => b.close().catch(() => {})));
      await Promise.all(this.slots.map((s) => s.channel.close()));
    })();
    return this.closing;
  }
}

/** Start the media workers; resolves when every worker answers. */
export async function createMediaPlane(opts: MediaPlaneOptions): Promise<MediaPlane> {
  const workers = opts.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`media plane: ${workers} workers`);
  const plane = new Plane(opts, workers);
  try {
    await plane.ready();
  } catch (err) {
    await plane.close();
    throw err;
  }
  return plane;
}
