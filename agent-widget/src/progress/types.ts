/**
 * The wire contract of `/events` as the widget reads it: the server's own definition
 * (server/src/contract/events.ts, a leaf module and the only server module ESLint lets the widget
 * import), under the names the widget uses.
 */
export {
  CAPTURE_FIELDS,
  MAX_RESUME_ENTRIES,
  isSessionEvent as isCaptureEvent,
  type AgentCommand,
  type CaptureField,
  type Outcome,
  type ServerMessage,
  type SessionEvent as CaptureEvent,
  type SessionEventType as CaptureEventType,
  type WireSessionRecord as SessionRecord,
} from '../../../server/src/contract/events.js';
