/**
 * A small typed event emitter. A listener that throws is reported on the console and never stops
 * the other listeners or the caller (docs/architecture.md practice 8: a listener's exception never ends a call).
 */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(type: K, fn: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => set.delete(fn as (payload: never) => void);
  }

  protected emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    for (const fn of [...(this.listeners.get(type) ?? [])]) {
      try {
        (fn as (p: Events[K]) => void)(payload);
      } catch (err) {
        console.error(`listener for ${String(type)} failed`, err);
      }
    }
  }
}
