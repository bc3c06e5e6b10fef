import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';
import { EDGE_CAP_DEFAULTS, EDGE_RATE_DEFAULTS, parseRate, PRODUCTION_VELOCITY, trustConfigOf } from '../../../src/security/trust-config.js';

/** The settings as the table parses them (no production start checks: those are production.ts's). */
const trust = (env: Record<string, string>) => trustConfigOf(configSchema.parse(env));

describe('trust-boundary settings from the settings table', () => {
  it('demo defaults: no peer list, +91 mobiles only, no velocity limits, edge defaults, signatures as the profile says', () => {
    const c = trust({});
    expect(c).toMatchObject({ mode: 'demo', trustedPeers: undefined, mobilePrefixes: ['+91'], velocity: {}, edgeRates: EDGE_RATE_DEFAULTS, edgeCaps: EDGE_CAP_DEFAULTS, requireSignature: false, supervisors: [] });
  });

  it('production: signatures required and the mobile and card velocity defaults on; VELOCITY_LIMITS overrides or turns one off', () => {
    const c = trust({ TONEGATE_MODE: 'production', VELOCITY_LIMITS: 'merchant:100/1m,card:off' });
    expect(c.requireSignature).toBe(true);
    expect(c.velocity).toEqual({ mobile: PRODUCTION_VELOCITY.mobile, merchant: { count: 100, periodMs: 60_000 } });
  });

  it('REQUIRE_SIGNATURE_V2 turns the production signature rule on in demo mode', () => {
    expect(trust({ REQUIRE_SIGNATURE_V2: 'true' }).requireSignature).toBe(true);
    expect(trust({ REQUIRE_SIGNATURE_V2: 'false' }).requireSignature).toBe(false);
  });

  it('reads TRUSTED_PEERS, ALLOWED_MOBILE_PREFIXES, EDGE_LIMITS and SUPERVISORS', () => {
    const c = trust({
      TRUSTED_PEERS: '127.0.0.1/32,::1', ALLOWED_MOBILE_PREFIXES: '+91, +971', EDGE_LIMITS: 'invite:5/1s,sockets:3',
      SUPERVISORS: 'asha:correct horse battery:JBSWY3DPEHPK3PXPJBSWY3DP',
    });
    expect(c.trustedPeers?.entries).toEqual(['127.0.0.1/32', '::1']);
    expect(c.mobilePrefixes).toEqual(['+91', '+971']);
    expect(c.edgeRates.invite).toEqual({ count: 5, periodMs: 1000 });
    expect(c.edgeRates.register).toEqual(EDGE_RATE_DEFAULTS.register);
    expect(c.edgeCaps.sockets).toBe(3);
    expect(c.supervisors).toHaveLength(1);
    expect(c.supervisors[0]).toMatchObject({ name: 'asha', password: 'correct horse battery' });
    expect(c.supervisors[0]!.secret.toString('hex')).toBe('48656c6c6f21deadbeef48656c6c6f');
  });

  it('names every bad variable at once (one line each, no password in any)', () => {
    let err: unknown;
    try {
      loadConfig({
        TONEGATE_MODE: 'prod', TRUSTED_PEERS: '10.0.0.0/40', ALLOWED_MOBILE_PREFIXES: '91', VELOCITY_LIMITS: 'card:lots', EDGE_LIMITS: 'flood:1/1s',
        SUPERVISORS: 'asha:s3cret-pass:not base32!', REQUIRE_SIGNATURE_V2: 'maybe',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    for (const v of ['TONEGATE_MODE', 'TRUSTED_PEERS', 'ALLOWED_MOBILE_PREFIXES', 'VELOCITY_LIMITS', 'EDGE_LIMITS', 'SUPERVISORS', 'REQUIRE_SIGNATURE_V2']) {
      expect(issues.filter((l) => l.startsWith(`${v}`)), v).toHaveLength(1);
    }
    expect(issues.join('\n')).not.toContain('s3cret-pass');
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
