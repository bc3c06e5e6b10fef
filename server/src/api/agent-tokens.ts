import { createHash, randomBytes } from 'node:crypto';
import { inFlightRefusal, sameSecret } from './auth.js';
import { isHashed, verifyPassword } from '../security/credentials.js';
import { SignInLockout } from '../security/lockout.js';
import type { AgentAuthDirectory } from '../store/redis-agent-auth.js';
import { withSharedLockout } from '../store/shared-lockout.js';

/** Agent bearer tokens live this long (a working day with margin). */
export const AGENT_TOKEN_TTL_MS = 12 * 60 * 60_000;

export interface AgentTokensOptions {
  /** `id -> password` (config AGENTS). */
  readonly agents: readonly { readonly id: string; readonly password: string }[];
  /** Wall clock, epoch ms (token expiry is reported as a date). Default Date.now. */
  readonly now?: () => number;
  readonly ttlMs?: number;
  /** Most tokens held at once; beyond it the oldest go first. Default 10 000. */
  readonly maxTokens?: number;
  /** Called with every revoked or expired token's key (see {@link tokenKey}), e.g. to close its sockets. */
  readonly onRevoked?: (key: string) => void;
  /** The sign-in lockout shared with SIP REGISTER (docs/security.md); default: one of its own. */
  readonly lockout?: SignInLockout;
  /**
   * With REDIS_URL: tokens (by hash) and lockout counters shared by every instance
   * (store/redis-agent-auth.ts). Without it, both stay in this process.
   */
  readonly shared?: AgentAuthDirectory | undefined;
  /** A shared read or write failed (Redis down or late); this instance goes on from memory. */
  readonly onSharedError?: (what: string, err: unknown) => void;
}

export type LoginResult =
  | { readonly ok: true; readonly token: string; readonly agentId: string; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: 'unauthorized' }
  | { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterS: number };

/**
 * A token's key in memory and in logs-free bookkeeping: its SHA-256. Tokens are held only by hash,
 * so a map lookup never compares the secret itself and a heap dump holds no usable token.
 */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Agent login: the password from config AGENTS, compared in constant time; a random token (24
 * bytes, base64url) held in memory for 12 h; logout revokes it. Failures go to the
 * {@link SignInLockout} keyed by (agent id, source address) that SIP REGISTER shares: backoff,
 * then locked for 30 minutes after 10 failures (security/lockout.ts); a refusal is `rate-limited`.
 */
export class AgentTokens {
  readonly #passwords: Map<string, string>;
  readonly #hashed: boolean;
  readonly #tokens = new Map<string, { agentId: string; expiresAt: number }>();
  readonly #lockout: SignInLockout;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #max: number;
  readonly #onRevoked: (key: string) => void;
  readonly #shared: AgentAuthDirectory | undefined;
  readonly #onSharedError: (what: string, err: unknown) => void;

  constructor(o: AgentTokensOptions) {
    this.#passwords = new Map(o.agents.map((a) => [a.id, a.password]));
    this.#hashed = o.agents.some((a) => isHashed(a.password));
    this.#now = o.now ?? Date.now;
    this.#ttl = o.ttlMs ?? AGENT_TOKEN_TTL_MS;
    this.#max = Math.max(1, o.maxTokens ?? 10_000);
    this.#onRevoked = o.onRevoked ?? (() => {});
    this.#lockout = o.lockout ?? new SignInLockout({ now: this.#now });
    this.#shared = o.shared;
    this.#onSharedError = o.onSharedError ?? (() => {});
  }

  /**
   * {@link login} with the instances' shared state: the (agent, source) lockout counters are read
   * before and written after (store/shared-lockout.ts), a new token is published by hash. When Redis fails, the decision is
   * this instance's own (its counters, its tokens) and the failure is reported.
   */
  async loginShared(agentId: string, password: string, source = 'unknown'): Promise<LoginResult> {
    const shared = this.#shared;
    if (!shared) return this.login(agentId, password, source);
    const r = await withSharedLockout(this.#lockout, shared, { user: agentId, source, channel: 'http' }, this.#onSharedError, () => this.login(agentId, password, source), inFlightRefusal);
    if (r.ok) await this.#try('agent token write', () => shared.putToken(tokenKey(r.token), { agentId: r.agentId, expiresAt: r.expiresAt }));
    return r;
  }

  /**
   * Brings this instance's view of `token` up to date with the shared one before {@link resolve}:
   * a token issued elsewhere is taken in, one revoked elsewhere is dropped (closing its sockets
   * here). Without Redis, or when it fails, nothing changes.
   */
  async refresh(token: string): Promise<void> {
    const shared = this.#shared;
    if (!shared) return;
    const key = tokenKey(token);
    await this.#try('agent token read', async () => {
      const t = await shared.getToken(key);
      if (!t) return this.#drop(key);
      if (!this.#tokens.has(key)) {
        this.#sweep(this.#now());
        while (this.#tokens.size >= this.#max) this.#drop(this.#tokens.keys().next().value as string);
      }
      this.#tokens.set(key, { agentId: t.agentId, expiresAt: t.expiresAt });
    });
  }

  /** {@link revoke} on every instance: the shared copy is deleted too. */
  async revokeShared(token: string): Promise<boolean> {
    const live = this.revoke(token);
    const shared = this.#shared;
    if (shared) await this.#try('agent token revoke', () => shared.dropToken(tokenKey(token)));
    return live;
  }

  /** A supervisor lifts `agentId`'s lockout from every source, on every instance. */
  async unlock(agentId: string): Promise<number> {
    const n = this.#lockout.unlock(agentId);
    const shared = this.#shared;
    if (shared) await this.#try('sign-in unlock', () => shared.unlock(agentId));
    return n;
  }

  async #try(what: string, f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (err) {
      this.#onSharedError(what, err);
    }
  }

  /** `source`: the client's address (the lockout key's second half). */
  login(agentId: string, password: string, source = 'unknown'): LoginResult {
    const now = this.#now();
    const gate = this.#lockout.attempt(agentId, source, 'http');
    if (!gate.ok) return { ok: false, reason: 'rate-limited', retryAfterS: Math.max(1, Math.ceil(gate.retryAfterMs / 1000)) };
    const expected = this.#passwords.get(agentId);
    // Compare even for an unknown id, so the answer takes as long either way.
    // A hashed entry (security/credentials.ts) is checked by scrypt; for an unknown id too when hashes are in use.
    const match = this.#hashed ? verifyPassword(password, expected, true) : sameSecret(password, expected ?? '\u0000no-such-agent');
    if (!match || expected === undefined) {
      this.#lockout.failed(agentId, source, 'http');
      return { ok: false, reason: 'unauthorized' };
    }
    this.#lockout.succeeded(agentId, source, 'http');
    const token = randomBytes(24).toString('base64url');
    const expiresAt = now + this.#ttl;
    this.#sweep(now);
    while (this.#tokens.size >= this.#max) {
      const oldest = this.#tokens.keys().next().value as string;
      this.#drop(oldest);
    }
    this.#tokens.set(tokenKey(token), { agentId, expiresAt });
    return { ok: true, token, agentId, expiresAt };
  }

  /** The agent a live token belongs to, or undefined. */
  resolve(token: string): string | undefined {
    const key = tokenKey(token);
    const t = this.#tokens.get(key);
    if (!t) return undefined;
    if (t.expiresAt <= this.#now()) {
      this.#drop(key);
      return undefined;
    }
    return t.agentId;
  }

  /** Idempotent; true when the token was live. */
  revoke(token: string): boolean {
    const key = tokenKey(token);
    const live = this.resolve(token) !== undefined;
    if (live) this.#drop(key);
    return live;
  }

  /** Live tokens (for tests and metrics). */
  get size(): number {
    this.#sweep(this.#now());
    return this.#tokens.size;
  }

  #drop(key: string): void {
    if (this.#tokens.delete(key)) this.#onRevoked(key);
  }

  #sweep(now: number): void {
    for (const [key, t] of this.#tokens) if (t.expiresAt <= now) this.#drop(key);
  }
}
