import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** The path of a request URL, or undefined when it does not parse. */
export function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/** `https://a.example:8443/x` -> `https://a.example:8443`; undefined when not an http(s) origin. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Cross-site WebSocket hijacking guard (RFC 6455 10.2): browsers always send Origin, so a browser
 * page may open the socket only from an allowed origin. With `allowed` (config ALLOWED_ORIGINS) the
 * Origin must be one of them; without it, its host:port must equal the request's Host (same
 * origin). No Origin at all is a non-browser client: allowed, it still needs a token.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (origin === undefined) return true;
  const o = normalizeOrigin(origin);
  if (!o) return false;
  if (allowed && allowed.length > 0) return allowed.includes(o);
  if (!host) return false;
  const u = new URL(o);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const h = hostPort(host, u.protocol === 'https:' ? '443' : '80');
  return h !== undefined && h === `${u.hostname.toLowerCase()}:${port}`;
}

/** `Host: name[:port]` (RFC 9110 7.2) -> `name:port`, the scheme's port when none is given. */
function hostPort(host: string, defaultPort: string): string | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return undefined;
  return `${m[1]!.toLowerCase()}:${m[2] ?? defaultPort}`;
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, statusText: string, body: string): void {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  setTimeout(() => socket.destroy(), 100).unref();
}

/**
 * Node leaves an upgrade request nobody handles hanging once any 'upgrade' listener exists. This
 * one answers 404 to every path not in `known` (the paths whose own listeners handle them).
 * Returns a function that removes the listener.
 */
export function refuseUnknownUpgrades(server: Server, known: readonly string[]): () => void {
  const onUpgrade = (req: IncomingMessage, socket: Duplex): void => {
    const path = pathOf(req.url);
    if (path !== undefined && known.includes(path)) return;
    socket.on('error', () => {});
    refuseUpgrade(socket, 404, 'Not Found', 'no WebSocket endpoint at this path');
  };
  server.on('upgrade', onUpgrade);
  return () => void server.off('upgrade', onUpgrade);
}
