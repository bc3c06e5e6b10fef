import type { Config, SupervisorCredential } from '../config/schema.js';
import { parseTrustedPeers, type TrustedPeers } from './peers.js';
import { EDGE_CAP_DEFAULTS, EDGE_RATE_DEFAULTS, PRODUCTION_VELOCITY, type EdgeCapKey, type EdgeRateKey, type RateSpec, type VelocityKey } from './rates.js';

export { EDGE_CAP_DEFAULTS, EDGE_RATE_DEFAULTS, parseRate, PRODUCTION_VELOCITY } from './rates.js';
export type { EdgeCapKey, EdgeRateKey, RateSpec, VelocityKey } from './rates.js';

/**
 * The trust-boundary settings (docs/security.md) as the parts that enforce them use them, derived
 * from the configuration (config/schema.ts: TONEGATE_MODE, TRUSTED_PEERS, REQUIRE_SIGNATURE_V2,
 * ALLOWED_MOBILE_PREFIXES, VELOCITY_LIMITS, EDGE_LIMITS, SUPERVISORS), which has already checked
 * every value: the mode's defaults filled in, the peer list compiled.
 */
export type Mode = 'demo' | 'production';

export interface TrustConfig {
  readonly mode: Mode;
  /** Undefined: TRUSTED_PEERS empty, anyone may start a payment (demo; production refuses to start). */
  readonly trustedPeers: TrustedPeers | undefined;
  /** E.164 prefixes (`+91`) a customer mobile must start with. */
  readonly mobilePrefixes: readonly string[];
  readonly velocity: Readonly<Partial<Record<VelocityKey, RateSpec>>>;
  readonly edgeRates: Readonly<Record<EdgeRateKey, RateSpec>>;
  readonly edgeCaps: Readonly<Record<EdgeCapKey, number>>;
  /** Every headers-based transfer handoff must carry a v2 signature (Request-URI, Call-ID, nonce): production, or REQUIRE_SIGNATURE_V2. */
  readonly requireSignature: boolean;
  /** Named supervisors with a TOTP secret (SUPERVISORS). */
  readonly supervisors: readonly SupervisorCredential[];
}

export function trustConfigOf(c: Config): TrustConfig {
  const mode = c.TONEGATE_MODE;
  const velocity: Partial<Record<VelocityKey, RateSpec>> = mode === 'production' ? { ...PRODUCTION_VELOCITY } : {};
  for (const [k, v] of Object.entries(c.VELOCITY_LIMITS ?? {}) as [VelocityKey, RateSpec | 'off'][]) {
    if (v === 'off') delete velocity[k];
    else velocity[k] = v;
  }
  return {
    mode,
    trustedPeers: c.TRUSTED_PEERS.length ? parseTrustedPeers(c.TRUSTED_PEERS.map((p) => p.text).join(',')) : undefined,
    mobilePrefixes: c.ALLOWED_MOBILE_PREFIXES,
    velocity,
    edgeRates: { ...EDGE_RATE_DEFAULTS, ...c.EDGE_LIMITS?.rates },
    edgeCaps: { ...EDGE_CAP_DEFAULTS, ...c.EDGE_LIMITS?.caps },
    requireSignature: mode === 'production' || c.REQUIRE_SIGNATURE_V2 === true,
    supervisors: c.SUPERVISORS,
  };
}
