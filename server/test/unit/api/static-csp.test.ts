import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../src/api/static.js';

const connectSrc = (csp: string): string | undefined => /connect-src ([^;]+)/.exec(csp)?.[1];

describe("pages' Content-Security-Policy connect-src: the gateway's own origin only", () => {
  it.each([
    ['HTTPS page', { host: 'gw.example.com:8443', secure: true }, "'self' wss://gw.example.com:8443"],
    ['plain HTTP page (demo)', { host: '127.0.0.1:8080', secure: false }, "'self' ws://127.0.0.1:8080"],
    ['IPv6 host', { host: '[::1]:8443', secure: true }, "'self' wss://[::1]:8443"],
    ['host upper-case is lowered', { host: 'GW.Example.com', secure: true }, "'self' wss://gw.example.com"],
    ['a Host that is not host[:port] adds nothing', { host: "evil.example; script-src 'unsafe-inline'", secure: true }, "'self'"],
    ['no Host at all', { host: undefined, secure: false }, "'self'"],
  ] as const)('%s', (_name, page, expected) => {
    const csp = contentSecurityPolicy([], page);
    expect(connectSrc(csp)).toBe(expected);
    expect(csp).not.toMatch(/connect-src[^;]*\b(ws|wss):(?!\/\/)/);
  });

  // SIP_WS_URL (README, "Agents across instances"): exactly that URL's origin, nothing broader.
  it.each([
    ['a proxy on another host', { host: 'gw.example.com:8443', secure: true }, 'wss://sip.example.com/', "'self' wss://gw.example.com:8443 wss://sip.example.com"],
    ['its port kept, its path left out (a CSP source without a path matches any)', { host: '127.0.0.1:8080', secure: false }, 'ws://127.0.0.1:5066/sip', "'self' ws://127.0.0.1:8080 ws://127.0.0.1:5066"],
    ['the default port is the origin without one', { host: 'gw.example.com', secure: true }, 'wss://sip.example.com:443/', "'self' wss://gw.example.com wss://sip.example.com"],
    ["the page's own origin is not listed twice", { host: 'gw.example.com:8443', secure: true }, 'wss://gw.example.com:8443/sip', "'self' wss://gw.example.com:8443"],
    ['without a usable Host, still the proxy', { host: undefined, secure: true }, 'wss://sip.example.com/', "'self' wss://sip.example.com"],
    ['anything but ws:/wss: adds nothing', { host: 'gw.example.com', secure: true }, 'https://sip.example.com/', "'self' wss://gw.example.com"],
    ['unset adds nothing', { host: 'gw.example.com', secure: true }, undefined, "'self' wss://gw.example.com"],
  ] as const)('SIP_WS_URL: %s', (_name, page, sipWsUrl, expected) => {
    const csp = contentSecurityPolicy([], page, sipWsUrl);
    expect(connectSrc(csp)).toBe(expected);
    expect(connectSrc(csp)).not.toMatch(/\*|\b(ws|wss):(?!\/\/)/);
  });

  it('keeps the other directives and the frame ancestors', () => {
    const csp = contentSecurityPolicy(['https://crm.example.com'], { host: 'gw:1', secure: true });
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'self' https://crm.example.com");
  });
});
