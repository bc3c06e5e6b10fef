import { z } from 'zod';
import { agentCommandSchema, type AgentCommand, type SessionEvent } from '../capture/events.js';
import type { SessionRecord } from '../store/index.js';
import type { Principal } from './auth.js';

/**
 * The `/events` socket protocol (capture/EVENTS.md, "The /events socket"): what clients may send,
 * what the server sends besides the capture events themselves, and who may see and control what.
 */

/** Largest client frame; a larger one closes the socket with 1009 (RFC 6455 7.4.1). */
export const MAX_CLIENT_FRAME_BYTES = 4096;
/** Sessions in `ready`. */
export const READY_SESSIONS = 50;
/** Resume entries one `auth` may carry. */
export const MAX_RESUME_ENTRIES = 200;

export const WsClose = {
  Unauthorized: 4401,
  TooManyConnections: 4429,
  TooBig: 1009,
  TryAgainLater: 1013,
  /** RFC 6455 7.4.1: policy violation (more messages a second than allowed, docs/security.md). */
  PolicyViolation: 1008,
  GoingAway: 1001,
} as const;

const sessionId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/);

const authSchema = z
  .object({
    type: z.literal('auth'),
    token: z.string().min(1).max(512),
    resume: z
      .record(sessionId, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
      .refine((r) => Object.keys(r).length <= MAX_RESUME_ENTRIES, { message: `at most ${MAX_RESUME_ENTRIES} resume entries` })
      .optional(),
    /** The client reads `batch` frames (server/src/capture/EVENTS.md); only supervisors get them. */
    batch: z.boolean().optional(),
  })
  .strict();

const commandEnvelope = z
  .object({
    type: z.literal('command'),
    id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
    sessionId,
    command: z.unknown(),
  })
  .strict();

export type AuthMessage = z.infer<typeof authSchema>;

export type ClientMessage =
  | { readonly kind: 'auth'; readonly msg: AuthMessage }
  | { readonly kind: 'command'; readonly id: string; readonly sessionId: string; readonly command: AgentCommand }
  /** A command envelope with a usable id but a bad command: answered with a `command.result`. */
  | { readonly kind: 'bad-command'; readonly id: string; readonly message: string }
  | { readonly kind: 'error'; readonly error: 'bad-json' | 'unknown-type' | 'invalid'; readonly message: string };

/**
 * Parses one text frame. Never throws, and never echoes the client's values back (a confused
 * widget could send card digits): messages name only what was wrong.
 */
export function parseClientMessage(text: string): ClientMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'error', error: 'bad-json', message: 'the message is not valid JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { kind: 'error', error: 'invalid', message: 'the message must be a JSON object' };
  const type = (v as { type?: unknown }).type;
  if (type === 'auth') {
    const a = authSchema.safeParse(v);
    if (!a.success) return { kind: 'error', error: 'invalid', message: `bad auth message (${issuePaths(a.error)})` };
    return { kind: 'auth', msg: a.data };
  }
  if (type === 'command') {
    const e = commandEnvelope.safeParse(v);
    if (!e.success) {
      const id = (v as { id?: unknown }).id;
      const usable = typeof id === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(id);
      const message = `bad command message (${issuePaths(e.error)})`;
      return usable ? { kind: 'bad-command', id, message } : { kind: 'error', error: 'invalid', message };
    }
    const c = agentCommandSchema.safeParse(e.data.command);
    if (!c.success) return { kind: 'bad-command', id: e.data.id, message: 'command must be {"type":"field.retry","field":"pan|expiry|cvv|otp"} or {"type":"session.cancel"}' };
    return { kind: 'command', id: e.data.id, sessionId: e.data.sessionId, command: c.data };
  }
  return { kind: 'error', error: 'unknown-type', message: typeof type === 'string' ? 'unknown message type' : 'the message has no type' };
}

const KNOWN_KEYS = new Set(['type', 'token', 'resume', 'id', 'sessionId', 'command', 'field']);

/** Names what is wrong by the protocol's own keys only: a client's keys (resume's session ids) become `*`. */
function issuePaths(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.map((k) => (typeof k === 'string' && KNOWN_KEYS.has(k) ? k : '*')).join('.') || '(root)'}: ${i.code}`)
    .join(', ');
}

/** Principals that may open the socket (a handoff API key may not). */
export type EventsPrincipal = Extract<Principal, { kind: 'supervisor' } | { kind: 'agent' }>;

export function isEventsPrincipal(p: Principal | undefined): p is EventsPrincipal {
  return p?.kind === 'supervisor' || p?.kind === 'agent';
}

/**
 * Who sees a session: a supervisor every one, an agent only those whose `agentId` is its own (a
 * session without an agent is a supervisor's only).
 */
export function maySee(p: EventsPrincipal, ownerAgentId: string | null | undefined): boolean {
  if (p.kind === 'supervisor') return true;
  return ownerAgentId !== null && ownerAgentId !== undefined && ownerAgentId === p.agentId;
}

export function principalJson(p: EventsPrincipal): { kind: 'supervisor' } | { kind: 'agent'; agentId: string } {
  return p.kind === 'agent' ? { kind: 'agent', agentId: p.agentId } : { kind: 'supervisor' };
}

export type CommandError = 'forbidden' | 'not-found' | 'invalid' | 'refused';

export type CommandReply = { readonly ok: true } | { readonly ok: false; readonly error: CommandError; readonly message: string };
export type CommandResultFrame = { readonly type: 'command.result'; readonly id: string } & CommandReply;

export type ServerFrame =
  | { readonly type: 'ready'; readonly principal: ReturnType<typeof principalJson>; readonly sessions: readonly SessionRecord[] }
  | { readonly type: 'session.resync'; readonly sessionId: string; readonly record: SessionRecord | null }
  | CommandResultFrame
  | { readonly type: 'error'; readonly error: 'bad-json' | 'unknown-type' | 'invalid' | 'unauthorized'; readonly message: string }
  | { readonly type: 'batch'; readonly events: readonly SessionEvent[] }
  | SessionEvent;

/**
 * The port to the live capture sessions (calls/ implements it; api/ never imports calls/). A
 * session this gateway does not run, or one that is over, is `not-found`; one that refuses the
 * command in its current state (cancel while the payment is in flight) is `refused`.
 */
export interface SessionControl {
  /** `agentId`: who sent it (the audit trail records it). */
  command(sessionId: string, command: AgentCommand, agentId?: string): Promise<SessionCommandResult>;
}

export type SessionCommandResult = { readonly ok: true } | { readonly ok: false; readonly error: 'not-found' | 'refused'; readonly message: string };
