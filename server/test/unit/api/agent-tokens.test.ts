import { describe, expect, it } from 'vitest';
import { AGENT_TOKEN_TTL_MS, AgentTokens, tokenKey } from '../../../src/api/agent-tokens.js';
import { BACKOFF_AFTER, LOCK_AFTER, LOCK_MS } from '../../../src/security/lockout.js';

function setup(o: { maxTokens?: number } = {}) {
  let now = 1_700_000_000_000;
  const revoked: string[] = [];
  const tokens = new AgentTokens({
    agents: [{ id: 'agent-1', password: 'demo' }, { id: 'agent-2', password: 's3cret' }],
    now: () => now,
    onRevoked: (k) => void revoked.push(k),
    ...o,
  });
  return { tokens, revoked, advance: (ms: number) => void (now += ms), now: () => now };
}

describe('AgentTokens', () => {
  it('the right password gives a 24-byte base64url token that resolves to the agent for 12 h', () => {
    const { tokens, advance, now } = setup();
    const r = tokens.login('agent-1', 'demo');
    if (!r.ok) throw new Error('login refused');
    expect(r.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(r.token, 'base64url')).toHaveLength(24);
    expect(r.expiresAt).toBe(now() + AGENT_TOKEN_TTL_MS);
    expect(tokens.resolve(r.token)).toBe('agent-1');
    advance(AGENT_TOKEN_TTL_MS - 1);
    expect(tokens.resolve(r.token)).toBe('agent-1');
    advance(1);
    expect(tokens.resolve(r.token)).toBeUndefined();
  });

  it('each login gets a different token', () => {
    const { tokens } = setup();
    const a = tokens.login('agent-1', 'demo');
    const b = tokens.login('agent-1', 'demo');
    expect(a.ok && b.ok && a.token !== b.token).toBe(true);
  });

  it.each([
    ['a wrong password', 'agent-1', 'nope'],
    ["another agent's password", 'agent-1', 's3cret'],
    ['an unknown agent', 'agent-9', 'demo'],
    ['an empty password', 'agent-1', ''],
  ])('%s is refused', (_n, id, pw) => {
    const { tokens } = setup();
    expect(tokens.login(id, pw)).toEqual({ ok: false, reason: 'unauthorized' });
    expect(tokens.size).toBe(0);
  });

  it(`after ${BACKOFF_AFTER} failures a login that comes too soon from that source is refused and counted (the wait doubles to 2 s), the right password included; other agents and sources are not affected`, () => {
    const { tokens, advance } = setup();
    for (let i = 0; i < BACKOFF_AFTER; i++) {
      expect(tokens.login('agent-1', `wrong-${i}`, '10.0.0.1')).toMatchObject({ ok: false, reason: 'unauthorized' });
      advance(100);
    }
    expect(tokens.login('agent-1', 'demo', '10.0.0.1')).toEqual({ ok: false, reason: 'rate-limited', retryAfterS: 2 });
    expect(tokens.login('agent-2', 's3cret', '10.0.0.1').ok).toBe(true);
    expect(tokens.login('agent-1', 'demo', '10.0.0.2').ok).toBe(true);
    advance(10_000);
    expect(tokens.login('agent-1', 'demo', '10.0.0.1').ok).toBe(true);
  });

  it(`after ${LOCK_AFTER} failures from one source the agent id is locked there for 30 minutes, even with the right password`, () => {
    const { tokens, advance } = setup();
    for (let i = 0; i < LOCK_AFTER; i++) {
      tokens.login('agent-1', `wrong-${i}`, '10.0.0.1');
      advance(61_000); // past every backoff: each of these is a real password check
    }
    expect(tokens.login('agent-1', 'demo', '10.0.0.1')).toMatchObject({ ok: false, reason: 'rate-limited' });
    advance(LOCK_MS - 61_000 - 1);
    expect(tokens.login('agent-1', 'demo', '10.0.0.1')).toMatchObject({ ok: false, reason: 'rate-limited' });
    advance(2);
    expect(tokens.login('agent-1', 'demo', '10.0.0.1').ok).toBe(true);
  });

  it('revoke ends a token, reports its key (never the token), and is idempotent', () => {
    const { tokens, revoked } = setup();
    const r = tokens.login('agent-1', 'demo');
    if (!r.ok) throw new Error('login refused');
    expect(tokens.revoke(r.token)).toBe(true);
    expect(tokens.resolve(r.token)).toBeUndefined();
    expect(revoked).toEqual([tokenKey(r.token)]);
    expect(revoked[0]).not.toContain(r.token);
    expect(tokens.revoke(r.token)).toBe(false);
    expect(tokens.revoke('never-issued')).toBe(false);
    expect(revoked).toHaveLength(1);
  });

  it('holds at most maxTokens: the oldest goes first', () => {
    const { tokens } = setup({ maxTokens: 2 });
    const got = [1, 2, 3].map(() => tokens.login('agent-1', 'demo')).map((r) => (r.ok ? r.token : ''));
    expect(got.map((t) => tokens.resolve(t))).toEqual([undefined, 'agent-1', 'agent-1']);
  });
});
