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
 *
 * Attempts for one (user, source) are decided one after another; when {@link MAX_IN_FLIGHT} are
 * already in flight on this instance, `busy` answers the next at once and it is never decided.
 */
export function withSharedLockout<T>(
  lockout: SignInLockout,
  dir: AgentAuthDirectory,
  attempt: { readonly user: string; readonly source: string; readonly channel: SignInChannel },
  onError: SharedLockoutError,
  decide: () => T,
  busy: () => T,
): Promise<T> {
  // One attempt per (user, source) at a time on this instance: an attempt that read Redis while an
  // earlier one was between its read and its write would adopt counters without that failure, and
  // a burst of guesses (a cracker not waiting for answers) would get past the limit.
  return oneAtATime(lockout, `${attempt.user}\u0000${attempt.source}`, async () => {
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
  }, busy);
}

/**
 * The most sign-in attempts for one (user, source) in flight at once on an instance: the one being
 * decided and those waiting for it. Against a slow Redis a cracker that does not wait for answers
 * (the edge lets one source send 50 REGISTERs a second) would otherwise pile up waiting guesses,
 * each holding its request, without bound; no person signs in 16 times at once from one address.
 */
export const MAX_IN_FLIGHT = 16;

/** The attempts in flight per lockout, by user and source: each waits for the one before. */
const pending = new WeakMap<SignInLockout, Map<string, { tail: Promise<void>; inFlight: number }>>();

/** Runs `task` after every earlier task of the same owner and key has settled; `busy` instead when {@link MAX_IN_FLIGHT} are in flight. */
function oneAtATime<T>(owner: SignInLockout, key: string, task: () => Promise<T>, busy: () => T): Promise<T> {
  let queues = pending.get(owner);
  if (!queues) pending.set(owner, (queues = new Map()));
  const q = queues.get(key) ?? { tail: Promise.resolve(), inFlight: 0 };
  if (q.inFlight >= MAX_IN_FLIGHT) return Promise.resolve().then(busy);
  q.inFlight++;
  queues.set(key, q);
  const run = q.tail.then(task);
  q.tail = run.then(
    () => undefined,
    () => undefined,
  ).then(() => {
    if (--q.inFlight === 0 && queues.get(key) === q) queues.delete(key);
  });
  return run;
}
