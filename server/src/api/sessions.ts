import { Router } from 'express';
import type { SessionStore } from '../store/index.js';
import { requireToken, type Principal } from './auth.js';

const ORDER_REF = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const SESSION_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** `GET /api/sessions` pages: `limit` 1-1000 (default 100), `before` = the previous page's `next`. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))~([A-Za-z0-9._-]{1,128})$/;

/** The cursor after `r`: its start time and id (opaque to clients). */
export const cursorOf = (r: { startedAt: string; id: string }): string => `${r.startedAt}~${r.id}`;

/**
 * Session REST (docs/architecture.md, "Session REST"): `GET /api/sessions[?orderRef=&limit=&before=]` ->
 * `{"sessions": [...], "next": cursor | null}` newest first, a page at a time; `GET /api/sessions/:id`.
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
      const limitText = req.query.limit;
      const limit = limitText === undefined ? DEFAULT_PAGE : typeof limitText === 'string' && /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
      if (!(limit >= 1 && limit <= MAX_PAGE)) {
        res.status(400).json({ error: 'bad-request', message: `limit must be a whole number from 1 to ${MAX_PAGE}` });
        return;
      }
      const beforeText = req.query.before;
      const cursor = typeof beforeText === 'string' ? CURSOR.exec(beforeText) : null;
      if (beforeText !== undefined && (!cursor || Number.isNaN(Date.parse(cursor[1]!)))) {
        res.status(400).json({ error: 'bad-request', message: 'before must be the next value of a previous page' });
        return;
      }
      const who = res.locals.principal as Principal;
      const sessions = await store.list({
        ...(orderRef ? { orderRef } : {}),
        ...(who.kind === 'agent' ? { agentId: who.agentId } : {}),
        ...(cursor ? { before: { startedAt: cursor[1]!, id: cursor[2]! } } : {}),
        limit,
      });
      const last = sessions[sessions.length - 1];
      res.json({ sessions, next: sessions.length === limit && last ? cursorOf(last) : null });
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
