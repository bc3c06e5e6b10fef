import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RegistrarLimits } from '../../../../src/sip/constants.js';
import {
  DigestAuthenticator,
  computeDigestResponse,
  parseAuthParams,
  parseAuthorization,
  type DigestCredentials,
} from '../../../../src/sip/auth/index.js';
import { FakeClock } from '../../../support/fake-clock.js';

/** Independent computation of RFC 2617 3.2.2.1 / RFC 7616 3.4.1, straight from node:crypto. */
function expectedResponse(o: {
  alg: 'md5' | 'sha256';
  user: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  nc?: string;
  cnonce?: string;
}): string {
  const h = (s: string): string => createHash(o.alg).update(s).digest('hex');
  const ha1 = h(`${o.user}:${o.realm}:${o.password}`);
  const ha2 = h(`${o.method}:${o.uri}`);
  return o.nc ? h(`${ha1}:${o.nonce}:${o.nc}:${o.cnonce}:auth:${ha2}`) : h(`${ha1}:${o.nonce}:${ha2}`);
}

const REALM = 'gateway';
const USERS: Record<string, string> = { 'agent-1': 'demo', 'agent-2': 'secret' };
const lookup = (u: string): string | undefined => USERS[u];

function setup() {
  const clock = new FakeClock();
  const auth = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: RegistrarLimits.NONCE_TTL_MS });
  return { clock, auth };
}

function challengeParams(value: string): Record<string, string> {
  const p = parseAuthParams(value);
  if ('error' in p) throw new Error(p.error);
  return Object.fromEntries(p.params);
}

/** What a UAC would send back for the challenge at `index` (0 = SHA-256, 1 = MD5). */
function answer(
  challenge: string[],
  o: { index?: number; user?: string; password?: string; nc?: string | null; realm?: string; method?: string } = {},
): DigestCredentials {
  const c = challengeParams(challenge[o.index ?? 0]!);
  const alg = c.algorithm === 'SHA-256' ? 'sha256' : 'md5';
  const user = o.user ?? 'agent-1';
  const realm = o.realm ?? c.realm!;
  const uri = 'sip:gateway;transport=ws';
  const nc = o.nc === null ? undefined : (o.nc ?? '00000001');
  const cnonce = nc ? 'c0ffee42' : undefined;
  const response = expectedResponse({
    alg, user, realm, password: o.password ?? USERS[user] ?? 'x', method: o.method ?? 'REGISTER', uri, nonce: c.nonce!,
    ...(nc ? { nc, cnonce } : {}),
  });
  const header =
    `Digest username="${user}", realm="${realm}", nonce="${c.nonce}", uri="${uri}", response="${response}", ` +
    `algorithm=${c.algorithm}, opaque="${c.opaque}"` + (nc ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '');
  const creds = parseAuthorization(header);
  if ('error' in creds) throw new Error(creds.error);
  return creds;
}

describe('computeDigestResponse (RFC 7616 3.9.1 published vectors)', () => {
  const base = {
    username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET',
    uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: 'auth' as const,
    nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  it('SHA-256 gives the published response', () => {
    expect(computeDigestResponse({ ...base, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });
  it('MD5 gives the published response', () => {
    expect(computeDigestResponse({ ...base, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });
  it('the RFC 2069 form (no qop) matches an independent computation', () => {
    const { qop: _q, nc: _n, cnonce: _c, ...legacy } = base;
    expect(computeDigestResponse({ ...legacy, algorithm: 'MD5' })).toBe(
      expectedResponse({ alg: 'md5', user: 'Mufasa', realm: base.realm, password: base.password, method: 'GET', uri: base.uri, nonce: base.nonce }),
    );
  });
});

describe('DigestAuthenticator.challenge', () => {
  it('offers SHA-256 first and MD5 second with qop="auth", the same nonce and an opaque (RFC 8760 2.4)', () => {
    const { auth } = setup();
    const [sha, md5, ...rest] = auth.challenge().map(challengeParams);
    expect(rest).toEqual([]);
    expect(sha).toMatchObject({ realm: REALM, algorithm: 'SHA-256', qop: 'auth' });
    expect(md5).toMatchObject({ realm: REALM, algorithm: 'MD5', qop: 'auth', nonce: sha!.nonce, opaque: sha!.opaque });
    expect(sha!.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sha).not.toHaveProperty('stale');
  });
  it('offers the algorithms in the order it is given, each once, and refuses an empty list', () => {
    const { auth } = setup();
    expect(auth.challenge({ algorithms: ['MD5', 'SHA-256'] }).map((c) => challengeParams(c).algorithm)).toEqual(['MD5', 'SHA-256']);
    expect(auth.challenge({ algorithms: ['MD5', 'MD5'] }).map((c) => challengeParams(c).algorithm)).toEqual(['MD5']);
    expect(auth.challenge({ algorithms: ['SHA-256'] }).map((c) => challengeParams(c).algorithm)).toEqual(['SHA-256']);
    expect(() => auth.challenge({ algorithms: [] })).toThrow(RangeError);
  });
  it('adds stale=TRUE when asked and issues a fresh nonce each time', () => {
    const { auth } = setup();
    const a = challengeParams(auth.challenge({ stale: true })[0]!);
    const b = challengeParams(auth.challenge()[0]!);
    expect(a.stale).toBe('TRUE');
    expect(a.nonce).not.toBe(b.nonce);
  });
  it('escapes a realm containing quotes', () => {
    const auth = new DigestAuthenticator({ realm: 'a"b', clock: new FakeClock(), nonceTtlMs: 1000 });
    expect(challengeParams(auth.challenge()[0]!).realm).toBe('a"b');
  });
});

describe('DigestAuthenticator.verify', () => {
  it.each([
    ['SHA-256 with qop=auth', 0, '00000001'],
    ['MD5 with qop=auth', 1, '00000001'],
    ['SHA-256 without qop (RFC 2069 form)', 0, null],
    ['MD5 without qop (RFC 2069 form)', 1, null],
  ] as const)('accepts the right password: %s', (_n, index, nc) => {
    const { auth } = setup();
    expect(auth.verify('REGISTER', answer(auth.challenge(), { index, nc }), lookup)).toEqual({ ok: true, username: 'agent-1' });
  });

  it('accepts credentials without algorithm as MD5 (RFC 2617 3.2.1)', () => {
    const { auth } = setup();
    const { algorithm: _a, ...creds } = answer(auth.challenge(), { index: 1 });
    expect(auth.verify('REGISTER', creds, lookup)).toMatchObject({ ok: true });
  });

  const failures: Array<[string, (a: DigestAuthenticator) => DigestCredentials, string, string?]> = [
    ['wrong password', (a) => answer(a.challenge(), { password: 'nope' }), 'bad-response'],
    ['a response computed for REGISTER on an INVITE', (a) => answer(a.challenge()), 'bad-response', 'INVITE'],
    ['unknown user', (a) => answer(a.challenge(), { user: 'mallory' }), 'unknown-user'],
    ['wrong realm', (a) => answer(a.challenge(), { realm: 'elsewhere' }), 'realm-mismatch'],
    ['MD5-sess', (a) => ({ ...answer(a.challenge(), { index: 1 }), algorithm: 'MD5-sess' }), 'unsupported-algorithm'],
    ['SHA-512-256', (a) => ({ ...answer(a.challenge()), algorithm: 'SHA-512-256' }), 'unsupported-algorithm'],
    ['qop=auth-int', (a) => ({ ...answer(a.challenge()), qop: 'auth-int' }), 'bad-qop'],
    ['qop=auth without cnonce', (a) => { const { cnonce: _c, ...c } = answer(a.challenge()); return c; }, 'bad-qop'],
    ['nc=00000000', (a) => answer(a.challenge(), { nc: '00000000' }), 'bad-qop'],
    ['nc without qop', (a) => ({ ...answer(a.challenge(), { nc: null }), nc: '00000001' }), 'bad-qop'],
    ['tampered nonce', (a) => { const c = answer(a.challenge()); return { ...c, nonce: flip(c.nonce) }; }, 'bad-nonce'],
    ['nonce not issued by us', (a) => ({ ...answer(a.challenge()), nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v' }), 'bad-nonce'],
    ['wrong opaque', (a) => ({ ...answer(a.challenge()), opaque: 'other' }), 'bad-nonce'],
    ['truncated response', (a) => { const c = answer(a.challenge()); return { ...c, response: c.response.slice(0, 32) }; }, 'bad-response'],
  ];
  it.each(failures)('refuses %s', (_name, make, reason, method = 'REGISTER') => {
    const { auth } = setup();
    expect(auth.verify(method, make(auth), lookup)).toEqual({ ok: false, reason });
  });

  it('accepts upper-case hex in the response', () => {
    const { auth } = setup();
    const c = answer(auth.challenge());
    expect(auth.verify('REGISTER', { ...c, response: c.response.toUpperCase() }, lookup)).toMatchObject({ ok: true });
  });

  it('a nonce older than NONCE_TTL_MS is stale for the right password and bad-response for a wrong one', () => {
    const { auth, clock } = setup();
    const ch = auth.challenge();
    clock.advance(RegistrarLimits.NONCE_TTL_MS - 1);
    expect(auth.verify('REGISTER', answer(ch), lookup)).toMatchObject({ ok: true });
    clock.advance(2);
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000002' }), lookup)).toEqual({ ok: false, reason: 'stale-nonce' });
    expect(auth.verify('REGISTER', answer(ch, { password: 'x', nc: '00000003' }), lookup)).toEqual({ ok: false, reason: 'bad-response' });
  });

  it('a nonce from another authenticator (other secret) is bad, with the same secret it is good', () => {
    const clock = new FakeClock();
    const secret = Buffer.alloc(32, 7);
    const a = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: 60_000, secret });
    const b = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: 60_000, secret });
    const c = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: 60_000 });
    const creds = answer(a.challenge());
    expect(b.verify('REGISTER', creds, lookup)).toMatchObject({ ok: true });
    expect(c.verify('REGISTER', creds, lookup)).toEqual({ ok: false, reason: 'bad-nonce' });
  });

  it('refuses a replayed or decreasing nonce-count and accepts increasing ones', () => {
    const { auth } = setup();
    const ch = auth.challenge();
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000001' }), lookup)).toMatchObject({ ok: true });
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000001' }), lookup)).toEqual({ ok: false, reason: 'nc-replay' });
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000003' }), lookup)).toMatchObject({ ok: true });
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000002' }), lookup)).toEqual({ ok: false, reason: 'nc-replay' });
    expect(auth.verify('REGISTER', answer(ch, { nc: '0000000a' }), lookup)).toMatchObject({ ok: true });
  });

  it('a forged request does not advance the nonce-count', () => {
    const { auth } = setup();
    const ch = auth.challenge();
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000005', password: 'bad' }), lookup)).toMatchObject({ ok: false });
    expect(auth.verify('REGISTER', answer(ch, { nc: '00000001' }), lookup)).toMatchObject({ ok: true });
  });

  it('keeps the nonce-count map bounded; an evicted live nonce comes back stale, never replayable', () => {
    const clock = new FakeClock();
    const auth = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: 60_000, maxTrackedNonces: 2 });
    const first = auth.challenge();
    expect(auth.verify('REGISTER', answer(first), lookup)).toMatchObject({ ok: true });
    clock.advance(1);
    const neverUsed = auth.challenge();
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      expect(auth.verify('REGISTER', answer(auth.challenge()), lookup)).toMatchObject({ ok: true });
      expect(auth.trackedNonces()).toBeLessThanOrEqual(2);
    }
    expect(auth.verify('REGISTER', answer(first), lookup)).toEqual({ ok: false, reason: 'stale-nonce' });
    expect(auth.verify('REGISTER', answer(neverUsed), lookup)).toEqual({ ok: false, reason: 'stale-nonce' });
  });

  it('expired entries leave the nonce-count map before live ones', () => {
    const clock = new FakeClock();
    const auth = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: 1000, maxTrackedNonces: 2 });
    auth.verify('REGISTER', answer(auth.challenge()), lookup);
    auth.verify('REGISTER', answer(auth.challenge()), lookup);
    clock.advance(1001);
    const live = auth.challenge();
    expect(auth.verify('REGISTER', answer(live), lookup)).toMatchObject({ ok: true });
    expect(auth.trackedNonces()).toBe(1);
  });
});

function flip(nonce: string): string {
  const i = 5;
  return nonce.slice(0, i) + (nonce[i] === 'A' ? 'B' : 'A') + nonce.slice(i + 1);
}
