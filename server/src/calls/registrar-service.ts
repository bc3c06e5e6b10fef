import type { Logger } from '../observability/logger.js';
import { DigestAuthenticator, normalizeAlgorithm, offeredAlgorithms, parseAuthorization, type DigestAlgorithm } from '../sip/auth/index.js';
import { Registrar, parseContacts } from './registrar/index.js';
import type { SignInLockout } from '../security/lockout.js';

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

/**
 * REGISTER handling (RFC 3261 10.3) with digest authentication (22.4, RFC 8760). Agents may
 * register only their own address-of-record; credentials come from configuration.
 */
export class RegistrarService {
  private readonly auth: DigestAuthenticator;

  constructor(
    readonly registrar: Registrar,
    private readonly opts: {
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
    },
  ) {
    this.auth = opts.authenticator;
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

  handle(req: RegisterRequestView, flowId: string, from: { source: string; requestUri: string } = { source: flowId, requestUri: '' }): RegisterReply {
    const aor = req.to.uri.user ?? '';
    const authz = req.getHeader('authorization');
    if (!authz) return this.challenge(flowId);
    const creds = parseAuthorization(authz);
    if ('error' in creds) {
      // RFC 4475 3.3.7 (regaut01): an unknown scheme is challenged, never accepted.
      this.opts.logger.info({ aor, err: creds.error }, 'REGISTER with unusable Authorization: challenged');
      return this.challenge(flowId);
    }
    if (creds.realm !== this.opts.realm) return this.challenge(flowId);
    // The algorithm token is case-insensitive (RFC 7616 3.3, RFC 3261 25.1 token); absent means MD5
    // (RFC 2617 3.2.1). One this flow was not offered is challenged again.
    const algorithm = normalizeAlgorithm(creds.algorithm);
    if (!algorithm || !offeredAlgorithms(this.opts.algorithms, flowId).includes(algorithm)) return this.challenge(flowId);
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
    const r = this.registrar.register(aor, contacts, expires, req.callId, req.cseq, flowId);
    if (r.status === 423) return { status: 423, headers: [`Min-Expires: ${r.minExpires}`] };
    if (r.status !== 200) return { status: r.status, reason: r.reason };
    const headers = r.bindings.map((b) => {
      const params = Object.entries(b.params ?? {})
        .map(([k, val]) => (val === '' ? `;${k}` : `;${k}=${val}`))
        .join('');
      return `Contact: <${b.uri}>${params};expires=${b.expires}`;
    });
    this.opts.logger.info({ aor, flowId, bindings: r.bindings.length }, 'REGISTER accepted');
    return { status: 200, headers };
  }
}
