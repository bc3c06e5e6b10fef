import express from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { staticRouter, type StaticOptions } from '../../../src/api/static.js';
import { loadConfig } from '../../../src/config/load.js';
import { configProblems, yamlFiles } from './config-problems.js';

/** SIP_WS_URL (README, "Agents across instances"): the agents' SIP WebSocket the widget registers on. */
const problems = configProblems;
const { file } = yamlFiles('sip-ws-url');
const line = (env: Record<string, string>): string[] => problems(env).filter((l) => l.startsWith('SIP_WS_URL') || l.startsWith('http.sipWsUrl'));

describe('SIP_WS_URL', () => {
  it('unset: no URL, the widget keeps /sip', () => {
    expect(loadConfig({}).SIP_WS_URL).toBeUndefined();
  });

  it.each([
    ['ws: with a port, no path', 'ws://127.0.0.1:5066', 'ws://127.0.0.1:5066/'],
    ['wss: with a path', 'wss://sip.example.com/ws', 'wss://sip.example.com/ws'],
    ['wss: on its default port', 'wss://sip.example.com:443/', 'wss://sip.example.com/'],
    ['an IPv6 host', 'wss://[2001:db8::7]:7443/', 'wss://[2001:db8::7]:7443/'],
    ['upper-case scheme and host', 'WSS://SIP.Example.COM/', 'wss://sip.example.com/'],
  ])('%s: %s is taken as %s', (_name, value, expected) => {
    expect(loadConfig({ SIP_WS_URL: value }).SIP_WS_URL).toBe(expected);
  });

  it.each([
    ['not a URL', '//sip.example.com/', 'is not a URL'],
    ['an http: URL', 'http://sip.example.com/', 'must be a ws: or wss: URL'],
    ['a sip: URI', 'sip:kamailio@sip.example.com', 'must be a ws: or wss: URL'],
    ['credentials', 'wss://agent:s3cret-pass@sip.example.com/', 'may not carry credentials'],
    ['a user name alone', 'wss://agent@sip.example.com/', 'may not carry credentials'],
    ['a fragment', 'wss://sip.example.com/#x', 'may not have a fragment'],
    ['an empty fragment', 'wss://sip.example.com/#', 'may not have a fragment'],
  ])('%s is refused in one line naming SIP_WS_URL: %s', (_name, value, why) => {
    const out = problems({ SIP_WS_URL: value });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^SIP_WS_URL: /);
    expect(out[0]).toContain(why);
    expect(out[0]).not.toContain('s3cret-pass');
  });

  it('in the configuration file it is http.sipWsUrl, and a bad value names that key', () => {
    expect(loadConfig({ TONEGATE_CONFIG: file('http:\n  sipWsUrl: wss://sip.example.com/\n') }).SIP_WS_URL).toBe('wss://sip.example.com/');
    expect(line({ TONEGATE_CONFIG: file('http:\n  sipWsUrl: https://sip.example.com/\n') })).toEqual([expect.stringMatching(/^http\.sipWsUrl: .*must be a ws: or wss: URL/)]);
  });

  it.each([
    ['ws: is refused in production', 'ws://sip.example.com/', ['SIP_WS_URL: production takes a wss: URL only (SIP over secure WebSocket, RFC 7118)']],
    ['wss: is taken in production', 'wss://sip.example.com/', []],
  ])('%s', (_name, value, expected) => {
    expect(line({ TONEGATE_MODE: 'production', SIP_WS_URL: value })).toEqual(expected);
  });
});

/** GET /api/widget-config and the CSP header of /agent from a router with `opts`. */
async function served(opts: Partial<StaticOptions>): Promise<{ config: Record<string, unknown>; csp: string | null }> {
  const app = express().use(staticRouter({ distDir: '/nonexistent', sipHost: '127.0.0.1', embedOrigins: [], demo: true, ...opts }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = (await (await fetch(`${base}/api/widget-config`)).json()) as Record<string, unknown>;
    const csp = (await fetch(`${base}/agent`)).headers.get('content-security-policy');
    return { config, csp };
  } finally {
    server.close();
  }
}

describe('SIP_WS_URL reaches the widget', () => {
  it.each([
    ['set: sipWsUrl beside the older fields, its origin in connect-src', 'ws://127.0.0.1:5066/', { sipWsUrl: 'ws://127.0.0.1:5066/' }, / ws:\/\/127\.0\.0\.1:5066(;|$)/],
    ['unset: no sipWsUrl key (as from older gateways), connect-src unchanged', undefined, {}, undefined],
  ])('%s', async (_name, sipWsUrl, extra, inCsp) => {
    const { config, csp } = await served(sipWsUrl ? { sipWsUrl } : {});
    expect(config).toEqual({ sipHost: '127.0.0.1', sipPath: '/sip', eventsPath: '/events', loginPath: '/api/agents/login', embedOrigins: [], demo: true, languages: ['en'], defaultLanguage: 'en', ...extra });
    const connect = /connect-src ([^;]+)/.exec(csp ?? '')?.[1];
    if (inCsp) expect(`connect-src ${connect}`).toMatch(inCsp);
    else expect(connect).toMatch(/^'self' ws:\/\/127\.0\.0\.1:\d+$/);
  });
});
