import { randomBytes } from 'node:crypto';
import { AgentTokens } from '../api/agent-tokens.js';
import { sharedAgentAuth } from '../api/agents.js';
import { sameSecret, type Principal } from '../api/auth.js';
import { SupervisorSessions } from '../api/supervisors.js';
import { RegistrarService } from '../calls/registrar-service.js';
import { Registrar } from '../calls/registrar/index.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import type { SignInLockout } from '../security/lockout.js';
import type { TrustConfig } from '../security/trust-config.js';
import { DigestAuthenticator, type DigestAlgorithm } from '../sip/auth/index.js';
import { RegistrarLimits } from '../sip/constants.js';
import type { SessionEvent } from '../capture/events.js';
import { RedisAgentAuth, RedisRegistrations, RedisSupervisorSessions, type StoreBackend } from '../store/index.js';

/** Who may do what: SIP REGISTER, agent and supervisor sign-in, the bearer tokens of the HTTP API. */
export interface Access {
  readonly registrar: Registrar;
  readonly registrarService: RegistrarService;
  readonly agentTokens: AgentTokens;
  readonly supervisors: SupervisorSessions;
  /** Bearer token for supervisors (config or generated for the demo). */
  readonly supervisorToken: string;
  /** API key for POST /api/handoffs (config or generated for the demo). */
  readonly handoffApiKey: string;
  /** A bearer token's principal, or undefined: the one answer every router and socket asks. */
  resolveToken(token: string): Principal | undefined;
  /** Brings a bearer token up to date with the instances' shared state before {@link resolveToken} (no-op without Redis). */
  refresh(token: string): Promise<void>;
}

/**
 * Sign-in and tokens (docs/security.md): one lockout for REGISTER and the HTTP logins; with Redis
 * the registrations, tokens and lockout counters are shared by every instance (README, "Agents
 * across instances"), and so are supervisor sessions. `onTokenRevoked` closes the token's `/events`
 * sockets.
 */
export function wireAccess(o: {
  readonly config: Config;
  readonly trust: TrustConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly backend: StoreBackend<SessionEvent>;
  readonly lockout: SignInLockout;
  readonly onTokenRevoked: (key: string) => void;
}): Access {
  const { config, trust, logger, clock, backend, lockout } = o;
  const passwords = new Map(config.AGENTS.map((a) => [a.id, a.password]));
  const registrar = new Registrar({ clock, logger });
  const authenticator = new DigestAuthenticator({ realm: config.SIP_REALM, clock, nonceTtlMs: RegistrarLimits.NONCE_TTL_MS, secret: randomBytes(32) });
  const registrarService = new RegistrarService(registrar, {
    realm: config.SIP_REALM,
    // Production offers SHA-256 only (docs/security.md; RFC 8760).
    algorithms: trust.mode === 'production' ? ['SHA-256'] : (config.SIP_DIGEST_ALGORITHMS as DigestAlgorithm[]),
    passwordOf: (id) => passwords.get(id),
    authenticator,
    logger,
    lockout,
    strict: trust.mode === 'production',
    ...(backend.shared ? { directory: { dir: new RedisRegistrations(backend.shared), signIn: new RedisAgentAuth(backend.shared), self: config.INSTANCE_ID } } : {}),
  });
  const supervisorToken = config.SUPERVISOR_TOKEN ?? randomBytes(18).toString('base64url');
  const handoffApiKey = config.HANDOFF_API_KEY ?? randomBytes(18).toString('base64url');
  const shared = sharedAgentAuth(backend.shared, logger);
  const agentTokens = new AgentTokens({ agents: config.AGENTS, onRevoked: o.onTokenRevoked, lockout, ...shared });
  // Named supervisors with TOTP and a 15-minute idle timeout; TOTP steps claimed once across instances.
  // With Redis the sessions are shared too: no sticky sessions behind a load balancer.
  const supervisors = new SupervisorSessions(trust.supervisors, lockout, {
    sharing: { ...shared, claimOnce: backend.claimOnce, ...(backend.shared ? { sessions: new RedisSupervisorSessions(backend.shared) } : {}) },
  });
  return {
    registrar,
    registrarService,
    agentTokens,
    supervisors,
    supervisorToken,
    handoffApiKey,
    refresh: async (token) => {
      await agentTokens.refresh(token);
      // An agent's token (the common case: the widget's requests and /events pings) is no supervisor session: one Redis read, not two.
      if (agentTokens.resolve(token) === undefined) await supervisors.refresh(token);
    },
    resolveToken: (token) => {
      if (sameSecret(token, supervisorToken) || supervisors.resolve(token) !== undefined) return { kind: 'supervisor' };
      if (sameSecret(token, handoffApiKey)) return { kind: 'handoff-client' };
      const agentId = agentTokens.resolve(token);
      return agentId !== undefined ? { kind: 'agent', agentId } : undefined;
    },
  };
}
