/**
 * Prompt player of one listening leg: a queue of play requests, each a list of items (prompt
 * audio or silence), rendered 20 ms at a time into the listener's mix.
 *
 * - Requests play in order; each ends exactly once: 'done' after its last sample, 'barged' when
 *   a digit arrives from the listener's own leg while it plays and it allowed barge-in, or
 *   'stopped' by stop() (and when the bridge closes).
 * - Barge-in stops the request that is playing, not the ones queued after it (a capture flow
 *   that wants a clean slate calls stop()).
 * - The player advances whether or not the mute matrix lets the listener hear it.
 */
import { FRAME } from '../clock/frame.js';

export type PromptResult = 'done' | 'barged' | 'stopped';
export type PlayItem = { pcm: Int16Array } | { silence: number };

interface Request {
  id: number;
  items: PlayItem[];
  bargeIn: boolean;
  item: number;
  offset: number;
}

export class PromptPlayer {
  private readonly queue: Request[] = [];

  constructor(private readonly onEnded: (id: number, result: PromptResult) => void) {}

  get playing(): boolean {
    return this.queue.length > 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  enqueue(id: number, items: PlayItem[], bargeIn: boolean): void {
    this.queue.push({ id, items, bargeIn, item: 0, offset: 0 });
  }

  /** The next 20 ms into out[0..160); returns false (and leaves out untouched) when idle. */
  render(out: Int16Array): boolean {
    if (this.queue.length === 0) return false;
    let i = 0;
    while (i < FRAME && this.queue.length > 0) {
      const r = this.queue[0]!;
      const item = r.items[r.item];
      if (!item) {
        this.queue.shift();
        this.onEnded(r.id, 'done');
        continue;
      }
      const total = 'pcm' in item ? item.pcm.length : Math.max(0, Math.round(item.silence));
      const n = Math.min(FRAME - i, total - r.offset);
      if ('pcm' in item) {
        const src = item.pcm;
        for (let k = 0; k < n; k++) out[i + k] = src[r.offset + k]!;
      } else {
        out.fill(0, i, i + n);
      }
      i += n;
      r.offset += n;
      if (r.offset >= total) {
        r.item++;
        r.offset = 0;
      }
    }
    out.fill(0, i, FRAME);
    // A request whose last item just finished ends now rather than one frame later.
    while (this.queue.length > 0 && this.queue[0]!.item >= this.queue[0]!.items.length) {
      this.onEnded(this.queue.shift()!.id, 'done');
    }
    return true;
  }

  /** A digit from the listener's leg: ends the playing request if it allows barge-in. */
  bargeIn(): boolean {
    const r = this.queue[0];
    if (!r || !r.bargeIn) return false;
    this.queue.shift();
    this.onEnded(r.id, 'barged');
    return true;
  }

  /** End every request (playing and queued) as 'stopped'. */
  stop(): void {
    const all = this.queue.splice(0);
    for (const r of all) this.onEnded(r.id, 'stopped');
  }
}
