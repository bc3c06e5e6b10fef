import type { Endpoint } from './types.js';

/**
 * Address helpers. A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (`::ffff:1.2.3.4`);
 * comparisons use the plain IPv4 form so an inbound connection matches a target given as `1.2.3.4`.
 */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address.toLowerCase();
}

export function endpointKey(e: Endpoint): string {
  return `${normalizeAddress(e.address)}:${e.port}`;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && normalizeAddress(a.address) === normalizeAddress(b.address);
}

/** `udp:<address>:<port>` (the address may itself contain colons: IPv6). */
export function udpFlowId(remote: Endpoint): string {
  return `udp:${remote.address}:${remote.port}`;
}

/** Inverse of {@link udpFlowId}; undefined for anything that is not a well-formed UDP flow id. */
export function parseUdpFlowId(id: string): Endpoint | undefined {
  if (!id.startsWith('udp:')) return undefined;
  const rest = id.slice(4);
  const i = rest.lastIndexOf(':');
  if (i <= 0) return undefined;
  const portText = rest.slice(i + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { address: rest.slice(0, i), port };
}
