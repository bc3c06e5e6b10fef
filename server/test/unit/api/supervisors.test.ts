import { describe, expect, it } from 'vitest';
import { SUPERVISOR_IDLE_MS, SupervisorSessions } from '../../../src/api/supervisors.js';
import { LOCK_AFTER, SignInLockout } from '../../../src/security/lockout.js';
import { hashCredential } from '../../../src/security/credentials.js';
import { totp } from '../../../src/security/totp.js';
import { tokenKey } from '../../../src/api/agent-tokens.js';
import type { SupervisorSessionDirectory } from '../../../src/store/redis-supervisor-sessions.js';

const secret = Buffer.from('12345678901234567890');

function setup() {
  let now = 1_700_000_000_000;
  const lockout = new SignInLockout({ now: () => now });
  const s = new SupervisorSessions([{ name: 'asha', password: 'correct horse battery', secret }], lockout, { now: () => now });
  return { s, lockout, advance: (ms: number) => void (now += ms), code: () => totp(secret, now) };
}

describe('supervisor accounts: password + TOTP, 15-minute idle timeout', () => {
  it('the right password and code give a token; the same code again is refused (one use)', () => {
    const { s, code } = setup();
    const c = code();
    const r = s.login('asha', 'correct horse battery', c, '10.0.0.1');
    if (!r.ok) throw new Error('refused');
    expect(s.resolve(r.token)).toBe('asha');
    expect(s.login('asha', 'correct horse battery', c, '10.0.0.1')).toEqual({ ok: false, reason: 'unauthorized' });
  });

  it.each([
    ['a wrong code', 'asha', 'correct horse battery', '000000'],
    ['a wrong password with the right code', 'asha', 'wrong', null],
    ['an unknown name', 'ravi', 'correct horse battery', null],
  ])('%s is refused with the same answer', (_n, name, pw, fixed) => {
    const { s, code } = setup();
    expect(s.login(name, pw, fixed ?? code(), '10.0.0.1')).toEqual({ ok: false, reason: 'unauthorized' });
  });

  it.each([
    ['the right password', 'correct horse battery', 'asha', true],
    ['a wrong password', 'correct horse batterz', 'asha', false],
    ['the hashed entry itself as the password', 'HASH', 'asha', false],
    ['an unknown name', 'correct horse battery', 'ravi', false],
  ])('a hashed supervisor password (credential:hash --supervisor): %s -> %s', (_n, pw, name, ok) => {
    let now = 1_700_000_000_000;
    const hashed = hashCredential('asha', 'tonegate', 'correct horse battery', undefined, { digest: false });
    const s = new SupervisorSessions([{ name: 'asha', password: hashed, secret }], new SignInLockout({ now: () => now }), { now: () => now });
    now += 1;
    expect(s.login(name, pw === 'HASH' ? hashed : pw, totp(secret, now), '10.0.0.1').ok).toBe(ok);
  });

  it('the token dies after 15 idle minutes; use keeps it alive', () => {
    const { s, code, advance } = setup();
    const r = s.login('asha', 'correct horse battery', code(), '10.0.0.1');
    if (!r.ok) throw new Error('refused');
    advance(SUPERVISOR_IDLE_MS - 1000);
    expect(s.resolve(r.token)).toBe('asha');
    advance(SUPERVISOR_IDLE_MS - 1000);
    expect(s.resolve(r.token)).toBe('asha');
    advance(SUPERVISOR_IDLE_MS + 1);
    expect(s.resolve(r.token)).toBeUndefined();
  });

  it(`is locked after ${LOCK_AFTER} failures like agents, the right code included`, () => {
    const { s, code, advance } = setup();
    for (let i = 0; i < LOCK_AFTER; i++) {
      s.login('asha', 'wrong', '123456', '10.0.0.1');
      advance(61_000);
    }
    expect(s.login('asha', 'correct horse battery', code(), '10.0.0.1')).toMatchObject({ ok: false, reason: 'rate-limited' });
  });

  it('logout revokes', () => {
    const { s, code } = setup();
    const r = s.login('asha', 'correct horse battery', code(), '10.0.0.1');
    if (!r.ok) throw new Error('refused');
    expect(s.revoke(r.token)).toBe(true);
    expect(s.resolve(r.token)).toBeUndefined();
  });
});

describe('supervisor sign-in across instances (SupervisorSharing)', () => {
  function pair() {
    const now = 1_700_000_000_000;
    const claimed = new Set<string>();
    const errors: string[] = [];
    const claimOnce = async (key: string): Promise<boolean> => (claimed.has(key) ? false : (claimed.add(key), true));
    const make = (): SupervisorSessions =>
      new SupervisorSessions([{ name: 'asha', password: 'correct horse battery', secret }], new SignInLockout({ now: () => now }), { now: () => now, sharing: { claimOnce, onSharedError: (w) => void errors.push(w) } });
    return { a: make(), b: make(), code: totp(secret, now), claimed, errors };
  }

  it('a code used on A is refused on B, and B keeps no session for it', async () => {
    const { a, b, code, claimed } = pair();
    const onA = await a.loginShared('asha', 'correct horse battery', code, '10.0.0.1');
    if (!onA.ok) throw new Error('refused on A');
    expect(a.resolve(onA.token)).toBe('asha');
    expect([...claimed]).toEqual([expect.stringMatching(/^totp:asha:\d+$/)]);
    expect(await b.loginShared('asha', 'correct horse battery', code, '10.0.0.1')).toEqual({ ok: false, reason: 'unauthorized', replayed: true });
  });

  it('a wrong code claims nothing (it cannot use up a step someone else may still type)', async () => {
    const { a, claimed } = pair();
    expect(await a.loginShared('asha', 'correct horse battery', '000000', '10.0.0.1')).toEqual({ ok: false, reason: 'unauthorized' });
    expect(claimed.size).toBe(0);
  });

  it('the claim failing (Redis down) leaves the decision to this instance, reported', async () => {
    const now = 1_700_000_000_000;
    const errors: string[] = [];
    const s = new SupervisorSessions([{ name: 'asha', password: 'correct horse battery', secret }], new SignInLockout({ now: () => now }), {
      now: () => now, sharing: { claimOnce: async () => Promise.reject(new Error('redis down')), onSharedError: (w) => void errors.push(w) },
    });
    expect((await s.loginShared('asha', 'correct horse battery', totp(secret, now), '10.0.0.1')).ok).toBe(true);
    expect(errors).toEqual(['supervisor TOTP claim']);
  });
});

describe('supervisor sessions across instances (SupervisorSharing.sessions)', () => {
  /** A directory like store/redis-supervisor-sessions.ts, in memory, with the idle TTL on the shared clock. */
  function cluster(opts: { failing?: boolean } = {}) {
    let now = 1_700_000_000_000;
    const stored = new Map<string, { name: string; until: number }>();
    const errors: string[] = [];
    const fail = async (): Promise<never> => Promise.reject(new Error('redis down'));
    const sessions: SupervisorSessionDirectory = opts.failing
      ? { put: fail, touch: fail, drop: fail }
      : {
          put: async (key, name, idleMs) => void stored.set(key, { name, until: now + idleMs }),
          touch: async (key, idleMs) => {
            const s = stored.get(key);
            if (!s || s.until <= now) return undefined;
            s.until = now + idleMs;
            return s.name;
          },
          drop: async (key) => void stored.delete(key),
        };
    const make = (): SupervisorSessions =>
      new SupervisorSessions([{ name: 'asha', password: 'correct horse battery', secret }], new SignInLockout({ now: () => now }), { now: () => now, sharing: { sessions, onSharedError: (w) => void errors.push(w) } });
    const login = async (s: SupervisorSessions): Promise<string> => {
      const r = await s.loginShared('asha', 'correct horse battery', totp(secret, now), '10.0.0.1');
      if (!r.ok) throw new Error('refused');
      return r.token;
    };
    return { a: make(), b: make(), stored, errors, login, advance: (ms: number) => void (now += ms) };
  }

  it('a session opened on A is good on B after a refresh; Redis holds the token\'s hash, never the token', async () => {
    const { a, b, stored, login } = cluster();
    const token = await login(a);
    expect(b.resolve(token)).toBeUndefined();
    await b.refresh(token);
    expect(b.resolve(token)).toBe('asha');
    expect([...stored.keys()]).toEqual([tokenKey(token)]);
    expect(JSON.stringify([...stored])).not.toContain(token);
  });

  it('a sign-out on B ends the session on A at its next refresh', async () => {
    const { a, b, login } = cluster();
    const token = await login(a);
    await b.refresh(token);
    expect(await b.revokeShared(token)).toBe(true);
    await a.refresh(token);
    expect(a.resolve(token)).toBeUndefined();
    expect(await b.revokeShared(token)).toBe(false); // a second sign-out finds nothing
  });

  it('the idle timeout runs cluster-wide: use on B keeps the session alive on A; 15 idle minutes end it everywhere', async () => {
    const { a, b, login, advance } = cluster();
    const token = await login(a);
    for (let i = 0; i < 3; i++) {
      advance(SUPERVISOR_IDLE_MS - 60_000);
      await b.refresh(token); // used on B only
      expect(b.resolve(token)).toBe('asha');
    }
    await a.refresh(token);
    expect(a.resolve(token)).toBe('asha');
    advance(SUPERVISOR_IDLE_MS + 1);
    await a.refresh(token);
    await b.refresh(token);
    expect([a.resolve(token), b.resolve(token)]).toEqual([undefined, undefined]);
  });

  it('a token that is no supervisor session (an agent token, a guess) resolves to nobody and is not stored', async () => {
    const { a, stored } = cluster();
    await a.refresh('not-a-session-token');
    expect(a.resolve('not-a-session-token')).toBeUndefined();
    expect(stored.size).toBe(0);
  });

  it('Redis failing: this instance keeps its own view (its sessions work, sign-out works here), reported', async () => {
    const { a, errors, login } = cluster({ failing: true });
    const token = await login(a);
    await a.refresh(token);
    expect(a.resolve(token)).toBe('asha');
    expect(await a.revokeShared(token)).toBe(true);
    expect(a.resolve(token)).toBeUndefined();
    expect(errors).toEqual(['supervisor session write', 'supervisor session read', 'supervisor session end']);
  });
});
