import { describe, expect, it } from 'vitest';
import { EDGE_RATE_DEFAULTS, loadTrustConfig, parseRate, PRODUCTION_VELOCITY, TrustConfigError } from '../../../src/security/trust-config.js';

describe('trust-boundary settings from the environment', () => {
  it('demo defaults: no peer list, +91 mobiles only, no velocity limits, edge defaults, signatures as the profile says', () => {
    const c = loadTrustConfig({});
    expect(c).toMatchObject({ mode: 'demo', trustedPeers: undefined, mobilePrefixes: ['+91'], velocity: {}, edgeRates: EDGE_RATE_DEFAULTS, requireSignature: false });
  });

  it('production: signatures required and the mobile and card velocity defaults on; VELOCITY_LIMITS overrides or turns one off', () => {
    const c = loadTrustConfig({ TONEGATE_MODE: 'production', VELOCITY_LIMITS: 'merchant:100/1m,card:off' });
    expect(c.requireSignature).toBe(true);
    expect(c.velocity).toEqual({ mobile: PRODUCTION_VELOCITY.mobile, merchant: { count: 100, periodMs: 60_000 } });
  });

  it('reads TRUSTED_PEERS, ALLOWED_MOBILE_PREFIXES and EDGE_LIMITS', () => {
    const c = loadTrustConfig({ TRUSTED_PEERS: '127.0.0.1/32,::1', ALLOWED_MOBILE_PREFIXES: '+91, +971', EDGE_LIMITS: 'invite:5/1s,sockets:3' });
    expect(c.trustedPeers?.entries).toEqual(['127.0.0.1/32', '::1']);
    expect(c.mobilePrefixes).toEqual(['+91', '+971']);
    expect(c.edgeRates.invite).toEqual({ count: 5, periodMs: 1000 });
    expect(c.edgeCaps.sockets).toBe(3);
  });

  it('names every bad variable at once', () => {
    let err: unknown;
    try {
      loadTrustConfig({ TONEGATE_MODE: 'prod', TRUSTED_PEERS: '10.0.0.0/40', ALLOWED_MOBILE_PREFIXES: '91', VELOCITY_LIMITS: 'card:lots', EDGE_LIMITS: 'flood:1/1s' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TrustConfigError);
    const issues = (err as TrustConfigError).issues.join('\n');
    for (const v of ['TONEGATE_MODE', 'TRUSTED_PEERS', 'ALLOWED_MOBILE_PREFIXES', 'VELOCITY_LIMITS', 'EDGE_LIMITS']) expect(issues).toContain(v);
  });

  it.each([
    ['10/1h', { count: 10, periodMs: 3_600_000 }],
    ['200/s', { count: 200, periodMs: 1000 }],
    ['5/30m', { count: 5, periodMs: 1_800_000 }],
    ['0/1s', undefined],
    ['ten/1h', undefined],
  ])('parseRate(%s)', (text, want) => {
    expect(parseRate(text)).toEqual(want);
  });
});
