import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import { RegistrarLimits } from '../../sip/constants.js';

/**
 * Agent registrar: the binding logic of RFC 3261 10.3 steps 6-8 on plain values, no sockets.
 * The SIP stack authenticates (steps 1-5), parses Contact with parseContacts() and builds the
 * response from the RegisterResult.
 *
 * Bindings expire on the clock, lazily: every lookup drops the expired bindings of the AOR it
 * reads, and sweep() drops them everywhere (call it from a periodic timer). No timer per binding.
 * Each binding remembers the transport flow it came on, so requests to an agent go back over the
 * connection it registered on (RFC 5626 5.2 flavour); removeFlow() drops a closed connection's.
 */
export interface ContactBinding {
  readonly uri: string;
  /** Contact header parameters as sent, minus `expires` (the registrar sets that, step 8). */
  readonly params?: Readonly<Record<string, string>>;
  readonly flowId: string;
  /** Clock time (ms) at which the binding lapses. */
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  /** `+sip.instance` (RFC 5626 4.1): identifies the binding across Contact URI changes. */
  readonly instance?: string;
  /** Path header values (RFC 3327 5.3): requests to the agent go through these proxies. */
  readonly path?: readonly string[];
  /** INSTANCE_ID of the gateway that accepted it (set for bindings shared through the registration directory). */
  readonly gateway?: string;
}

/** A Contact of a REGISTER, as parseContacts() returns it. */
export interface ContactRequest {
  readonly uri: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly expires?: number;
  readonly instance?: string;
}

/** A binding as listed in the 200 OK, with its remaining `expires` in seconds (10.3 step 8). */
export interface RegisteredContact extends ContactBinding {
  readonly expires: number;
}

export type RegisterResult =
  | { readonly status: 200; readonly bindings: RegisteredContact[] }
  | { readonly status: 400; readonly reason: string }
  | { readonly status: 423; readonly reason: 'Interval Too Brief'; readonly minExpires: number }
  | { readonly status: 500; readonly reason: string };

export type BindingsListener = (aor: string, bindings: readonly ContactBinding[]) => void;

export interface RegistrarOptions {
  readonly clock: Clock;
  /** Seconds; defaults from RegistrarLimits (sip/constants.ts). */
  readonly minExpires?: number;
  readonly maxExpires?: number;
  readonly defaultExpires?: number;
  /** Most bindings per AOR; the longest-standing one makes room for a new one (default 10). */
  readonly maxBindingsPerAor?: number;
  readonly logger?: Pick<Logger, 'warn'>;
}

type Bindings = Map<string, ContactBinding>;

/**
 * Binding identity: `+sip.instance` (+ `reg-id`) when present (RFC 5626 6), otherwise the
 * Contact URI compared with a case-insensitive scheme and host (RFC 3261 19.1.4, simplified:
 * parameters are compared as written).
 */
export function bindingKey(c: { uri: string; instance?: string; params?: Readonly<Record<string, string>> }): string {
  if (c.instance !== undefined) return `instance:${c.instance}|${c.params?.['reg-id'] ?? ''}`;
  const m = /^([^:]+):(?:([^@;?]*)@)?([^;?]*)(.*)$/s.exec(c.uri);
  if (!m) return `uri:${c.uri}`;
  const [, scheme, user, host, rest] = m;
  return `uri:${scheme!.toLowerCase()}:${user === undefined ? '' : `${user}@`}${host!.toLowerCase()}${rest}`;
}

export class Registrar {
  private readonly clock: Clock;
  private readonly min: number;
  private readonly max: number;
  private readonly dflt: number;
  private readonly maxPerAor: number;
  private readonly logger: Pick<Logger, 'warn'> | undefined;
  private readonly aors = new Map<string, Bindings>();
  private readonly listeners = new Set<BindingsListener>();

  constructor(opts: RegistrarOptions) {
    this.clock = opts.clock;
    this.min = opts.minExpires ?? RegistrarLimits.MIN_EXPIRES;
    this.max = opts.maxExpires ?? RegistrarLimits.MAX_EXPIRES;
    this.dflt = opts.defaultExpires ?? RegistrarLimits.DEFAULT_EXPIRES;
    this.maxPerAor = opts.maxBindingsPerAor ?? 10;
    this.logger = opts.logger;
    if (!(this.min >= 0 && this.min <= this.dflt && this.dflt <= this.max) || this.maxPerAor < 1) {
      throw new RangeError('Registrar: need 0 <= minExpires <= defaultExpires <= maxExpires and maxBindingsPerAor >= 1');
    }
  }

  /** Subscribes to binding-set changes of any AOR (appear, disappear, expire). Returns unsubscribe. */
  onChange(listener: BindingsListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * RFC 3261 10.3 steps 6-8 for one REGISTER to `aor`. `contacts` are the request's Contact
   * values (empty: a query), or '*'. `expiresHeader` is the Expires header, if any. All updates
   * are applied or none (10.3 step 7, last paragraph).
   */
  register(
    aor: string,
    contacts: readonly ContactRequest[] | '*',
    expiresHeader: number | undefined,
    callId: string,
    cseq: number,
    flowId: string,
    via?: { readonly path?: readonly string[]; readonly gateway?: string },
  ): RegisterResult {
    const before = this.live(aor);
    // Step 6: `*` is only valid alone and with Expires: 0.
    if (contacts === '*') {
      if (expiresHeader !== 0) return { status: 400, reason: 'Contact * requires Expires: 0' };
      for (const b of before.values()) {
        // Step 6/7: a binding from this Call-ID is only removed by a higher CSeq.
        if (b.callId === callId && cseq <= b.cseq) return outOfOrder();
      }
      this.commit(aor, before, new Map());
      return { status: 200, bindings: [] };
    }

    // Step 6: contact `expires` param, else Expires header, else the local default.
    // RFC 3261 20.19: a malformed Expires is treated as 3600; the caller passes NaN or a negative.
    const header = expiresHeader === undefined ? undefined : validDelta(expiresHeader) ? expiresHeader : 3600;
    const requested = contacts.map((c) => c.expires ?? header ?? this.dflt);
    // 10.3 step 6 / 21.4.17: reject 0 < expires < min (and < 1 hour) with 423 and Min-Expires.
    if (requested.some((e) => e > 0 && e < this.min && e < 3600)) {
      return { status: 423, reason: 'Interval Too Brief', minExpires: this.min };
    }

    const now = this.clock.now();
    const after: Bindings = new Map(before);
    for (const [i, c] of contacts.entries()) {
      const key = bindingKey(c);
      const existing = before.get(key);
      // Step 7: same Call-ID needs a higher CSeq, otherwise the whole update is aborted.
      if (existing && existing.callId === callId && cseq <= existing.cseq) return outOfOrder();
      const expires = Math.min(requested[i]!, this.max); // the registrar MAY shorten (step 6)
      if (expires === 0) {
        after.delete(key);
        continue;
      }
      const { expires: _dropped, ...params } = c.params ?? {};
      after.delete(key); // re-insert so insertion order is "most recently registered last"
      after.set(key, {
        uri: c.uri,
        ...(c.params ? { params } : {}),
        flowId,
        expiresAt: now + expires * 1000,
        callId,
        cseq,
        ...(c.instance !== undefined ? { instance: c.instance } : {}),
        ...(via?.path?.length ? { path: via.path } : {}),
        ...(via?.gateway !== undefined ? { gateway: via.gateway } : {}),
      });
    }
    // Bounded: the longest-standing bindings make room (a softphone that died without
    // unregistering must not lock its agent out until expiry).
    for (const key of after.keys()) {
      if (after.size <= this.maxPerAor) break;
      after.delete(key);
    }
    this.commit(aor, before, after);
    // Step 8: 200 OK lists every current binding with its remaining expires.
    return { status: 200, bindings: [...after.values()].map((b) => this.view(b, now)) };
  }

  /**
   * Replaces the bindings of `aor` with `bindings` as read from the registration directory
   * (store/redis-registrations.ts), before a REGISTER or a lookup on this gateway works on them.
   */
  seed(aor: string, bindings: readonly ContactBinding[]): void {
    const before = this.aors.get(aor) ?? new Map<string, ContactBinding>();
    this.commit(aor, before, new Map(bindings.map((b) => [bindingKey(b), b])));
  }

  /** The registrar's clock (binding expiries are on it). */
  now(): number {
    return this.clock.now();
  }

  /** Live bindings of `aor` (expired ones are dropped first). */
  bindings(aor: string): ContactBinding[] {
    return [...this.live(aor).values()];
  }

  /** Live bindings with remaining expires, as for a 200 OK to a query. */
  contacts(aor: string): RegisteredContact[] {
    const now = this.clock.now();
    return this.bindings(aor).map((b) => this.view(b, now));
  }

  isRegistered(aor: string): boolean {
    return this.live(aor).size > 0;
  }

  /** Every AOR with at least one live binding. */
  registeredAors(): string[] {
    this.sweep();
    return [...this.aors.keys()];
  }

  /** Drops the bindings that came on a transport flow that has closed. Returns how many. */
  removeFlow(flowId: string): number {
    let removed = 0;
    for (const aor of [...this.aors.keys()]) {
      const before = this.live(aor);
      const after: Bindings = new Map([...before].filter(([, b]) => b.flowId !== flowId));
      removed += before.size - after.size;
      this.commit(aor, before, after);
    }
    return removed;
  }

  /** Drops every expired binding. Returns how many. */
  sweep(): number {
    let removed = 0;
    for (const aor of [...this.aors.keys()]) {
      const n = this.aors.get(aor)!.size;
      removed += n - this.live(aor).size;
    }
    return removed;
  }

  /** Current bindings after lazy expiry; emits a change when some lapsed. */
  private live(aor: string): Bindings {
    const current = this.aors.get(aor);
    if (!current) return new Map();
    const now = this.clock.now();
    const alive: Bindings = new Map([...current].filter(([, b]) => b.expiresAt > now));
    if (alive.size !== current.size) this.commit(aor, current, alive);
    return alive;
  }

  private commit(aor: string, before: Bindings, after: Bindings): void {
    if (after.size === 0) this.aors.delete(aor);
    else this.aors.set(aor, after);
    if (changed(before, after)) this.emit(aor, [...after.values()]);
  }

  /** A listener's exception never breaks registration (docs/architecture.md practice 8). */
  private emit(aor: string, bindings: readonly ContactBinding[]): void {
    for (const l of [...this.listeners]) {
      try {
        l(aor, bindings);
      } catch (err) {
        this.logger?.warn({ err, aor }, 'registrar onChange listener threw');
      }
    }
  }

  private view(b: ContactBinding, now: number): RegisteredContact {
    // Whole ms first: with a fractional clock (performance.now()) `(now + 60000) - now` can come
    // out as 60000.000000000015, and ceil would then grant 61 s for a requested 60.
    return { ...b, expires: Math.max(0, Math.ceil(Math.round(b.expiresAt - now) / 1000)) };
  }
}

function outOfOrder(): RegisterResult {
  return { status: 500, reason: 'Out of order CSeq for this Call-ID' };
}

/** delta-seconds (RFC 3261 25.1): a non-negative integer; large values are clamped to max later. */
function validDelta(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

/** A change worth telling: a binding appeared, disappeared, or moved to another URI or flow. */
function changed(before: Bindings, after: Bindings): boolean {
  if (before.size !== after.size) return true;
  for (const [k, b] of after) {
    const o = before.get(k);
    if (!o || o.uri !== b.uri || o.flowId !== b.flowId) return true;
  }
  return false;
}
