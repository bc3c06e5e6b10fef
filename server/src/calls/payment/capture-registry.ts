import type { AgentCommand } from '../../capture/events.js';
import type { CaptureInputs } from '../../capture/port.js';

/** A live capture as the registry needs it (CaptureSession fits). */
export interface LiveCapture extends Pick<CaptureInputs, 'onAgentCommand'> {
  readonly id: string;
  /** Set once the outcome is decided. */
  readonly result: unknown;
}

export type CaptureCommandResult = { readonly ok: true } | { readonly ok: false; readonly error: 'not-found' | 'refused'; readonly message: string };

/**
 * The captures running on this gateway, by session id: how an agent's command from the `/events`
 * socket reaches its `CaptureSession` (the call that owns the session adds and removes it).
 */
export class CaptureRegistry {
  readonly #live = new Map<string, LiveCapture>();

  add(capture: LiveCapture): void {
    this.#live.set(capture.id, capture);
  }

  /** Removes this capture (not a newer one under the same id). */
  remove(capture: LiveCapture): void {
    if (this.#live.get(capture.id) === capture) this.#live.delete(capture.id);
  }

  get size(): number {
    return this.#live.size;
  }

  /**
   * `not-found`: no capture with this id runs here (over, or on another instance); `refused`: the
   * capture refused the command in its state (cancel while the payment is in flight, a retry of a
   * field not yet reached, anything after the outcome).
   */
  command(sessionId: string, command: AgentCommand): CaptureCommandResult {
    const c = this.#live.get(sessionId);
    if (!c) return { ok: false, error: 'not-found', message: 'the session is not running on this gateway (it is over, or never started)' };
    if (c.result !== undefined) return { ok: false, error: 'refused', message: 'the session is over: its outcome is decided' };
    const r = c.onAgentCommand(command);
    return r.ok ? { ok: true } : { ok: false, error: 'refused', message: `the capture refused it: ${r.reason}` };
  }
}
