import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AgentTokens } from '../../../src/api/agent-tokens.js';
import { hasDigest, hashCredential, parseHashed, verifyPassword } from '../../../src/security/credentials.js';
import { DigestAuthenticator, parseAuthParams, parseAuthorization } from '../../../src/sip/auth/index.js';
import { RegistrarLimits } from '../../../src/sip/constants.js';
import { FakeClock } from '../../support/fake-clock.js';

const PASSWORD = 'correct horse battery';
const entry = hashCredential('agent-7', 'tonegate', PASSWORD);

describe('hashed agent credentials', () => {
  it('an entry holds no trace of the password and carries the HA1 of both digest algorithms (RFC 7616 3.4.2)', () => {
    expect(entry).toMatch(/^\$tg1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(entry).not.toContain('horse');
    const h = parseHashed(entry)!;
    expect(h.realm).toBe('tonegate');
    expect(h.ha1.MD5).toBe(createHash('md5').update(`agent-7:tonegate:${PASSWORD}`).digest('hex'));
    expect(h.ha1['SHA-256']).toBe(createHash('sha256').update(`agent-7:tonegate:${PASSWORD}`).digest('hex'));
  });

  it('two hashes of one password differ (random salt)', () => {
    expect(hashCredential('agent-7', 'tonegate', PASSWORD)).not.toBe(entry);
  });

  it('passwords under 12 characters are refused', () => {
    expect(() => hashCredential('a', 'tonegate', 'elevenchars')).toThrow(/at least 12 characters/);
    expect(hashCredential('a', 'tonegate', 'twelve chars')).toMatch(/^\$tg1\$/);
  });

  it('verifyPassword accepts the password and refuses anything else, plain or hashed', () => {
    expect(verifyPassword(PASSWORD, entry)).toBe(true);
    expect(verifyPassword(`${PASSWORD}x`, entry)).toBe(false);
    expect(verifyPassword(PASSWORD, undefined, true)).toBe(false);
    expect(verifyPassword('demo', 'demo')).toBe(true);
    expect(verifyPassword('demo', 'demo2')).toBe(false);
    expect(verifyPassword('demo', undefined)).toBe(false);
  });

  it.each(['$tg1$', '$tg1$a$b$c$d$e', `${entry}$x`, entry.replace(/\$[0-9a-f]{32}\$/, '$zz$')])('a malformed entry %s does not parse', (bad) => {
    expect(parseHashed(bad)).toBeUndefined();
  });

  it('HTTP login (AgentTokens) checks a hashed entry by scrypt, next to a plain one', () => {
    const tokens = new AgentTokens({ agents: [{ id: 'agent-7', password: entry }, { id: 'agent-1', password: 'demo' }] });
    expect(tokens.login('agent-7', PASSWORD)).toMatchObject({ ok: true, agentId: 'agent-7' });
    expect(tokens.login('agent-7', 'wrong password!')).toEqual({ ok: false, reason: 'unauthorized' });
    expect(tokens.login('agent-1', 'demo')).toMatchObject({ ok: true });
    expect(tokens.login('nobody', PASSWORD)).toEqual({ ok: false, reason: 'unauthorized' });
  });

  it.each(['SHA-256', 'MD5'] as const)('SIP digest (%s) verifies against the stored HA1 of a hashed entry', (algorithm) => {
    const auth = new DigestAuthenticator({ realm: 'tonegate', clock: new FakeClock(), nonceTtlMs: RegistrarLimits.NONCE_TTL_MS });
    const challenge = auth.challenge().map((c) => parseAuthParams(c)).map((p) => ('error' in p ? {} : Object.fromEntries(p.params)));
    const c = challenge.find((x) => x['algorithm'] === algorithm)!;
    const h = (s: string): string => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
    const respond = (password: string): ReturnType<typeof auth.verify> => {
      const uri = 'sip:tonegate';
      const response = h(`${h(`agent-7:tonegate:${password}`)}:${c['nonce']}:00000001:c0ffee:auth:${h(`REGISTER:${uri}`)}`);
      const creds = parseAuthorization(
        `Digest username="agent-7", realm="tonegate", nonce="${c['nonce']}", uri="${uri}", response="${response}", algorithm=${algorithm}, opaque="${c['opaque']}", qop=auth, nc=00000001, cnonce="c0ffee"`,
      );
      if ('error' in creds) throw new Error(creds.error);
      return auth.verify('REGISTER', creds, (u) => (u === 'agent-7' ? entry : undefined));
    };
    expect(respond('wrong password!')).toMatchObject({ ok: false });
    expect(respond(PASSWORD)).toEqual({ ok: true, username: 'agent-7' });
  });

  it('a supervisor entry (digest: false) verifies by scrypt only; its zero HA1 never verifies a SIP digest, not even one computed from the zero HA1', () => {
    const sup = hashCredential('asha', 'tonegate', PASSWORD, undefined, { digest: false });
    const parsed = parseHashed(sup)!;
    expect(parsed.ha1).toEqual({ 'MD5': '0'.repeat(32), 'SHA-256': '0'.repeat(64) });
    expect(hasDigest(parsed)).toBe(false);
    expect(hasDigest(parseHashed(entry)!)).toBe(true);
    expect(verifyPassword(PASSWORD, sup)).toBe(true);
    expect(verifyPassword('correct horse batterx', sup)).toBe(false);
    const auth = new DigestAuthenticator({ realm: 'tonegate', clock: new FakeClock(), nonceTtlMs: RegistrarLimits.NONCE_TTL_MS });
    const c = auth.challenge().map((x) => parseAuthParams(x)).map((p) => ('error' in p ? {} : Object.fromEntries(p.params)))[0]! as Record<string, string>;
    const h = (x: string): string => createHash(c['algorithm'] === 'MD5' ? 'md5' : 'sha256').update(x).digest('hex');
    const zero = c['algorithm'] === 'MD5' ? '0'.repeat(32) : '0'.repeat(64);
    const uri = 'sip:tonegate';
    const response = h(`${zero}:${c['nonce']}:00000001:c0ffee:auth:${h(`REGISTER:${uri}`)}`);
    const creds = parseAuthorization(
      `Digest username="asha", realm="tonegate", nonce="${c['nonce']}", uri="${uri}", response="${response}", algorithm=${c['algorithm'] ?? 'MD5'}, opaque="${c['opaque']}", qop=auth, nc=00000001, cnonce="c0ffee"`,
    );
    if ('error' in creds) throw new Error(creds.error);
    expect(auth.verify('REGISTER', creds, (u) => (u === 'asha' ? sup : undefined))).toMatchObject({ ok: false });
  });
});
