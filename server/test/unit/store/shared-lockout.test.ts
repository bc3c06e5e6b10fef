import { describe, expect, it } from 'vitest';
import { LOCK_AFTER, SignInLockout, type LockState } from '../../../src/security/lockout.js';
import type { AgentAuthDirectory, SharedLock } from '../../../src/store/redis-agent-auth.js';
import { MAX_IN_FLIGHT, withSharedLockout } from '../../../src/store/shared-lockout.js';

const neverBusy = (): never => {
  throw new Error('refused for attempts in flight');
};

/**
 * A shared store whose reads and writes take a while, as Redis's do under load; its write keeps
 * what the instance wrote (one instance here, so there is nothing to add up).
 */
function slowStore(delayMs: number): AgentAuthDirectory {
  const held = new Map<string, string>();
  const later = <T>(v: () => T): Promise<T> => new Promise((r) => setTimeout(() => r(v()), delayMs));
  const dir: Pick<AgentAuthDirectory, 'loadLock' | 'saveLock'> = {
    loadLock: (user, source): Promise<SharedLock> =>
      later(() => {
        const raw = held.get(`${user} ${source}`) ?? '';
        return { state: raw ? (JSON.parse(raw) as LockState) : undefined, raw };
      }),
    saveLock: (user, source, state): Promise<LockState | undefined> =>
      later(() => {
        if (state) held.set(`${user} ${source}`, JSON.stringify(state));
        else held.delete(`${user} ${source}`);
        return state;
      }),
  };
  return dir as AgentAuthDirectory;
}

describe('withSharedLockout: a burst of guesses from one source', () => {
  it(`guesses sent without waiting for answers are decided one after another: ${LOCK_AFTER + 2} wrong ones lock the key and the right password that follows is refused`, async () => {
    let now = 1_000_000;
    const lockout = new SignInLockout({ now: () => now });
    const dir = slowStore(5);
    const guess = (right: boolean): Promise<boolean> =>
      withSharedLockout(lockout, dir, { user: 'agent-1', source: '10.0.0.9', channel: 'sip' }, () => {}, () => {
        now += 61_000; // past any backoff: only the count decides
        if (!lockout.attempt('agent-1', '10.0.0.9', 'sip').ok) return false;
        if (right) lockout.succeeded('agent-1', '10.0.0.9', 'sip');
        else lockout.failed('agent-1', '10.0.0.9', 'sip');
        return right;
      }, neverBusy);
    const answers = await Promise.all([...Array.from({ length: LOCK_AFTER + 2 }, () => guess(false)), guess(true)]);
    expect(answers.at(-1)).toBe(false);
    expect(lockout.isLocked('agent-1', '10.0.0.9')).toBe(true);
  });

  it('other users and sources do not wait for each other; the same user and source does', async () => {
    const lockout = new SignInLockout({ now: () => 1_000_000 });
    // Reads wait until released, so what is in flight at once can be seen.
    const reading: string[] = [];
    const waiting: Array<() => void> = [];
    const dir = {
      loadLock: (user: string, source: string): Promise<SharedLock> => {
        reading.push(`${user}@${source}`);
        return new Promise((r) => waiting.push(() => r({ state: undefined, raw: '' })));
      },
      saveLock: async (): Promise<undefined> => undefined,
    } as unknown as AgentAuthDirectory;
    const attempt = (user: string, source: string): Promise<void> => withSharedLockout(lockout, dir, { user, source, channel: 'http' }, () => {}, () => {}, neverBusy);
    const all = Promise.all([attempt('a', '1'), attempt('b', '1'), attempt('a', '2'), attempt('a', '1')]);
    await new Promise((r) => setTimeout(r, 10));
    expect(reading).toEqual(['a@1', 'b@1', 'a@2']); // the second a@1 waits for the first
    for (const release of waiting.splice(0)) release();
    await new Promise((r) => setTimeout(r, 10));
    expect(reading).toEqual(['a@1', 'b@1', 'a@2', 'a@1']);
    for (const release of waiting.splice(0)) release();
    await all;
  });

  it('an attempt whose decision throws does not hold up the next one', async () => {
    const lockout = new SignInLockout({ now: () => 1_000_000 });
    const dir = slowStore(1);
    const who = { user: 'agent-1', source: '10.0.0.9', channel: 'sip' } as const;
    await expect(withSharedLockout(lockout, dir, who, () => {}, () => { throw new Error('digest parser failed'); }, neverBusy)).rejects.toThrow('digest parser failed');
    await expect(withSharedLockout(lockout, dir, who, () => {}, () => 'next', neverBusy)).resolves.toBe('next');
  });

  it(`at most ${MAX_IN_FLIGHT} attempts per user and source are in flight: the rest are answered busy at once and never decided, and the next burst is decided again`, async () => {
    let now = 1_000_000;
    const lockout = new SignInLockout({ now: () => now });
    const dir = slowStore(2);
    let decided = 0;
    const guess = (source: string): Promise<string> =>
      withSharedLockout(lockout, dir, { user: 'agent-1', source, channel: 'sip' }, () => {}, () => {
        decided++;
        now += 61_000; // past any backoff
        lockout.attempt('agent-1', source, 'sip');
        lockout.failed('agent-1', source, 'sip');
        return 'decided';
      }, () => 'busy');
    const burst = await Promise.all(Array.from({ length: MAX_IN_FLIGHT + 9 }, () => guess('10.0.0.9')));
    expect(burst.filter((a) => a === 'decided')).toHaveLength(MAX_IN_FLIGHT);
    expect(burst.slice(MAX_IN_FLIGHT)).toEqual(Array(9).fill('busy'));
    expect(decided).toBe(MAX_IN_FLIGHT);
    // Another source is not held to this one's count; once the burst has settled, this one is decided again.
    expect(await guess('10.0.0.10')).toBe('decided');
    expect(await guess('10.0.0.9')).toBe('decided');
  });
});
