/**
 * A typed event emitter whose emit() never lets a listener's exception escape
 * (docs/architecture.md practice 8, mediasoup's safeEmit): one bad listener must not end a call.
 */
export class SafeEmitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  constructor(private readonly onListenerError: (err: unknown, event: string) => void = () => {}) {}

  on<K extends keyof Events>(event: K, fn: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => void set.delete(fn);
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (err) {
        this.onListenerError(err, String(event));
      }
    }
  }

  removeAll(): void {
    this.listeners.clear();
  }
}
