import type { Logger } from '../observability/logger.js';
import type { SignInChannel, SignInLockout } from '../security/lockout.js';
import type { AgentAuthDirectory } from './redis-agent-auth.js';

/** A shared read or write failed (Redis down or late); `what` names it. */
export type SharedLockoutError = (what: string, err: unknown) => void;

/** The one log line every user of the shared sign-in state writes when Redis fails it. */
export function logSharedSignInError(logger: Logger): SharedLockoutError {
  return (what, err) => logger.warn({ what, err: err instanceof Error ? err.message : String(err) }, 'shared agent sign-in state unavailable; this instance decides alone');
}

/**
 * One sign-in attempt (SIP REGISTER or the HTTP login) against the lockout counters every
 * instance shares (docs/security.md, "Sign-in"; PCI DSS v4.0.1 8.3.4): the (user, source) counters
 * are read from Redis into this instance's {@link SignInLockout}, `decide` runs the attempt on it
 * (synchronously, so nothing else touches that key in between), and the result is written back.
 * Attempts that ran at the same time on other instances are not lost: the write adds them up
 * inside Redis (store/redis-agent-auth.ts, SAVE_LOCK) and this instance takes the sum.
 *
 * When Redis cannot be read, this instance decides from its own counters and does not write
 * (it would overwrite counters it never saw); the failure is reported through `onError`.
 */
export async function withSharedLockout<T>(
  lockout: SignInLockout,
  dir: AgentAuthDirectory,
  attempt: { readonly user: string; readonly source: string; readonly channel: SignInChannel },
  onError: SharedLockoutError,
  decide: () => T,
): Promise<T> {
  const { user, source, channel } = attempt;
  let loaded: string | undefined;
  try {
    const l = await dir.loadLock(user, source);
    lockout.adopt(user, source, l.state);
    loaded = l.raw;
  } catch (err) {
    onError('sign-in lockout read', err);
  }
  const result = decide();
  if (loaded === undefined) return result;
  try {
    const policy = { now: lockout.now(), lockAfter: lockout.lockAfter, lockMs: lockout.lockMs };
    lockout.merged(user, source, await dir.saveLock(user, source, lockout.state(user, source), loaded, policy), channel);
  } catch (err) {
    onError('sign-in lockout write', err);
  }
  return result;
}
