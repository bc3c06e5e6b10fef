import { timingSafeEqual, createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Who a bearer token belongs to. Agent tokens come with the widget. */
export type Principal = { kind: 'supervisor' } | { kind: 'agent'; agentId: string } | { kind: 'handoff-client' };

/** Constant-time comparison of secrets of any length (hash both so lengths never leak). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function bearer(req: Request): string | undefined {
  const h = req.header('authorization');
  const m = h ? /^Bearer\s+(\S{1,512})\s*$/i.exec(h) : null;
  return m?.[1];
}

/**
 * Express middleware: 401 with `WWW-Authenticate: Bearer` (RFC 6750 3) when the token is missing or
 * unknown; the principal is put on `res.locals.principal`.
 */
export function requireToken(resolve: (token: string) => Principal | undefined, allowed: Principal['kind'][]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = bearer(req);
    const who = token ? resolve(token) : undefined;
    if (!who) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="tonegate"').json({ error: 'unauthorized', message: 'a valid bearer token is required' });
      return;
    }
    if (!allowed.includes(who.kind)) {
      res.status(403).json({ error: 'forbidden', message: `a ${who.kind} token cannot use this endpoint` });
      return;
    }
    res.locals.principal = who;
    next();
  };
}

/**
 * Before the routers: a request's bearer token is brought up to date with the instances' shared
 * state (agent tokens, supervisor sessions: README, "Agents across instances"), so the synchronous
 * resolvers behind it see a token issued, or revoked, on another instance.
 */
export function refreshBearer(refresh: (token: string) => Promise<void>): (req: Request, res: Response, next: NextFunction) => void {
  return (req, _res, next) => {
    const t = bearer(req);
    if (t === undefined) return next();
    refresh(t).then(() => next(), next);
  };
}

/**
 * The HTTP sign-ins' answer to an attempt refused because too many for that user and source were
 * already in flight (store/shared-lockout.ts, MAX_IN_FLIGHT): `rate-limited`, so 429 with
 * Retry-After, like a backoff.
 */
export const inFlightRefusal = (): { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterS: number } => ({ ok: false, reason: 'rate-limited', retryAfterS: 1 });
