import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchByOrigin, keepAliveFetch } from '../../../src/providers/keepalive-fetch.js';

/** A loopback HTTP server that counts the TCP connections it accepted and the ones that closed. */
async function server(): Promise<{ url: string; conns: Socket[]; closed: () => number; srv: Server }> {
  const conns: Socket[] = [];
  let closedCount = 0;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, path: req.url, body, key: req.headers['x-api-key'] ?? null }));
    });
  });
  srv.on('connection', (s: Socket) => {
    conns.push(s);
    s.on('close', () => closedCount++);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, conns, closed: () => closedCount, srv };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('keepAliveFetch (providers/keepalive-fetch.ts)', () => {
  it('successive calls reuse one connection; close() closes it and a later call opens a new one', async () => {
    const s = await server();
    servers.push(s.srv);
    const k = keepAliveFetch();
    for (let i = 0; i < 5; i++) {
      const res = await k.fetch(`${s.url}/v1/p${i}`, { method: 'POST', headers: { 'x-api-key': 'k' }, body: `{"n":${i}}` });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ method: 'POST', path: `/v1/p${i}`, body: `{"n":${i}}`, key: 'k' });
    }
    expect(s.conns).toHaveLength(1);
    k.close();
    await expect.poll(() => s.closed()).toBe(1);
    expect((await k.fetch(`${s.url}/again`)).status).toBe(200);
    expect(s.conns).toHaveLength(2);
    k.close();
  });

  it('a refused connection is "fetch failed" with the socket error code, as the provider client expects', async () => {
    const s = await server();
    const url = s.url;
    await new Promise((r) => s.srv.close(r));
    const k = keepAliveFetch();
    const err = await k.fetch(`${url}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    k.close();
  });

  it('an aborted call rejects with the AbortError itself', async () => {
    const s = await server();
    servers.push(s.srv);
    s.srv.removeAllListeners('request');
    s.srv.on('request', () => undefined); // never answers
    const k = keepAliveFetch();
    const c = new AbortController();
    const p = k.fetch(`${s.url}/slow`, { signal: c.signal });
    setTimeout(() => c.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    k.close();
  });

  it('with a client certificate (mutual TLS) a plain http: URL is refused before anything is sent', async () => {
    const s = await server();
    servers.push(s.srv);
    const k = keepAliveFetch({ cert: 'c', key: 'k' });
    const err = await k.fetch(`${s.url}/x`).catch((e: unknown) => e);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ERR_MTLS_NEEDS_HTTPS');
    expect(s.conns).toHaveLength(0);
    k.close();
  });

  it('a private CA alone is no mutual TLS: plain http: URLs still work', async () => {
    const s = await server();
    servers.push(s.srv);
    const k = keepAliveFetch({ ca: 'not used for http' });
    expect((await k.fetch(`${s.url}/x`)).status).toBe(200);
    k.close();
  });

  it.each<[string, { cert?: string; key?: string }, RegExp]>([
    ['a certificate without its key', { cert: 'c' }, /needs both cert and key \(key missing\)/],
    ['a key without its certificate', { key: 'k' }, /needs both cert and key \(cert missing\)/],
  ])('refuses %s', (_name, tls, why) => {
    expect(() => keepAliveFetch(tls)).toThrow(why);
  });
});

describe('fetchByOrigin (providers/keepalive-fetch.ts)', () => {
  const tagged = (tag: string): typeof fetch => async () => new Response(tag);
  const f = fetchByOrigin(new Map([['https://pg.example:8443', tagged('provider')]]), tagged('other'));
  it.each<[string, string | URL | Request, string]>([
    ['the provider\'s origin', 'https://pg.example:8443/v1/sms', 'provider'],
    ['the same origin as a URL', new URL('https://pg.example:8443/sms'), 'provider'],
    ['the same origin as a Request', new Request('https://pg.example:8443/sms'), 'provider'],
    ['another port', 'https://pg.example/v1/sms', 'other'],
    ['another scheme', 'http://pg.example:8443/v1/sms', 'other'],
    ['another host', 'https://sms.example:8443/v1/sms', 'other'],
    ['no URL at all', 'not a url', 'other'],
  ])('%s', async (_name, input, want) => {
    expect(await (await f(input)).text()).toBe(want);
  });
});
