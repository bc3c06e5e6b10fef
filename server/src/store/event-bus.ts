/**
 * The event bus between capture (publisher) and the api/ event hub (subscriber): memory by default,
 * Redis for scale-out, hence Promise-returning. Generic over the event union so this layer
 * does not depend on capture/ (the layer rule of docs/architecture.md); capture's `SessionEvent` is the `E` in
 * practice.
 *
 * Sequence numbers are per session, start at 1, have no gaps, and are assigned by the bus on
 * publish. A bounded per-session history lets a reconnecting client resume from the last seq it saw
 * ("Reconnection resumes from the last sequence number without losing events").
 */
export interface BusEvent {
  readonly type: string;
  readonly sessionId: string;
  readonly seq: number;
  /** ISO 8601 wall time, set by the publisher. */
  readonly at: string;
}

/** An event as published: the bus adds `seq`. Distributes over unions. */
export type Unsequenced<E> = E extends unknown ? Omit<E, 'seq'> : never;

export interface SubscribeOptions {
  /** Only this session's events. */
  readonly sessionId?: string;
  /**
   * Resume: per session, the last seq the subscriber saw. Retained events after it are delivered
   * (in order, before any live one) and nothing is delivered twice or skipped.
   */
  readonly resume?: Readonly<Record<string, number>>;
  /**
   * Only events published by this gateway instance (metrics, audit: each instance counts its own).
   * The memory bus has one instance, so there it changes nothing.
   */
  readonly localOnly?: boolean;
}

export interface Subscription {
  /** Sessions whose resume point is older than the retained history: events were lost; refetch the session record. */
  readonly truncated: readonly string[];
  /** Idempotent. */
  unsubscribe(): Promise<void>;
}

export interface ReplayResult<E> {
  /** Retained events with seq > afterSeq, oldest first. */
  readonly events: E[];
  /** True when events after `afterSeq` are no longer retained (gap). */
  readonly truncated: boolean;
  /** The session's latest seq (0 when unknown). */
  readonly lastSeq: number;
}

export interface EventBus<E extends BusEvent = BusEvent> {
  /** Stamps the next seq for the event's session, retains and delivers it; resolves to the stamped event. */
  publish(event: Unsequenced<E>): Promise<E>;
  /**
   * Listener exceptions are caught and reported, never thrown into the publisher (docs/architecture.md
   * practice 8): one bad subscriber must not end a call.
   */
  subscribe(listener: (event: E) => void, options?: SubscribeOptions): Promise<Subscription>;
  replay(sessionId: string, afterSeq: number): Promise<ReplayResult<E>>;
  /** Idempotent; later publish/subscribe calls reject. */
  close(): Promise<void>;
}

export class EventBusClosedError extends Error {
  constructor() {
    super('event bus is closed');
    this.name = 'EventBusClosedError';
  }
}
