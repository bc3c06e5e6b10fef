import { parentPort, workerData } from 'node:worker_threads';
import type { MethodMap, WireNotification, WireRequest, WireResponse } from './channel.js';

/** The data the parent passed to Channel.spawn (bootstrap.mjs wraps it). */
export function channelData<T>(): T {
  return (workerData as { data: T }).data;
}

/** Handlers for every method of M, inside the worker. */
export type Handlers<M extends MethodMap> = { [K in keyof M]: (params: M[K][0]) => M[K][1] | Promise<M[K][1]> };

/**
 * Worker side of the channel: dispatches numbered requests to handlers and answers each exactly
 * once; a handler's exception becomes an error response, never a dead worker.
 */
export function serve<M extends MethodMap>(handlers: Handlers<M>): { notify: (event: string, data: unknown) => void } {
  const port = parentPort;
  if (!port) throw new Error('serve() must run inside a worker thread');
  port.on('message', (req: WireRequest) => {
    const reply = (r: WireResponse): void => port.postMessage(r);
    const h = (handlers as Record<string, ((p: unknown) => unknown) | undefined>)[req.method];
    if (!h) return reply({ id: req.id, ok: false, error: { message: `unknown method ${req.method}`, code: 'UNKNOWN_METHOD' } });
    try {
      Promise.resolve(h(req.params)).then(
        (result) => reply({ id: req.id, ok: true, result }),
        (err: unknown) => reply({ id: req.id, ok: false, error: toWireError(err) }),
      );
    } catch (err) {
      reply({ id: req.id, ok: false, error: toWireError(err) });
    }
  });
  return { notify: (event, data) => port.postMessage({ event, data } satisfies WireNotification) };
}

function toWireError(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' ? { message: err.message, code } : { message: err.message };
  }
  return { message: String(err) };
}
