import type { DirectoryBinding } from '../store/index.js';
import { bindingKey, type ContactBinding } from './registrar/index.js';

/**
 * Bindings between the registrar (calls/registrar, times on its clock) and the registration
 * directory shared by the gateways (store/redis-registrations.ts, wall-clock times). A binding
 * is reachable from a gateway when it has a Path (RFC 3327: through the proxy that added it) or
 * when that gateway holds its connection.
 */
export function toDirectory(b: ContactBinding, clockNow: number, wallNow: number, self: string): DirectoryBinding {
  return {
    key: bindingKey(b),
    uri: b.uri,
    ...(b.params ? { params: b.params } : {}),
    path: b.path ?? [],
    gateway: b.gateway ?? self,
    flowId: b.flowId,
    expiresAt: Math.round(wallNow + (b.expiresAt - clockNow)),
    callId: b.callId,
    cseq: b.cseq,
    ...(b.instance !== undefined ? { instance: b.instance } : {}),
  };
}

export function fromDirectory(d: DirectoryBinding, clockNow: number, wallNow: number): ContactBinding {
  return {
    uri: d.uri,
    ...(d.params ? { params: d.params } : {}),
    flowId: d.flowId,
    expiresAt: clockNow + (d.expiresAt - wallNow),
    callId: d.callId,
    cseq: d.cseq,
    ...(d.instance !== undefined ? { instance: d.instance } : {}),
    ...(d.path.length ? { path: d.path } : {}),
    gateway: d.gateway,
  };
}

/** True when `self` can send a request to this binding (see above). */
export function reachableFrom(b: ContactBinding, self: string | undefined): boolean {
  return (b.path?.length ?? 0) > 0 || b.gateway === undefined || b.gateway === self;
}
