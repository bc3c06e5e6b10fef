import type { NextFunction, Request, Response } from 'express';
import type { SessionEvent } from '../capture/events.js';
import type { AgentCommand } from '../capture/events.js';
import type { AuditActor, AuditLog } from '../observability/audit.js';
import type { EventBus } from '../store/index.js';
import { bearer, type Principal } from '../api/auth.js';
import type { SessionCommandResult, SessionControl } from '../api/events-protocol.js';

/**
 * What goes into the audit trail (observability/audit.ts), wired where it is cheap: session start
 * and end from this instance's bus events, agent login/logout and REST reads of sessions from the
 * HTTP responses (status code = outcome), agents' commands from the /events control port.
 */
export function auditSessions(audit: AuditLog, bus: EventBus<SessionEvent>): Promise<unknown> {
  return bus.subscribe(
    (e) => {
      if (e.type === 'session.started') {
        audit.record({
          actor: e.agentId ? { kind: 'agent', id: e.agentId } : { kind: 'system' },
          action: 'session.start',
          target: { type: 'session', id: e.sessionId },
          outcome: 'success',
          details: { orderRef: e.orderRef, merchantId: e.merchantId, amount: e.amount, currency: e.currency },
        });
      } else if (e.type === 'session.ended') {
        audit.record({
          actor: { kind: 'system' },
          action: 'session.end',
          target: { type: 'session', id: e.sessionId },
          outcome: e.outcome === 'paid' ? 'success' : 'failure',
          details: { outcome: e.outcome, reason: e.reason, ...(e.needsReconciliation ? { needsReconciliation: true } : {}), ...(e.provider ? { provider: e.provider } : {}) },
        });
      }
    },
    { localOnly: true },
  );
}

const actorOf = (p: Principal | undefined): AuditActor =>
  !p ? { kind: 'anonymous' } : p.kind === 'agent' ? { kind: 'agent', id: p.agentId } : { kind: p.kind };

/** Express middleware: agent login/logout and every request to /api/sessions, recorded when answered. */
export function auditHttp(audit: AuditLog, resolve: (token: string) => Principal | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path;
    const login = req.method === 'POST' && path === '/api/agents/login';
    const logout = req.method === 'POST' && path === '/api/agents/logout';
    const sessions = path === '/api/sessions' || path.startsWith('/api/sessions/');
    const supervisorLogin = req.method === 'POST' && path === '/api/supervisors/login';
    const handoff = req.method === 'POST' && path === '/api/handoffs';
    const unlock = req.method === 'POST' ? /^\/api\/agents\/([A-Za-z0-9._-]{1,64})\/unlock$/.exec(path)?.[1] : undefined;
    if (!login && !logout && !sessions && !unlock && !supervisorLogin && !handoff) return next();
    const token = bearer(req);
    const who = token ? resolve(token) : undefined; // before the handler: logout revokes the token
    res.once('finish', () => {
      const status = res.statusCode;
      const outcome = status < 400 ? 'success' : status === 401 || status === 403 || status === 429 ? 'denied' : 'failure';
      const body = req.body as { agentId?: unknown } | undefined;
      const loginId = typeof body?.agentId === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(body.agentId) ? body.agentId : undefined;
      const supName = supervisorLogin && typeof (body as { name?: unknown } | undefined)?.name === 'string' ? String((body as { name: string }).name).slice(0, 64) : undefined;
      audit.record({
        actor: login ? (loginId ? { kind: 'agent', id: loginId } : { kind: 'anonymous' }) : supervisorLogin ? { kind: 'supervisor', ...(supName ? { id: supName } : {}) } : actorOf(who),
        action: login ? 'agent.login' : logout ? 'agent.logout' : unlock ? 'agent.unlock' : supervisorLogin ? 'supervisor.login' : handoff ? 'handoff.create' : 'api.sessions.read',
        ...(sessions ? { target: { type: 'session', ...(path.length > 14 ? { id: path.slice(14, 142) } : {}) } } : {}),
        ...(unlock ? { target: { type: 'agent', id: unlock } } : {}),
        outcome,
        ...(req.socket.remoteAddress ? { source: req.socket.remoteAddress } : {}),
        transport: 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
        details: { method: req.method, status, ...(typeof req.query.orderRef === 'string' ? { orderRef: req.query.orderRef.slice(0, 64) } : {}) },
      });
    });
    next();
  };
}

/** The /events control port, recording each agent command and its result. */
export function auditedControl(audit: AuditLog, control: SessionControl): SessionControl {
  return {
    command: async (sessionId: string, command: AgentCommand, agentId?: string): Promise<SessionCommandResult> => {
      const actor: AuditActor = agentId ? { kind: 'agent', id: agentId } : { kind: 'anonymous' };
      const details = { command: command.type, ...(command.type === 'field.retry' ? { field: command.field } : {}) };
      try {
        const r = await control.command(sessionId, command, agentId);
        audit.record({ actor, action: 'agent.command', target: { type: 'session', id: sessionId }, outcome: r.ok ? 'success' : 'failure', details });
        return r;
      } catch (err) {
        audit.record({ actor, action: 'agent.command', target: { type: 'session', id: sessionId }, outcome: 'failure', details });
        throw err;
      }
    },
  };
}
