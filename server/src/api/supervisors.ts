import { randomBytes } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { SignInLockout } from '../security/lockout.js';
import { isHashed, verifyPassword } from '../security/credentials.js';
import { verifyTotp } from '../security/totp.js';
import { tokenKey } from './agent-tokens.js';
import { bearer, inFlightRefusal } from './auth.js';
import type { AgentAuthDirectory } from '../store/redis-agent-auth.js';
import type { SupervisorSessionDirectory } from '../store/redis-supervisor-sessions.js';
import { withSharedLockout } from '../store/shared-lockout.js';

/**
 * Named supervisor accounts with a TOTP second factor (RFC 6238; docs/security.md, PCI DSS 8.4.2)
 * and a 15-minute idle timeout (PCI DSS 8.2.8): `POST /api/supervisors/login
 * {"name","password","code"}` -> `200 {"token","name","idleTimeoutS"}`, `401` for anything wrong
 * (one answer, whatever was wrong), `429` with `Retry-After` when the sign-in lockout (shared with
 * agents, keyed by `supervisor:<name>` and source) refuses; `POST /api/supervisors/logout`.
 * The token is a supervisor bearer token wherever the static SUPERVISOR_TOKEN is.
 */
export const SUPERVISOR_IDLE_MS = 15 * 60_000;

export interface SupervisorAccount {
  readonly name: string;
  /** A `$tg1$` scrypt entry (production) or a plain password (demo); security/credentials.ts. */
  readonly password: string;
  /** The TOTP secret (decoded from base32). */
  readonly secret: Buffer;
}

export type SupervisorLogin =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly reason: 'unauthorized'; readonly replayed?: true }
  | { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterS: number };

/**
 * With REDIS_URL: the sign-in lockout counters shared with every instance (store/shared-lockout.ts),
 * a cluster-wide claim of each accepted TOTP step, so a code is good once on all instances
 * (PCI DSS v4.0.1 8.5.1: MFA not open to replay), and the sessions (store/redis-supervisor-sessions.ts),
 * so no sticky sessions are needed. Without, all three stay in this process.
 */
export interface SupervisorSharing {
  readonly shared?: AgentAuthDirectory | undefined;
  readonly onSharedError?: (what: string, err: unknown) => void;
  /** Redis SET NX with a TTL (store/backend.ts claimOnce): true the first time `key` is claimed. */
  readonly claimOnce?: ((key: string, ttlSeconds: number) => Promise<boolean>) | undefined;
  /** The sessions themselves, by token hash: good on every instance, ended on all by one sign-out. */
  readonly sessions?: SupervisorSessionDirectory | undefined;
}

/** A TOTP step is accepted within ±1 step of 30 s; its claim outlives that window. */
const TOTP_CLAIM_TTL_S = 120;

export class SupervisorSessions {
  readonly #accounts: Map<string, SupervisorAccount>;
  readonly #sessions = new Map<string, { name: string; lastUsed: number }>();
  /** Last TOTP step accepted per account: a code is good once. */
  readonly #lastStep = new Map<string, number>();
  /** Some password is hashed: an unknown name then costs one scrypt too (verifyPassword). */
  readonly #hashed: boolean;

  private readonly now: () => number;
  private readonly idleMs: number;
  private readonly sharing: SupervisorSharing;

  constructor(
    accounts: readonly SupervisorAccount[],
    private readonly lockout: SignInLockout,
    options: { readonly now?: () => number; readonly idleMs?: number; readonly sharing?: SupervisorSharing } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.idleMs = options.idleMs ?? SUPERVISOR_IDLE_MS;
    this.sharing = options.sharing ?? {};
    this.#accounts = new Map(accounts.map((a) => [a.name, a]));
    this.#hashed = accounts.some((a) => isHashed(a.password));
  }

  get configured(): boolean {
    return this.#accounts.size > 0;
  }

  /**
   * {@link login} with the instances' shared state: the lockout counters of (supervisor, source)
   * are read before and written after, and the TOTP step is claimed in Redis; a code already used
   * on another instance is refused like a wrong one (and its session here is dropped at once).
   * Redis failing: this instance decides alone, and says so through `onSharedError`.
   */
  async loginShared(name: string, password: string, code: string, source: string): Promise<SupervisorLogin> {
    const { shared, claimOnce } = this.sharing;
    const onError = this.sharing.onSharedError ?? (() => {});
    let step: number | undefined;
    const decide = (): SupervisorLogin => this.#login(name, password, code, source, (s) => (step = s));
    const r = shared ? await withSharedLockout(this.lockout, shared, { user: `supervisor:${name}`, source, channel: 'http' }, onError, decide, inFlightRefusal) : decide();
    if (!r.ok || step === undefined) return r;
    if (claimOnce) {
      let claimed = true;
      try {
        claimed = await claimOnce(`totp:${name}:${step}`, TOTP_CLAIM_TTL_S);
      } catch (err) {
        onError('supervisor TOTP claim', err);
      }
      if (!claimed) {
        this.revoke(r.token);
        return { ok: false, reason: 'unauthorized', replayed: true };
      }
    }
    const sessions = this.sharing.sessions;
    if (sessions) await this.#shared('supervisor session write', () => sessions.put(tokenKey(r.token), name, this.idleMs));
    return r;
  }

  /**
   * Brings this instance's view of `token` up to date with the shared one before {@link resolve}
   * (every request and /events ping with a bearer token): a session opened elsewhere is taken
   * in, one ended elsewhere (sign-out, idle timeout) is dropped here, and the cluster-wide idle
   * timer starts again. Redis failing: this instance's view stands.
   */
  async refresh(token: string): Promise<void> {
    const sessions = this.sharing.sessions;
    if (!sessions) return;
    const key = tokenKey(token);
    let name: string | undefined;
    try {
      name = await sessions.touch(key, this.idleMs);
    } catch (err) {
      (this.sharing.onSharedError ?? (() => {}))('supervisor session read', err);
      return;
    }
    if (name !== undefined && this.#accounts.has(name)) this.#sessions.set(key, { name, lastUsed: this.now() });
    else this.#sessions.delete(key);
  }

  /** {@link revoke} on every instance. True when the token was a live session here (after {@link refresh}). */
  async revokeShared(token: string): Promise<boolean> {
    const had = this.revoke(token);
    const sessions = this.sharing.sessions;
    if (sessions) await this.#shared('supervisor session end', () => sessions.drop(tokenKey(token)));
    return had;
  }

  async #shared(what: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      (this.sharing.onSharedError ?? (() => {}))(what, err);
    }
  }

  login(name: string, password: string, code: string, source: string): SupervisorLogin {
    return this.#login(name, password, code, source, () => {});
  }

  #login(name: string, password: string, code: string, source: string, accepted: (step: number) => void): SupervisorLogin {
    const user = `supervisor:${name}`;
    const gate = this.lockout.attempt(user, source, 'http');
    if (!gate.ok) return { ok: false, reason: 'rate-limited', retryAfterS: Math.max(1, Math.ceil(gate.retryAfterMs / 1000)) };
    const acct = this.#accounts.get(name);
    // The password is checked even for an unknown name (scrypt against a dummy entry when hashes
    // are in use), so timing does not tell names apart.
    const pwOk = verifyPassword(password, acct?.password, this.#hashed);
    const step = acct && pwOk ? verifyTotp(acct.secret, code, this.now(), { lastUsedStep: this.#lastStep.get(name) ?? -1 }) : undefined;
    if (!acct || step === undefined) {
      this.lockout.failed(user, source, 'http');
      return { ok: false, reason: 'unauthorized' };
    }
    this.lockout.succeeded(user, source, 'http');
    this.#lastStep.set(name, step);
    accepted(step);
    const token = randomBytes(24).toString('base64url');
    this.#sweep();
    this.#sessions.set(tokenKey(token), { name, lastUsed: this.now() });
    return { ok: true, token };
  }

  /** The supervisor a live token belongs to; each use restarts the idle timer. */
  resolve(token: string): string | undefined {
    const key = tokenKey(token);
    const s = this.#sessions.get(key);
    if (!s) return undefined;
    const now = this.now();
    if (now - s.lastUsed > this.idleMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    s.lastUsed = now;
    return s.name;
  }

  revoke(token: string): boolean {
    return this.#sessions.delete(tokenKey(token));
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, s] of this.#sessions) if (now - s.lastUsed > this.idleMs) this.#sessions.delete(k);
  }
}

const loginSchema = z.object({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), password: z.string().min(1).max(256), code: z.string().max(16) }).strict();

export function supervisorsRouter(sessions: SupervisorSessions, logger: Logger): Router {
  const r = Router();
  r.post('/api/supervisors/login', express.json({ limit: '4kb' }), async (req, res) => {
    const body = loginSchema.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: 'bad-request', message: 'the body must be {"name","password","code"}' });
      return;
    }
    const { name, password, code } = body.data;
    const result = await sessions.loginShared(name, password, code, req.socket.remoteAddress ?? 'unknown');
    if (!result.ok && result.reason === 'rate-limited') {
      res.status(429).set('Retry-After', String(result.retryAfterS)).json({ error: 'rate-limited', message: 'too many failed sign-ins; retry later' });
      return;
    }
    if (!result.ok) {
      if (result.replayed) logger.warn({ supervisor: name }, 'supervisor sign-in refused: the TOTP code was already used on another instance');
      else logger.info({ supervisor: name }, 'supervisor sign-in refused');
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    logger.info({ supervisor: name }, 'supervisor signed in');
    res.json({ token: result.token, name, idleTimeoutS: SUPERVISOR_IDLE_MS / 1000 });
  });
  r.post('/api/supervisors/logout', async (req, res) => {
    const t = bearer(req);
    if (!t || !(await sessions.revokeShared(t))) {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    res.status(204).end();
  });
  return r;
}
