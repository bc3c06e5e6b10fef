import { z } from 'zod';
import type { AgentCommand, SessionEvent } from '../contract/events.js';

/**
 * The capture's progress events: what the agent's widget, the supervisor dashboard and the REFER
 * NOTIFYs are built from. JSON, published on the store's EventBus, relayed by api/ over `/events`.
 * Their shapes are the wire contract in ../contract/events.ts (shared with the widget); table and
 * examples: ./EVENTS.md.
 */
export * from '../contract/events.js';

/** An event as a session builds it: `sessionId`, `agentId` and `at` are added by the session, `seq` by the bus. */
export type SessionEventBody = SessionEvent extends infer E ? (E extends unknown ? Omit<E, 'sessionId' | 'agentId' | 'seq' | 'at'> : never) : never;

/**
 * Commands from the agent's widget (validated by api/ with this schema before they reach a session):
 * ask the customer for a field again, or cancel the capture.
 */
export const agentCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('field.retry'), field: z.enum(['pan', 'expiry', 'cvv', 'otp']) }).strict(),
  z.object({ type: z.literal('session.cancel') }).strict(),
]);
// The schema parses exactly the contract's AgentCommand.
const _sameCommand: z.ZodType<AgentCommand> = agentCommandSchema;
void _sameCommand;

/**
 * `+919800000001` -> `+91•••••0001` (issue 5 part 1): `+` and two digits, five bullets whatever
 * the number's length (so the mask does not tell it), the last four.
 */
export function maskMobileForDisplay(e164: string): string {
  if (e164.length < 8) return '•••••';
  return `${e164.slice(0, 3)}•••••${e164.slice(-4)}`;
}
