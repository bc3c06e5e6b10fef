import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One merchant notification waiting to be delivered: the exact bytes to POST, under its idempotency key. */
export interface OutboxEntry {
  /** The Idempotency-Key: `<sessionId>:<outcome>`. */
  readonly id: string;
  /** The JSON body, fixed at enqueue: every retry (and a restart) sends the same bytes. */
  readonly body: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/**
 * Where outcomes wait until the merchant has them (docs/operations.md, "Merchant webhook"):
 * durable before `append` resolves, so an outcome is never lost across a restart, and an entry
 * leaves only by `settle` (delivered, or given up after the last attempt).
 */
export interface Outbox {
  /** False when this id is already waiting or was settled recently (nothing written). */
  append(entry: OutboxEntry): Promise<boolean>;
  /** Entries waiting, oldest first. */
  pending(): Promise<OutboxEntry[]>;
  settle(id: string, how: 'delivered' | 'dead'): Promise<void>;
  /** Entries waiting now (for the metrics gauge). */
  size(): number;
  close(): Promise<void>;
}

type Line = { op: 'add'; entry: OutboxEntry } | { op: 'delivered' | 'dead'; id: string };

/** Settled ids remembered to refuse a second enqueue of the same outcome (bounded). */
const RECENT = 10_000;
/** Compact once this many settled lines are in the journal and they outnumber the waiting ones. */
const COMPACT_AFTER = 1_000;

/**
 * The outbox without Redis: an append-only JSON Lines journal (`WEBHOOK_OUTBOX`). Each entry is
 * an `add` line, fsynced before append() resolves; delivery appends a `delivered` (or `dead`)
 * marker. At open the journal is replayed (a torn last line from a crash is skipped) and
 * compacted: rewritten to a temporary file with the waiting entries only, fsynced and renamed over
 * the journal (rename is atomic, so a crash leaves either file whole). Compaction also runs when
 * settled lines pile up. One gateway process per journal file.
 */
export class FileOutbox implements Outbox {
  readonly #pending = new Map<string, OutboxEntry>();
  readonly #recent = new Set<string>();
  #fh: FileHandle | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #settledLines = 0;
  /** Lines of the journal that did not parse at open (a torn write), for the log. */
  readonly skippedLines: number;

  private constructor(
    readonly path: string,
    skipped: number,
  ) {
    this.skippedLines = skipped;
  }

  static async open(path: string): Promise<FileOutbox> {
    mkdirSync(dirname(path), { recursive: true });
    let skipped = 0;
    const lines: Line[] = [];
    if (existsSync(path)) {
      for (const text of readFileSync(path, 'utf8').split('\n')) {
        if (!text.trim()) continue;
        try {
          lines.push(JSON.parse(text) as Line);
        } catch {
          skipped++;
        }
      }
    }
    const ob = new FileOutbox(path, skipped);
    for (const l of lines) {
      if (l.op === 'add' && typeof l.entry?.id === 'string' && typeof l.entry.body === 'string') {
        if (!ob.#recent.has(l.entry.id)) ob.#pending.set(l.entry.id, l.entry);
      } else if ((l.op === 'delivered' || l.op === 'dead') && typeof l.id === 'string') {
        ob.#pending.delete(l.id);
        ob.#remember(l.id);
      }
    }
    await ob.#compact();
    return ob;
  }

  size(): number {
    return this.#pending.size;
  }

  append(entry: OutboxEntry): Promise<boolean> {
    return this.#serial(async () => {
      if (this.#pending.has(entry.id) || this.#recent.has(entry.id)) return false;
      await this.#write({ op: 'add', entry });
      this.#pending.set(entry.id, entry);
      return true;
    });
  }

  async pending(): Promise<OutboxEntry[]> {
    return [...this.#pending.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  settle(id: string, how: 'delivered' | 'dead'): Promise<void> {
    return this.#serial(async () => {
      if (!this.#pending.has(id)) return;
      await this.#write({ op: how, id });
      this.#pending.delete(id);
      this.#remember(id);
      if (++this.#settledLines >= COMPACT_AFTER && this.#settledLines > this.#pending.size) await this.#compact();
    });
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      await this.#fh?.close();
      this.#fh = undefined;
    });
  }

  #remember(id: string): void {
    this.#recent.add(id);
    if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.values().next().value as string);
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(f);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #write(line: Line): Promise<void> {
    if (!this.#fh) throw new Error('webhook outbox is closed');
    await this.#fh.appendFile(`${JSON.stringify(line)}\n`);
    await this.#fh.sync(); // durable before we say so
  }

  /** Rewrites the journal with the waiting entries only (temp file, fsync, atomic rename). */
  async #compact(): Promise<void> {
    await this.#fh?.close();
    const tmp = `${this.path}.tmp`;
    const t = await open(tmp, 'w', 0o600);
    try {
      const text = [...this.#pending.values()].map((entry) => `${JSON.stringify({ op: 'add', entry } satisfies Line)}\n`).join('');
      await t.writeFile(text);
      await t.sync();
    } finally {
      await t.close();
    }
    await rename(tmp, this.path);
    const d = await open(dirname(this.path), 'r'); // the rename itself durable (POSIX: fsync the directory)
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    this.#settledLines = 0;
    this.#fh = await open(this.path, 'a', 0o600);
  }
}
