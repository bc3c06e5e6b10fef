import type { Logger } from '../observability/logger.js';

/**
 * Why the gateway closes its parts: asked to (`shutdown`: SIGTERM, SIGINT, a test's `close()`) or
 * because its start failed half-way (`start-failed`: a port in use, a bad certificate, a worker
 * that did not come up). Either way every part built so far is closed, once.
 */
export type CloseCause = 'shutdown' | 'start-failed';

interface Part {
  readonly name: string;
  readonly close: (cause: CloseCause) => Promise<void> | void;
}

/**
 * The gateway's parts in the order they were built, closed in the reverse order (mediasoup's
 * close() cascade: a part closes before what it was built on). A part that fails to close is
 * logged by name and the others still close.
 */
export class OwnedParts {
  readonly #parts: Part[] = [];
  #closing: Promise<void> | undefined;

  constructor(private readonly log: Pick<Logger, 'error'>) {}

  /** Registers a part just built; returns it, so `const x = owned.add('x', make(), (x) => x.close())` reads in one line. */
  add<T>(name: string, part: T, close: (part: T, cause: CloseCause) => Promise<void> | void): T {
    if (this.#closing) throw new Error(`${name}: built after the gateway began to close`);
    this.#parts.push({ name, close: (cause) => close(part, cause) });
    return part;
  }

  /** The names of the parts, in the order they close. */
  closeOrder(): string[] {
    return this.#parts.map((p) => p.name).reverse();
  }

  /** Closes every part, last built first; a second call returns the first one's promise. */
  close(cause: CloseCause): Promise<void> {
    return (this.#closing ??= (async () => {
      for (const p of [...this.#parts].reverse()) {
        try {
          await p.close(cause);
        } catch (err) {
          this.log.error({ err, part: p.name, cause }, 'a part failed to close; closing the others');
        }
      }
    })());
  }
}
