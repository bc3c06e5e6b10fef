import { Router } from 'express';
import type { SessionStore } from '../store/index.js';
import { requireToken, type Principal } from './auth.js';

const ORDER_REF = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const SESSION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Session REST (docs/architecture.md, "Session REST"): `GET /api/sessions[?orderRef=]`, `GET /api/sessions/:id`.
 * Records in the store are masked by construction (first 6 / last 4 at most).
 */
export function sessionsRouter(store: SessionStore, resolve: (token: string) => Principal | undefined): Router {
  const r = Router();
  r.use('/api/sessions', requireToken(resolve, ['supervisor', 'agent']));
  r.get('/api/sessions', async (req, res, next) => {
    try {
      const orderRef = typeof req.query.orderRef === 'string' ? req.query.orderRef : undefined;
      if (req.query.orderRef !== undefined && (!orderRef || !ORDER_REF.test(orderRef))) {
        res.status(400).json({ error: 'bad-request', message: 'orderRef must be 1-64 characters of [A-Za-z0-9._:/-]' });
        return;
      }
      const who = res.locals.principal as Principal;
      const sessions = await store.list({
        ...(orderRef ? { orderRef } : {}),
        ...(who.kind === 'agent' ? { agentId: who.agentId } : {}),
      });
      res.json({ sessions });
    } catch (err) {
      next(err);
    }
  });
  r.get('/api/sessions/:id', async (req, res, next) => {
    try {
      if (!SESSION_ID.test(req.params.id)) {
        res.status(400).json({ error: 'bad-request', message: 'malformed session id' });
        return;
      }
      const s = await store.get(req.params.id);
      const who = res.locals.principal as Principal;
      if (!s || (who.kind === 'agent' && s.agentId !== who.agentId)) {
        res.status(404).json({ error: 'not-found', message: 'no such session' });
        return;
      }
      res.json(s);
    } catch (err) {
      next(err);
    }
  });
  return r;
}
