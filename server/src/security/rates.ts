/**
 * Rates and limits of the trust boundary (docs/security.md, "Customer mobiles and velocity" and
 * "Limits at the edge"): their value type, the `N/period` form the settings use, and the defaults.
 * Pure: no I/O.
 */

/** `count` events per `periodMs`, as a token bucket (rate count/period, burst count). */
export interface RateSpec {
  readonly count: number;
  readonly periodMs: number;
}

export type VelocityKey = 'source' | 'merchant' | 'mobile' | 'card';
export type EdgeRateKey = 'invite' | 'register' | 'ws-messages';
export type EdgeCapKey = 'sockets' | 'ws-per-ip';

const PERIOD: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10/1h`, `200/1s`, `5/30m`, `200/s`; undefined for anything else (or a count of 0). */
export function parseRate(text: string): RateSpec | undefined {
  const m = /^(\d{1,9})\/(\d{1,6})?([smhd])$/.exec(text.trim());
  if (!m) return undefined;
  const count = Number(m[1]);
  const periodMs = Number(m[2] ?? 1) * PERIOD[m[3]!]!;
  return count >= 1 && periodMs > 0 ? { count, periodMs } : undefined;
}

/** Defaults (docs/security.md): generous enough for bench:load from one PBX, tight enough to stop a flood. */
export const EDGE_RATE_DEFAULTS: Readonly<Record<EdgeRateKey, RateSpec>> = {
  invite: { count: 200, periodMs: 1000 },
  register: { count: 50, periodMs: 1000 },
  'ws-messages': { count: 50, periodMs: 1000 },
};
export const EDGE_CAP_DEFAULTS: Readonly<Record<EdgeCapKey, number>> = { sockets: 200, 'ws-per-ip': 50 };
/** Production velocity defaults (none in demo: the demo and its tests reuse one mobile). */
export const PRODUCTION_VELOCITY: Readonly<Partial<Record<VelocityKey, RateSpec>>> = {
  mobile: { count: 10, periodMs: 3_600_000 },
  card: { count: 5, periodMs: 3_600_000 },
};
