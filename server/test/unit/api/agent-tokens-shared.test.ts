import { describe, expect, it } from 'vitest';
import { AgentTokens, tokenKey } from '../../../src/api/agent-tokens.js';
import { LOCK_AFTER, SignInLockout, type LockState } from '../../../src/security/lockout.js';
import { parseLock, parseToken, type AgentAuthDirectory, type SharedLock, type SharedToken } from '../../../src/store/redis-agent-auth.js';

/** An in-memory stand-in for Redis (store/redis-agent-auth.ts), with a switch to make it fail. */
class FakeDirectory implements AgentAuthDirectory {
  readonly tokens = new Map<string, SharedToken>();
  readonly locks = new Map<string, Map<string, LockState>>();
  down = false;
  #up(): void {
    if (this.down) throw new Error('redis down');
  }
  async putToken(key: string, t: SharedToken): Promise<void> {
    this.#up();
    this.tokens.set(key, t);
  }
  async getToken(key: string): Promise<SharedToken | undefined> {
    this.#up();
    return this.tokens.get(key);
  }
  async dropToken(key: string): Promise<void> {
    this.#up();
    this.tokens.delete(key);
  }
  // One caller at a time here, so a write never meets another instance's (the merge of
  // concurrent writes is Redis's, proven in integration/agents-auth-cluster.test.ts).
  async loadLock(user: string, source: string): Promise<SharedLock> {
    this.#up();
    const state = this.locks.get(user)?.get(source);
    return { state, raw: state ? JSON.stringify(state) : '' };
  }
  async saveLock(user: string, source: string, s: LockState | undefined): Promise<LockState | undefined> {
    this.#up();
    const m = this.locks.get(user) ?? new Map<string, LockState>();
    if (s) m.set(source, s);
    else m.delete(source);
    this.locks.set(user, m);
    return s;
  }
  async unlock(user: string): Promise<void> {
    this.#up();
    this.locks.delete(user);
  }
}

function cluster() {
  let now = 1_700_000_000_000;
  const clock = (): number => now;
  const dir = new FakeDirectory();
  const errors: string[] = [];
  const make = (): { tokens: AgentTokens; lockout: SignInLockout; revoked: string[] } => {
    const lockout = new SignInLockout({ now: clock });
    const revoked: string[] = [];
    const tokens = new AgentTokens({
      agents: [{ id: 'agent-1', password: 'demo' }], now: clock, lockout, shared: dir,
      onRevoked: (k) => void revoked.push(k), onSharedError: (what) => void errors.push(what),
    });
    return { tokens, lockout, revoked };
  };
  return { a: make(), b: make(), dir, errors, advance: (ms: number) => void (now += ms) };
}

describe('AgentTokens shared between instances', () => {
  it('a token issued on A is stored by its SHA-256 only and is accepted on B after refresh', async () => {
    const { a, b, dir } = cluster();
    const r = await a.tokens.loginShared('agent-1', 'demo', '10.0.0.1');
    if (!r.ok) throw new Error('login refused');
    expect([...dir.tokens.keys()]).toEqual([tokenKey(r.token)]);
    expect(JSON.stringify([...dir.tokens])).not.toContain(r.token);
    expect(b.tokens.resolve(r.token)).toBeUndefined();
    await b.tokens.refresh(r.token);
    expect(b.tokens.resolve(r.token)).toBe('agent-1');
  });

  it('sign-out on B revokes on A at its next refresh (and tells A to close the token\'s sockets)', async () => {
    const { a, b } = cluster();
    const r = await a.tokens.loginShared('agent-1', 'demo');
    if (!r.ok) throw new Error('login refused');
    await b.tokens.refresh(r.token);
    expect(await b.tokens.revokeShared(r.token)).toBe(true);
    expect(a.tokens.resolve(r.token)).toBe('agent-1');
    await a.tokens.refresh(r.token);
    expect(a.tokens.resolve(r.token)).toBeUndefined();
    expect(a.revoked).toEqual([tokenKey(r.token)]);
  });

  it('failed logins on A count on B: the account is locked there too; a supervisor unlock on B lifts it on A', async () => {
    const { a, b } = cluster();
    // Backoff refusals count as failures too (security/lockout.ts): keep failing until A locks.
    for (let i = 0; i < 3 * LOCK_AFTER && !a.lockout.isLocked('agent-1', '10.0.0.1'); i++) {
      expect((await a.tokens.loginShared('agent-1', 'wrong', '10.0.0.1')).ok).toBe(false);
    }
    expect(a.lockout.isLocked('agent-1', '10.0.0.1')).toBe(true);
    const onB = await b.tokens.loginShared('agent-1', 'demo', '10.0.0.1');
    expect(onB).toMatchObject({ ok: false, reason: 'rate-limited' });
    expect(b.lockout.isLocked('agent-1', '10.0.0.1')).toBe(true);
    await b.tokens.unlock('agent-1');
    expect((await a.tokens.loginShared('agent-1', 'demo', '10.0.0.1')).ok).toBe(true);
  });

  it('with Redis down each instance decides alone and reports the failure', async () => {
    const { a, b, dir, errors } = cluster();
    dir.down = true;
    const r = await a.tokens.loginShared('agent-1', 'demo');
    if (!r.ok) throw new Error('login refused');
    expect(a.tokens.resolve(r.token)).toBe('agent-1');
    await b.tokens.refresh(r.token);
    expect(b.tokens.resolve(r.token)).toBeUndefined();
    expect(errors).toEqual(expect.arrayContaining(['sign-in lockout read', 'agent token write', 'agent token read']));
    // Counters it could not read are never overwritten with this instance's own.
    expect(errors).not.toContain('sign-in lockout write');
  });

  it('a lock that the shared counters reached elsewhere is adopted and audited here', () => {
    const events: string[] = [];
    const lockout = new SignInLockout({ now: () => 1000, onEvent: (e) => void events.push(`${e.kind}:${e.channel}:${e.failures}`) });
    lockout.merged('agent-1', '10.0.0.1', { failures: 4, nextAt: 0, lockedUntil: 0 }, 'sip');
    expect(lockout.isLocked('agent-1', '10.0.0.1')).toBe(false);
    lockout.merged('agent-1', '10.0.0.1', { failures: LOCK_AFTER, nextAt: 0, lockedUntil: 5000 }, 'sip');
    lockout.merged('agent-1', '10.0.0.1', { failures: LOCK_AFTER + 1, nextAt: 0, lockedUntil: 5000 }, 'http');
    expect(lockout.isLocked('agent-1', '10.0.0.1')).toBe(true);
    expect(events).toEqual([`locked:sip:${LOCK_AFTER}`]);
    lockout.merged('agent-1', '10.0.0.1', undefined, 'http');
    expect(lockout.isLocked('agent-1', '10.0.0.1')).toBe(false);
  });

  it('an expired shared token is not taken in', async () => {
    const { a, b, advance } = cluster();
    const r = await a.tokens.loginShared('agent-1', 'demo');
    if (!r.ok) throw new Error('login refused');
    advance(r.expiresAt);
    await b.tokens.refresh(r.token);
    expect(b.tokens.resolve(r.token)).toBeUndefined();
  });
});

describe('redis-agent-auth parsing', () => {
  it('takes well-formed values and drops anything else', () => {
    expect(parseToken('{"a":"agent-1","e":5}')).toEqual({ agentId: 'agent-1', expiresAt: 5 });
    for (const bad of ['', 'x', '[]', '{"a":1,"e":5}', '{"a":"","e":5}', '{"a":"x","e":"5"}', 'null']) expect(parseToken(bad)).toBeUndefined();
    expect(parseLock('{"f":3,"n":10,"l":0}')).toEqual({ failures: 3, nextAt: 10, lockedUntil: 0 });
    for (const bad of ['{}', '{"f":-1,"n":0,"l":0}', '{"f":1,"n":null,"l":0}', '1']) expect(parseLock(bad)).toBeUndefined();
  });
});
