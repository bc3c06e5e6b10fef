import { SafeEmitter } from '../../../../src/lib/emitter.js';
import type { Bridge, BridgeMode, DigitEvent, LegRole, PromptResult } from '../../../../src/media/plane.js';
import type { BridgeEvents } from '../../../../src/media/worker/remote-bridge.js';

/** A bridge on the main thread only: records what calls/ asks of it; the test ends prompts and keys digits. */
export class FakeBridge {
  readonly id = 'fake-bridge';
  readonly worker = 0;
  readonly events = new SafeEmitter<BridgeEvents>();
  plays: { leg: string; clips: string[]; bargeIn: boolean; end: (r: PromptResult) => void }[] = [];
  stops: string[] = [];
  modes: BridgeMode[] = [];
  failMode: BridgeMode | undefined;

  async setMode(mode: BridgeMode): Promise<void> {
    if (mode === this.failMode) throw new Error(`cannot set ${mode}`);
    this.modes.push(mode);
  }

  play(leg: string, items: { id: string }[], opts: { bargeIn: boolean }): Promise<PromptResult> {
    return new Promise((end) => this.plays.push({ leg, clips: items.map((i) => i.id), bargeIn: opts.bargeIn, end }));
  }

  async stopPrompts(leg: string): Promise<void> {
    this.stops.push(leg);
  }

  /** The worker's digit notification (`barged`: it cut the prompt playing to that leg). */
  key(digit: string, o: { legId?: string; role?: LegRole; barged?: boolean } = {}): void {
    const role = o.role ?? 'customer';
    const d: DigitEvent = { legId: o.legId ?? role, role, digit, transport: 'rfc4733', at: 0, ...(o.barged ? { barged: true as const } : {}) };
    this.events.emit('digit', d);
  }

  asBridge(): Bridge {
    return this as unknown as Bridge;
  }
}
