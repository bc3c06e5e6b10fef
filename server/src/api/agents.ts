import express, { Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { AgentTokens, AgentTokensOptions } from './agent-tokens.js';
import type { SharedRedis } from '../store/backend.js';
import { RedisAgentAuth } from '../store/redis-agent-auth.js';
import { logSharedSignInError } from '../store/shared-lockout.js';
import type { SignInLockout } from '../security/lockout.js';
import { bearer, requireToken, type Principal } from './auth.js';

const loginSchema = z
  .object({
    agentId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    password: z.string().min(1).max(256),
  })
  .strict();

/**
 * Agent login for the widget (issue 5 part 4):
 * `POST /api/agents/login {"agentId","password"}` -> `200 {"token","agentId","expiresAt"}`,
 * `401 {"error":"unauthorized"}`, or `429` with `Retry-After` after too many failures;
 * `POST /api/agents/logout` with the agent's bearer token -> `204`, the token is revoked;
 * `POST /api/agents/:id/unlock` with a supervisor token -> `200 {"agentId","cleared"}`: lifts the
 * sign-in lockout of that id from every source (docs/security.md, PCI DSS 8.3.4).
 */
export function agentsRouter(tokens: AgentTokens, resolve: (token: string) => Principal | undefined, logger: Logger, lockout?: SignInLockout): Router {
  const r = Router();
  r.post('/api/agents/login', express.json({ limit: '4kb' }), async (req, res) => {
    const body = loginSchema.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: 'bad-request', message: 'the body must be {"agentId","password"} with agentId of [A-Za-z0-9._-]' });
      return;
    }
    const { agentId, password } = body.data;
    const result = await tokens.loginShared(agentId, password, req.socket.remoteAddress ?? 'unknown');
    if (!result.ok && result.reason === 'rate-limited') {
      logger.warn({ agentId }, 'agent login rate-limited');
      res.status(429).set('Retry-After', String(result.retryAfterS)).json({ error: 'rate-limited', message: 'too many failed logins; retry later' });
      return;
    }
    if (!result.ok) {
      logger.info({ agentId }, 'agent login refused');
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    logger.info({ agentId }, 'agent logged in');
    res.json({ token: result.token, agentId: result.agentId, expiresAt: new Date(result.expiresAt).toISOString() });
  });
  r.post('/api/agents/logout', requireToken(resolve, ['agent']), async (req, res) => {
    const who = res.locals.principal as Extract<Principal, { kind: 'agent' }>;
    await tokens.revokeShared(bearer(req) ?? '');
    logger.info({ agentId: who.agentId }, 'agent logged out');
    res.status(204).end();
  });
  r.post('/api/agents/:id/unlock', requireToken(resolve, ['supervisor']), async (req, res) => {
    const id = String(req.params.id);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      res.status(400).json({ error: 'bad-request', message: 'the agent id must be 1-64 characters of [A-Za-z0-9._-]' });
      return;
    }
    const cleared = lockout ? await tokens.unlock(id) : 0;
    logger.info({ agentId: id, cleared }, 'agent sign-in unlocked by a supervisor');
    res.json({ agentId: id, cleared });
  });
  return r;
}

/** With Redis: the options that make agent tokens and lockout counters cluster-wide; without, none. */
export function sharedAgentAuth(redis: SharedRedis | undefined, logger: Logger): Pick<AgentTokensOptions, 'shared' | 'onSharedError'> {
  if (!redis) return {};
  return {
    shared: new RedisAgentAuth(redis),
    onSharedError: logSharedSignInError(logger),
  };
}
