import type { Logger } from '../observability/logger.js';
import { DigestAuthenticator, normalizeAlgorithm, offeredAlgorithms, parseAuthorization, type DigestAlgorithm } from '../sip/auth/index.js';
import { Registrar, parseContacts, type ContactBinding } from './registrar/index.js';
import type { SignInLockout } from '../security/lockout.js';
import type { RegistrationDirectory } from '../store/index.js';
import type { AgentAuthDirectory } from '../store/redis-agent-auth.js';
import { logSharedSignInError, MAX_IN_FLIGHT, withSharedLockout } from '../store/shared-lockout.js';
import { splitHeaderList } from '../sip/dialog/dialog.js';
import { warningHeader } from '../sip/ua/headers.js';
import { fromDirectory, reachableFrom, toDirectory } from './registrar-directory.js';

/** What the registrar needs from a REGISTER request (sip.js IncomingRequestMessage satisfies it). */
export interface RegisterRequestView {
  callId: string;
  cseq: number;
  to: { uri: { user: string | undefined } };
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
}

export interface RegisterReply {
  status: number;
  reason?: string;
  headers?: string[];
}

export interface RegistrarServiceOptions {
  realm: string;
  /** SIP_DIGEST_ALGORITHMS as configured (order kept); undefined: by transport (offeredAlgorithms). */
  algorithms: readonly DigestAlgorithm[] | undefined;
  passwordOf: (agentId: string) => string | undefined;
  authenticator: DigestAuthenticator;
  logger: Logger;
  /** The sign-in lockout shared with the HTTP login (docs/security.md). */
  lockout?: SignInLockout;
  /** Production: `qop=auth` required and the digest `uri` must be the Request-URI (RFC 7616 3.4.6). */
  strict?: boolean;
  /**
   * With REDIS_URL: the registration directory every gateway shares (store/redis-registrations.ts),
   * and this gateway's INSTANCE_ID. Bindings are read from it before a REGISTER or a lookup and
   * written back after a REGISTER, so any gateway reaches an agent that registered through a
   * proxy adding Path (RFC 3327), whichever gateway took the REGISTER.
   */
  directory?: {
    readonly dir: RegistrationDirectory;
    readonly self: string;
    readonly now?: () => number;
    /** The sign-in lockout counters every instance shares with the HTTP login (store/shared-lockout.ts). */
    readonly signIn?: AgentAuthDirectory;
  };
}

/**
 * REGISTER handling (RFC 3261 10.3) with digest authentication (22.4, RFC 8760). Agents may
 * register only their own address-of-record; credentials come from configuration.
 */
export class RegistrarService {
  private readonly auth: DigestAuthenticator;

  constructor(
    readonly registrar: Registrar,
    private readonly opts: RegistrarServiceOptions,
  ) {
    this.auth = opts.authenticator;
  }

  /** Bindings are shared through the registration directory (Redis). */
  get shared(): boolean {
    return this.opts.directory !== undefined;
  }

  /** True for a configured agent id. */
  isAgent(id: string): boolean {
    return this.opts.passwordOf(id) !== undefined;
  }

  /** 401 with one challenge per offered algorithm, in the configured (or the transport's) order. */
  private challenge(flowId: string, stale = false): RegisterReply {
    const offered = this.auth.challenge({ stale, algorithms: offeredAlgorithms(this.opts.algorithms, flowId) });
    return { status: 401, headers: offered.map((h) => `WWW-Authenticate: ${h}`) };
  }

  /**
   * {@link handle} with the registration directory around it. Redis down or not answering: 503
   * with a Warning and a log line (nothing changes), never a hang (RedisLink.timed's deadline).
   */
  async handleShared(req: RegisterRequestView, flowId: string, from: { source: string; requestUri: string }): Promise<RegisterReply> {
    const d = this.opts.directory;
    if (!d) return this.handle(req, flowId, from);
    const aor = req.to.uri.user ?? '';
    const before = this.registrar.bindings(aor);
    try {
      await this.refresh(aor);
    } catch (err) {
      return this.unavailable(aor, err);
    }
    // The Authorization is read once: for the shared lockout's key and for the digest check.
    const authz = req.getHeader('authorization');
    const creds = authz !== undefined ? parseAuthorization(authz) : undefined;
    const handle = (): RegisterReply => this.#handle(req, flowId, from, creds);
    const r = creds && !('error' in creds) ? await this.lockedShared(creds.username, handle, from.source, d.signIn) : handle();
    if (r.status !== 200 || req.getHeaders('contact').length === 0) return r;
    const [clockNow, wallNow] = [this.registrar.now(), (d.now ?? Date.now)()];
    try {
      await d.dir.save(aor, this.registrar.bindings(aor).map((b) => toDirectory(b, clockNow, wallNow, d.self)));
    } catch (err) {
      this.registrar.seed(aor, before);
      return this.unavailable(aor, err);
    }
    return r;
  }

  /** Reads the bindings of `aor` (or of every registered agent) from the directory into the registrar. Rejects when Redis is down. */
  async refresh(aor?: string): Promise<void> {
    const d = this.opts.directory;
    if (!d) return;
    const aors = aor !== undefined ? [aor] : [...new Set([...(await d.dir.aors()), ...this.registrar.registeredAors()])];
    for (const a of aors) {
      const found = await d.dir.load(a);
      const [clockNow, wallNow] = [this.registrar.now(), (d.now ?? Date.now)()];
      this.registrar.seed(a, found.map((b) => fromDirectory(b, clockNow, wallNow)));
    }
  }

  /** Live bindings of `aor` this gateway can send a request to (registrar-directory.ts, reachableFrom). */
  reachable(aor: string): ContactBinding[] {
    return this.registrar.bindings(aor).filter((b) => reachableFrom(b, this.opts.directory?.self));
  }

  /** A closed connection's bindings go, here and (in the background) in the directory: its agents cannot be reached through it. */
  dropFlow(flowId: string): number {
    const aors = this.registrar.registeredAors().filter((a) => this.registrar.bindings(a).some((b) => b.flowId === flowId && (b.path?.length ?? 0) === 0));
    const n = this.registrar.removeFlow(flowId);
    if (this.opts.directory) for (const aor of aors) void this.dropShared(aor, flowId, this.opts.directory);
    return n;
  }

  private async dropShared(aor: string, flowId: string, d: NonNullable<RegistrarServiceOptions['directory']>): Promise<void> {
    try {
      await this.refresh(aor);
      const kept = this.registrar.bindings(aor).filter((b) => !(b.flowId === flowId && b.gateway === d.self && (b.path?.length ?? 0) === 0));
      this.registrar.seed(aor, kept);
      const [clockNow, wallNow] = [this.registrar.now(), (d.now ?? Date.now)()];
      await d.dir.save(aor, kept.map((b) => toDirectory(b, clockNow, wallNow, d.self)));
    } catch (err) {
      this.opts.logger.warn({ aor, err: err instanceof Error ? err.message : String(err) }, 'registration directory: a closed connection\'s bindings could not be removed (they expire)');
    }
  }

  /** `handle` inside the instances' shared lockout for the digest's user name. */
  private async lockedShared(user: string, handle: () => RegisterReply, source: string, signIn: AgentAuthDirectory | undefined): Promise<RegisterReply> {
    const lockout = this.opts.lockout;
    if (!signIn || !lockout) return handle();
    const busy = (): RegisterReply => {
      this.opts.logger.warn({ user, source, inFlight: MAX_IN_FLIGHT }, 'REGISTER refused undecided: too many sign-in attempts for this user and source in flight');
      return { status: 403, reason: 'Forbidden' };
    };
    return withSharedLockout(lockout, signIn, { user, source, channel: 'sip' }, logSharedSignInError(this.opts.logger), handle, busy);
  }

  private refuseAlgorithm(aor: string, user: string, algorithm: string | undefined, source: string, flowId: string): RegisterReply {
    const gate = this.opts.lockout?.attempt(user, source, 'sip');
    if (gate && !gate.ok) {
      this.opts.logger.warn({ aor, user, source, reason: gate.reason }, 'REGISTER refused: sign-in locked');
      return { status: 403, reason: 'Forbidden' };
    }
    this.opts.lockout?.failed(user, source, 'sip');
    this.opts.logger.warn({ aor, user, source, algorithm: (algorithm ?? 'MD5 (none named)').slice(0, 32) }, 'REGISTER answered in a digest algorithm not offered: counted as a failed sign-in, challenged again');
    return this.challenge(flowId);
  }

  private unavailable(aor: string, err: unknown): RegisterReply {
    const why = err instanceof Error ? err.message : String(err);
    this.opts.logger.warn({ aor, err: why }, 'REGISTER refused: the registration directory (Redis) is unavailable');
    return { status: 503, headers: ['Retry-After: 5', warningHeader('registration directory unavailable (Redis); try again')] };
  }

  handle(req: RegisterRequestView, flowId: string, from: { source: string; requestUri: string } = { source: flowId, requestUri: '' }): RegisterReply {
    const authz = req.getHeader('authorization');
    return this.#handle(req, flowId, from, authz !== undefined ? parseAuthorization(authz) : undefined);
  }

  #handle(req: RegisterRequestView, flowId: string, from: { source: string; requestUri: string }, creds: ReturnType<typeof parseAuthorization> | undefined): RegisterReply {
    const aor = req.to.uri.user ?? '';
    if (!creds) return this.challenge(flowId);
    if ('error' in creds) {
      // RFC 4475 3.3.7 (regaut01): an unknown scheme is challenged, never accepted.
      this.opts.logger.info({ aor, err: creds.error }, 'REGISTER with unusable Authorization: challenged');
      return this.challenge(flowId);
    }
    if (creds.realm !== this.opts.realm) return this.challenge(flowId);
    // The algorithm token is case-insensitive (RFC 7616 3.3, RFC 3261 25.1 token); absent means MD5
    // (RFC 2617 3.2.1). One this flow was not offered is challenged again.
    const algorithm = normalizeAlgorithm(creds.algorithm);
    if (!algorithm || !offeredAlgorithms(this.opts.algorithms, flowId).includes(algorithm)) {
      // Production offers SHA-256 only (RFC 8760): an answer in another algorithm (MD5, what svcrack
      // and old phones send) can never sign in. It is a password guess all the same, so it counts
      // and is audited like a wrong password (PCI DSS 8.3.4, 10.2.1.4); then challenged again, so a
      // UA that knows SHA-256 may still answer.
      if (this.opts.strict) return this.refuseAlgorithm(aor, creds.username, creds.algorithm, from.source, flowId);
      return this.challenge(flowId);
    }
    if (this.opts.strict && (creds.qop?.toLowerCase() !== 'auth' || creds.uri !== from.requestUri)) {
      this.opts.logger.warn({ aor, user: creds.username }, 'REGISTER refused: qop=auth and the Request-URI as digest uri are required');
      return { status: 403, reason: 'Forbidden' };
    }
    // One lockout for SIP and HTTP, keyed by (user, source): a refused attempt is answered like a
    // wrong password, so outsiders learn nothing (docs/security.md, PCI DSS 8.3.4).
    const gate = this.opts.lockout?.attempt(creds.username, from.source, 'sip');
    if (gate && !gate.ok) {
      this.opts.logger.warn({ aor, user: creds.username, source: from.source, reason: gate.reason }, 'REGISTER refused: sign-in locked');
      return { status: 403, reason: 'Forbidden' };
    }
    const v = this.auth.verify('REGISTER', creds, (u) => this.opts.passwordOf(u));
    if (!v.ok) {
      if (v.reason === 'stale-nonce') return this.challenge(flowId, true);
      // A nonce another gateway issued (REGISTERs spread over several, README "Redis, metrics, audit")
      // with the right password: a fresh one, stale=TRUE so the client does not ask its user again
      // (RFC 7616 3.3, RFC 3261 22.4).
      if (v.reason === 'bad-nonce' && this.auth.knowsPassword('REGISTER', creds, (u) => this.opts.passwordOf(u))) return this.challenge(flowId, true);
      // A right response with a nonce-count already seen (RFC 7616 3.4): a UA re-sending the
      // Authorization of its last REGISTER on a refresh or an unregister, as sip.js does (the
      // widget), or a replay. Neither is accepted; a fresh nonce, stale=TRUE, lets the UA answer
      // anew without asking its user (RFC 7616 3.3), and a replayer cannot.
      if (v.reason === 'nc-replay') {
        this.opts.logger.info({ aor, user: creds.username }, 'REGISTER with a nonce-count already used: challenged again');
        return this.challenge(flowId, true);
      }
      if (v.reason === 'bad-response' || v.reason === 'unknown-user') this.opts.lockout?.failed(creds.username, from.source, 'sip');
      this.opts.logger.warn({ aor, user: creds.username, reason: v.reason }, 'REGISTER refused');
      return { status: 403, reason: 'Forbidden' };
    }
    this.opts.lockout?.succeeded(v.username, from.source, 'sip');
    // An agent registers only itself (RFC 3261 10.3 step 3: authorised to modify this AOR).
    if (v.username !== aor) {
      this.opts.logger.warn({ aor, user: v.username }, 'REGISTER for another agent refused');
      return { status: 403, reason: 'Forbidden' };
    }
    const contacts = req.getHeaders('contact').length ? parseContacts(req.getHeaders('contact')) : [];
    if (!Array.isArray(contacts) && contacts !== '*') return { status: 400, reason: 'Bad Contact' };
    const expHdr = req.getHeader('expires');
    let expires: number | undefined;
    if (expHdr !== undefined) {
      expires = /^\s*\d{1,10}\s*$/.test(expHdr) ? Number(expHdr) : NaN;
      if (!Number.isFinite(expires)) return { status: 400, reason: 'Bad Expires' };
    }
    // RFC 3327 5.3: the registrar keeps the Path with the binding and returns it in the 200.
    const path = splitHeaderList(req.getHeaders('path'));
    const self = this.opts.directory?.self;
    const r = this.registrar.register(aor, contacts, expires, req.callId, req.cseq, flowId, { path, ...(self !== undefined ? { gateway: self } : {}) });
    if (r.status === 423) return { status: 423, headers: [`Min-Expires: ${r.minExpires}`] };
    if (r.status !== 200) return { status: r.status, reason: r.reason };
    const headers = r.bindings.map((b) => {
      const params = Object.entries(b.params ?? {})
        .map(([k, val]) => (val === '' ? `;${k}` : `;${k}=${val}`))
        .join('');
      return `Contact: <${b.uri}>${params};expires=${b.expires}`;
    });
    if (path.length) headers.push(...path.map((p) => `Path: ${p}`));
    this.opts.logger.info({ aor, flowId, bindings: r.bindings.length }, 'REGISTER accepted');
    return { status: 200, headers };
  }
}
